"""Reductions: sum, mean, var, std, prod, max, min, logsumexp, softmax, log_softmax, argmax."""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..tensor import Tensor

__all__ = ["sum", "mean"]


def _axes(axis: Any, ndim: int) -> tuple:
    """`axis` as a tuple of non-negative ints (all axes for None)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    out = []
    for a in axis:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of bounds for a tensor of dimension {ndim}")
        out.append(a % ndim if ndim else 0)
    return tuple(out)


def _keepdims_shape(shape: tuple, axes: tuple) -> tuple:
    """The shape a reduction over `axes` has with keepdims=True."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    """y = sum of x over `axis`; the rule broadcasts gy back."""

    def forward(self, x):
        self.in_shape = x.shape
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        if not self.keepdims:
            gy = gy.reshape(_keepdims_shape(self.in_shape, _axes(self.axis, len(self.in_shape))))
        return gy.broadcast_to(self.in_shape)


def sum(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over `axis` (all axes for None)."""
    return Sum.apply(x, axis=axis, keepdims=keepdims)


def mean(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over `axis` (NaN for an empty reduction, as NumPy gives)."""
    count = 1
    for a in _axes(axis, x.ndim):
        count *= x.shape[a]
    return Sum.apply(x, axis=axis, keepdims=keepdims) * (1.0 / count if count else float("nan"))
