"""Op-table rows for the losses of issue 16, with NumPy references from PyTorch's documented
formulas; inputs are drawn away from each loss's kinks (hinges, |d| = beta)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

import nn.losses_extended as L

from .op_table import OpCase

REDUCTIONS = st.sampled_from(["none", "sum", "mean"])


def _reduce(loss, reduction):
    if reduction == "mean":  # PyTorch's mean of nothing is nan; NumPy's says so with a warning
        return loss.sum() / loss.size if loss.size else np.float64("nan")
    return {"none": loss, "sum": loss.sum()}[reduction]


def _away(x, points, margin=0.05):
    """x moved at least `margin` away from each of `points`."""
    for p in points:
        close = np.abs(x - p) < margin
        x = np.where(close, p + np.where(x >= p, margin, -margin), x)
    return x


def ref_smooth_l1(x, t, reduction="mean", beta=1.0):
    d = np.abs(x - t)
    loss = d if beta == 0 else np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    return _reduce(loss, reduction)


def smooth_l1_inputs(rng, shapes):
    t = rng.uniform(-2, 2, size=shapes[0])
    d = _away(rng.uniform(-2, 2, size=shapes[0]), (-1.0, -0.5, 0.0, 0.5, 1.0))
    return [t + d, t]


def ref_kl_div(x, t, reduction="mean", log_target=False):
    if log_target:
        loss = np.exp(t) * (t - x)
    else:
        loss = np.where(t > 0, t * np.log(np.where(t > 0, t, 1.0)), 0.0) - t * x
    if reduction == "batchmean":
        return loss.sum() / (x.shape[0] if x.ndim else 1)
    return _reduce(loss, reduction)


def kl_inputs(rng, shapes):
    return [rng.uniform(-3, 0, size=shapes[0]), rng.uniform(0.05, 1, size=shapes[1])]


def ref_cosine_embedding(a, b, y, margin=0.0, reduction="mean"):
    cos = (a * b).sum(-1) / np.sqrt(((a * a).sum(-1) + 1e-12) * ((b * b).sum(-1) + 1e-12))
    loss = np.where(y == 1, 1 - cos, np.maximum(cos - margin, 0))
    return _reduce(loss, reduction)


def cosine_inputs(rng, shapes):
    a, b = rng.normal(size=shapes[0]), rng.normal(size=shapes[0])
    # elements away from 0: with one feature, cos is a step at 0 smoothed by the 1e-12 terms
    a, b = (np.where(np.abs(v) < 0.3, np.copysign(0.3, v) + v, v) for v in (a, b))
    y = rng.choice([-1.0, 1.0], size=shapes[0][:-1])
    cos = (a * b).sum(-1) / np.sqrt((a * a).sum(-1) * (b * b).sum(-1))
    # keep cos - margin (margin 0.2 in the row) away from the hinge
    b = np.where((np.abs(cos - 0.2) < 0.05)[..., None], -b, b)
    return [a, b, y]


def ref_margin_ranking(a, b, y, margin=0.0, reduction="mean"):
    return _reduce(np.maximum(-y * (a - b) + margin, 0), reduction)


def ranking_inputs(rng, shapes):
    a = rng.normal(size=shapes[0])
    y = rng.choice([-1.0, 1.0], size=shapes[0])
    # b = a + gap y makes -y (a - b) = gap: keep gap + margin (0.3) away from the hinge
    gap = _away(rng.uniform(-2, 2, size=shapes[0]), (-0.3,))
    return [a, a + gap * y, y]


def ref_triplet(a, p, n, margin=1.0, p_norm=2.0, eps=1e-6, swap=False, reduction="mean"):
    def dist(u, v):
        return (np.abs(u - v + eps) ** p_norm).sum(-1) ** (1 / p_norm)

    d_neg = dist(a, n)
    if swap:
        d_neg = np.minimum(d_neg, dist(p, n))
    return _reduce(np.maximum(margin + dist(a, p) - d_neg, 0), reduction)


def triplet_inputs(rng, shapes):
    return [rng.normal(size=s) for s in shapes]


def ref_hinge(x, y, margin=1.0, reduction="mean"):
    return _reduce(np.where(y == 1, x, np.maximum(margin - x, 0)), reduction)


def hinge_inputs(rng, shapes):
    x = _away(rng.uniform(0, 3, size=shapes[0]), (1.0,))
    return [x, rng.choice([-1.0, 1.0], size=shapes[0])]


def ref_multilabel(x, y, w=None, reduction="mean"):
    loss = -(y * -np.logaddexp(0, -x) + (1 - y) * -np.logaddexp(0, x))
    if w is not None:
        loss = loss * w
    return _reduce(loss.sum(-1) / x.shape[-1], reduction)


def multilabel_inputs(rng, shapes):
    arrays = [rng.normal(size=shapes[0]), (rng.uniform(size=shapes[0]) > 0.5) * 1.0]
    if len(shapes) > 2:
        arrays.append(rng.uniform(0.5, 2, size=shapes[2]))
    return arrays


def ref_poisson(x, t, log_input=True, full=False, eps=1e-8, reduction="mean"):
    loss = np.exp(x) - t * x if log_input else x - t * np.log(x + eps)
    if full:
        safe = np.where(t > 1, t, 2.0)
        loss = loss + np.where(t > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * math.pi
                                                                                * safe), 0)
    return _reduce(loss, reduction)


def poisson_inputs(rng, shapes):
    return [rng.uniform(0.2, 2, size=shapes[0]), rng.integers(0, 4, size=shapes[0]) * 1.0]


def ref_gaussian(x, t, v, full=False, eps=1e-6, reduction="mean"):
    if v.shape != x.shape and v.shape == x.shape[:-1]:
        v = v[..., None]
    v = np.maximum(v, eps)
    loss = 0.5 * (np.log(v) + (x - t) ** 2 / v)
    return _reduce(loss + (0.5 * math.log(2 * math.pi) if full else 0), reduction)


def gaussian_inputs(rng, shapes):
    return [rng.normal(size=shapes[0]), rng.normal(size=shapes[1]),
            rng.uniform(0.2, 2, size=shapes[2])]


def ref_multi_margin(x, y, p=1, margin=1.0, w=None, reduction="mean"):
    n, c = x.shape
    loss = np.zeros(n)
    for i in range(n):
        for j in range(c):
            if j != y[i]:
                z = max(0.0, margin - x[i, y[i]] + x[i, j]) ** p
                loss[i] += z * (1.0 if w is None else w[y[i]])
    return _reduce(loss / c, reduction)


def multi_margin_inputs(rng, shapes):
    n, c = shapes[0]
    y = rng.integers(0, c, size=n) if c else np.zeros(n, dtype=np.int64)
    x = rng.normal(size=(n, c))
    # keep margin - x_y + x_j away from 0 (margin 1 and 0.5 in the rows)
    for i in range(n):
        for j in range(c):
            if j != y[i]:
                for m in (1.0, 0.5):
                    if abs(m - x[i, y[i]] + x[i, j]) < 0.05:
                        x[i, j] += 0.2
    arrays = [x, y.astype(np.int64)]
    if len(shapes) > 2:
        arrays.append(rng.uniform(0.5, 2, size=shapes[2]))
    return arrays


# at least one sample: a mean over none is NaN, and a weight could not be gradchecked
vectors = st.tuples(st.integers(1, 3), st.integers(1, 4))
any_shape = st.lists(st.integers(0, 3), max_size=3).map(tuple)


def red(extra: dict | None = None):
    def params(shapes):
        entries = {"reduction": REDUCTIONS}
        entries.update(extra or {})
        return st.fixed_dictionaries(entries)

    return params


CASES = [
    OpCase("smooth_l1_loss", L.smooth_l1_loss, ref_smooth_l1,
           shapes=any_shape.filter(lambda s: np.prod(s) > 0).map(lambda s: (s, s)),
           make_inputs=smooth_l1_inputs, constant_inputs=(1,),
           params=red({"beta": st.sampled_from([1.0, 0.5, 0.0])})),
    OpCase("kl_div", L.kl_div, ref_kl_div, shapes=vectors.map(lambda s: (s, s)),
           make_inputs=kl_inputs,
           params=lambda s: st.fixed_dictionaries({
               "reduction": st.sampled_from(["none", "sum", "batchmean"]),
               "log_target": st.booleans()})),
    OpCase("cosine_embedding_loss", lambda a, b, y, **p: L.cosine_embedding_loss(a, b, y, **p),
           ref_cosine_embedding, shapes=vectors.map(lambda s: (s, s, s[:1])),
           make_inputs=cosine_inputs, constant_inputs=(2,),
           params=red({"margin": st.just(0.2)})),
    OpCase("margin_ranking_loss", L.margin_ranking_loss, ref_margin_ranking,
           shapes=vectors.map(lambda s: (s[:1], s[:1], s[:1])), make_inputs=ranking_inputs,
           constant_inputs=(2,), params=red({"margin": st.just(0.3)})),
    OpCase("triplet_margin_loss", L.triplet_margin_loss,
           lambda a, pos, neg, **k: ref_triplet(a, pos, neg, p_norm=k.pop("p"), **k),
           shapes=vectors.map(lambda s: (s, s, s)), make_inputs=triplet_inputs,
           params=red({"p": st.sampled_from([1.5, 2.0]), "swap": st.booleans(),
                       "margin": st.just(3.0)})),
    OpCase("hinge_embedding_loss", L.hinge_embedding_loss, ref_hinge,
           shapes=any_shape.map(lambda s: (s, s)), make_inputs=hinge_inputs,
           constant_inputs=(1,), params=red()),
    OpCase("multilabel_soft_margin_loss", L.multilabel_soft_margin_loss, ref_multilabel,
           shapes=vectors.map(lambda s: (s, s)), make_inputs=multilabel_inputs,
           constant_inputs=(1,), params=red()),
    OpCase("multilabel_soft_margin_loss_weighted",
           lambda x, y, w, **p: L.multilabel_soft_margin_loss(x, y, w, **p), ref_multilabel,
           shapes=vectors.map(lambda s: (s, s, s[1:])), make_inputs=multilabel_inputs,
           constant_inputs=(1,), params=red()),
    OpCase("poisson_nll_loss", L.poisson_nll_loss, ref_poisson,
           shapes=any_shape.map(lambda s: (s, s)), make_inputs=poisson_inputs,
           constant_inputs=(1,),
           params=red({"log_input": st.booleans(), "full": st.booleans()})),
    OpCase("gaussian_nll_loss", L.gaussian_nll_loss, ref_gaussian,
           shapes=vectors.flatmap(lambda s: st.sampled_from([(s, s, s), (s, s, s[:1]),
                                                             (s, s, (s[0], 1))])),
           make_inputs=gaussian_inputs, params=red({"full": st.booleans()})),
    OpCase("multi_margin_loss", L.multi_margin_loss,
           lambda x, y, **p: ref_multi_margin(x, y, **p),
           shapes=vectors.map(lambda s: (s, s[:1])), make_inputs=multi_margin_inputs,
           constant_inputs=(1,),
           params=red({"p": st.sampled_from([1, 2]), "margin": st.sampled_from([1.0, 0.5])})),
    OpCase("multi_margin_loss_weighted",
           lambda x, y, w, **p: L.multi_margin_loss(x, y, weight=w, **p),
           lambda x, y, w, **p: ref_multi_margin(x, y, w=w, **p),
           shapes=vectors.map(lambda s: (s, s[:1], s[1:])), make_inputs=multi_margin_inputs,
           constant_inputs=(1,), params=red()),
]
