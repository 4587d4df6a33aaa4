"""The losses of nn/losses_extended.py as modules (PyTorch's names and constructor
arguments): each holds its options and calls its function."""

from __future__ import annotations

from typing import Any

from autograd.tensor import Tensor

from . import arguments
from . import losses_extended as L
from .loss_modules import _Loss, _WeightedLoss
from .module import Module

__all__ = ["SmoothL1Loss", "KLDivLoss", "CosineEmbeddingLoss", "MarginRankingLoss",
           "TripletMarginLoss", "TripletMarginWithDistanceLoss", "HingeEmbeddingLoss",
           "SoftMarginLoss", "MultiLabelSoftMarginLoss", "PoissonNLLLoss", "GaussianNLLLoss",
           "MultiMarginLoss"]


class SmoothL1Loss(_Loss):
    """`smooth_l1_loss` as a module: ``SmoothL1Loss(reduction="mean", beta=1.0)``."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = arguments.number("SmoothL1Loss", "beta", beta, low=0.0)

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return L.smooth_l1_loss(input, target, self.reduction, self.beta)

    def extra_repr(self) -> str:
        return ", ".join(s for s in (super().extra_repr(), f"beta={self.beta}") if s)


class KLDivLoss(_Loss):
    """`kl_div` as a module: ``KLDivLoss(reduction="mean", log_target=False)``; the input
    holds log-probabilities. "batchmean" is the KL divergence proper.

        >>> loss = nn.KLDivLoss(reduction="batchmean")(log_probs, probs)
    """

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        Module.__init__(self)  # "batchmean" is a reduction only this loss has
        if reduction not in ("mean", "batchmean", "sum", "none"):
            raise ValueError(f"KLDivLoss: reduction must be 'mean', 'batchmean', 'sum' or "
                             f"'none', got {reduction!r}")
        self.reduction = reduction
        self.log_target = log_target

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return L.kl_div(input, target, self.reduction, self.log_target)


class _MarginLoss(_Loss):
    def __init__(self, margin: float = 0.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = arguments.number(type(self).__name__, "margin", margin)

    def extra_repr(self) -> str:
        return ", ".join(s for s in (f"margin={self.margin}", super().extra_repr()) if s)


class CosineEmbeddingLoss(_MarginLoss):
    """`cosine_embedding_loss` as a module: ``(input1, input2, target)``, target +-1."""

    def forward(self, input1: Tensor, input2: Any, target: Any) -> Tensor:
        return L.cosine_embedding_loss(input1, input2, target, self.margin, self.reduction)


class MarginRankingLoss(_MarginLoss):
    """`margin_ranking_loss` as a module: ``(input1, input2, target)``, target +-1."""

    def forward(self, input1: Tensor, input2: Any, target: Any) -> Tensor:
        return L.margin_ranking_loss(input1, input2, target, self.margin, self.reduction)


class HingeEmbeddingLoss(_MarginLoss):
    """`hinge_embedding_loss` as a module (margin 1 by default)."""

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(margin, reduction)

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return L.hinge_embedding_loss(input, target, self.margin, self.reduction)


class SoftMarginLoss(_Loss):
    """`soft_margin_loss` as a module."""

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return L.soft_margin_loss(input, target, self.reduction)


class TripletMarginLoss(_Loss):
    """`triplet_margin_loss` as a module: ``(anchor, positive, negative)``."""

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = arguments.number("TripletMarginLoss", "margin", margin, low=0.0,
                                       low_open=True)
        self.p = arguments.number("TripletMarginLoss", "p", p)
        self.eps = arguments.number("TripletMarginLoss", "eps", eps)
        self.swap = swap

    def forward(self, anchor: Tensor, positive: Any, negative: Any) -> Tensor:
        return L.triplet_margin_loss(anchor, positive, negative, self.margin, self.p,
                                     self.eps, self.swap, self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """`triplet_margin_with_distance_loss` as a module (any distance function)."""

    def __init__(self, *, distance_function: Any = None, margin: float = 1.0,
                 swap: bool = False, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.distance_function = distance_function
        self.margin = arguments.number("TripletMarginWithDistanceLoss", "margin", margin,
                                       low=0.0, low_open=True)
        self.swap = swap

    def forward(self, anchor: Tensor, positive: Any, negative: Any) -> Tensor:
        return L.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """`multilabel_soft_margin_loss` as a module; `weight` (C,) is a buffer."""

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return L.multilabel_soft_margin_loss(input, target, self.weight, self.reduction)


class PoissonNLLLoss(_Loss):
    """`poisson_nll_loss` as a module."""

    def __init__(self, log_input: bool = True, full: bool = False, eps: float = 1e-8,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.log_input = log_input
        self.full = full
        self.eps = arguments.number("PoissonNLLLoss", "eps", eps, low=0.0)

    def forward(self, log_input: Tensor, target: Any) -> Tensor:
        return L.poisson_nll_loss(log_input, target, self.log_input, self.full, self.eps,
                                  self.reduction)


class GaussianNLLLoss(_Loss):
    """`gaussian_nll_loss` as a module: ``(input, target, var)``."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.full = full
        self.eps = arguments.number("GaussianNLLLoss", "eps", eps, low=0.0)

    def forward(self, input: Tensor, target: Any, var: Any) -> Tensor:  # noqa: A002
        return L.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """`multi_margin_loss` as a module: ``MultiMarginLoss(p=1, margin=1.0, weight=None)``."""

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(weight, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p = 1 and p = 2 are supported, got {p!r}")
        self.p = p
        self.margin = arguments.number("MultiMarginLoss", "margin", margin)

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return L.multi_margin_loss(input, target, self.p, self.margin, self.weight,
                                   self.reduction)
