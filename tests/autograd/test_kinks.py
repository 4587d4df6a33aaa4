"""Unary ops at their edges: exact gradients at kinks, huge inputs, float32, erf, bad arguments.

The op table keeps drawn values away from kinks; here the gradient AT each kink is pinned to the
documented convention, exactly (no tolerance).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import autograd as ag
from autograd.grad_mode import no_grad

GY = 3.0  # upstream gradient: a rule that forgets to multiply by gy shows up


def _value_and_grad(backend, fn, values, dtype="float64"):
    """fn(x) and d<fn(x), GY>/dx on the host; overflow, 0/0 or a warning raises (underflow may)."""
    x = ag.tensor(np.asarray(values, dtype=dtype), device=backend, requires_grad=True)
    with np.errstate(over="raise", divide="raise", invalid="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        y = fn(x)
        y.backward(ag.tensor(np.full(y.shape, GY, dtype=dtype), device=backend))
    return y.numpy(), x.grad.numpy()


def _check(backend, fn, values, value, grad, dtype="float64"):
    got_value, got_grad = _value_and_grad(backend, fn, values, dtype)
    np.testing.assert_array_equal(got_value, np.asarray(value, dtype=dtype))
    np.testing.assert_array_equal(got_grad, GY * np.asarray(grad, dtype=dtype))


# -- gradients at kinks ----------------------------------------------------------------------
def test_relu_at_zero_has_zero_gradient(backend) -> None:
    _check(backend, ag.relu, [-1.0, 0.0, 2.0], [0.0, 0.0, 2.0], [0.0, 0.0, 1.0])


def test_abs_at_zero_has_zero_gradient(backend) -> None:
    _check(backend, ag.abs, [-1.5, 0.0, 2.0], [1.5, 0.0, 2.0], [-1.0, 0.0, 1.0])


def test_leaky_relu_at_zero_takes_the_negative_slope(backend) -> None:
    _check(backend, ag.leaky_relu, [-2.0, 0.0, 2.0], [-0.02, 0.0, 2.0], [0.01, 0.01, 1.0])
    _check(backend, lambda x: ag.leaky_relu(x, negative_slope=0.25), [-2.0, 0.0, 2.0],
           [-0.5, 0.0, 2.0], [0.25, 0.25, 1.0])


def test_elu_at_zero_takes_alpha(backend) -> None:
    _check(backend, lambda x: ag.elu(x, alpha=0.5), [0.0, 1.0], [0.0, 1.0], [0.5, 1.0])
    _check(backend, ag.elu, [0.0], [0.0], [1.0])


def test_clip_passes_the_gradient_strictly_inside_the_bounds(backend) -> None:
    values = [-1.0, -0.5, 0.0, 0.75, 1.0]
    _check(backend, lambda x: ag.clip(x, -0.5, 0.75), values,
           [-0.5, -0.5, 0.0, 0.75, 0.75], [0.0, 0.0, 1.0, 0.0, 0.0])
    _check(backend, lambda x: ag.clip(x, -0.5, None), values,
           [-0.5, -0.5, 0.0, 0.75, 1.0], [0.0, 0.0, 1.0, 1.0, 1.0])
    # A degenerate interval passes nothing.
    _check(backend, lambda x: ag.clip(x, 0.0, 0.0), [-1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0, 0, 0])


def test_clamp_method_passes_the_gradient_at_the_bounds_as_pytorch(backend) -> None:
    values = [-1.0, -0.5, 0.0, 0.75, 1.0]
    _check(backend, lambda x: x.clip(min=-0.5), values,
           [-0.5, -0.5, 0.0, 0.75, 1.0], [0.0, 1.0, 1.0, 1.0, 1.0])
    _check(backend, lambda x: x.clamp(max=0.75), values,
           [-1.0, -0.5, 0.0, 0.75, 0.75], [1.0, 1.0, 1.0, 1.0, 0.0])
    _check(backend, lambda x: x.clamp(-0.5, 0.75), values,
           [-0.5, -0.5, 0.0, 0.75, 0.75], [0.0, 1.0, 1.0, 1.0, 0.0])
    _check(backend, lambda x: ag.clip(x, -0.5, 0.75, inclusive=True), values,
           [-0.5, -0.5, 0.0, 0.75, 0.75], [0.0, 1.0, 1.0, 1.0, 0.0])
    _check(backend, lambda x: x.clip(0.0, 0.0), [-1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0, 1, 0])


def test_clip_at_zero_matches_relu(backend) -> None:
    values = [-1.0, 0.0, 1.0]
    assert np.array_equal(_value_and_grad(backend, lambda x: ag.clip(x, 0.0), values)[1],
                          _value_and_grad(backend, ag.relu, values)[1])


def test_sign_has_zero_gradient_everywhere(backend) -> None:
    _check(backend, ag.sign, [-2.0, 0.0, 3.0], [-1.0, 0.0, 1.0], [0.0, 0.0, 0.0])


def test_softplus_at_the_threshold_uses_the_smooth_branch(backend) -> None:
    value, grad = _value_and_grad(backend, lambda x: ag.softplus(x, beta=2.0, threshold=4.0),
                                  [2.0, 2.5])
    assert value[0] == pytest.approx(math.log1p(math.exp(4.0)) / 2.0, rel=1e-15)
    assert grad[0] == pytest.approx(GY / (1.0 + math.exp(-4.0)), rel=1e-15)
    assert value[1] == 2.5 and grad[1] == GY


def test_second_derivative_of_relu_and_abs_at_zero_is_zero(backend) -> None:
    for fn in (ag.relu, ag.abs, lambda x: x.clip(0.0, 1.0)):
        x = ag.tensor([0.0], dtype="float64", device=backend, requires_grad=True)
        (g,) = _grad(fn(x).sum(), x)
        if not g.requires_grad:  # the rule did not depend on x at all: a zero second derivative
            continue
        (gg,) = _grad(g.sum(), x)
        assert gg.numpy().tolist() == [0.0]


def _grad(y, x):
    from autograd.engine import run_backward

    return run_backward([y], [None], retain_graph=True, create_graph=True, inputs=[x],
                        allow_unused=False)


# -- stability for huge inputs ---------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sigmoid_saturates_without_overflow(backend, dtype) -> None:
    _check(backend, ag.sigmoid, [-1000.0, 1000.0], [0.0, 1.0], [0.0, 0.0], dtype)
    value, grad = _value_and_grad(backend, ag.sigmoid, [-30.0, 30.0], dtype)
    # Not rounded to 0 on the negative side: the exp(x) / (1 + exp(x)) branch keeps precision.
    assert value[0] == pytest.approx(math.exp(-30.0), rel=1e-5)
    assert grad[0] == pytest.approx(GY * math.exp(-30.0), rel=1e-5)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_softplus_is_stable_for_huge_inputs(backend, dtype) -> None:
    _check(backend, ag.softplus, [-1000.0, 1000.0], [0.0, 1000.0], [0.0, 1.0], dtype)
    # Even with the linear branch switched off, log(1 + exp(1000)) does not overflow.
    value, grad = _value_and_grad(backend, lambda x: ag.softplus(x, threshold=math.inf),
                                  [-1000.0, 1000.0], dtype)
    np.testing.assert_array_equal(value, np.asarray([0.0, 1000.0], dtype=dtype))
    np.testing.assert_array_equal(grad, np.asarray([0.0, GY], dtype=dtype))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_elu_and_gelu_are_stable_for_huge_inputs(backend, dtype) -> None:
    _check(backend, lambda x: ag.elu(x, alpha=0.5), [-1000.0, 1000.0], [-0.5, 1000.0],
           [0.0, 1.0], dtype)
    for approximate in ("none", "tanh"):
        value, grad = _value_and_grad(backend, lambda x, a=approximate: ag.gelu(x, approximate=a),
                                      [-1000.0, 1000.0], dtype)
        np.testing.assert_array_equal(np.abs(value), np.asarray([0.0, 1000.0], dtype=dtype))
        np.testing.assert_array_equal(np.abs(grad), np.asarray([0.0, GY], dtype=dtype))


def test_second_derivatives_stay_finite_for_huge_inputs(backend) -> None:
    for fn in (ag.sigmoid, ag.softplus, ag.elu, ag.gelu, lambda x: ag.gelu(x, "tanh")):
        x = ag.tensor([-1000.0, 1000.0], dtype="float64", device=backend, requires_grad=True)
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            (g,) = _grad(fn(x).sum(), x)
            (gg,) = _grad(g.sum(), x)
        assert np.isfinite(g.numpy()).all() and np.isfinite(gg.numpy()).all()


# -- dtypes ----------------------------------------------------------------------------------
UNARY = {
    "abs": ag.abs, "exp": ag.exp, "log": ag.log, "log1p": ag.log1p, "expm1": ag.expm1,
    "sqrt": ag.sqrt, "square": ag.square, "sin": ag.sin, "cos": ag.cos, "tanh": ag.tanh,
    "erf": ag.erf, "sigmoid": ag.sigmoid, "relu": ag.relu, "leaky_relu": ag.leaky_relu,
    "elu": ag.elu, "gelu": ag.gelu, "gelu_tanh": lambda x: ag.gelu(x, approximate="tanh"),
    "softplus": ag.softplus, "clip": lambda x: ag.clip(x, 0.2, 0.9), "sign": ag.sign,
    "clone": ag.clone,
}


@pytest.mark.parametrize("name", list(UNARY))
def test_float32_in_float32_out(backend, name) -> None:
    fn = UNARY[name]
    x = ag.tensor(np.asarray([0.1, 0.5, 1.5], dtype=np.float32), device=backend,
                  requires_grad=True)
    y = fn(x)
    assert y.dtype == np.float32, f"{name}: forward gave {y.dtype}"
    gy = ag.tensor(np.ones(3, dtype=np.float32), device=backend)
    # The rule itself must keep float32 (the engine's final cast would hide an upcast).
    with no_grad():
        gx = y.grad_fn.backward(gy)
    assert gx.dtype == np.float32, f"{name}: backward gave {gx.dtype}"
    y.backward(gy)
    assert x.grad.dtype == np.float32


# -- erf on every backend --------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_backend_erf_matches_math_erf(backend, dtype) -> None:
    values = np.asarray([-30.0, -2.5, -1.0, -1e-8, 0.0, 0.3, 1.0, 3.0, 6.0], dtype=dtype)
    got = backend.to_numpy(backend.erf(backend.asarray(values)))
    expected = np.asarray([math.erf(float(v)) for v in values], dtype=dtype)
    assert got.dtype == np.dtype(dtype)
    tol = 1e-15 if dtype == "float64" else 1e-7
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)
    assert backend.to_numpy(backend.erf(backend.asarray(np.zeros((0, 2), dtype)))).shape == (0, 2)


def test_math_erf_fallback_matches_math_erf() -> None:
    from backends.numpy_backend import _math_erf

    values = np.linspace(-4.0, 4.0, 17).reshape(1, 17)
    np.testing.assert_array_equal(_math_erf(values),
                                  np.asarray([[math.erf(v) for v in values[0]]]))
    assert _math_erf(np.float32([0.5])).dtype == np.float32
    assert _math_erf(np.asarray(0.5)).shape == ()


# -- bad arguments ---------------------------------------------------------------------------
def test_bad_arguments_are_rejected(backend) -> None:
    x = ag.tensor([0.5], dtype="float64", device=backend)
    with pytest.raises(ValueError, match="approximate"):
        ag.gelu(x, approximate="sigmoid")
    with pytest.raises(ValueError, match="at least one"):
        ag.clip(x)
    with pytest.raises(ValueError, match="greater than max"):
        ag.clip(x, 1.0, 0.0)  # NumPy dialect; the method gives max, as in PyTorch
    with pytest.raises(TypeError, match="maximum/minimum"):
        ag.clip(x, min=x)
    with pytest.raises(ValueError, match="beta"):
        ag.softplus(x, beta=0.0)
