"""Gradient clipping by total norm and by value, including inf/NaN gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest

import optim

from .helpers import param, set_grad

G1 = np.array([[3.0, -4.0], [1.0, 2.0]])
G2 = np.array([-2.0, 0.5, 6.0])


def _setup(backend, dtype="float64"):
    a, b, c = (param(np.zeros(G1.shape), backend, dtype), param(np.zeros(3), backend, dtype),
               param([0.0], backend, dtype))
    set_grad(a, G1)
    set_grad(b, G2)
    return [a, b, c]  # c has no gradient: skipped


def _norm(norm_type):
    flat = np.concatenate([G1.ravel(), G2])
    if norm_type == math.inf:
        return np.abs(flat).max()
    return (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm(backend, norm_type, max_norm):
    params = _setup(backend)
    total = optim.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    expected = _norm(norm_type)
    assert total.shape == () and total.device == backend.device
    np.testing.assert_allclose(total.numpy(), expected, rtol=1e-12)
    coef = min(1.0, max_norm / (expected + 1e-6))
    np.testing.assert_allclose(params[0].grad.numpy(), G1 * coef, rtol=1e-12)
    np.testing.assert_allclose(params[1].grad.numpy(), G2 * coef, rtol=1e-12)
    assert params[2].grad is None


def test_clip_grad_norm_float32_single_tensor(backend):
    p = param(np.zeros(G2.shape), backend, "float32")
    set_grad(p, G2)
    total = optim.clip_grad_norm_(p, 1.0)
    assert p.grad.dtype == np.float32
    np.testing.assert_allclose(total.numpy(), np.linalg.norm(G2), rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(p.grad.numpy()), 1.0, rtol=1e-5)


def test_clip_grad_norm_no_grads(backend):
    total = optim.clip_grad_norm_([param([1.0], backend)], 1.0)
    assert total.item() == 0.0


def test_clip_grad_norm_empty_grad(backend):
    p, q = param(np.zeros((0, 2)), backend), param([0.0], backend)
    set_grad(p, np.zeros((0, 2)))
    set_grad(q, [4.0])
    for norm_type in (2.0, math.inf):
        set_grad(q, [4.0])
        assert optim.clip_grad_norm_([p, q], 1.0, norm_type=norm_type).item() == pytest.approx(4)
        np.testing.assert_allclose(q.grad.numpy(), [1.0], rtol=1e-6)


@pytest.mark.parametrize("bad, norm_after", [(math.inf, math.inf), (math.nan, math.nan)])
@pytest.mark.parametrize("norm_type", [2.0, math.inf])
def test_clip_grad_norm_nonfinite(backend, bad, norm_after, norm_type):
    params = _setup(backend)
    g = G2.copy()
    g[1] = bad
    set_grad(params[1], g)
    with pytest.raises(RuntimeError, match="non-finite"):
        optim.clip_grad_norm_(params, 1.0, norm_type=norm_type, error_if_nonfinite=True)
    np.testing.assert_array_equal(params[0].grad.numpy(), G1)  # untouched when raising
    total = optim.clip_grad_norm_(params, 1.0, norm_type=norm_type)
    if math.isnan(norm_after):
        assert math.isnan(total.item())
        assert np.isnan(params[0].grad.numpy()).all()  # NaN coefficient: PyTorch's behaviour
    else:
        assert total.item() == math.inf
        # coefficient max_norm / inf = 0: finite gradients become 0, the inf element NaN
        np.testing.assert_array_equal(params[0].grad.numpy(), np.zeros_like(G1))
        assert np.isnan(params[1].grad.numpy()[1])


def test_clip_grad_value(backend):
    params = _setup(backend)
    g = G2.copy()
    g[0] = math.nan
    set_grad(params[1], g)
    assert optim.clip_grad_value_(params, 2.5) is None
    np.testing.assert_array_equal(params[0].grad.numpy(), np.clip(G1, -2.5, 2.5))
    out = params[1].grad.numpy()
    assert math.isnan(out[0])
    np.testing.assert_array_equal(out[1:], [0.5, 2.5])
    with pytest.raises(ValueError, match="clip_value must be >= 0"):
        optim.clip_grad_value_(params, -1.0)
