"""Losses: functional and module forms against NumPy references, reductions, stability, errors."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
from autograd.gradcheck import gradcheck
from nn import losses as L

REDUCTIONS = ["mean", "sum", "none"]


def _t(a, backend, **kw):
    return ag.tensor(np.asarray(a), device=backend, **kw)


def _reduce(per_sample: np.ndarray, reduction: str, denominator: float | None = None):
    if reduction == "none":
        return per_sample
    if reduction == "sum":
        return per_sample.sum()
    return per_sample.sum() / (per_sample.size if denominator is None else denominator)


def np_log_softmax(x: np.ndarray, axis: int = 1) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def np_cross_entropy(x, y, weight=None, ignore_index=-100, reduction="mean", eps=0.0):
    """PyTorch's definition, written out: class axis 1, targets (N, d...)."""
    c = x.shape[1]
    logp = np_log_softmax(x)
    w = np.ones(c) if weight is None else weight
    valid = y != ignore_index
    safe = np.where(valid, y, 0)
    picked = np.take_along_axis(logp, safe[:, None], axis=1)[:, 0]
    w_y = w[safe] * valid
    nll = -w_y * picked
    smooth = -(logp * w.reshape((1, -1) + (1,) * (x.ndim - 2))).sum(axis=1) * valid
    per_sample = (1 - eps) * nll + eps / c * smooth
    return _reduce(per_sample, reduction, w_y.sum())


# -- cross-entropy ---------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_cross_entropy_matches_reference(backend, reduction, weighted, eps):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 5))
    y = np.array([0, 4, -100, 2, 2, 1])
    w = rng.uniform(0.5, 2, size=5) if weighted else None
    got = L.cross_entropy(_t(x, backend), _t(y, backend),
                          None if w is None else _t(w, backend), reduction=reduction,
                          label_smoothing=eps)
    expected = np_cross_entropy(x, y, w, reduction=reduction, eps=eps)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10)
    assert got.dtype == np.float64


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_spatial_targets_and_ignore_index(backend, reduction):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 4, 5))
    y = rng.integers(0, 3, size=(2, 4, 5))
    y[0, 1, :3] = 7  # a custom ignore_index
    w = rng.uniform(0.5, 2, size=3)
    module = nn.CrossEntropyLoss(weight=_t(w, backend), ignore_index=7, reduction=reduction,
                                 label_smoothing=0.1)
    got = module(_t(x, backend), _t(y, backend))
    expected = np_cross_entropy(x, y, w, ignore_index=7, reduction=reduction, eps=0.1)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10)


def test_cross_entropy_gradient(backend):
    rng = np.random.default_rng(2)
    x = _t(rng.normal(size=(4, 3, 2)), backend, requires_grad=True)
    y = _t(np.array([[0, 2], [1, -100], [2, 2], [0, 1]]), backend)
    w = _t(rng.uniform(0.5, 2, size=3), backend)
    assert gradcheck(lambda x: L.cross_entropy(x, y, w, label_smoothing=0.3), (x,))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_entropy_none_then_sum_backward(backend, dtype):
    # The upstream gradient of loss.sum() is a broadcast (strided) view; the host C loop once
    # refused it ("ndarray is not C-contiguous").
    rng = np.random.default_rng(0)
    x = _t(rng.normal(size=(12, 10)), backend, dtype=dtype, requires_grad=True)
    y = ag.tensor(rng.integers(0, 10, 12), device=backend)
    nn.CrossEntropyLoss(reduction="none")(x, y).sum().backward()
    expected = np.exp(np_log_softmax(x.numpy().astype(np.float64)))
    expected[np.arange(12), y.numpy()] -= 1
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_cross_entropy_probability_targets(backend):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 5))
    p = rng.dirichlet(np.ones(5), size=4)
    w = rng.uniform(0.5, 2, size=5)
    for reduction in REDUCTIONS:
        got = L.cross_entropy(_t(x, backend), _t(p, backend), _t(w, backend),
                              reduction=reduction, label_smoothing=0.2)
        t = (p * 0.8 + 0.2 / 5) * w
        expected = _reduce(-(np_log_softmax(x) * t).sum(axis=1), reduction)
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10)
    xt = _t(x, backend, requires_grad=True)
    pt = _t(p, backend, requires_grad=True)
    assert gradcheck(lambda a, b: L.cross_entropy(a, b, reduction="sum"), (xt, pt))


def test_cross_entropy_unbatched(backend):
    x = np.array([1.0, 2.0, 0.5])
    got = L.cross_entropy(_t(x, backend), _t(np.array(1), backend))
    np.testing.assert_allclose(got.numpy(), -np_log_softmax(x[None])[0, 1], rtol=1e-12)


def test_cross_entropy_large_logits_are_stable(backend):
    x = _t(np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]], dtype=np.float32), backend,
           requires_grad=True)
    y = _t(np.array([0, 0]), backend)
    loss = L.cross_entropy(x, y, reduction="sum")
    # sample 0 is right with certainty (loss 0); sample 1 loses log(2) + 1e4
    np.testing.assert_allclose(loss.numpy(), 1e4 + np.log(2), rtol=1e-6)
    loss.backward()
    grad = x.grad.numpy()
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(grad, [[0, 0, 0], [-1, 0.5, 0.5]], atol=1e-6)
    assert x.grad.dtype == np.float32


def test_cross_entropy_all_ignored_mean_is_nan(backend):
    x = _t(np.zeros((2, 3)), backend, requires_grad=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        loss = L.cross_entropy(x, _t(np.array([-100, -100]), backend))
        loss.backward()
    assert np.isnan(loss.numpy())
    # As in PyTorch: ignored samples get a zero gradient, even from a NaN mean.
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))


def test_cross_entropy_errors(backend):
    x = _t(np.zeros((2, 3)), backend)
    with pytest.raises(ValueError, match=r"cross_entropy: target of shape \(3,\)"):
        L.cross_entropy(x, _t(np.array([0, 1, 2]), backend))
    with pytest.raises(ValueError, match="probabilities"):
        L.cross_entropy(x, _t(np.zeros(2), backend))
    with pytest.raises(ValueError, match="reduction"):
        L.cross_entropy(x, _t(np.array([0, 1]), backend), reduction="avg")
    with pytest.raises(ValueError, match="weight"):
        L.cross_entropy(x, _t(np.array([0, 1]), backend), weight=_t(np.ones(2), backend))
    bad = _t(np.array([0, 3]), backend)
    if backend.is_device:  # no host read on a device: the bad sample's loss is NaN
        assert np.isnan(L.cross_entropy(x, bad, reduction="none").numpy()[1])
    else:
        with pytest.raises(IndexError, match="out of range for 3 classes"):
            L.cross_entropy(x, bad)


# -- nll -------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_matches_cross_entropy(backend, reduction):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(5, 4, 3))
    y = rng.integers(0, 4, size=(5, 3))
    y[1, 1] = -100
    w = rng.uniform(0.5, 2, size=4)
    logp = _t(np_log_softmax(x), backend)
    got = nn.NLLLoss(weight=_t(w, backend), reduction=reduction)(logp, _t(y, backend))
    np.testing.assert_allclose(got.numpy(), np_cross_entropy(x, y, w, reduction=reduction),
                               rtol=1e-10)
    xt = _t(np_log_softmax(x), backend, requires_grad=True)
    assert gradcheck(lambda a: L.nll_loss(a, _t(y, backend), _t(w, backend)), (xt,))


def test_nll_loss_errors(backend):
    x = _t(np.zeros((2, 3)), backend)
    with pytest.raises(TypeError, match="integer"):
        L.nll_loss(x, _t(np.zeros(2), backend))
    with pytest.raises(ValueError, match="expected"):
        L.nll_loss(x, _t(np.zeros((2, 1), dtype=np.int64), backend))


# -- regression ------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses(backend, reduction):
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(3, 4)) * 2, rng.normal(size=(3, 4))
    d = a - b
    huber = np.where(np.abs(d) < 0.7, 0.5 * d * d, 0.7 * (np.abs(d) - 0.35))
    cases = [
        (nn.MSELoss(reduction), d * d),
        (nn.L1Loss(reduction), np.abs(d)),
        (nn.HuberLoss(reduction, delta=0.7), huber),
    ]
    for module, per_element in cases:
        got = module(_t(a, backend), _t(b, backend))
        np.testing.assert_allclose(got.numpy(), _reduce(per_element, reduction), rtol=1e-12)
    at = _t(a, backend, requires_grad=True)
    bt = _t(b, backend, requires_grad=True)
    assert gradcheck(lambda x, y: L.huber_loss(x, y, delta=0.7), (at, bt))
    assert gradcheck(lambda x, y: L.mse_loss(x, y, reduction), (at, bt))


def test_regression_shape_mismatch_raises(backend):
    with pytest.raises(ValueError, match=r"mse_loss: input of shape \(3, 1\)"):
        L.mse_loss(_t(np.zeros((3, 1)), backend), _t(np.zeros(3), backend))


# -- binary cross-entropy --------------------------------------------------------------------
def np_bce(p, y, w=1.0):
    with np.errstate(divide="ignore"):
        return -w * (y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log1p(-p), -100))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce(backend, reduction):
    rng = np.random.default_rng(6)
    p, y, w = rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(0, 1, (4, 3)), rng.uniform(0, 2, 3)
    got = nn.BCELoss(_t(w, backend), reduction)(_t(p, backend), _t(y, backend))
    np.testing.assert_allclose(got.numpy(), _reduce(np_bce(p, y, w), reduction), rtol=1e-12)
    pt = _t(p, backend, requires_grad=True)
    yt = _t(y, backend, requires_grad=True)
    assert gradcheck(lambda a, b: L.binary_cross_entropy(a, b), (pt, yt))


def test_bce_clamps_log_at_minus_100(backend):
    p = _t(np.array([0.0, 1.0, 0.0, 1.0], dtype=np.float32), backend, requires_grad=True)
    y = _t(np.array([1.0, 0.0, 0.0, 1.0], dtype=np.float32), backend)
    loss = L.binary_cross_entropy(p, y, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [100, 100, 0, 0])
    loss.sum().backward()
    assert np.isfinite(p.grad.numpy()).all()


def test_bce_rejects_non_probabilities(backend):
    if backend.is_device:
        pytest.skip("the range check needs a host read; it runs on the CPU only")
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits"):
        L.binary_cross_entropy(_t(np.array([1.5]), backend), _t(np.array([1.0]), backend))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits(backend, reduction):
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(4, 3)) * 3, rng.uniform(0, 1, (4, 3))
    w, pw = rng.uniform(0, 2, (4, 1)), rng.uniform(0.5, 3, 3)
    module = nn.BCEWithLogitsLoss(_t(w, backend), reduction, pos_weight=_t(pw, backend))
    got = module(_t(x, backend), _t(y, backend))
    log_sig, log_not = -np.logaddexp(0, -x), -np.logaddexp(0, x)
    expected = -w * (pw * y * log_sig + (1 - y) * log_not)
    np.testing.assert_allclose(got.numpy(), _reduce(expected, reduction), rtol=1e-10)
    plain = L.binary_cross_entropy_with_logits(_t(x, backend), _t(y, backend), reduction="none")
    np.testing.assert_allclose(plain.numpy(), -(y * log_sig + (1 - y) * log_not), rtol=1e-10)


def test_bce_with_logits_large_logits(backend):
    x = _t(np.array([1e4, -1e4, 1e4, -1e4], dtype=np.float32), backend, requires_grad=True)
    y = _t(np.array([1.0, 0.0, 0.0, 1.0], dtype=np.float32), backend)
    loss = L.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [0, 0, 1e4, 1e4])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 0, 1, -1])


def test_loss_module_repr_and_buffers(backend):
    w = _t(np.ones(3, dtype=np.float32), backend)
    module = nn.CrossEntropyLoss(weight=w, label_smoothing=0.1, reduction="sum")
    assert "label_smoothing=0.1" in repr(module) and "reduction='sum'" in repr(module)
    assert list(module.state_dict()) == ["weight"]
    assert repr(nn.MSELoss()) == "MSELoss()"
    with pytest.raises(ValueError, match="reduction"):
        nn.L1Loss(reduction="batchmean")
