"""Trigonometric and hyperbolic ops beyond sin/cos/tanh: tan, the inverse functions, sinh,
cosh, arctan2, hypot, sinc, and the degree/radian conversions.

Each rule is written with tensor ops on the saved input or output, so grad-of-grad works.
Domains: arcsin/arccos/arctanh on (-1, 1) and arccosh on (1, inf) have infinite slopes at their
ends. Conventions at kinks: hypot's gradient at (0, 0) is 0 (as a norm's), sinc'(0) = 0.
"""

from __future__ import annotations

import math
from typing import Any

from ..function import Function
from ..tensor import Tensor
from .arithmetic import _pair, where
from .unary import cos

__all__ = [
    "tan", "arcsin", "arccos", "arctan", "arctan2", "asin", "acos", "atan", "atan2", "sinh",
    "cosh", "arcsinh", "arccosh", "arctanh", "asinh", "acosh", "atanh", "hypot", "sinc",
    "deg2rad", "rad2deg", "radians", "degrees",
]


class Tan(Function):
    """y = tan(x); dy/dx = 1 + y^2."""

    raw_backward = True

    def forward(self, x):
        y = self.xp.tan(x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy * (1.0 + y * y)


class Arcsin(Function):
    """y = arcsin(x); dy/dx = 1 / sqrt(1 - x^2)."""

    raw_backward = True

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.arcsin(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy / (1.0 - x * x) ** 0.5


class Arccos(Function):
    """y = arccos(x); dy/dx = -1 / sqrt(1 - x^2)."""

    raw_backward = True

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.arccos(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return -gy / (1.0 - x * x) ** 0.5


class Arctan(Function):
    """y = arctan(x); dy/dx = 1 / (1 + x^2)."""

    raw_backward = True

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.arctan(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy / (1.0 + x * x)


class Arctan2(Function):
    """y = arctan2(a, b), the angle of the point (b, a); ga = gy b / r^2, gb = -gy a / r^2.

    At the origin both are 0 (a constant where r = 0, never 0/0).
    """

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return self.xp.arctan2(a, b)

    def backward(self, gy):
        a, b = self.saved_tensors
        r2 = a * a + b * b
        origin = r2 == 0
        scale = gy / where(origin, 1.0, r2)
        ga = where(origin, 0.0, scale * b) if self.needs_input_grad[0] else None
        gb = where(origin, 0.0, -scale * a) if self.needs_input_grad[1] else None
        return ga, gb


class Sinh(Function):
    """y = sinh(x); dy/dx = cosh(x)."""

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.sinh(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * cosh(x)


class Cosh(Function):
    """y = cosh(x); dy/dx = sinh(x)."""

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.cosh(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * sinh(x)


class Arcsinh(Function):
    """y = arcsinh(x); dy/dx = 1 / sqrt(x^2 + 1)."""

    raw_backward = True

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.arcsinh(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy / (x * x + 1.0) ** 0.5


class Arccosh(Function):
    """y = arccosh(x) for x >= 1; dy/dx = 1 / sqrt(x^2 - 1)."""

    raw_backward = True

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.arccosh(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy / (x * x - 1.0) ** 0.5


class Arctanh(Function):
    """y = arctanh(x) for |x| < 1; dy/dx = 1 / (1 - x^2)."""

    raw_backward = True

    def forward(self, x):
        self.save_for_backward(x)
        return self.xp.arctanh(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy / (1.0 - x * x)


class Hypot(Function):
    """y = sqrt(a^2 + b^2) without overflow; ga = gy a / y, gb = gy b / y, 0 where y = 0."""

    def forward(self, a, b):
        y = self.xp.hypot(a, b)
        self.save_for_backward(a, b, y)
        return y

    def backward(self, gy):
        a, b, y = self.saved_tensors
        origin = y == 0
        scale = where(origin, 0.0, gy / where(origin, 1.0, y))
        return (scale * a if self.needs_input_grad[0] else None), (
            scale * b if self.needs_input_grad[1] else None)


class Sinc(Function):
    """y = sin(pi x) / (pi x), 1 at 0 (NumPy's normalised sinc).

    dy/dx = (cos(pi x) - y) / x, and 0 at x = 0 (the limit).
    """

    def forward(self, x):
        y = self.xp.sinc(x)
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, y = self.saved_tensors
        zero = x == 0
        safe = where(zero, 1.0, x)
        return where(zero, 0.0, gy * (cos(math.pi * x) - y) / safe)


def tan(x: Tensor) -> Tensor:
    """Elementwise tangent (radians)."""
    return Tan.apply(x)


def arcsin(x: Tensor) -> Tensor:
    """Elementwise inverse sine, in [-pi/2, pi/2] (NaN outside [-1, 1])."""
    return Arcsin.apply(x)


def arccos(x: Tensor) -> Tensor:
    """Elementwise inverse cosine, in [0, pi] (NaN outside [-1, 1])."""
    return Arccos.apply(x)


def arctan(x: Tensor) -> Tensor:
    """Elementwise inverse tangent, in (-pi/2, pi/2)."""
    return Arctan.apply(x)


def arctan2(a: Any, b: Any) -> Tensor:
    """Elementwise angle of the point ``(x=b, y=a)`` in [-pi, pi]; zero gradient at (0, 0)."""
    a, b = _pair(a, b)
    return Arctan2.apply(a, b)


def sinh(x: Tensor) -> Tensor:
    """Elementwise hyperbolic sine."""
    return Sinh.apply(x)


def cosh(x: Tensor) -> Tensor:
    """Elementwise hyperbolic cosine."""
    return Cosh.apply(x)


def arcsinh(x: Tensor) -> Tensor:
    """Elementwise inverse hyperbolic sine."""
    return Arcsinh.apply(x)


def arccosh(x: Tensor) -> Tensor:
    """Elementwise inverse hyperbolic cosine (NaN below 1)."""
    return Arccosh.apply(x)


def arctanh(x: Tensor) -> Tensor:
    """Elementwise inverse hyperbolic tangent (NaN outside [-1, 1])."""
    return Arctanh.apply(x)


def hypot(a: Any, b: Any) -> Tensor:
    """Elementwise ``sqrt(a**2 + b**2)``, without overflow; zero gradient at (0, 0)."""
    a, b = _pair(a, b)
    return Hypot.apply(a, b)


def sinc(x: Tensor) -> Tensor:
    """Elementwise normalised sinc ``sin(pi x) / (pi x)`` (1 at 0, slope 0 there)."""
    return Sinc.apply(x)


_DEG = math.pi / 180.0


def deg2rad(x: Tensor) -> Tensor:
    """Degrees to radians: ``x * (pi / 180)``, the same product NumPy computes."""
    return x * _DEG


def rad2deg(x: Tensor) -> Tensor:
    """Radians to degrees: ``x * (180 / pi)``."""
    return x * (180.0 / math.pi)


# PyTorch's (and the array API's) spellings; NumPy 2 has them too.
asin, acos, atan, atan2 = arcsin, arccos, arctan, arctan2
asinh, acosh, atanh = arcsinh, arccosh, arctanh
radians, degrees = deg2rad, rad2deg
