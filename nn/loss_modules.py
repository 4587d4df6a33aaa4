"""The losses as modules (``nn.MSELoss()(input, target)``): each holds its options and calls
its function in nn/losses.py."""

from __future__ import annotations

from typing import Any

from autograd.tensor import Tensor

from . import arguments
from .losses import (
    _check_reduction,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
)
from .module import Module

__all__ = [
    "MSELoss", "L1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
    "BCEWithLogitsLoss",
]


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        _check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class MSELoss(_Loss):
    """`mse_loss` as a module: ``MSELoss(reduction="mean")(input, target)``."""

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """`l1_loss` as a module."""

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return l1_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    """`huber_loss` as a module: ``HuberLoss(reduction="mean", delta=1.0)``."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = arguments.number("HuberLoss", "delta", delta, low=0.0, low_open=True)

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return huber_loss(input, target, self.reduction, self.delta)

    def extra_repr(self) -> str:
        return ", ".join(s for s in (super().extra_repr(), f"delta={self.delta}") if s)


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        # A buffer, as in PyTorch: saved with the model and moved by .to().
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """`cross_entropy` as a module.

    Args:
        weight: optional per-class weights (C,); ignore_index: target value to skip;
        reduction: "mean", "sum" or "none"; label_smoothing: eps in [0, 1].

        >>> criterion = nn.CrossEntropyLoss()
        >>> loss = criterion(model(x), y)     # logits (N, C), integer labels (N,)
    """

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, reduction)
        label_smoothing = arguments.number("CrossEntropyLoss", "label_smoothing",
                                           label_smoothing, low=0.0, high=1.0)
        self.ignore_index = arguments.axis("CrossEntropyLoss", "ignore_index", ignore_index)
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                             self.label_smoothing)

    def extra_repr(self) -> str:
        parts = [super().extra_repr()]
        if self.ignore_index != -100:
            parts.append(f"ignore_index={self.ignore_index}")
        if self.label_smoothing:
            parts.append(f"label_smoothing={self.label_smoothing}")
        return ", ".join(p for p in parts if p)


class NLLLoss(_WeightedLoss):
    """`nll_loss` as a module (pair it with log_softmax / LogSoftmax)."""

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__(weight, reduction)
        self.ignore_index = arguments.axis("NLLLoss", "ignore_index", ignore_index)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class BCELoss(_WeightedLoss):
    """`binary_cross_entropy` as a module (input: probabilities)."""

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """`binary_cross_entropy_with_logits` as a module (input: logits)."""

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean",
                 pos_weight: Tensor | None = None) -> None:
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return binary_cross_entropy_with_logits(input, target, self.weight, self.reduction,
                                                self.pos_weight)
