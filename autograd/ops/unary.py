"""Unary elementwise ops: exp, log, activations, casts."""

from __future__ import annotations

from typing import Any

import backends

from ..function import Function
from ..tensor import Tensor

__all__ = ["exp", "log", "tanh", "astype", "clone", "to_device"]


class Exp(Function):
    """y = exp(x)."""

    def forward(self, x):
        y = self.xp.exp(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy * y


class Log(Function):
    """y = log(x)."""

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.log(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy / x


class Tanh(Function):
    """y = tanh(x); dy/dx = 1 - y^2."""

    def forward(self, x):
        y = self.xp.tanh(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy * (1.0 - y * y)


def exp(x: Tensor) -> Tensor:
    """Elementwise e**x."""
    return Exp.apply(x)


def log(x: Tensor) -> Tensor:
    """Elementwise natural logarithm."""
    return Log.apply(x)


def tanh(x: Tensor) -> Tensor:
    """Elementwise hyperbolic tangent."""
    return Tanh.apply(x)


class Cast(Function):
    """y = x converted to `dtype`; the gradient is cast back to x's dtype."""

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
    if dtype.kind not in "fc" or not x.requires_grad:
        return Tensor._make(x.data.astype(dtype), x._backend)
    return Cast.apply(x, dtype=dtype)


class Clone(Function):
    """y = a copy of x with its own memory."""

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
