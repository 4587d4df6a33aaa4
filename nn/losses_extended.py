"""More loss functions, with PyTorch's names, arguments, formulas and reductions: smooth L1,
KL divergence, the margin and embedding losses, multi-label soft margin, Poisson and
Gaussian negative log-likelihoods. `nn.functional` re-exports them; the module forms are in
nn/loss_modules_extended.py.

Each is a short composition of autograd ops (differentiable twice); the formulas, their edge
cases (eps, full=, margins) and their conventions follow PyTorch's documentation and code.
"""

from __future__ import annotations

import math
from typing import Any

from autograd.autocast_policy import float32_inputs
from autograd.inputs import tensor_input
from autograd.ops import unary as _unary
from autograd.ops.activation_smooth import logsigmoid
from autograd.ops.arithmetic import maximum, minimum, where
from autograd.ops.clamping import clamp_min
from autograd.ops.sorting import TakeAlong
from autograd.tensor import Tensor

from . import arguments
from .functional_vectors import pairwise_distance
from .losses import _check_reduction, _input, _pair_same_shape, _reduce, _weight

__all__ = ["smooth_l1_loss", "kl_div", "cosine_embedding_loss", "margin_ranking_loss",
           "triplet_margin_loss", "triplet_margin_with_distance_loss", "hinge_embedding_loss",
           "multilabel_soft_margin_loss", "poisson_nll_loss", "gaussian_nll_loss",
           "multi_margin_loss", "soft_margin_loss"]


def _other(op: str, value: Any, input: Tensor, name: str) -> Tensor:  # noqa: A002
    """A second tensor argument on the input's device, floating."""
    return tensor_input(op, value, like=input, floating=True, name=name, like_name="the input")


def _labels(op: str, target: Any, input: Tensor) -> Tensor:  # noqa: A002
    """A +-1 target as a tensor in the input's dtype (ints allowed)."""
    t = tensor_input(op, target, like=input, name="target", like_name="the input")
    return t if t.dtype == input.dtype else t.astype(input.dtype)


@float32_inputs  # autocast: losses run in float32 (PyTorch's list)
def smooth_l1_loss(input: Any, target: Any, reduction: str = "mean",  # noqa: A002
                   beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (d = input - target);
    ``beta=0`` is the L1 loss (PyTorch's ``smooth_l1_loss``)."""
    op = "smooth_l1_loss"
    _check_reduction(op, reduction)
    x = _input(op, input)
    beta = arguments.number(op, "beta", beta, low=0.0)
    diff = x - _pair_same_shape(op, x, target)
    size = _unary.abs(diff)
    if beta == 0.0:
        return _reduce(size, reduction)
    loss = where(size < beta, (0.5 / beta) * diff * diff, size - 0.5 * beta)
    return _reduce(loss, reduction)


@float32_inputs  # autocast: losses run in float32 (PyTorch's list)
def kl_div(input: Any, target: Any, reduction: str = "mean",  # noqa: A002
           log_target: bool = False) -> Tensor:
    """KL divergence ``target (log target - input)`` of log-probabilities `input` from
    `target` (probabilities, or log-probabilities with `log_target`): PyTorch's ``kl_div``.

    Args:
        reduction: "mean" (over every element, PyTorch's default, though "batchmean" is the
            KL divergence proper), "batchmean" (sum / batch size, axis 0), "sum", "none".

    Where target is 0 the term is 0 (``0 log 0 = 0``), with a zero gradient.
    """
    op = "kl_div"
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError(f"{op}: reduction must be 'mean', 'batchmean', 'sum' or 'none', got "
                         f"{reduction!r}")
    x = _input(op, input)
    t = _other(op, target, x, "target")
    if log_target:
        loss = _unary.exp(t) * (t - x)
    else:
        positive = t > 0
        safe = where(positive, t, 1.0)
        loss = where(positive, t * _unary.log(safe), 0.0) - t * x
    if reduction == "batchmean":
        batch = loss.shape[0] if loss.ndim else 1
        return loss.sum() / batch
    return _reduce(loss, reduction)


@float32_inputs  # autocast: losses run in float32 (PyTorch's list)
def cosine_embedding_loss(input1: Any, input2: Any, target: Any,  # noqa: A002
                          margin: float = 0.0, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where target is 1, ``max(0, cos(x1, x2) - margin)`` where it is
    -1 (PyTorch's ``cosine_embedding_loss``; cos along the last axis, each squared norm plus
    1e-12)."""
    op = "cosine_embedding_loss"
    _check_reduction(op, reduction)
    a = _input(op, input1)
    b = _other(op, input2, a, "input2")
    margin = arguments.number(op, "margin", margin)
    if a.ndim not in (1, 2) or a.shape != b.shape:
        raise ValueError(f"{op}: expected two inputs of the same shape (N, D) or (D,), got "
                         f"{a.shape} and {b.shape}")
    y = _labels(op, target, a)
    if y.shape != a.shape[:-1]:
        raise ValueError(f"{op}: target of shape {y.shape} does not match inputs {a.shape}; "
                         f"expected {a.shape[:-1]}")
    dot = (a * b).sum(axis=-1)
    denom = (((a * a).sum(axis=-1) + 1e-12) * ((b * b).sum(axis=-1) + 1e-12)) ** 0.5
    cos = dot / denom
    loss = where(y == 1, 1.0 - cos, 0.0) + where(y == -1, clamp_min(cos - margin, 0.0), 0.0)
    return _reduce(loss, reduction)


@float32_inputs  # autocast: losses run in float32 (PyTorch's list)
def margin_ranking_loss(input1: Any, input2: Any, target: Any, margin: float = 0.0,  # noqa: A002
                        reduction: str = "mean") -> Tensor:
    """``max(0, -y (x1 - x2) + margin)``: x1 should rank above x2 where y = 1, below where
    y = -1 (PyTorch's ``margin_ranking_loss``; the three broadcast)."""
    op = "margin_ranking_loss"
    _check_reduction(op, reduction)
    a = _input(op, input1)
    b = _other(op, input2, a, "input2")
    margin = arguments.number(op, "margin", margin)
    y = _labels(op, target, a)
    if not (a.ndim == b.ndim == y.ndim):
        raise ValueError(f"{op}: input1 {a.shape}, input2 {b.shape} and target {y.shape} must "
                         "have the same number of axes")
    return _reduce(clamp_min(-y * (a - b) + margin, 0.0), reduction)


@float32_inputs  # autocast: losses run in float32 (PyTorch's list)
def triplet_margin_loss(anchor: Any, positive: Any, negative: Any, margin: float = 1.0,
                        p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                        reduction: str = "mean") -> Tensor:
    """``max(d(a, p) - d(a, n) + margin, 0)`` with d the p-norm distance of
    `pairwise_distance` (eps added to the difference); `swap` uses ``min(d(a, n), d(p, n))``
    as the negative distance (PyTorch's ``triplet_margin_loss``)."""
    op = "triplet_margin_loss"
    _check_reduction(op, reduction)
    a = _input(op, anchor)
    pos = _other(op, positive, a, "positive")
    neg = _other(op, negative, a, "negative")
    margin = arguments.number(op, "margin", margin, low=0.0, low_open=True)
    if not (a.ndim == pos.ndim == neg.ndim) or a.ndim not in (1, 2):
        raise ValueError(f"{op}: anchor {a.shape}, positive {pos.shape} and negative "
                         f"{neg.shape} must all be (N, D) or all (D,)")
    d_pos = pairwise_distance(a, pos, p, eps)
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(pos, neg, p, eps))
    return _reduce(clamp_min(margin + d_pos - d_neg, 0.0), reduction)


@float32_inputs  # autocast: losses run in float32 (PyTorch's list)
def triplet_margin_with_distance_loss(anchor: Any, positive: Any, negative: Any, *,
                                      distance_function: Any = None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    """`triplet_margin_loss` with any distance (default `pairwise_distance`)."""
    op = "triplet_margin_with_distance_loss"
    _check_reduction(op, reduction)
    distance = distance_function or pairwise_distance
    a = _input(op, anchor)
    pos = _other(op, positive, a, "positive")
    neg = _other(op, negative, a, "negative")
    margin = arguments.number(op, "margin", margin, low=0.0, low_open=True)
    d_pos, d_neg = distance(a, pos), distance(a, neg)
    if swap:
        d_neg = minimum(d_neg, distance(pos, neg))
    return _reduce(clamp_min(margin + d_pos - d_neg, 0.0), reduction)


@float32_inputs  # autocast: losses run in float32 (PyTorch's list)
def hinge_embedding_loss(input: Any, target: Any, margin: float = 1.0,  # noqa: A002
                         reduction: str = "mean") -> Tensor:
    """`x` where target is 1, ``max(0, margin - x)`` where it is -1 (PyTorch's
    ``hinge_embedding_loss``; x is typically a distance)."""
    op = "hinge_embedding_loss"
    _check_reduction(op, reduction)
    x = _input(op, input)
    margin = arguments.number(op, "margin", margin)
    y = _labels(op, target, x)
    loss = where(y != 1, clamp_min(margin - x, 0.0), 0.0) + where(y != -1, x, 0.0)
    return _reduce(loss, reduction)


@float32_inputs  # autocast: losses run in float32 (PyTorch's list)
def soft_margin_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """``log(1 + exp(-y x))`` for +-1 targets (PyTorch's ``soft_margin_loss``)."""
    op = "soft_margin_loss"
    _check_reduction(op, reduction)
    x = _input(op, input)
    y = _pair_same_shape(op, x, target)
    return _reduce(-logsigmoid(y * x), reduction)


@float32_inputs  # autocast: losses run in float32 (PyTorch's list)
def multilabel_soft_margin_loss(input: Any, target: Any, weight: Any = None,  # noqa: A002
                                reduction: str = "mean") -> Tensor:
    """Per sample, the mean over the C classes of ``-[y log sigmoid(x) + (1 - y) log
    sigmoid(-x)]`` (optionally times a per-class `weight`), then reduced over samples
    (PyTorch's ``multilabel_soft_margin_loss``)."""
    op = "multilabel_soft_margin_loss"
    _check_reduction(op, reduction)
    x = _input(op, input)
    y = _pair_same_shape(op, x, target)
    if x.ndim == 0:
        raise ValueError(f"{op}: expected an input (N, C) or (C,), got a 0-d tensor")
    loss = -(y * logsigmoid(x) + (1.0 - y) * logsigmoid(-x))
    if weight is not None:
        loss = loss * _weight(x, weight, op)
    classes = x.shape[-1]
    return _reduce(loss.sum(axis=-1) / classes if classes else loss.sum(axis=-1), reduction)


@float32_inputs  # autocast: losses run in float32 (PyTorch's list)
def poisson_nll_loss(input: Any, target: Any, log_input: bool = True,  # noqa: A002
                     full: bool = False, eps: float = 1e-8,
                     reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of `target` counts under Poisson(rate) (PyTorch's
    ``poisson_nll_loss``): ``exp(x) - t x`` with ``log_input`` (x = log rate), else
    ``x - t log(x + eps)``; with `full` plus Stirling's ``t log t - t + log(2 pi t) / 2``
    where t > 1."""
    op = "poisson_nll_loss"
    _check_reduction(op, reduction)
    x = _input(op, input)
    t = _other(op, target, x, "target")
    eps = arguments.number(op, "eps", eps, low=0.0)
    if log_input:
        loss = _unary.exp(x) - t * x
    else:
        loss = x - t * _unary.log(x + eps)
    if full:
        big = t > 1
        safe = where(big, t, 2.0)  # log of a safe value where the term is masked out
        stirling = safe * _unary.log(safe) - safe + 0.5 * _unary.log(2.0 * math.pi * safe)
        loss = loss + where(big, stirling, 0.0)
    return _reduce(loss, reduction)


@float32_inputs  # autocast: losses run in float32 (PyTorch's list)
def gaussian_nll_loss(input: Any, target: Any, var: Any, full: bool = False,  # noqa: A002
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of `target` under N(input, var) (PyTorch's
    ``gaussian_nll_loss``): ``(log(max(var, eps)) + (input - target)^2 / max(var, eps)) / 2``
    (+ log(2 pi) / 2 with `full`).

    `var` has the input's shape, or one entry fewer at the end, or a last axis of 1
    (one variance per sample), or is a number. As in PyTorch the clamp at eps is applied
    without differentiating it: the gradient reaches var as if unclamped.
    """
    op = "gaussian_nll_loss"
    _check_reduction(op, reduction)
    x = _input(op, input)
    t = _other(op, target, x, "target")
    v = _other(op, var, x, "var")
    eps = arguments.number(op, "eps", eps, low=0.0)
    if v.shape != x.shape and v.ndim:
        if tuple(x.shape[:-1]) == tuple(v.shape):
            v = v.expand_dims(-1)
        elif not (tuple(x.shape[:-1]) == tuple(v.shape[:-1]) and v.shape[-1] == 1):
            raise ValueError(f"{op}: var of shape {v.shape} does not fit the input's "
                             f"{x.shape} (expected the same, or one axis fewer, or a last "
                             "axis of 1)")
    if not v.backend.is_device and v.size and bool((v.array < 0).any()):
        raise ValueError(f"{op}: var has negative entries")
    v = v + (maximum(v, eps) - v).detach()  # the clamped value, var's own gradient
    loss = 0.5 * (_unary.log(v) + (x - t) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2.0 * math.pi)
    return _reduce(loss, reduction)


@float32_inputs  # autocast: losses run in float32 (PyTorch's list)
def multi_margin_loss(input: Any, target: Any, p: int = 1, margin: float = 1.0,  # noqa: A002
                      weight: Any = None, reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss (PyTorch's ``multi_margin_loss``): per sample,
    ``sum_{i != y} w_y max(0, margin - x_y + x_i)^p / C``.

    Args:
        input: (N, C) or (C,) scores; target: class indices (N,) or ().
        p: 1 or 2. weight: optional per-class weights (C,).
    """
    op = "multi_margin_loss"
    _check_reduction(op, reduction)
    x = _input(op, input)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p = 1 and p = 2 are supported, got {p!r}")
    margin = arguments.number(op, "margin", margin)
    y = tensor_input(op, target, like=x, name="target", like_name="the input")
    if y.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices, got {y.dtype}")
    single = x.ndim == 1
    if single:
        x, y = x.expand_dims(0), y.reshape(1) if y.ndim == 0 else y
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"{op}: expected input (N, C) and target (N,), got {x.shape} and "
                         f"{y.shape}")
    n, c = x.shape
    labels = y.array
    if not x.backend.is_device and labels.size and (labels.min() < 0 or labels.max() >= c):
        raise IndexError(f"{op}: target {int(labels.min())}..{int(labels.max())} out of "
                         f"range for {c} classes")
    index = labels.reshape(n, 1).astype(x.xp.int64)
    picked = TakeAlong.apply(x, index, axis=1, unique=True)                 # (N, 1)
    z = clamp_min(margin - picked + x, 0.0)
    if p == 2:
        z = z * z
    others = Tensor._make((x.xp.arange(c) != index).astype(x.dtype), x.backend)
    z = z * others
    if weight is not None:
        w = _weight(x, weight, op)
        if tuple(w.shape) != (c,):
            raise ValueError(f"{op}: weight must have shape ({c},), got {w.shape}")
        z = z * TakeAlong.apply(w, index.reshape(n), axis=0, unique=False).reshape(n, 1)
    loss = z.sum(axis=1) / c
    if single:
        loss = loss.reshape(())
    return _reduce(loss, reduction)
