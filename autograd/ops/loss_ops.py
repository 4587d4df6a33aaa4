"""Fused losses: softmax cross-entropy and binary cross-entropy on logits.

Fused primitives, and why:

- `SoftmaxCrossEntropy`: log-softmax + NLL in one pass over the logits with the max shift, so
  large logits (1e4) neither overflow nor lose the gradient, and the backward is ``p - t``.
- `BinaryCrossEntropyWithLogits`: ``max(x, 0) - x y + log1p(exp(-|x|))`` never overflows.
"""

from __future__ import annotations

import math
from typing import Any

from backends import kernels

from ..function import Function
from ..grad_mode import state as _grad_state
from ..tensor import Tensor
from . import activation as _activation

__all__ = ["softmax_cross_entropy", "binary_cross_entropy_with_logits"]


# -- fused losses ----------------------------------------------------------------------------
class SoftmaxCrossEntropy(Function):
    """Per-sample ``-sum_c t_c log softmax(x)_c`` over axis 1 for class-index targets.

    The target distribution is ``t = (1 - eps) w_y onehot(y) + eps / C * w`` (w = class
    weights, 1 without them), zero where ``y == ignore_index``. With ``q = sum_c t_c`` the
    gradient is ``gx = gy (q softmax(x) - t)``. Computed with the max shift, so any finite
    logits are safe.

    With ``reduction="sum"`` or ``"mean"`` the op returns the reduced 0-d loss itself (the mean
    divides by ``sum w[y]`` over non-ignored samples), so a training step records one node
    instead of a sum, a cast and a division.
    """

    reduction = "none"
    #: The first-order rule takes its own fused path on raw arrays (the branch in `backward`).
    raw_backward = True

    def forward(self, x, target, weight):
        xp = self.xp
        n_classes = x.shape[1]
        ignore = self.ignore_index
        rows = None
        if x.ndim == 2 and not 0 <= ignore < n_classes:
            # The usual case: (N, C) logits and no target to ignore; the statistics and the
            # NLL at once (one C pass where built), None if a target is out of range.
            rows = kernels.softmax_xent_nll(self.backend, x, target)
        if rows is not None:
            shift, log_total, nll = rows
            valid = bad = None
            safe = target
        else:
            # log softmax(x) = (x - shift) - log_total; no (N, C) array is written
            shift, log_total = kernels.log_softmax_stats(self.backend, x, axis=1)
            valid, safe, nll, bad = self._general_nll(x, target, shift, log_total)
        eps = self.label_smoothing
        w_y = 1.0 if weight is None else weight[safe]
        loss = nll if eps == 0 and weight is None else (1.0 - eps) * w_y * nll
        if eps:
            # -sum_c w_c log softmax(x)_c = sum_c w_c (shift - x_c) + log_total sum_c w_c
            if weight is None:
                smooth = (shift - x.mean(axis=1, keepdims=True) + log_total) * n_classes
            else:
                w = weight.reshape((1, -1) + (1,) * (x.ndim - 2))
                smooth = ((shift - x) * w).sum(axis=1, keepdims=True) + log_total * w.sum()
            loss = loss + (eps / n_classes) * smooth[:, 0]
        if valid is not None:
            loss = xp.where(valid, loss, 0)
        if loss.dtype != x.dtype:
            loss = loss.astype(x.dtype)
        if self.backend.is_device:
            # No host read on a device: an out-of-range class makes its loss NaN instead.
            loss = xp.where(bad, math.nan, loss)
        # The factor each sample's loss enters the result with: 1, or 1 / sum w[y] for a mean.
        scale = None
        if self.reduction != "none":
            loss = loss.sum()
            if self.reduction == "mean":
                if valid is None and weight is None:
                    # Every sample counts once: a Python factor (NaN for an empty batch).
                    scale = 1.0 / safe.size if safe.size else math.nan
                else:
                    if valid is None:
                        total = w_y.sum()
                    else:
                        total = valid.sum() if weight is None else (w_y * valid).sum()
                    scale = xp.asarray(1 / xp.asarray(total, dtype=x.dtype))  # x's dtype
                loss = loss * scale
            if loss.dtype != x.dtype:
                loss = loss.astype(x.dtype)
        if self._recording:
            self.save_for_backward(x, safe, valid, weight, shift, log_total, scale)
        return loss

    def _general_nll(self, x: Any, target: Any, shift: Any, log_total: Any) -> tuple:
        """``(valid, safe, nll, bad)`` for any logits and targets: which samples count (None:
        all), the targets with ignored ones set to class 0, ``-log softmax(x)[target]`` and
        the out-of-range samples (on a device, where they get a NaN loss; the host raises)."""
        xp = self.xp
        n_classes = x.shape[1]
        ignore = self.ignore_index
        bad = None
        if (not self.backend.is_device and not 0 <= ignore < n_classes
                and (target.size == 0 or (target.min() >= 0 and target.max() < n_classes))):
            # Decided on the host by the target's range: every target is a class and none can
            # be ignored; `valid` None stands for "all valid" (fewer ops).
            valid = None
            safe = target
        else:
            valid = target != ignore
            bad = valid & ((target < 0) | (target >= n_classes))
            if not self.backend.is_device and bad.any():
                wrong = target[bad]
                raise IndexError(
                    f"cross_entropy: target {wrong.reshape(-1)[0]} is out of range for "
                    f"{n_classes} classes (input shape {tuple(x.shape)}); class indices must "
                    f"be in [0, {n_classes}) or equal ignore_index={ignore}"
                )
            safe = xp.where(valid & ~bad, target, 0)
        return valid, safe, kernels.picked_nll(xp, x, safe, shift, log_total), bad

    def _target_distribution(self, safe: Any, valid: Any, weight: Any, shape: tuple,
                             dtype: Any) -> tuple:
        xp = self.xp
        n_classes = shape[1]
        classes = xp.arange(n_classes).reshape((1, -1) + (1,) * (len(shape) - 2))
        hot = (classes == xp.expand_dims(safe, 1)).astype(dtype)
        eps = self.label_smoothing
        if weight is None:
            t = hot * (1.0 - eps) + eps / n_classes
        else:
            w = weight.astype(dtype).reshape(classes.shape)
            t = hot * ((1.0 - eps) * xp.expand_dims(weight.astype(dtype)[safe], 1))
            t = t + (eps / n_classes) * w
        if valid is not None:
            t = t * xp.expand_dims(valid, 1)
        return t, t.sum(axis=1, keepdims=True)

    def backward(self, gy):
        x, safe, valid, weight, shift, log_total, scale = self.saved_tensors
        if _grad_state.raw_backend is not None:
            # First order (raw arrays, see Function.raw_backward): one fused pass.
            # A 0-d gy (a reduced loss) broadcasts to every sample inside `_fused_grad`.
            g = gy if scale is None else gy * scale
            return self._fused_grad(g, x, safe, valid, weight, shift, log_total), None, None
        # Building a graph (create_graph): softmax from x itself, so the rule is
        # differentiable. The shift is a constant: softmax does not depend on it.
        t, q = self._target_distribution(safe.array, None if valid is None else valid.array,
                                         None if weight is None else weight.array,
                                         x.shape, gy.dtype)
        e = (x - shift).exp()
        p = e / e.sum(axis=1, keepdims=True)
        t = Tensor._make(t, self.backend)
        q = Tensor._make(q, self.backend)
        if self.reduction != "none":  # a 0-d factor for every sample (times 1 / sum w[y])
            per_class = p * q - t if scale is None else (p * q - t) * scale
            return gy * per_class, None, None
        return gy.expand_dims(1) * (p * q - t), None, None

    def _fused_grad(self, gy, x, safe, valid, weight, shift, log_total) -> Any:
        """``gy (q softmax(x) - t)`` in one pass over the logits (first order only).

        Per sample: ``gy q`` scales the softmax, ``gy (1 - eps) w_y`` comes off the target
        class and ``gy eps / C`` times ``w_c`` off every class (see `_target_distribution`).
        """
        xp = self.xp
        dtype = x.dtype
        n_classes = x.shape[1]
        eps = self.label_smoothing
        if valid is None and weight is None and not eps:
            # The plain case: gy itself, per sample or (0-d, a reduced loss) shared by all.
            g = gy[:, None] if gy.ndim else gy
            return kernels.softmax_xent_grad(self.backend, x, shift, log_total,
                                             safe[:, None], g, g)
        if valid is None:  # every sample counts: gy per sample (a 0-d gy is shared by all)
            g = xp.zeros(safe.shape, dtype=dtype)
            g += gy
            g = g[:, None]
        else:
            g = xp.where(valid, gy, 0).astype(dtype, copy=False)[:, None]
        w_y = 1.0 if weight is None else weight.astype(dtype)[safe][:, None]
        w = None if weight is None else weight.astype(dtype).reshape(
            (1, -1) + (1,) * (x.ndim - 2))
        hot = g if eps == 0 and weight is None else g * ((1.0 - eps) * w_y)
        smooth = g * (eps / n_classes) if eps else None
        total_w = n_classes if weight is None else w.sum()
        scale = hot + g * (eps / n_classes) * total_w if eps else hot
        return kernels.softmax_xent_grad(self.backend, x, shift, log_total,
                                         safe[:, None], scale, hot, smooth, w)


def softmax_cross_entropy(x: Tensor, target: Tensor, weight: Tensor | None = None,
                          ignore_index: int = -100, label_smoothing: float = 0.0,
                          reduction: str = "none") -> Tensor:
    """Per-sample cross-entropy of logits `x` (N, C, d1, ...) against class indices (N, d1, ...).

    Fused log-softmax + NLL: stable for any finite logits. Returns the unreduced losses
    (N, d1, ...), zero where ``target == ignore_index``. With class `weight` (C,) the loss of a
    sample is scaled as in PyTorch (``w[y]`` for the NLL part, ``w_c`` inside the smoothing part).

    Class indices out of range raise IndexError on the CPU; on a device the check would need a
    host read, so the affected losses are NaN instead.
    """
    if not isinstance(target, Tensor):
        raise TypeError(f"cross_entropy: target must be a Tensor, got {type(target).__name__}")
    if x.ndim < 2:
        raise ValueError(f"cross_entropy: input must be (N, C, ...), got shape {x.shape}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: class-index target must have an integer dtype, got "
                        f"{target.dtype} (shape {target.shape}); for class probabilities pass "
                        f"a float target of the input's shape {x.shape}")
    expected = (x.shape[0], *x.shape[2:])
    if target.shape != expected:
        raise ValueError(f"cross_entropy: target of shape {target.shape} does not match input "
                         f"of shape {x.shape}; expected target shape {expected}")
    if x.shape[1] == 0:
        raise ValueError(f"cross_entropy: input of shape {x.shape} has no classes")
    if weight is not None and tuple(weight.shape) != (x.shape[1],):
        raise ValueError(f"cross_entropy: weight must have shape ({x.shape[1]},), got "
                         f"{tuple(weight.shape)}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    if reduction not in ("none", "sum", "mean"):
        raise ValueError(f"cross_entropy: reduction must be 'none', 'sum' or 'mean', got "
                         f"{reduction!r}")
    return SoftmaxCrossEntropy.apply(x, target, weight, ignore_index=int(ignore_index),
                                     label_smoothing=float(label_smoothing),
                                     reduction=reduction)


class BinaryCrossEntropyWithLogits(Function):
    """loss = (1 - y) x + (1 + (pw - 1) y) softplus(-x), elementwise with broadcasting.

    That is ``-[pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))]``, with
    ``softplus(-x) = max(-x, 0) + log1p(exp(-|x|))`` so that no exp overflows.
    gx = gy ((1 + (pw - 1) y) sigmoid(x) - pw y); gy_target = gy ((pw - 1) softplus(-x) - x);
    g_pw = gy y softplus(-x).
    """

    def forward(self, x, y, pos_weight):
        xp = self.xp
        soft_neg = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        if pos_weight is None:
            loss = (1 - y) * x + soft_neg
        else:
            loss = (1 - y) * x + (1 + (pos_weight - 1) * y) * soft_neg
        self.save_for_backward(x, y, pos_weight)
        return loss.astype(xp.result_type(x, y), copy=False)

    def backward(self, gy):
        x, y, pw = self.saved_tensors
        need_x, need_y = self.needs_input_grad[:2]
        need_pw = len(self.needs_input_grad) > 2 and self.needs_input_grad[2]
        gx = gtarget = gpw = None
        if need_x:
            s = _activation.sigmoid(x)
            gx = gy * (s - y) if pw is None else gy * ((1 + (pw - 1) * y) * s - pw * y)
        if need_y or need_pw:
            # threshold=inf: the exact softplus, smooth everywhere (second order included).
            soft_neg = _activation.softplus(-x, threshold=math.inf)
            if need_y:
                gtarget = -gy * x if pw is None else gy * ((pw - 1) * soft_neg - x)
            if need_pw:
                gpw = gy * y * soft_neg
        return gx, gtarget, gpw


def binary_cross_entropy_with_logits(x: Tensor, target: Any, pos_weight: Any = None) -> Tensor:
    """Elementwise ``-[pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))]``, stable for any x.

    Computed as ``max(x, 0) - x y + log1p(exp(-|x|))`` (and its pos_weight form), never
    overflowing. `target` and `pos_weight` broadcast against `x`; no reduction.
    """
    from ..tensor import _lift

    target = _lift(target, x)
    if isinstance(target, Tensor) and target.dtype.kind not in "fc":
        target = target.astype(x.dtype)
    if pos_weight is not None:
        pos_weight = _lift(pos_weight, x)
    return BinaryCrossEntropyWithLogits.apply(x, target, pos_weight)
