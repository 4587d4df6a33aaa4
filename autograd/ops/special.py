"""Special functions: erfc, erfinv, gammaln, digamma, polygamma, log_ndtr (the backends compute
them: SciPy or kedja's host versions on NumPy, cupyx.scipy.special on CuPy).

Rules, each written with ops of this module so that derivatives of any order exist:
erfc' = -2/sqrt(pi) exp(-x^2); erfinv' = sqrt(pi)/2 exp(y^2); gammaln' = digamma;
digamma' = polygamma(1, .); polygamma(n, .)' = polygamma(n + 1, .);
log_ndtr' = exp(-x^2/2 - y) / sqrt(2 pi), the normal pdf over its cdf, computed from the output
so that it stays finite far in the left tail.
"""

from __future__ import annotations

import math

from ..function import Function
from ..tensor import Tensor
from .unary import exp

__all__ = ["erfc", "erfinv", "gammaln", "digamma", "polygamma", "log_ndtr"]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _float(x: object) -> object:
    """Integer input computed in float64, as SciPy does."""
    return x.astype("float64") if x.dtype.kind in "biu" else x


class Erfc(Function):
    """y = erfc(x) = 1 - erf(x), accurate where erf(x) is close to 1."""

    def forward(self, x):
        x = _float(x)
        self.save_for_backward(x)
        return self.backend.special("erfc", x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * (exp(-(x * x)) * -_TWO_OVER_SQRT_PI)


class Erfinv(Function):
    """y = erfinv(x), the inverse of erf on (-1, 1)."""

    def forward(self, x):
        y = self.backend.special("erfinv", _float(x))
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy * (exp(y * y) * _SQRT_PI_OVER_TWO)


class Gammaln(Function):
    """y = log|Gamma(x)|."""

    def forward(self, x):
        x = _float(x)
        self.save_for_backward(x)
        return self.backend.special("gammaln", x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * digamma(x)


class Polygamma(Function):
    """y = the n-th derivative of digamma (n = 0: digamma itself)."""

    def forward(self, x):
        x = _float(x)
        self.save_for_backward(x)
        if self.n == 0:
            return self.backend.special("digamma", x)
        return self.backend.special("polygamma", self.n, x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * polygamma(self.n + 1, x)


class LogNdtr(Function):
    """y = log of the standard normal cdf, accurate in both tails."""

    def forward(self, x):
        x = _float(x)
        y = self.backend.special("log_ndtr", x)
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, y = self.saved_tensors
        return gy * (exp(-0.5 * (x * x) - y) * _INV_SQRT_2PI)


def erfc(x: Tensor) -> Tensor:
    """Elementwise complementary error function ``1 - erf(x)``."""
    return Erfc.apply(x)


def erfinv(x: Tensor) -> Tensor:
    """Elementwise inverse error function (±inf at ±1, NaN outside [-1, 1])."""
    return Erfinv.apply(x)


def gammaln(x: Tensor) -> Tensor:
    """Elementwise ``log|Gamma(x)|``."""
    return Gammaln.apply(x)


def digamma(x: Tensor) -> Tensor:
    """Elementwise digamma, the derivative of gammaln."""
    return Polygamma.apply(x, n=0)


def polygamma(n: int, x: Tensor) -> Tensor:
    """Elementwise n-th derivative of digamma (``n`` a non-negative Python int)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"polygamma: n must be a non-negative Python int, got {n!r}")
    return Polygamma.apply(x, n=n)


def log_ndtr(x: Tensor) -> Tensor:
    """Elementwise log of the standard normal cdf."""
    return LogNdtr.apply(x)
