"""Piecewise activations: hardtanh (and relu6), hardsigmoid, hardswish, threshold,
softshrink and hardshrink.

Each is one op whose rule multiplies gy by a constant mask computed from the saved input
(or, for hardswish, by a mask and a linear function of x, so the second derivative is exact:
1/3 on (-3, 3), 0 elsewhere). Kinks follow PyTorch's backward formulas, stated per op.
"""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..tensor import Tensor

__all__ = ["hardtanh", "relu6", "hardsigmoid", "hardswish", "threshold", "softshrink",
           "hardshrink"]


def _constant(fn: Function, mask: Any, dtype: Any) -> Tensor:
    return Tensor._make(mask.astype(dtype), fn.backend)


class Hardtanh(Function):
    """y = clip(x, min_val, max_val); dy/dx = 1 strictly inside, 0 outside and at both
    bounds (PyTorch's rule)."""

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.clip(x, self.min_val, self.max_val)

    def backward(self, gy):
        (x,) = self.saved_tensors
        a = x.array
        return gy * _constant(self, (a > self.min_val) & (a < self.max_val), gy.dtype)


class Hardsigmoid(Function):
    """y = clip(x / 6 + 1/2, 0, 1); dy/dx = 1/6 on (-3, 3), 0 elsewhere (0 at +-3)."""

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.clip(x / 6.0 + 0.5, 0.0, 1.0).astype(x.dtype, copy=False)

    def backward(self, gy):
        (x,) = self.saved_tensors
        a = x.array
        return gy * _constant(self, ((a > -3.0) & (a < 3.0)) / 6.0, gy.dtype)


class Hardswish(Function):
    """y = x * clip(x + 3, 0, 6) / 6. PyTorch's rule: dy/dx = 0 for x <= -3, x / 3 + 1/2
    for -3 < x < 3, 1 for x >= 3 (the outer pieces' slopes at the kinks)."""

    def forward(self, x):
        self.save_for_backward(x)
        return (x * self.xp.clip(x + 3.0, 0.0, 6.0) / 6.0).astype(x.dtype, copy=False)

    def backward(self, gy):
        (x,) = self.saved_tensors
        a = x.array
        middle = _constant(self, (a > -3.0) & (a < 3.0), gy.dtype)
        above = _constant(self, a >= 3.0, gy.dtype)
        # x stays in the graph: the middle piece's slope is 1/3 at second order
        return gy * (middle * (x * (1.0 / 3.0) + 0.5) + above)


class Threshold(Function):
    """y = x where x > threshold, else value; dy/dx = 1 where x > threshold, else 0."""

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.where(x > self.threshold, x, self.xp.asarray(self.value, x.dtype))

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * _constant(self, x.array > self.threshold, gy.dtype)


class Softshrink(Function):
    """y = x - l above l, x + l below -l, 0 between; dy/dx = 1 where |x| > l, 0 on [-l, l]."""

    def forward(self, x):
        self.save_for_backward(x)
        xp = self.xp
        lam = self.lambd
        return xp.where(x > lam, x - lam, xp.where(x < -lam, x + lam, 0.0)).astype(
            x.dtype, copy=False)

    def backward(self, gy):
        (x,) = self.saved_tensors
        a = x.array
        return gy * _constant(self, (a > self.lambd) | (a < -self.lambd), gy.dtype)


class Hardshrink(Function):
    """y = x where |x| > l, else 0; dy/dx = 1 where |x| > l, 0 on [-l, l]."""

    def forward(self, x):
        self.save_for_backward(x)
        keep = (x > self.lambd) | (x < -self.lambd)
        return self.xp.where(keep, x, 0.0).astype(x.dtype, copy=False)

    def backward(self, gy):
        (x,) = self.saved_tensors
        a = x.array
        return gy * _constant(self, (a > self.lambd) | (a < -self.lambd), gy.dtype)


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """``clip(x, min_val, max_val)``; gradient 1 strictly between the bounds, 0 at them."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    return Hardtanh.apply(x, min_val=float(min_val), max_val=float(max_val))


def relu6(x: Tensor) -> Tensor:
    """``min(max(x, 0), 6)``: `hardtanh` on [0, 6] (gradient 0 at 0 and at 6)."""
    return Hardtanh.apply(x, min_val=0.0, max_val=6.0)


def hardsigmoid(x: Tensor) -> Tensor:
    """``relu6(x + 3) / 6``; gradient 1/6 on (-3, 3), 0 elsewhere."""
    return Hardsigmoid.apply(x)


def hardswish(x: Tensor) -> Tensor:
    """``x * relu6(x + 3) / 6`` (MobileNetV3); at the kinks the outer slopes, 0 at -3 and 1
    at 3 (PyTorch's rule)."""
    return Hardswish.apply(x)


def threshold(x: Tensor, threshold: float, value: float) -> Tensor:
    """`x` where ``x > threshold``, else `value`; gradient 0 at and below the threshold."""
    return Threshold.apply(x, threshold=float(threshold), value=float(value))


def softshrink(x: Tensor, lambd: float = 0.5) -> Tensor:
    """Shrinks towards 0 by `lambd` (``x - lambd`` above it, ``x + lambd`` below ``-lambd``,
    0 between); gradient 0 on ``[-lambd, lambd]``."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be non-negative, got {lambd}")
    return Softshrink.apply(x, lambd=float(lambd))


def hardshrink(x: Tensor, lambd: float = 0.5) -> Tensor:
    """`x` where ``|x| > lambd``, else 0; gradient 0 on ``[-lambd, lambd]``."""
    return Hardshrink.apply(x, lambd=float(lambd))
