"""Unary elementwise ops: exp/log family, trigonometry, erf, abs/sign, clip, casts and copies.

Every rule is written with tensor ops on saved inputs/outputs, so grad-of-grad works. Kinks
(documented per op): abs'(0) = 0, clip passes the gradient strictly inside its bounds (0 at a
bound), sign has a zero gradient. Activations (sigmoid, relu, gelu, ...) are in `activation.py`.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import backends
from backends import kernels

from ..function import Function
from ..grad_mode import state as _grad_state
from ..tensor import Tensor
from .arithmetic import where

__all__ = [
    "abs", "exp", "log", "log1p", "expm1", "sqrt", "square", "sin", "cos", "tanh", "erf",
    "clip", "sign", "astype", "clone", "to_device",
]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# -- exp / log family -------------------------------------------------------------------------
class Exp(Function):
    """y = exp(x)."""

    raw_backward = True

    def forward(self, x):
        y = self.xp.exp(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy * y


class Log(Function):
    """y = log(x)."""

    raw_backward = True

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.log(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy / x


class Log1p(Function):
    """y = log(1 + x)."""

    raw_backward = True

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.log1p(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy / (1.0 + x)


class Expm1(Function):
    """y = exp(x) - 1; dy/dx = exp(x) = y + 1."""

    raw_backward = True

    def forward(self, x):
        y = self.xp.expm1(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy * (y + 1.0)


class Sqrt(Function):
    """y = sqrt(x); dy/dx = 1 / (2 y)."""

    raw_backward = True

    def forward(self, x):
        y = self.xp.sqrt(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy / (2.0 * y)


class Square(Function):
    """y = x * x."""

    raw_backward = True

    def forward(self, x):
        self.save_for_backward(x)
        return x * x

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * (2.0 * x)


def exp(x: Tensor) -> Tensor:
    """Elementwise e**x."""
    return Exp.apply(x)


def log(x: Tensor) -> Tensor:
    """Elementwise natural logarithm."""
    return Log.apply(x)


def log1p(x: Tensor) -> Tensor:
    """Elementwise ``log(1 + x)``, accurate for small `x`."""
    return Log1p.apply(x)


def expm1(x: Tensor) -> Tensor:
    """Elementwise ``exp(x) - 1``, accurate for small `x`."""
    return Expm1.apply(x)


def sqrt(x: Tensor) -> Tensor:
    """Elementwise square root (the gradient is infinite at 0)."""
    return Sqrt.apply(x)


def square(x: Tensor) -> Tensor:
    """Elementwise ``x * x``."""
    return Square.apply(x)


# -- trigonometric and special functions ------------------------------------------------------
class Sin(Function):
    """y = sin(x)."""

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.sin(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * cos(x)


class Cos(Function):
    """y = cos(x)."""

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.cos(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return -gy * sin(x)


class Tanh(Function):
    """y = tanh(x); dy/dx = 1 - y^2."""

    raw_backward = True

    def forward(self, x):
        y = self.xp.tanh(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        if _grad_state.raw_backend is not None:  # first order on arrays: the kernel itself
            return kernels.tanh_grad(self.backend, y, gy)
        return _TanhGrad.apply(y, gy)


class _TanhGrad(Function):
    """gx = gy (1 - y^2) for y = tanh(x), fused; differentiable in y and gy."""

    def forward(self, y, gy):
        self.save_for_backward(y, gy)
        return kernels.tanh_grad(self.backend, y, gy)

    def backward(self, ggx):
        y, gy = self.saved_tensors
        gy_ = -2.0 * (ggx * gy * y) if self.needs_input_grad[0] else None
        return gy_, _TanhGrad.apply(y, ggx) if self.needs_input_grad[1] else None


class Erf(Function):
    """y = erf(x); dy/dx = 2 / sqrt(pi) * exp(-x^2)."""

    def forward(self, x):
        self.save_for_backward(x)
        return self.backend.erf(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * (exp(-(x * x)) * _TWO_OVER_SQRT_PI)


def sin(x: Tensor) -> Tensor:
    """Elementwise sine (radians)."""
    return Sin.apply(x)


def cos(x: Tensor) -> Tensor:
    """Elementwise cosine (radians)."""
    return Cos.apply(x)


def tanh(x: Tensor) -> Tensor:
    """Elementwise hyperbolic tangent."""
    return Tanh.apply(x)


def erf(x: Tensor) -> Tensor:
    """Elementwise Gauss error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``."""
    return Erf.apply(x)


# -- piecewise ops ----------------------------------------------------------------------------
class Abs(Function):
    """y = |x|; the gradient at 0 is 0."""

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.abs(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * sign(x)


class Sign(Function):
    """y = sign(x) in {-1, 0, 1}; piecewise constant, so its gradient is 0 everywhere."""

    def forward(self, x):
        return self.xp.sign(x)

    def backward(self, gy):
        return gy * 0.0


class Clip(Function):
    """y = min(max(x, min), max); the gradient passes only where min < x < max."""

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.clip(x, self.min, self.max)

    def backward(self, gy):
        (x,) = self.saved_tensors
        if self.min is not None:
            gy = where(x > self.min, gy, 0.0)
        if self.max is not None:
            gy = where(x < self.max, gy, 0.0)
        return gy


def abs(x: Tensor) -> Tensor:  # noqa: A001 - NumPy's name
    """Elementwise absolute value. Convention at the kink: abs'(0) = 0."""
    return Abs.apply(x)


def sign(x: Tensor) -> Tensor:
    """Elementwise sign (-1, 0 or 1); differentiable with a zero gradient."""
    return Sign.apply(x)


def clip(x: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - NumPy's names
    """Elementwise `x` limited to ``[min, max]`` (either bound may be None).

    Convention at the bounds: the gradient is 1 strictly inside ``(min, max)`` and 0 at a bound
    or beyond it, so ``clip(x, min=0)`` has the same gradient as ``relu`` (0 at 0). PyTorch's
    ``clamp`` passes the gradient at the bound instead.

    Args:
        x: input tensor.
        min, max: Python numbers; at least one must be given.
    """
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    bounds = []
    for name, bound in (("min", min), ("max", max)):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, Real)):
            raise TypeError(
                f"clip: {name} must be a Python number or None, got {type(bound).__name__}; "
                "for tensor bounds use maximum/minimum"
            )
        bounds.append(None if bound is None else int(bound) if isinstance(bound, int)
                      else float(bound))
    if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
        raise ValueError(f"clip: min ({bounds[0]}) is greater than max ({bounds[1]})")
    return Clip.apply(x, min=bounds[0], max=bounds[1])


# -- casts and copies -------------------------------------------------------------------------
class Cast(Function):
    """y = x converted to `dtype`; the gradient is cast back to x's dtype."""

    raw_backward = True

    def forward(self, x):
        self.in_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        return gy.astype(self.in_dtype)


def astype(x: Tensor, dtype: Any) -> Tensor:
    """A copy of `x` as `dtype` (differentiable between floating types)."""
    dtype = backends.dtype_of(dtype)
    if x.dtype == dtype:
        return x
    if not (dtype.kind in "fc" or dtype.name == "bfloat16") or not x.requires_grad:
        return Tensor._make(x.array.astype(dtype), x._backend)
    return Cast.apply(x, dtype=dtype)


class Clone(Function):
    """y = a copy of x with its own memory."""

    raw_backward = True

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return gy


def clone(x: Tensor) -> Tensor:
    """A copy of `x` that stays in the graph."""
    return Clone.apply(x)


class ToDevice(Function):
    """y = x moved to another backend's device; the gradient moves back."""

    def forward(self, x):
        self.source = self.backend
        # Explicit moves go through the host unless both sides share an array library.
        if self.backend.xp is self.output_backend.xp:
            return self.output_backend.asarray(x)
        return self.output_backend.asarray(self.backend.to_numpy(x))

    def backward(self, gy):
        return to_device(gy, self.source)


def to_device(x: Tensor, target: backends.Backend) -> Tensor:
    """`x` on `target`'s device (differentiable)."""
    return ToDevice.apply(x, output_backend=target)
