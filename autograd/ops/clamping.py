"""Bounds and NaN handling: clamp_min, clamp_max, fmax, fmin, nan_to_num.

Conventions (PyTorch's): clamp_min/clamp_max pass the gradient to x where x is at or inside the
bound (x >= min, x <= max) and to a tensor bound elsewhere; fmax/fmin give a tie to the first
input and ignore a NaN operand (the other one gets the gradient); nan_to_num passes the gradient
where x is finite and gives 0 where a value was replaced.
"""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..tensor import Tensor, _lift
from .arithmetic import _pair, where

__all__ = ["clamp_min", "clamp_max", "fmax", "fmin", "nan_to_num"]


class _Pick(Function):
    """y = one of two inputs per element; the gradient follows the pick (a constant mask)."""

    def forward(self, a, b):
        y, first = self.pick(self.xp, a, b)
        if self._recording:
            self.save_for_backward(first)
        return y

    def backward(self, gy):
        (first,) = self.saved_tensors
        zero = gy * 0.0
        ga = where(first, gy, zero) if self.needs_input_grad[0] else None
        gb = where(first, zero, gy) if self.needs_input_grad[1] else None
        return ga, gb


class ClampMin(_Pick):
    """y = max(x, min); x keeps the gradient where x >= min (the bound included)."""

    @staticmethod
    def pick(xp, x, bound):
        return xp.maximum(x, bound), xp.logical_not(x < bound)


class ClampMax(_Pick):
    """y = min(x, max); x keeps the gradient where x <= max (the bound included)."""

    @staticmethod
    def pick(xp, x, bound):
        return xp.minimum(x, bound), xp.logical_not(x > bound)


class Fmax(_Pick):
    """y = fmax(a, b), NaN-ignoring maximum; a gets the gradient where a >= b or b is NaN."""

    @staticmethod
    def pick(xp, a, b):
        return xp.fmax(a, b), (a >= b) | xp.isnan(b)


class Fmin(_Pick):
    """y = fmin(a, b), NaN-ignoring minimum; a gets the gradient where a <= b or b is NaN."""

    @staticmethod
    def pick(xp, a, b):
        return xp.fmin(a, b), (a <= b) | xp.isnan(b)


def _bound_pair(x: Tensor, bound: Any, op: str) -> tuple:
    if bound is None:
        raise TypeError(f"{op}: the bound must be a number or a tensor, got None")
    return x, _lift(bound, x)


def clamp_min(x: Tensor, min: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """Elementwise ``max(x, min)`` with a number or tensor `min` (PyTorch's ``clamp_min``).

    The gradient goes to x where ``x >= min`` (the bound included, as PyTorch's clamp) and to a
    tensor `min` elsewhere.
    """
    return ClampMin.apply(*_bound_pair(x, min, "clamp_min"))


def clamp_max(x: Tensor, max: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """Elementwise ``min(x, max)`` with a number or tensor `max`; x keeps the gradient where
    ``x <= max``."""
    return ClampMax.apply(*_bound_pair(x, max, "clamp_max"))


def fmax(a: Any, b: Any) -> Tensor:
    """Elementwise maximum that ignores NaN (NaN only where both are NaN).

    The gradient goes to `a` where ``a >= b`` (ties included) or b is NaN, else to `b`.
    """
    a, b = _pair(a, b)
    return Fmax.apply(a, b)


def fmin(a: Any, b: Any) -> Tensor:
    """Elementwise minimum that ignores NaN; the gradient goes to `a` where ``a <= b`` or b is
    NaN, else to `b`."""
    a, b = _pair(a, b)
    return Fmin.apply(a, b)


class NanToNum(Function):
    """y = x with NaN, +inf and -inf replaced; the gradient passes where x is finite."""

    def forward(self, x):
        xp = self.xp
        if x.dtype.kind not in "fc":
            return x.copy()
        if self._recording:
            self.save_for_backward(xp.isfinite(x))
        info = xp.finfo(x.dtype)
        posinf = info.max if self.posinf is None else self.posinf
        neginf = info.min if self.neginf is None else self.neginf
        y = xp.where(xp.isnan(x), self.nan, x)
        y = xp.where(y == xp.inf, posinf, y)
        return xp.where(y == -xp.inf, neginf, y).astype(x.dtype, copy=False)

    def backward(self, gy):
        (finite,) = self.saved_tensors
        return where(finite, gy, gy * 0.0)


def nan_to_num(x: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None, copy: bool = True) -> Tensor:
    """`x` with NaN replaced by `nan` and infinities by `posinf`/`neginf` (default: the largest
    and lowest finite values of x's dtype), as NumPy and PyTorch.

    The gradient passes where x is finite and is 0 at replaced entries. `copy` is accepted for
    NumPy compatibility; the result is always a new tensor.
    """
    return NanToNum.apply(x, nan=float(nan), posinf=None if posinf is None else float(posinf),
                          neginf=None if neginf is None else float(neginf))
