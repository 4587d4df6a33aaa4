"""The dtype rules of tensor.py's docstring: float32 default, float64 kept, scalars never upcast,
float32 with float64 gives float64, and gradients come back in each input's own dtype."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag


def test_python_floats_default_to_float32(backend) -> None:
    assert ag.tensor([1.0, 2.0], device=backend).dtype == np.float32
    assert ag.tensor(1.5, device=backend).dtype == np.float32
    assert ag.tensor([[1, 2.5]], device=backend).dtype == np.float32
    for make in (ag.zeros, ag.ones, ag.rand, ag.randn):
        assert make(2, device=backend).dtype == np.float32


def test_python_ints_give_int64(backend) -> None:
    assert ag.tensor([1, 2], device=backend).dtype == np.int64
    assert ag.arange(3, device=backend).dtype == np.int64
    assert ag.arange(0.0, 1.0, 0.5, device=backend).dtype == np.float32


def test_float64_arrays_and_explicit_dtypes_are_kept(backend) -> None:
    assert ag.tensor(np.array([1.0, 2.0]), device=backend).dtype == np.float64
    assert ag.tensor([1.0], dtype="float64", device=backend).dtype == np.float64
    assert ag.zeros(2, dtype="float64", device=backend).dtype == np.float64
    assert ag.tensor(np.array([1.0], dtype=np.float16), device=backend).dtype == np.float16


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_python_scalars_never_upcast(backend, dtype) -> None:
    x = ag.ones(3, dtype=dtype, device=backend)
    for y in (x * 2.0, 2.0 * x, x + 1, x - 0.5, 1.0 / x, x / 3.0, x**2, x**0.5, 2.0**x, -x):
        assert y.dtype == np.dtype(dtype)


def test_list_operands_take_the_tensors_float_dtype(backend) -> None:
    x = ag.ones(2, device=backend)
    assert (x + [1.0, 2.0]).dtype == np.float32


def test_float32_with_float64_gives_float64(backend) -> None:
    a = ag.ones(2, device=backend)
    b = ag.ones(2, dtype="float64", device=backend)
    for y in (a + b, b + a, a * b, a - b, a / b, ag.maximum(a, b)):
        assert y.dtype == np.float64


def test_gradients_are_cast_back_to_each_inputs_dtype(backend) -> None:
    a = ag.tensor([1.0, 2.0], device=backend, requires_grad=True)  # float32
    b = ag.tensor([[3.0], [4.0]], dtype="float64", device=backend, requires_grad=True)
    y = a * b  # float64, shape (2, 2)
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and a.grad.shape == (2,)
    assert b.grad.dtype == np.float64 and b.grad.shape == (2, 1)
    np.testing.assert_allclose(a.grad.numpy(), [7.0, 7.0])
    np.testing.assert_allclose(b.grad.numpy(), [[3.0], [3.0]])


def test_gradient_through_an_explicit_cast(backend) -> None:
    x = ag.tensor([1.0, 2.0], device=backend, requires_grad=True)
    y = (x.double() * x.double()).sum()
    assert y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float32
    assert x.grad.numpy().tolist() == [2.0, 4.0]


def test_a_float64_seed_is_cast_to_the_outputs_dtype(backend) -> None:
    x = ag.tensor([1.0, 2.0], device=backend, requires_grad=True)
    (x * 3.0).backward(ag.ones(2, dtype="float64", device=backend))
    assert x.grad.dtype == np.float32


def test_gradients_of_float64_computations_stay_float64(backend) -> None:
    x = ag.tensor([1.0, 2.0], dtype="float64", device=backend, requires_grad=True)
    (x.exp() * 2.0).sum().backward()
    assert x.grad.dtype == np.float64


def test_integer_tensors_mixed_with_floats(backend) -> None:
    i = ag.tensor([1, 2], device=backend)
    f = ag.tensor([0.5, 0.5], device=backend, requires_grad=True)
    y = f * i
    assert y.dtype == np.float32 or y.dtype == np.float64
    y.sum().backward()
    assert f.grad.dtype == np.float32
    assert f.grad.numpy().tolist() == [1.0, 2.0]


def test_comparisons_give_bool(backend) -> None:
    x = ag.ones(2, dtype="float64", device=backend, requires_grad=True)
    assert (x > 0.5).dtype == np.bool_
    assert not (x > 0.5).requires_grad
