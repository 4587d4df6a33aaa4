"""Dropout variants (PyTorch's names): channel dropouts Dropout1d/2d/3d and the SELU
networks' AlphaDropout / FeatureAlphaDropout; the identity in eval mode."""

from __future__ import annotations

from typing import Any

from autograd.tensor import Tensor

from .. import arguments
from .. import functional_vectors as V
from ..module import Module

__all__ = ["Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


class _DropoutNd(Module):
    _fn: Any = None

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p = arguments.number(type(self).__name__, "p", p, low=0.0, high=1.0)
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return type(self)._fn(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout1d(_DropoutNd):
    """Zeroes whole channels of (N, C, L) / (C, L) inputs with probability `p` in training
    (the rest scaled by 1/(1-p))."""

    _fn = staticmethod(V.dropout1d)


class Dropout2d(_DropoutNd):
    """Zeroes whole feature maps of (N, C, H, W) / (C, H, W) inputs in training.

        >>> nn.Dropout2d(0.2)(ag.randn(4, 8, 5, 5)).shape
        (4, 8, 5, 5)
    """

    _fn = staticmethod(V.dropout2d)


class Dropout3d(_DropoutNd):
    """Zeroes whole channels of (N, C, D, H, W) / (C, D, H, W) inputs in training."""

    _fn = staticmethod(V.dropout3d)


class AlphaDropout(_DropoutNd):
    """Dropout that keeps SELU activations standardised (mean 0, variance 1) in training."""

    _fn = staticmethod(V.alpha_dropout)


class FeatureAlphaDropout(_DropoutNd):
    """`AlphaDropout` of whole channels (axis 1)."""

    _fn = staticmethod(V.feature_alpha_dropout)
