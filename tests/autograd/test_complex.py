"""Complex numbers never enter a graph (issue 12 §3): requiring grad on one raises, plain complex
arithmetic works, and the documented recipe (real and imaginary parts) gives the right gradient."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn

ADVICE = "real and imaginary parts"


def complex_tensor(backend, values=(1 + 2j, -0.5 + 0.25j)):
    return ag.tensor(np.array(values, dtype=np.complex128), device=backend)


@pytest.mark.parametrize("make", [
    lambda b: ag.tensor(np.array([1 + 2j]), device=b, requires_grad=True),
    lambda b: ag.Tensor(np.array([1 + 2j]), device=b, requires_grad=True),
    lambda b: ag.zeros(2, dtype="complex64", device=b, requires_grad=True),
    lambda b: ag.ones(2, dtype="complex128", device=b, requires_grad=True),
    lambda b: ag.full((2,), 1j, dtype="complex64", device=b, requires_grad=True),
    lambda b: ag.zeros_like(ag.zeros(2, device=b), dtype="complex64", requires_grad=True),
    lambda b: complex_tensor(b).requires_grad_(),
    lambda b: nn.Parameter(complex_tensor(b)),
], ids=["tensor", "Tensor", "zeros", "ones", "full", "zeros_like", "requires_grad_",
        "Parameter"])
def test_a_complex_tensor_cannot_require_grad(backend, make):
    with pytest.raises(TypeError, match="complex128|complex64") as info:
        make(backend)
    message = str(info.value)
    assert "complex tensors cannot require grad" in message and ADVICE in message


def test_a_complex_parameter_without_grad_is_allowed(backend):
    p = nn.Parameter(complex_tensor(backend), requires_grad=False)
    assert p.dtype == np.complex128 and not p.requires_grad


def test_data_of_a_tensor_requiring_grad_cannot_become_complex(backend):
    x = ag.zeros(2, device=backend, requires_grad=True)
    with pytest.raises(TypeError, match="complex tensors cannot require grad"):
        x.data = complex_tensor(backend)
    assert x.dtype == np.float32


def test_function_transforms_refuse_complex_arguments(backend):
    with pytest.raises(TypeError, match=ADVICE):
        ag.grad(lambda z: (z * z).sum())(complex_tensor(backend))


@pytest.mark.parametrize("op", [
    lambda x, z: x * (1 + 2j),                     # a Python complex scalar
    lambda x, z: (1 + 2j) * x,
    lambda x, z: x * z,                            # a complex tensor that needs no grad
    lambda x, z: z + x,
    lambda x, z: x * z.array,                      # a complex array of the tensor's backend
    lambda x, z: x.astype("complex64"),
    lambda x, z: ag.where(x > 0, z, x),
], ids=["mul_scalar", "rmul_scalar", "mul_tensor", "add_tensor", "mul_array", "astype",
        "where"])
def test_an_op_making_complex_from_inputs_that_require_grad_raises(backend, op):
    x = ag.tensor([1.0, 2.0], device=backend, requires_grad=True)
    z = complex_tensor(backend)
    with pytest.raises(TypeError, match="complex tensors cannot require grad") as info:
        op(x, z)
    message = str(info.value)
    # The error names the op, what it got (shapes, dtypes) and what to do instead.
    assert "would make a complex" in message and "float32" in message and ADVICE in message


def test_the_error_names_the_op(backend):
    x = ag.tensor([1.0, 2.0], device=backend, requires_grad=True)
    with pytest.raises(TypeError, match=r"^Mul: complex tensors cannot require grad"):
        x * complex_tensor(backend)


def test_a_complex_leaf_forced_to_require_grad_is_refused_by_every_op(backend):
    z = complex_tensor(backend)
    z.requires_grad = True  # the back door around requires_grad_
    for op in (lambda t: t.abs(), lambda t: t * 2.0, lambda t: t.sum(), lambda t: t[0]):
        with pytest.raises(TypeError, match=r"takes a complex input that requires grad "
                                            r"\(input 0, complex128\)"):
            op(z)


def test_module_to_a_complex_dtype_is_refused(backend):
    layer = nn.Linear(2, 2, device=backend)
    with pytest.raises(TypeError, match="complex tensors cannot require grad"):
        layer.to(dtype="complex64")


def test_complex_arithmetic_without_grad_works(backend):
    values = np.array([1 + 2j, -0.5 + 0.25j])
    z = complex_tensor(backend, values)
    w = ag.tensor([3.0, -1.0], device=backend)
    np.testing.assert_allclose((z * z + w).numpy(), values * values + np.array([3.0, -1.0]))
    np.testing.assert_allclose(abs(z).numpy(), np.abs(values))
    np.testing.assert_allclose((z / 2).sum().numpy(), (values / 2).sum())


def test_complex_arithmetic_on_detached_or_no_grad_inputs_works(backend):
    x = ag.tensor([1.0, 2.0], device=backend, requires_grad=True)
    with ag.no_grad():
        y = x * (1 + 1j)
    assert y.dtype == np.complex64 and not y.requires_grad  # PyTorch: float32 * 1j is complex64
    z = x.detach() * (1 + 1j)
    np.testing.assert_allclose(z.numpy(), np.array([1 + 1j, 2 + 2j]))


def test_the_documented_recipe_gives_the_true_gradient(backend):
    # |z*z| at z = 1+2j as a function of re and im: |z|^2 = re^2 + im^2. The wrong
    # answer was -4.4-0.8j; the true gradient (d/dre + i d/dim) is 2+4j.
    re = ag.tensor([1.0], dtype="float64", device=backend, requires_grad=True)
    im = ag.tensor([2.0], dtype="float64", device=backend, requires_grad=True)
    zz_re = re * re - im * im          # (re + i im)^2
    zz_im = 2.0 * re * im
    ((zz_re * zz_re + zz_im * zz_im) ** 0.5).sum().backward()
    np.testing.assert_allclose(re.grad.numpy() + 1j * im.grad.numpy(), [2 + 4j])
