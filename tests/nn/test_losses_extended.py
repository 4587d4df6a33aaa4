"""The losses of issue 16 as modules, their edge cases and errors, on every backend (the
values and gradients of all 98 configurations were checked against PyTorch 2.13 once;
the op table checks them against the formulas written out)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from tests.autograd.cases_losses import (
    ref_gaussian,
    ref_kl_div,
    ref_multi_margin,
    ref_poisson,
    ref_smooth_l1,
    ref_triplet,
)


def _t(a, backend, **kw):
    return ag.tensor(np.asarray(a, dtype=np.float64), device=backend, **kw)


RNG = np.random.default_rng(0)
X, T = RNG.normal(size=(4, 5)), RNG.normal(size=(4, 5))


def test_regression_and_likelihood_losses(backend):
    x, t = _t(X, backend), _t(T, backend)
    for beta in (1.0, 0.3, 0.0):
        got = nn.SmoothL1Loss(beta=beta)(x, t).item()
        assert got == pytest.approx(ref_smooth_l1(X, T, beta=beta))
    counts = np.abs(np.round(T * 2))
    got = nn.PoissonNLLLoss(full=True)(x, _t(counts, backend)).item()
    assert got == pytest.approx(ref_poisson(X, counts, full=True))
    var = np.abs(T) + 0.1
    got = nn.GaussianNLLLoss(full=True, reduction="sum")(x, t, _t(var, backend)).item()
    assert got == pytest.approx(ref_gaussian(X, T, var, full=True, reduction="sum"))
    per_sample = F.gaussian_nll_loss(x, t, _t(var[:, 0], backend), reduction="none")
    assert per_sample.shape == (4, 5)
    assert F.gaussian_nll_loss(x, t, 1.0).item() == pytest.approx(ref_gaussian(X, T, np.ones(1)))


def test_gaussian_nll_clamps_var_without_blocking_its_gradient(backend):
    var = _t([[0.0, 1.0]], backend, requires_grad=True)
    loss = F.gaussian_nll_loss(_t([[1.0, 1.0]], backend), _t([[0.0, 0.0]], backend), var,
                               eps=1e-2, reduction="sum")
    assert loss.item() == pytest.approx(0.5 * (math.log(1e-2) + 1 / 1e-2) + 0.5 * (0 + 1))
    loss.backward()
    # d/dv 0.5 (log v + 1 / v) at the clamped v = eps, reaching var itself (PyTorch's rule)
    np.testing.assert_allclose(var.grad.numpy(), [[0.5 * (1 / 1e-2 - 1 / 1e-4), 0.0]])
    if not backend.is_device:
        with pytest.raises(ValueError, match="var has negative entries"):
            F.gaussian_nll_loss(var, var, _t([[-1.0, 1.0]], backend))
    with pytest.raises(ValueError, match="var of shape"):
        F.gaussian_nll_loss(_t(X, backend), _t(T, backend), _t(np.ones(3), backend))


def test_kl_div_reductions_and_zero_targets(backend):
    log_p = np.log(np.full((2, 3), 1 / 3))
    q = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    x = _t(log_p, backend, requires_grad=True)
    loss = nn.KLDivLoss(reduction="batchmean")(x, _t(q, backend))
    assert loss.item() == pytest.approx(ref_kl_div(log_p, q, "batchmean"))
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), -q / 2)
    both_log = F.kl_div(x, _t(np.log(q + 1e-9), backend), reduction="sum", log_target=True)
    assert both_log.item() == pytest.approx(ref_kl_div(log_p, np.log(q + 1e-9), "sum", True))
    with pytest.raises(ValueError, match="batchmean"):
        nn.KLDivLoss(reduction="max")


def test_margin_and_embedding_losses(backend):
    a, p, n = (_t(RNG.normal(size=(3, 4)), backend) for _ in range(3))
    got = nn.TripletMarginLoss(margin=2.0, swap=True)(a, p, n).item()
    assert got == pytest.approx(ref_triplet(a.numpy(), p.numpy(), n.numpy(), 2.0, swap=True))
    y = _t([1.0, -1.0, 1.0], backend)
    cos = nn.CosineEmbeddingLoss(margin=0.1, reduction="none")(a, p, y)
    assert cos.shape == (3,)
    rank = nn.MarginRankingLoss(0.5)(a[:, 0], p[:, 0], y).item()
    assert rank == pytest.approx(np.maximum(-y.numpy() * (a.numpy()[:, 0] - p.numpy()[:, 0])
                                            + 0.5, 0).mean())
    hinge = nn.HingeEmbeddingLoss(margin=2.0)(_t([0.5, 3.0], backend), _t([-1, 1], backend))
    assert hinge.item() == pytest.approx((1.5 + 3.0) / 2)
    soft = nn.SoftMarginLoss()(_t([0.0], backend), _t([1.0], backend)).item()
    assert soft == pytest.approx(math.log(2))
    distance = nn.TripletMarginWithDistanceLoss(
        distance_function=lambda u, v: 1 - F.cosine_similarity(u, v))(a, p, n)
    assert distance.shape == ()


def test_classification_margin_losses(backend):
    x = _t(X, backend)
    labels = ag.tensor(np.array([0, 4, 2, 1]), device=backend)
    w = np.array([1.0, 2.0, 0.5, 1.0, 3.0])
    got = nn.MultiMarginLoss(p=2, margin=0.5, weight=_t(w, backend))(x, labels).item()
    assert got == pytest.approx(ref_multi_margin(X, [0, 4, 2, 1], 2, 0.5, w))
    one = F.multi_margin_loss(x[0], labels[0], reduction="none")
    assert one.shape == () and one.item() == pytest.approx(ref_multi_margin(X[:1], [0]))
    targets = (RNG.uniform(size=(4, 5)) > 0.5) * 1.0
    multi = nn.MultiLabelSoftMarginLoss(weight=_t(w, backend))(x, _t(targets, backend))
    manual = -(targets * -np.logaddexp(0, -X) + (1 - targets) * -np.logaddexp(0, X)) * w
    assert multi.item() == pytest.approx(manual.mean(axis=1).mean())
    assert [n for n, _ in nn.MultiMarginLoss(weight=_t(w, backend)).named_buffers()] == [
        "weight"]
    with pytest.raises(ValueError, match="only p = 1 and p = 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(TypeError, match="integer class indices"):
        F.multi_margin_loss(x, _t([0.0, 1.0, 2.0, 3.0], backend))
