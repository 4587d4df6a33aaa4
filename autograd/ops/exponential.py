"""Exponential and logarithmic ops beyond exp/log: log2, log10, exp2, logit, rsqrt,
reciprocal, cbrt, logaddexp, logaddexp2.

logaddexp and logaddexp2 are computed by NumPy's/CuPy's stable ufuncs; their rules use the saved
output (``exp(a - y)`` is at most 1, never overflows). Where both inputs are -inf the output is
-inf and both gradients are 0.
"""

from __future__ import annotations

import math
from typing import Any

from ..function import Function
from ..tensor import Tensor
from .arithmetic import _pair, where
from .unary import exp

__all__ = [
    "log2", "log10", "exp2", "logit", "rsqrt", "reciprocal", "cbrt", "logaddexp",
    "logaddexp2",
]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_NEG_INF = float("-inf")


class Log2(Function):
    """y = log2(x); dy/dx = 1 / (x ln 2)."""

    raw_backward = True

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.log2(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy / (x * _LN2)


class Log10(Function):
    """y = log10(x); dy/dx = 1 / (x ln 10)."""

    raw_backward = True

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.log10(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy / (x * _LN10)


class Exp2(Function):
    """y = 2**x; dy/dx = y ln 2."""

    raw_backward = True

    def forward(self, x):
        y = self.xp.exp2(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy * (y * _LN2)


class Logit(Function):
    """y = log(x / (1 - x)), x first clamped to [eps, 1 - eps] when `eps` is given.

    dy/dx = 1 / (x (1 - x)); with `eps`, 0 where x lies outside [eps, 1 - eps] (PyTorch's rule).
    """

    def forward(self, x):
        xp = self.xp
        if self.eps is None:
            self.save_for_backward(x)
            return xp.log(x / (1.0 - x))
        self.save_for_backward(x, (x >= self.eps) & (x <= 1.0 - self.eps))
        clamped = xp.clip(x, self.eps, 1.0 - self.eps)
        return xp.log(clamped / (1.0 - clamped))

    def backward(self, gy):
        if self.eps is None:
            (x,) = self.saved_tensors
            return gy / (x * (1.0 - x))
        x, inside = self.saved_tensors
        x = where(inside, x, 0.5)  # outside, the slope is 0: keep 1/0 out of the graph
        return where(inside, gy / (x * (1.0 - x)), 0.0)


class Rsqrt(Function):
    """y = 1 / sqrt(x); dy/dx = -y^3 / 2."""

    raw_backward = True

    def forward(self, x):
        y = 1.0 / self.xp.sqrt(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy * (-0.5 * y * y * y)


class Reciprocal(Function):
    """y = 1 / x; dy/dx = -y^2."""

    raw_backward = True

    def forward(self, x):
        y = 1.0 / x
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy * -(y * y)


class Cbrt(Function):
    """y = x**(1/3), real for negative x; dy/dx = 1 / (3 y^2) (infinite at 0)."""

    raw_backward = True

    def forward(self, x):
        y = self.xp.cbrt(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy / (3.0 * y * y)


class LogAddExp(Function):
    """y = log(exp(a) + exp(b)); ga = gy exp(a - y), gb = gy exp(b - y) (each at most gy)."""

    def forward(self, a, b):
        y = self.xp.logaddexp(a, b)
        self.save_for_backward(a, b, y)
        return y

    def backward(self, gy):
        a, b, y = self.saved_tensors
        return _shares(self, gy, a, b, y, exp, 1.0)


class LogAddExp2(Function):
    """y = log2(2**a + 2**b); ga = gy 2**(a - y), gb = gy 2**(b - y)."""

    def forward(self, a, b):
        y = self.xp.logaddexp2(a, b)
        self.save_for_backward(a, b, y)
        return y

    def backward(self, gy):
        a, b, y = self.saved_tensors
        return _shares(self, gy, a, b, y, exp, _LN2)


def _shares(fn: Function, gy: Tensor, a: Any, b: Any, y: Tensor, exp_: Any, scale: float):
    # y = -inf only where a = b = -inf: there exp(a - y) would be exp(nan); both get 0.
    empty = y == _NEG_INF
    safe_y = where(empty, 0.0, y)
    out = []
    for t, needed in zip((a, b), fn.needs_input_grad):
        out.append(where(empty, 0.0, gy * exp_((t - safe_y) * scale)) if needed else None)
    return tuple(out)


def log2(x: Tensor) -> Tensor:
    """Elementwise base-2 logarithm."""
    return Log2.apply(x)


def log10(x: Tensor) -> Tensor:
    """Elementwise base-10 logarithm."""
    return Log10.apply(x)


def exp2(x: Tensor) -> Tensor:
    """Elementwise ``2**x``."""
    return Exp2.apply(x)


def logit(x: Tensor, eps: float | None = None) -> Tensor:
    """Elementwise ``log(x / (1 - x))``, the inverse of sigmoid.

    Args:
        eps: if given, x is clamped to ``[eps, 1 - eps]`` first and the gradient is 0 where
            the input lies outside that interval (``torch.logit``'s rule).
    """
    return Logit.apply(x, eps=None if eps is None else float(eps))


def rsqrt(x: Tensor) -> Tensor:
    """Elementwise ``1 / sqrt(x)``."""
    return Rsqrt.apply(x)


def reciprocal(x: Tensor) -> Tensor:
    """Elementwise ``1 / x`` (integers give floats, as in PyTorch)."""
    if x.dtype.kind in "biu":
        x = x.astype("float32")
    return Reciprocal.apply(x)


def cbrt(x: Tensor) -> Tensor:
    """Elementwise real cube root (negative for negative x)."""
    return Cbrt.apply(x)


def logaddexp(a: Any, b: Any) -> Tensor:
    """Elementwise ``log(exp(a) + exp(b))`` without overflow."""
    a, b = _pair(a, b)
    return LogAddExp.apply(a, b)


def logaddexp2(a: Any, b: Any) -> Tensor:
    """Elementwise ``log2(2**a + 2**b)`` without overflow."""
    a, b = _pair(a, b)
    return LogAddExp2.apply(a, b)
