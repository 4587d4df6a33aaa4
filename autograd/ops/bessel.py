"""Bessel functions and the regularized incomplete gamma functions (the backends compute them:
SciPy on NumPy, cupyx.scipy.special on CuPy), differentiable in x to any order.

One op, `Special`, runs ``backend.special(name, *params, x)`` for constant leading parameters
(an order n or v, a shape a); each derivative is another call of the family, so second
derivatives come from the same rules:
j0' = -j1, j1' = j0 - j1/x (1/2 at 0), y0' = -y1, y1' = y0 - y1/x, i0' = i1,
i1' = i0 - i1/x (1/2 at 0), jn' = (j(n-1) - j(n+1))/2, yn' likewise, iv' = (i(v-1) + i(v+1))/2,
ive' = (ive(v-1) + ive(v+1))/2 - sign(x) ive(v), gammainc' = x^(a-1) e^-x / Gamma(a) (and
gammaincc' its negative). The parameters themselves are not differentiable.
"""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..tensor import Tensor
from .arithmetic import where
from .special import gammaln
from .unary import exp, log, sign


class Special(Function):
    """y = special(name)(*params, x), differentiable in x."""

    def forward(self, x):
        if x.dtype.kind in "biu":
            x = x.astype("float64")
        self.save_for_backward(x)
        return self.backend.special(self.name, *self.params, x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * _DERIVATIVES[self.name](self.params, x)


def special(name: str, *args: Any) -> Tensor:
    """``name(*params, x)`` for the functions of this module (x last, a Tensor)."""
    *params, x = args
    return Special.apply(x, name=name, params=tuple(params))


def _over_x(f: Tensor, x: Tensor, at_zero: float) -> Tensor:
    """f / x, with its limit `at_zero` at x = 0 (where f is 0 too)."""
    zero = x == 0
    return where(zero, at_zero, f / where(zero, 1.0, x))


_DERIVATIVES = {
    "j0": lambda p, x: -special("j1", x),
    "j1": lambda p, x: special("j0", x) - _over_x(special("j1", x), x, 0.5),
    "y0": lambda p, x: -special("y1", x),
    "y1": lambda p, x: special("y0", x) - special("y1", x) / x,
    "i0": lambda p, x: special("i1", x),
    "i1": lambda p, x: special("i0", x) - _over_x(special("i1", x), x, 0.5),
    "jn": lambda p, x: (special("jn", p[0] - 1, x) - special("jn", p[0] + 1, x)) * 0.5,
    "yn": lambda p, x: (special("yn", p[0] - 1, x) - special("yn", p[0] + 1, x)) * 0.5,
    "iv": lambda p, x: (special("iv", p[0] - 1, x) + special("iv", p[0] + 1, x)) * 0.5,
    "ive": lambda p, x: (special("ive", p[0] - 1, x) + special("ive", p[0] + 1, x)) * 0.5
    - sign(x) * special("ive", p[0], x),
    "gammainc": lambda p, x: exp(log(x) * (p[0] - 1.0) - x - gammaln(x * 0.0 + p[0])),
    "gammaincc": lambda p, x: -exp(log(x) * (p[0] - 1.0) - x - gammaln(x * 0.0 + p[0])),
}

#: The functions `special` runs.
NAMES = tuple(_DERIVATIVES)
