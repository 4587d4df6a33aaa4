"""nn.collate: default_collate and default_convert with PyTorch's rules, on every device."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import autograd as ag
from nn.collate import HostTensor, pack, unpack
from nn.data import default_collate, default_convert

Point = collections.namedtuple("Point", "x y")


def test_numbers_collate_as_pytorch_does(backend):
    floats = default_collate([1.0, 2.5], backend)
    ints = default_collate([1, 2], backend)
    bools = default_collate([True, False], backend)
    assert floats.dtype == np.float64 and floats.tolist() == [1.0, 2.5]
    assert ints.dtype == np.int64 and bools.dtype == np.bool_
    for t in (floats, ints, bools):
        assert t.device == backend.device
    scalars = default_collate([np.float32(1), np.float32(2)], backend)
    assert scalars.dtype == np.float32 and scalars.shape == (2,)
    assert default_collate([np.int16(3)], backend).dtype == np.int16


def test_arrays_and_tensors_are_stacked_on_the_target_device(backend):
    arrays = default_collate([np.zeros((2, 3), np.float32), np.ones((2, 3), np.float32)], backend)
    assert arrays.shape == (2, 2, 3) and arrays.dtype == np.float32
    assert arrays.device == backend.device
    tensors = default_collate([ag.tensor([1, 2]), ag.tensor([3, 4])], backend)
    assert tensors.tolist() == [[1, 2], [3, 4]] and tensors.device == backend.device


def test_structures():
    batch = default_collate([({"a": 1.0, "b": [1, 2]}, "x"), ({"a": 2.0, "b": [3, 4]}, "y")])
    assert isinstance(batch, list) and len(batch) == 2  # a tuple sample gives a list (PyTorch)
    fields, names = batch
    assert names == ["x", "y"]  # strings stay a list
    assert fields["a"].tolist() == [1.0, 2.0]
    assert isinstance(fields["b"], list) and [t.tolist() for t in fields["b"]] == [[1, 3], [2, 4]]
    points = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(points, Point) and points.x.tolist() == [1, 3]
    assert points.y.dtype == np.float64
    ordered = default_collate([collections.OrderedDict(k=1), collections.OrderedDict(k=2)])
    assert isinstance(ordered, collections.OrderedDict) and ordered["k"].tolist() == [1, 2]
    assert default_collate([b"ab", b"cd"]) == [b"ab", b"cd"]


def test_unsupported_values_and_mismatched_samples():
    with pytest.raises(TypeError, match="batch must contain tensors, numpy arrays, numbers"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="batch must contain"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(ValueError, match="differ in structure"):
        default_collate([(1, 2), (1, 2, 3)])
    with pytest.raises(ValueError, match="differ in structure"):
        default_collate([{"a": 1}, {"b": 1}])
    with pytest.raises(ValueError, match=r"cannot stack .*\(shapes \(2,\), \(3,\)\)"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(ValueError, match="non-empty list"):
        default_collate([])


def test_default_convert(backend):
    out = default_convert((np.arange(3), 2.5, "s", {"k": np.ones(2, np.float32)}), backend)
    assert isinstance(out, list)  # a tuple converts to a list, as in PyTorch
    arr, number, text, mapping = out
    assert isinstance(arr, ag.Tensor) and arr.device == backend.device
    assert number == 2.5 and text == "s"
    assert mapping["k"].dtype == np.float32
    assert default_convert(Point(np.zeros(1), 1), backend).y == 1
    strings = np.array(["a", "b"])
    assert default_convert(strings, backend) is strings


def test_pack_and_unpack_carry_tensors_as_host_arrays(backend):
    batch = {"x": ag.tensor([1.0, 2.0]), "rest": [ag.tensor([3]), 4, ("s", Point(ag.ones(1), 5))]}
    packed = pack(batch)
    assert isinstance(packed["x"], HostTensor) and isinstance(packed["x"].array, np.ndarray)
    back = unpack(packed, backend, pin_memory=True)
    assert back["x"].device == backend.device and back["x"].tolist() == [1.0, 2.0]
    assert back["rest"][1] == 4 and back["rest"][2][1].x.device == backend.device
