"""Rounding, remainders and signs: floor, ceil, trunc, round, frac, fmod, remainder,
floor_divide, copysign.

floor, ceil, trunc, round and floor_divide are piecewise constant: their gradient is zero
everywhere, at the jumps too (PyTorch's convention), and their output still records so that
``floor(x) * x`` differentiates through the second factor. Integer and boolean inputs pass
through unchanged (NumPy 2 and PyTorch keep their dtype). frac, fmod and remainder have slope 1
in their first input; their slope in the divisor is minus the (piecewise constant) quotient.
"""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..tensor import Tensor
from .arithmetic import _pair

__all__ = [
    "floor", "ceil", "trunc", "fix", "round", "around", "frac", "fmod", "remainder", "mod",
    "floor_divide", "copysign",
]


def _raw(t: Any) -> Any:
    """The backend array of a saved Tensor (or the array itself on the raw first-order path)."""
    return t.array if isinstance(t, Tensor) else t


def _zero_like(fn: Function, gy: Any) -> Any:
    """A zero gradient shaped like `gy`: a constant (an array on the raw path)."""
    zero = fn.xp.zeros_like(_raw(gy))
    return zero if not isinstance(gy, Tensor) else Tensor._make(zero, fn.backend)


class _StepFunction(Function):
    """A piecewise-constant elementwise op: forward is `xp.<ufunc>`, the gradient is zero."""

    raw_backward = True
    ufunc = ""

    def forward(self, x):
        if x.dtype.kind in "biu":
            return x.copy()  # integers are already whole
        return getattr(self.xp, self.ufunc)(x)

    def backward(self, gy):
        return _zero_like(self, gy)


class Floor(_StepFunction):
    """y = floor(x); zero gradient."""

    ufunc = "floor"


class Ceil(_StepFunction):
    """y = ceil(x); zero gradient."""

    ufunc = "ceil"


class Trunc(_StepFunction):
    """y = trunc(x) (rounded toward zero); zero gradient."""

    ufunc = "trunc"


class Round(_StepFunction):
    """y = x rounded to `decimals` places, halves to even (NumPy and PyTorch); zero gradient."""

    def forward(self, x):
        if x.dtype.kind in "biu" and self.decimals >= 0:
            return x.copy()
        return self.xp.round(x, self.decimals)


def floor(x: Tensor) -> Tensor:
    """Elementwise floor; differentiable with a zero gradient (PyTorch's convention)."""
    return Floor.apply(x)


def ceil(x: Tensor) -> Tensor:
    """Elementwise ceiling; differentiable with a zero gradient."""
    return Ceil.apply(x)


def trunc(x: Tensor) -> Tensor:
    """Elementwise rounding toward zero; differentiable with a zero gradient."""
    return Trunc.apply(x)


def round(x: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001 - NumPy's name
    """`x` rounded to `decimals` places (halves to even, as NumPy and PyTorch); zero gradient."""
    return Round.apply(x, decimals=int(decimals))


fix = trunc
around = round


class Frac(Function):
    """y = x - trunc(x) (keeps x's sign, as ``torch.frac``); dy/dx = 1 between the jumps."""

    raw_backward = True

    def forward(self, x):
        return x - self.xp.trunc(x)

    def backward(self, gy):
        return gy


def frac(x: Tensor) -> Tensor:
    """The fractional part ``x - trunc(x)`` (negative for negative x, as ``torch.frac``)."""
    return Frac.apply(x)


class Fmod(Function):
    """y = fmod(a, b) = a - trunc(a / b) * b (the sign of a, C's fmod).

    ga = gy; gb = -gy * trunc(a / b), the quotient being a constant between the jumps.
    """

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return self.xp.fmod(a, b)

    def backward(self, gy):
        a, b = self.saved_tensors
        gb = None
        if self.needs_input_grad[1]:
            xp, ra, rb = self.xp, _raw(a), _raw(b)
            # (a - fmod) / b is a whole number up to rounding: round it, never trunc it.
            quotient = xp.round((ra - xp.fmod(ra, rb)) / rb)
            gb = -gy * Tensor._make(quotient, self.backend)
        return (gy if self.needs_input_grad[0] else None), gb


class Remainder(Function):
    """y = remainder(a, b) = a - floor(a / b) * b (the sign of b: Python's ``%``).

    ga = gy; gb = -gy * floor(a / b), the quotient being a constant between the jumps.
    """

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return self.xp.remainder(a, b)

    def backward(self, gy):
        a, b = self.saved_tensors
        gb = None
        if self.needs_input_grad[1]:
            xp, ra, rb = self.xp, _raw(a), _raw(b)
            quotient = xp.round((ra - xp.remainder(ra, rb)) / rb)  # whole, up to rounding
            gb = -gy * Tensor._make(quotient, self.backend)
        return (gy if self.needs_input_grad[0] else None), gb


class FloorDivide(Function):
    """y = floor(a / b) (Python's ``//``); piecewise constant, so both gradients are zero."""

    def forward(self, a, b):
        return self.xp.floor_divide(a, b)

    def backward(self, gy):
        zero = _zero_like(self, gy)
        return (zero if self.needs_input_grad[0] else None), (
            zero if self.needs_input_grad[1] else None)


def fmod(a: Any, b: Any) -> Tensor:
    """Elementwise C remainder ``a - trunc(a / b) * b``: the result has the sign of `a`."""
    a, b = _pair(a, b)
    return Fmod.apply(a, b)


def remainder(a: Any, b: Any) -> Tensor:
    """Elementwise Python remainder ``a - floor(a / b) * b``: the result has the sign of `b`
    (NumPy's ``remainder``/``mod``, PyTorch's ``remainder`` and ``%``)."""
    a, b = _pair(a, b)
    return Remainder.apply(a, b)


mod = remainder


def floor_divide(a: Any, b: Any) -> Tensor:
    """Elementwise ``floor(a / b)`` (Python's ``//``); differentiable with zero gradients."""
    a, b = _pair(a, b)
    return FloorDivide.apply(a, b)


class Copysign(Function):
    """y = |a| with the sign of b.

    ga = gy * sign(a) * (+1 or -1 by b's sign bit), 0 at a = 0 (PyTorch's convention);
    gb = 0 (y is piecewise constant in b).
    """

    def forward(self, a, b):
        y = self.xp.copysign(a, b)
        if self._recording and not isinstance(a, (int, float)):
            # The slope in a, a constant between a's kink at 0 and b's sign changes.
            xp = self.xp
            self.save_for_backward(xp.sign(a) * xp.copysign(xp.ones_like(y), b))
        return y

    def backward(self, gy):
        ga = None
        if self.needs_input_grad[0]:
            (slope,) = self.saved_tensors
            ga = gy * slope
        return ga, (_zero_like(self, gy) if self.needs_input_grad[1] else None)


def copysign(a: Any, b: Any) -> Tensor:
    """Elementwise magnitude of `a` with the sign of `b` (the sign bit: -0.0 counts as
    negative). The gradient in `a` is 0 at ``a == 0``; in `b` it is 0."""
    a, b = _pair(a, b)
    return Copysign.apply(a, b)
