"""The activations of issue 16 as modules and functions: values, the gradient at each kink
(PyTorch's convention, checked against PyTorch 2.13), second derivatives, parameters."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F


def _grads(fn, points, backend, **kw):
    x = ag.tensor(np.asarray(points, dtype=np.float64), device=backend, requires_grad=True)
    (g,) = ag.gradients(fn(x, **kw).sum(), x, create_graph=True)
    if not g.requires_grad:  # piecewise linear: the gradient is constant in x
        return g.numpy(), np.zeros_like(g.numpy())
    (gg,) = ag.gradients(g.sum(), x, allow_unused=True)
    return g.numpy(), (None if gg is None else gg.numpy())


@pytest.mark.parametrize("fn,kw,points,first", [
    (F.hardtanh, {}, [-1.0, 1.0, 0.0], [0.0, 0.0, 1.0]),
    (F.relu6, {}, [0.0, 6.0, 3.0], [0.0, 0.0, 1.0]),
    (F.hardsigmoid, {}, [-3.0, 3.0, 0.0], [0.0, 0.0, 1 / 6]),
    (F.hardswish, {}, [-3.0, 3.0, 0.0], [0.0, 1.0, 0.5]),
    (F.softshrink, {}, [-0.5, 0.5, 0.7], [0.0, 0.0, 1.0]),
    (F.hardshrink, {}, [-0.5, 0.5, -0.7], [0.0, 0.0, 1.0]),
    (F.threshold, {"threshold": 0.3, "value": -2.0}, [0.3, 0.31], [0.0, 1.0]),
    (F.selu, {}, [0.0], [1.0507009873554805 * 1.6732632423543772]),
    (F.celu, {"alpha": 0.7}, [0.0], [1.0]),
    (F.softsign, {}, [0.0], [1.0]),
])
def test_gradient_at_the_kinks(backend, fn, kw, points, first):
    g, _ = _grads(fn, points, backend, **kw)
    np.testing.assert_allclose(g, first, rtol=1e-12, atol=1e-15)


def test_second_derivatives_exact(backend):
    x = np.array([-2.0, -0.3, 0.4, 2.5])
    s = 1 / (1 + np.exp(-x))
    _, gg = _grads(F.silu, x, backend)
    np.testing.assert_allclose(gg, s * (1 - s) * (2 + x * (1 - 2 * s)), rtol=1e-12)
    _, gg = _grads(F.logsigmoid, x, backend)
    np.testing.assert_allclose(gg, -s * (1 - s), rtol=1e-12)
    _, gg = _grads(F.hardswish, [-2.0, 1.0, 4.0], backend)
    np.testing.assert_allclose(gg, [1 / 3, 1 / 3, 0.0])
    _, gg = _grads(F.softsign, [-1.0, 0.0, 1.0], backend)
    np.testing.assert_allclose(gg, [0.25, 0.0, -0.25])  # 0 at the kink of the second order


def test_stable_for_large_inputs(backend):
    x = ag.tensor([-800.0, 800.0], device=backend, dtype="float64")
    np.testing.assert_allclose(F.silu(x).numpy(), [0.0, 800.0])
    np.testing.assert_allclose(F.mish(x).numpy(), [0.0, 800.0])
    np.testing.assert_allclose(F.logsigmoid(x).numpy(), [-800.0, 0.0])
    np.testing.assert_allclose(F.selu(x).numpy(), [-1.7580993408473766, 800 * 1.0507009873554805])


def test_modules_and_repr(backend):
    x = ag.randn(2, 3, 4, device=backend)
    for layer in (nn.SiLU(), nn.Mish(), nn.SELU(), nn.CELU(0.5), nn.Hardtanh(), nn.ReLU6(),
                  nn.Hardsigmoid(), nn.Hardswish(), nn.LogSigmoid(), nn.Softsign(),
                  nn.Tanhshrink(), nn.Softshrink(), nn.Hardshrink(), nn.Threshold(0.1, 0.0),
                  nn.Softmin(dim=1), nn.SiLU(inplace=True)):
        y = layer(x)
        assert y.shape == x.shape and y.dtype == x.dtype
    np.testing.assert_allclose(nn.Softmin(1)(x).numpy().sum(axis=1), 1.0, rtol=1e-6)
    assert repr(nn.Hardtanh(-2, 2)) == "Hardtanh(min_val=-2.0, max_val=2.0)"
    assert repr(nn.SiLU(inplace=True)) == "SiLU(inplace=True)"
    with pytest.raises(ValueError, match="CELU: alpha must not be 0"):
        nn.CELU(0.0)
    with pytest.raises(ValueError, match="min_val"):
        nn.Hardtanh(1.0, -1.0)


def test_prelu_learns_one_slope_per_channel(backend):
    layer = nn.PReLU(3).to(backend.device)
    assert layer.weight.shape == (3,) and np.allclose(layer.weight.numpy(), 0.25)
    x = ag.tensor(np.array([[[-1.0, 2.0], [-2.0, 1.0], [3.0, -4.0]]], dtype=np.float32),
                  device=backend)
    y = layer(x)
    np.testing.assert_allclose(y.numpy(), [[[-0.25, 2.0], [-0.5, 1.0], [3.0, -1.0]]])
    y.sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), [-1.0, -2.0, -4.0])
    shared = nn.PReLU()
    assert shared(ag.randn(2, 5, device=backend)).shape == (2, 5)
    with pytest.raises(ValueError, match="prelu: weight of shape"):
        F.prelu(ag.randn(2, 4, device=backend), ag.ones(3, device=backend))


def test_glu_halves_the_axis(backend):
    x = np.random.default_rng(0).normal(size=(2, 6))
    y = nn.GLU()(ag.tensor(x, device=backend))
    np.testing.assert_allclose(y.numpy(), x[:, :3] / (1 + np.exp(-x[:, 3:])))
    assert F.glu(ag.randn(4, 2, device=backend), dim=0).shape == (2, 2)
    with pytest.raises(ValueError, match="even length"):
        F.glu(ag.randn(3, 3, device=backend))
