"""Dtype objects (``ag.float32``, ``ag.long``, ...), the default dtype, finfo and iinfo."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import autograd as ag
import backends
from autograd import dtypes

from ..conftest import has_bfloat16

ALIASES = [
    ("float16", ag.float16, ag.half), ("float32", ag.float32, ag.float),
    ("float64", ag.float64, ag.double), ("int16", ag.int16, ag.short),
    ("int32", ag.int32, ag.int), ("int64", ag.int64, ag.long),
    ("complex64", ag.complex64, ag.cfloat), ("complex128", ag.complex128, ag.cdouble),
]
PLAIN = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
         "complex64", "complex128"]


@pytest.mark.parametrize("name, obj, alias", ALIASES)
def test_aliases_are_the_same_object(name, obj, alias) -> None:
    assert obj is alias and obj.name == name


@pytest.mark.parametrize("name", PLAIN)
def test_dtype_objects_compare_and_hash_equal_to_tensor_dtypes(backend, name) -> None:
    obj = getattr(ag, name)
    t = ag.zeros(2, dtype=obj, device=backend)
    assert t.dtype == obj and obj == t.dtype and not t.dtype != obj
    assert obj == name and obj == np.dtype(name)
    assert {t.dtype: "found"}[obj] == "found" and {obj: "found"}[t.dtype] == "found"
    assert t.dtype in (obj,)
    others = [getattr(ag, n) for n in PLAIN if n != name]
    assert all(t.dtype != o and o != obj for o in others)
    assert obj != None  # noqa: E711 - numpy.dtype(None) is float64; a dtype object is not None


@pytest.mark.parametrize("name", PLAIN)
def test_dtype_objects_are_accepted_wherever_a_dtype_is(backend, name) -> None:
    obj = getattr(ag, name)
    x = ag.tensor([0, 1], device=backend)
    made = [ag.zeros(2, dtype=obj, device=backend), ag.ones(2, dtype=obj, device=backend),
            ag.empty(2, dtype=obj, device=backend), ag.full((2,), 1, dtype=obj, device=backend),
            ag.tensor([0, 1], dtype=obj, device=backend), ag.zeros_like(x, dtype=obj),
            ag.arange(2, dtype=obj, device=backend), ag.eye(2, dtype=obj, device=backend),
            x.astype(obj), x.to(dtype=obj), x.to(backend.device, obj), x.type(obj)]
    if obj.is_floating_point or obj.is_complex:
        made += [ag.linspace(0, 1, 3, dtype=obj, device=backend)]
    if obj.is_floating_point:
        made += [ag.rand(2, dtype=obj, device=backend), ag.randn(2, dtype=obj, device=backend)]
    for t in made:
        assert t.dtype == obj and t.device == backend.device
    assert np.dtype(obj) == np.dtype(name)  # NumPy reads the `.dtype` attribute


def test_type_without_an_argument_names_the_tensor_type() -> None:
    assert ag.ones(2).type() == "autograd.FloatTensor"
    assert ag.tensor([1]).type() == "autograd.LongTensor"
    assert ag.tensor([1]).type("float64").dtype == ag.float64


def test_dtype_objects_read_like_pytorchs() -> None:
    assert repr(ag.float32) == "autograd.float32" and str(ag.long) == "int64"
    assert ag.float32.is_floating_point and not ag.float32.is_complex
    assert ag.complex64.is_complex and not ag.complex64.is_floating_point
    assert ag.int8.is_signed and not ag.uint8.is_signed and not ag.bool.is_signed
    assert ag.float64.itemsize == 8 and ag.bool.itemsize == 1
    assert ag.float32.to_complex() is ag.complex64 and ag.float64.to_complex() is ag.complex128
    assert ag.complex128.to_real() is ag.float64


def test_dtype_objects_survive_pickle_and_copy() -> None:
    for obj in (ag.float32, ag.int64, ag.bool):
        assert pickle.loads(pickle.dumps(obj)) is obj
        assert copy.deepcopy(obj) is obj and copy.copy(obj) is obj


def test_bfloat16_on_the_cpu_with_ml_dtypes() -> None:
    if not has_bfloat16():
        pytest.skip("ml_dtypes is not installed")
    t = ag.tensor([1.5, 2.0], dtype=ag.bfloat16)
    assert t.dtype == ag.bfloat16 and ag.bfloat16 == t.dtype
    assert ag.ones(2, dtype="bfloat16").dtype == ag.bfloat16
    assert (t * 2.0).dtype == ag.bfloat16 and (t + ag.ones(2)).dtype == ag.float32
    assert t.float().dtype == ag.float32 and ag.ones(2).astype(ag.bfloat16).dtype == ag.bfloat16
    w = ag.tensor([1.0, 2.0], dtype=ag.bfloat16, requires_grad=True)
    (w * w).sum().backward()
    assert w.grad.dtype == ag.bfloat16 and w.grad.numpy().astype(float).tolist() == [2.0, 4.0]
    assert ag.finfo(ag.bfloat16).eps == 2.0**-7


def test_bfloat16_is_refused_on_a_cuda_like_device_with_the_reason() -> None:
    fake = backends.get("fake")
    with pytest.raises(TypeError, match="CuPy has no bfloat16"):
        ag.zeros(2, dtype=ag.bfloat16, device=fake)
    with pytest.raises(TypeError, match="CuPy has no bfloat16"):
        ag.tensor([1.0], dtype=ag.bfloat16, device=fake)


def test_bfloat16_without_ml_dtypes_names_the_extra(monkeypatch) -> None:
    real = backends.dtype_of

    def without_ml_dtypes(name):
        if name == "bfloat16":
            raise TypeError("data type 'bfloat16' not understood")
        return real(name)

    monkeypatch.setattr(backends, "dtype_of", without_ml_dtypes)
    monkeypatch.setattr(ag.bfloat16, "_numpy", None)
    with pytest.raises(TypeError, match=r"pip install 'kedja\[bfloat16\]'"):
        ag.zeros(2, dtype=ag.bfloat16)
    assert ag.bfloat16 != ag.float16 and hash(ag.bfloat16) == hash("bfloat16")


def test_default_dtype_governs_python_floats_and_integer_promotion(backend) -> None:
    assert ag.get_default_dtype() is ag.float32
    ag.set_default_dtype(ag.float64)
    try:
        assert ag.get_default_dtype() is ag.float64
        assert ag.tensor([1.5], device=backend).dtype == ag.float64
        assert ag.tensor(1j, device=backend).dtype == ag.complex128
        for make in (ag.zeros, ag.ones, ag.empty, ag.rand, ag.randn):
            assert make(2, device=backend).dtype == ag.float64
        assert ag.full((2,), 0.5, device=backend).dtype == ag.float64
        assert ag.arange(0.0, 1.0, 0.5, device=backend).dtype == ag.float64
        assert ag.linspace(0, 1, 3, device=backend).dtype == ag.float64
        assert ag.eye(2, device=backend).dtype == ag.float64
        i = ag.tensor([1, 2], device=backend)
        assert (i / i).dtype == ag.float64 and i.exp().dtype == ag.float64
        assert (i * 0.5).dtype == ag.float64
        assert (ag.ones(2, dtype="float32", device=backend) * 0.5).dtype == ag.float32
        assert ag.finfo().dtype == np.float64
    finally:
        ag.set_default_dtype("float32")
    assert ag.tensor([1.5], device=backend).dtype == ag.float32
    assert ag.tensor(1j, device=backend).dtype == ag.complex64


def test_only_floating_types_can_be_the_default() -> None:
    for bad in (ag.int64, "int32", ag.complex64, ag.bool):
        with pytest.raises(TypeError, match="only floating dtypes"):
            ag.set_default_dtype(bad)
    assert ag.get_default_dtype() is ag.float32


def test_full_takes_the_fill_values_type(backend) -> None:
    assert ag.full((2,), 1, device=backend).dtype == ag.int64
    assert ag.full((2,), True, device=backend).dtype == ag.bool
    assert ag.full((2,), 1.5, device=backend).dtype == ag.float32
    assert ag.full((2,), 1.5, dtype=ag.float64, device=backend).dtype == ag.float64


def test_finfo_and_iinfo() -> None:
    assert ag.finfo(ag.float32).eps == np.finfo(np.float32).eps
    assert ag.finfo("float64").max == np.finfo(np.float64).max
    assert ag.finfo().bits == 32  # the default dtype
    assert ag.finfo(ag.ones(2, dtype="float16")).tiny == np.finfo(np.float16).tiny
    assert ag.iinfo(ag.int8).max == 127 and ag.iinfo(ag.uint8).min == 0
    assert ag.iinfo(ag.long).bits == 64
    with pytest.raises(TypeError, match="finfo: expected a floating dtype"):
        ag.finfo(ag.int32)
    with pytest.raises(TypeError, match="iinfo: expected an integer dtype"):
        ag.iinfo(ag.float32)


def test_of_maps_numpy_dtypes_to_objects() -> None:
    assert dtypes.of(np.dtype("int64")) is ag.long
    assert dtypes.of("float32") is ag.float
    assert dtypes.of("uint16") is None  # PyTorch has no object for it here
