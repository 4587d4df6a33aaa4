"""Loss functions and their module forms, with PyTorch's names, arguments and reductions.

Every loss takes ``reduction`` in {"mean", "sum", "none"}. Cross-entropy and BCE-with-logits
use the fused, numerically stable primitives of `autograd.ops.loss_ops`; the others are short
compositions of tensor ops.

    >>> loss = nn.CrossEntropyLoss(label_smoothing=0.1)(logits, labels)   # labels: int (N,)
    >>> loss.backward()
"""

from __future__ import annotations

from typing import Any

from autograd.inputs import float_input, tensor_input
from autograd.ops import loss_ops
from autograd.ops import unary as _unary
from autograd.ops.arithmetic import where
from autograd.ops.reduction import log_softmax
from autograd.tensor import Tensor

from . import arguments

__all__ = [
    "mse_loss", "l1_loss", "huber_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "MSELoss", "L1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
    "BCEWithLogitsLoss",
]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _input(op: str, input: Any) -> Tensor:  # noqa: A002
    """A loss's `input` (predictions): a floating point Tensor, from what ag.tensor accepts."""
    return float_input(op, input)


def _weight(input: Tensor, weight: Any, op: str = "binary_cross_entropy") -> Tensor:  # noqa: A002
    return tensor_input(op, weight, like=input, floating=True, name="weight",
                        like_name="the input")


def _target_and_weight(op: str, input: Tensor, target: Any, weight: Any) -> tuple:  # noqa: A002
    """The class-index (or probability) target and the optional class weights, as tensors."""
    target = tensor_input(op, target, like=input, name="target", like_name="the input")
    if weight is not None:
        weight = _weight(input, weight, op)
    return target, weight


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _pair_same_shape(op: str, input: Tensor, target: Any) -> Tensor:  # noqa: A002
    # (`input` is a Tensor already: each loss converts it with `_input` first.)
    """`target` as a tensor like `input`; shapes must agree (silent broadcasting hides bugs)."""
    target = tensor_input(op, target, like=input, name="target", like_name="the input")
    if target.shape != input.shape:
        raise ValueError(
            f"{op}: input of shape {input.shape} and target of shape {target.shape} differ; "
            "reshape one of them (e.g. an (N, 1) prediction against an (N,) target would "
            "broadcast to (N, N))"
        )
    if target.dtype.kind not in "fc":
        target = target.astype(input.dtype)
    return target


# -- regression --------------------------------------------------------------------------------
def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Squared error ``(input - target)^2``, reduced.

    Args:
        input, target: tensors of the same shape.
        reduction: "mean" (default), "sum" or "none".
    """
    _check_reduction("mse_loss", reduction)
    input = _input("mse_loss", input)  # noqa: A001
    diff = input - _pair_same_shape("mse_loss", input, target)
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Absolute error ``|input - target|``, reduced (gradient 0 where they are equal)."""
    _check_reduction("l1_loss", reduction)
    input = _input("l1_loss", input)  # noqa: A001
    diff = input - _pair_same_shape("l1_loss", input, target)
    return _reduce(_unary.abs(diff), reduction)


def huber_loss(input: Tensor, target: Any, reduction: str = "mean",  # noqa: A002
               delta: float = 1.0) -> Tensor:
    """Huber loss: ``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``."""
    _check_reduction("huber_loss", reduction)
    input = _input("huber_loss", input)  # noqa: A001
    delta = arguments.number("huber_loss", "delta", delta, low=0.0, low_open=True)
    diff = input - _pair_same_shape("huber_loss", input, target)
    size = _unary.abs(diff)
    loss = where(size < delta, 0.5 * diff * diff, delta * (size - 0.5 * delta))
    return _reduce(loss, reduction)


# -- classification ----------------------------------------------------------------------------
def _class_weight_sum(target: Tensor, weight: Tensor | None, ignore_index: int) -> Tensor:
    """Denominator of a "mean" over class-index targets: sum of w[y] over non-ignored samples."""
    xp = target.xp
    valid = target.array != ignore_index
    if weight is None:
        total = valid.sum()
    else:
        n_classes = weight.shape[0]
        safe = xp.where(valid & (target.array >= 0) & (target.array < n_classes), target.array, 0)
        total = (weight.array[safe] * valid).sum()
    return Tensor._make(xp.asarray(total), target.backend)


def cross_entropy(
    input: Tensor,  # noqa: A002 - PyTorch's name
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between logits `input` and `target` (log-softmax over axis 1 + NLL).

    Args:
        input: logits (N, C), (N, C, d1, ...) or unbatched (C,).
        target: class indices, integer (N,), (N, d1, ...) or () — or class probabilities,
            float with `input`'s shape.
        weight: optional per-class weights (C,).
        ignore_index: class-index targets equal to it add nothing (and are not counted).
        reduction: "mean" divides by the summed weights ``sum w[y]`` of non-ignored samples
            (their count without `weight`), as PyTorch; for probability targets it divides by
            the number of samples. "sum" or "none" (per-sample losses).
        label_smoothing: eps in [0, 1]; the target becomes ``(1 - eps) target + eps / C``.

    Class indices must lie in [0, C): checked on the CPU (IndexError); on a GPU the check
    would read device memory on every step, so an out-of-range index gives a NaN loss there.

        >>> loss = cross_entropy(logits, ag.tensor([2, 0, 1]))
    """
    _check_reduction("cross_entropy", reduction)
    input = _input("cross_entropy", input)  # noqa: A001
    target, weight = _target_and_weight("cross_entropy", input, target, weight)
    if type(label_smoothing) is not float or not 0.0 <= label_smoothing <= 1.0:  # (fast path)
        label_smoothing = arguments.number("cross_entropy", "label_smoothing", label_smoothing,
                                           low=0.0, high=1.0)
    if type(ignore_index) is not int:
        ignore_index = arguments.axis("cross_entropy", "ignore_index", ignore_index)
    if input.ndim == 1:  # one unbatched sample
        loss = cross_entropy(input.expand_dims(0), target.expand_dims(0), weight, ignore_index,
                             reduction, label_smoothing)
        return loss.squeeze(0) if reduction == "none" else loss
    if input.ndim == 0:
        raise ValueError("cross_entropy: input must have a class axis, got a 0-d tensor")
    if target.dtype.kind == "f":
        return _soft_cross_entropy(input, target, weight, reduction, label_smoothing)
    # The fused op reduces itself ("mean" divides by the summed weights of non-ignored samples).
    return loss_ops.softmax_cross_entropy(input, target, weight, ignore_index, label_smoothing,
                                          reduction)


def _soft_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None,  # noqa: A002
                        reduction: str, label_smoothing: float) -> Tensor:
    if target.shape != input.shape:
        raise ValueError(
            f"cross_entropy: a float target holds class probabilities and must have the "
            f"input's shape {input.shape}, got {target.shape}; for class indices use an "
            "integer target"
        )
    n_classes = input.shape[1]
    if label_smoothing:
        target = target * (1.0 - label_smoothing) + label_smoothing / n_classes
    if weight is not None:
        if tuple(weight.shape) != (n_classes,):
            raise ValueError(f"cross_entropy: weight must have shape ({n_classes},), got "
                             f"{tuple(weight.shape)}")
        target = target * weight.reshape((1, -1) + (1,) * (input.ndim - 2))
    loss = -(log_softmax(input, axis=1) * target).sum(axis=1)
    return _reduce(loss, reduction)


def nll_loss(
    input: Tensor,  # noqa: A002 - PyTorch's name
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood ``-w[y] input[n, y]`` of log-probabilities `input`.

    Args:
        input: log-probabilities (N, C) or (N, C, d1, ...) (e.g. from log_softmax).
        target: integer class indices (N,) or (N, d1, ...).
        weight, ignore_index, reduction: as in `cross_entropy`.
    """
    _check_reduction("nll_loss", reduction)
    input = _input("nll_loss", input)  # noqa: A001
    target, weight = _target_and_weight("nll_loss", input, target, weight)
    ignore_index = arguments.axis("nll_loss", "ignore_index", ignore_index)
    if input.ndim < 2:
        raise ValueError(f"nll_loss: input must be (N, C, ...), got shape {input.shape}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold integer class indices, got {target.dtype}")
    expected = (input.shape[0], *input.shape[2:])
    if target.shape != expected:
        raise ValueError(f"nll_loss: target of shape {target.shape} does not match input of "
                         f"shape {input.shape}; expected {expected}")
    xp = input.xp
    n_classes = input.shape[1]
    if weight is not None and tuple(weight.shape) != (n_classes,):
        raise ValueError(f"nll_loss: weight must have shape ({n_classes},), got "
                         f"{tuple(weight.shape)}")
    t = target.array
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= n_classes))
    if not input.backend.is_device and bad.any():
        raise IndexError(f"nll_loss: target {t[bad].reshape(-1)[0]} is out of range for "
                         f"{n_classes} classes (input shape {input.shape})")
    # A constant selection mask (one-hot times w[y], zero where ignored): the loss is then a
    # product and a sum, differentiable to any order.
    classes = xp.arange(n_classes).reshape((1, -1) + (1,) * (input.ndim - 2))
    pick = (classes == xp.expand_dims(t, 1)) & xp.expand_dims(valid, 1)
    pick = pick.astype(input.dtype)
    if weight is not None:
        pick = pick * weight.array.astype(input.dtype).reshape(classes.shape)
    loss = -(input * Tensor._make(pick, input.backend)).sum(axis=1)
    if input.backend.is_device:
        loss = loss + Tensor._make(xp.where(bad, xp.nan, 0.0).astype(input.dtype), input.backend)
    if reduction == "mean":
        return loss.sum() / _class_weight_sum(target, weight, ignore_index).astype(loss.dtype)
    return _reduce(loss, reduction)


def _clamped_log(p: Tensor) -> Tensor:
    """log(p) clamped below at -100 (PyTorch's BCE), with a zero gradient where clamped.

    log runs on a safe input where p <= 0, so no inf or NaN reaches the gradient.
    """
    positive = p > 0
    safe = where(positive, p, 1.0)
    return where(positive, _unary.clip(_unary.log(safe), min=-100.0), -100.0)


def binary_cross_entropy(input: Tensor, target: Any, weight: Any = None,  # noqa: A002
                         reduction: str = "mean") -> Tensor:
    """``-w [y log p + (1 - y) log(1 - p)]`` for probabilities `input`, each log clamped >= -100.

    The clamp (PyTorch's) keeps the loss finite at p = 0 or 1; there the gradient is 0. Prefer
    `binary_cross_entropy_with_logits` on logits: it is exact where sigmoid saturates. Inputs
    outside [0, 1] raise on the CPU (not checked on a device: no host read).
    """
    _check_reduction("binary_cross_entropy", reduction)
    input = _input("binary_cross_entropy", input)  # noqa: A001
    target = _pair_same_shape("binary_cross_entropy", input, target)
    if not input.backend.is_device and input.size and bool(
        ((input.array < 0) | (input.array > 1)).any()
    ):
        raise ValueError(
            f"binary_cross_entropy: input (shape {input.shape}) must hold probabilities in "
            "[0, 1]; for logits use binary_cross_entropy_with_logits"
        )
    loss = -(target * _clamped_log(input) + (1.0 - target) * _clamped_log(1.0 - input))
    if weight is not None:
        loss = loss * _weight(input, weight)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,  # noqa: A002 - PyTorch's name
    target: Any,
    weight: Any = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """BCE on logits: ``-w [pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))]``, stable.

    Args:
        input: logits x; target: y in [0, 1], same shape.
        weight: optional rescaling, broadcast against the loss.
        pos_weight: optional weight of positive examples, broadcast along the last axis
            (one per class for multi-label problems).
        reduction: "mean", "sum" or "none".

    Computed as ``max(x, 0) - x y + log1p(exp(-|x|))`` (no overflow for any x).
    """
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    input = _input("binary_cross_entropy_with_logits", input)  # noqa: A001
    target = _pair_same_shape("binary_cross_entropy_with_logits", input, target)
    loss = loss_ops.binary_cross_entropy_with_logits(input, target, pos_weight)
    if weight is not None:
        loss = loss * _weight(input, weight, "binary_cross_entropy_with_logits")
    return _reduce(loss, reduction)


# The module forms (MSELoss, ..., BCEWithLogitsLoss) live in loss_modules.py.
from .loss_modules import (  # noqa: E402
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
