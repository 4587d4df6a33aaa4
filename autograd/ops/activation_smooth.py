"""Smooth activations: silu, mish, selu, celu, logsigmoid and softsign.

Each is one op: the forward on arrays (stable for large |x|), the rule written with tensor
ops (sigmoid, tanh, softplus, the saved output), so the second derivative is exact too.
"""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..tensor import Tensor
from .activation import sigmoid, softplus
from .arithmetic import where
from .unary import abs as _abs
from .unary import exp, tanh

__all__ = ["silu", "mish", "selu", "celu", "logsigmoid", "softsign"]

#: SELU's constants (Klambauer et al. 2017), as PyTorch spells them.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _sigmoid_raw(xp: Any, x: Any) -> Any:
    """1 / (1 + exp(-x)) without overflow: exp only ever sees -|x|."""
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def _softplus_raw(xp: Any, x: Any) -> Any:
    """log(1 + exp(x)) without overflow."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class Silu(Function):
    """y = x sigmoid(x); dy/dx = s (1 + x (1 - s)), s = sigmoid(x)."""

    def forward(self, x):
        self.save_for_backward(x)
        return x * _sigmoid_raw(self.xp, x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        s = sigmoid(x)
        return gy * (s * (1.0 + x * (1.0 - s)))


class Mish(Function):
    """y = x tanh(softplus(x)); dy/dx = t + x (1 - t^2) sigmoid(x), t = tanh(softplus(x))."""

    def forward(self, x):
        self.save_for_backward(x)
        return x * self.xp.tanh(_softplus_raw(self.xp, x))

    def backward(self, gy):
        (x,) = self.saved_tensors
        t = tanh(softplus(x))
        return gy * (t + x * (1.0 - t * t) * sigmoid(x))


class Selu(Function):
    """y = scale x for x > 0, else scale alpha (exp(x) - 1). At 0 the gradient is the
    left-hand one, scale alpha (PyTorch's ELU rule), and so is the second derivative."""

    def forward(self, x):
        xp = self.xp
        neg = (SELU_SCALE * SELU_ALPHA) * xp.expm1(xp.minimum(x, 0))
        y = xp.where(x > 0, SELU_SCALE * x, neg).astype(x.dtype, copy=False)
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, _ = self.saved_tensors
        positive = x > 0
        # exp of x only where x <= 0 (no overflow in the branch where() drops); exp(x) rather
        # than y + scale alpha keeps the relative precision for very negative x
        slope = exp(where(positive, 0.0, x)) * (SELU_SCALE * SELU_ALPHA)
        return where(positive, gy * SELU_SCALE, gy * slope)


class Celu(Function):
    """y = x for x > 0, else alpha (exp(x / alpha) - 1); below 0 dy/dx = exp(x / alpha);
    at 0 the left-hand derivatives: 1 (so it is continuously differentiable), and 1 / alpha
    for the second."""

    def forward(self, x):
        xp = self.xp
        a = self.alpha
        y = xp.where(x > 0, x, a * xp.expm1(xp.minimum(x, 0) / a)).astype(x.dtype, copy=False)
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, _ = self.saved_tensors
        positive = x > 0
        return where(positive, gy, gy * exp(where(positive, 0.0, x) * (1.0 / self.alpha)))


class LogSigmoid(Function):
    """y = log sigmoid(x) = -softplus(-x); dy/dx = sigmoid(-x)."""

    def forward(self, x):
        self.save_for_backward(x)
        xp = self.xp
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * sigmoid(-x)


class Softsign(Function):
    """y = x / (1 + |x|); dy/dx = 1 / (1 + |x|)^2. The second derivative,
    -2 sign(x) / (1 + |x|)^3, jumps at 0; there it is 0 (|x|'s gradient at 0 is 0)."""

    def forward(self, x):
        self.save_for_backward(x)
        return x / (1.0 + self.xp.abs(x))

    def backward(self, gy):
        (x,) = self.saved_tensors
        d = 1.0 + _abs(x)
        return gy / (d * d)


def silu(x: Tensor) -> Tensor:
    """``x * sigmoid(x)`` (swish)."""
    return Silu.apply(x)


def mish(x: Tensor) -> Tensor:
    """``x * tanh(softplus(x))``."""
    return Mish.apply(x)


def selu(x: Tensor) -> Tensor:
    """``scale * elu(x, alpha)`` with SELU's constants (self-normalising networks)."""
    return Selu.apply(x)


def celu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """`x` for ``x > 0``, else ``alpha * (exp(x / alpha) - 1)``; alpha must not be 0."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return Celu.apply(x, alpha=float(alpha))


def logsigmoid(x: Tensor) -> Tensor:
    """``log(sigmoid(x))``, computed as ``min(x, 0) - log1p(exp(-|x|))`` (no overflow)."""
    return LogSigmoid.apply(x)


def softsign(x: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    return Softsign.apply(x)
