"""Activation ops: sigmoid, relu, leaky_relu, elu, gelu, softplus and their fused gradient ops."""

from __future__ import annotations

import math
from typing import Any

from backends import kernels

from ..function import Function
from ..grad_mode import state as _grad_state
from ..tensor import Tensor
from .arithmetic import where
from .unary import exp, tanh

__all__ = ["sigmoid", "relu", "leaky_relu", "elu", "gelu", "softplus"]

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


# -- activations ------------------------------------------------------------------------------
class Sigmoid(Function):
    """y = 1 / (1 + exp(-x)); dy/dx = y (1 - y)."""

    raw_backward = True

    def forward(self, x):
        # (1 or e) / (1 + e) with e = exp(-|x|): never overflows (one fused pass, see kernels).
        y = kernels.sigmoid(self.backend, x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return _SigmoidGrad.apply(y, gy)


class _SigmoidGrad(Function):
    """gx = gy y (1 - y) for y = sigmoid(x), fused; differentiable in y and gy."""

    def forward(self, y, gy):
        self.save_for_backward(y, gy)
        return kernels.sigmoid_grad(self.backend, y, gy)

    def backward(self, ggx):
        y, gy = self.saved_tensors
        gy_ = ggx * gy * (1.0 - 2.0 * y) if self.needs_input_grad[0] else None
        return gy_, _SigmoidGrad.apply(y, ggx) if self.needs_input_grad[1] else None


def _constant(t: Any) -> Any:
    """`t` cut from the graph (a raw array in a raw first-order rule already is)."""
    return t.detach() if isinstance(t, Tensor) else t


class Relu(Function):
    """y = max(x, 0); the gradient at 0 is 0."""

    raw_backward = True

    def forward(self, x):
        y = kernels.activations.relu(self.backend, x)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return _ReluGrad.apply(_constant(y), gy)  # constant in y: no path back through it


class _ReluGrad(Function):
    """gx = gy where y > 0, else 0 (fused). Piecewise linear in gy, constant in y."""

    def forward(self, y, gy):
        self.save_for_backward(y)
        return kernels.relu_grad(self.backend, y, gy)

    def backward(self, ggx):
        (y,) = self.saved_tensors
        return None, _ReluGrad.apply(y, ggx)


class LeakyRelu(Function):
    """y = x for x > 0, else negative_slope * x; the gradient at 0 is negative_slope."""

    raw_backward = True

    def forward(self, x):
        self.save_for_backward(x)
        return kernels.leaky_relu(self.backend, x, self.negative_slope)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return _LeakyReluGrad.apply(_constant(x), gy, negative_slope=self.negative_slope)


class _LeakyReluGrad(Function):
    """gx = gy where x > 0, else negative_slope gy (fused). Linear in gy, constant in x."""

    def forward(self, x, gy):
        self.save_for_backward(x)
        return kernels.leaky_relu_grad(self.backend, x, gy, self.negative_slope)

    def backward(self, ggx):
        (x,) = self.saved_tensors
        return None, _LeakyReluGrad.apply(x, ggx, negative_slope=self.negative_slope)


class Elu(Function):
    """y = x for x > 0, else alpha * (exp(x) - 1); below 0 dy/dx = alpha exp(x) = y + alpha."""

    def forward(self, x):
        xp = self.xp
        # expm1 on min(x, 0): the branch where() discards must not overflow either.
        y = xp.where(x > 0, x, self.alpha * xp.expm1(xp.minimum(x, 0)))
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, y = self.saved_tensors
        return where(x > 0, gy, gy * (y + self.alpha))


class Gelu(Function):
    """y = x * Phi(x), Phi the standard normal CDF (or its tanh approximation).

    Exact: dy/dx = Phi(x) + x phi(x). Tanh: with u = sqrt(2/pi) (x + 0.044715 x^3) and
    t = tanh(u), y = x (1 + t) / 2 and dy/dx = (1 + t) / 2 + x (1 - t^2) u'(x) / 2.
    On the host the tanh form keeps ``s = (1 + t) / 2`` from the forward, so the first-order
    rule is a few multiplications (no transcendental again); ``create_graph`` runs the
    differentiable `_GeluGrad`.
    """

    raw_backward = True

    def forward(self, x):
        y, s = kernels.gelu(self.backend, x, self.approximate, keep=True)
        self.save_for_backward(x, s)
        return y

    def backward(self, gy):
        x, s = self.saved_tensors
        if _grad_state.raw_backend is not None:  # first order: raw arrays
            return kernels.gelu_grad(self.backend, x, gy, self.approximate, s=s)
        return _GeluGrad.apply(x, gy, approximate=self.approximate)


class _GeluGrad(Function):
    """gx = gy gelu'(x), fused. Its rule needs gelu'': exact, phi(x) (2 - x^2); tanh form,
    (1 - t^2) (u' + x (u'' - 2 t u'^2) / 2) with u'' = 6 * 0.044715 sqrt(2/pi) x."""

    def forward(self, x, gy):
        self.save_for_backward(x, gy)
        return kernels.gelu_grad(self.backend, x, gy, self.approximate)

    def backward(self, ggx):
        x, gy = self.saved_tensors
        gx = None
        if self.needs_input_grad[0]:
            x2 = x * x
            if self.approximate == "tanh":
                t = tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * (x2 * x)))
                du = _SQRT_2_OVER_PI * (1.0 + (3.0 * _GELU_CUBIC) * x2)
                ddu = (6.0 * _GELU_CUBIC * _SQRT_2_OVER_PI) * x
                second = (1.0 - t * t) * (du + 0.5 * x * (ddu - 2.0 * t * du * du))
            else:
                second = exp(-0.5 * x2) * _INV_SQRT_2PI * (2.0 - x2)
            gx = ggx * gy * second
        ggy = _GeluGrad.apply(x, ggx, approximate=self.approximate) \
            if self.needs_input_grad[1] else None
        return gx, ggy


class Softplus(Function):
    """y = log(1 + exp(beta x)) / beta, and y = x where beta x > threshold (like PyTorch).

    dy/dx = sigmoid(beta x) below the threshold, 1 above it.
    """

    def forward(self, x):
        xp = self.xp
        self.save_for_backward(x)
        bx = x * self.beta
        # max(bx, 0) + log1p(exp(-|bx|)) is log1p(exp(bx)) without overflow for large bx.
        soft = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / self.beta
        return xp.where(bx > self.threshold, x, soft)

    def backward(self, gy):
        (x,) = self.saved_tensors
        bx = x * self.beta
        return where(bx > self.threshold, gy, gy * sigmoid(bx))


def sigmoid(x: Tensor) -> Tensor:
    """Elementwise logistic function ``1 / (1 + exp(-x))``, stable for large ``|x|``."""
    return Sigmoid.apply(x)


def relu(x: Tensor) -> Tensor:
    """Elementwise ``max(x, 0)``. Convention at the kink: relu'(0) = 0."""
    return Relu.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """Elementwise `x` for ``x > 0``, else ``negative_slope * x``.

    Convention at the kink (PyTorch's): the gradient at 0 is `negative_slope`.
    """
    return LeakyRelu.apply(x, negative_slope=float(negative_slope))


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """Elementwise `x` for ``x > 0``, else ``alpha * (exp(x) - 1)``.

    Convention at 0 (PyTorch's): the gradient is `alpha` (the left-hand derivative), so elu is
    continuously differentiable when ``alpha == 1``.
    """
    return Elu.apply(x, alpha=float(alpha))


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit ``x * Phi(x)``.

    Args:
        x: input tensor.
        approximate: ``"none"`` for the exact form with erf, ``"tanh"`` for
            ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(x, approximate=approximate)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """Elementwise ``log(1 + exp(beta x)) / beta``, stable for large ``|x|``.

    Args:
        x: input tensor.
        beta: sharpness (> 0).
        threshold: where ``beta * x > threshold`` the result is `x` itself (PyTorch's rule).
    """
    if not beta > 0:
        raise ValueError(f"softplus: beta must be positive, got {beta!r}")
    return Softplus.apply(x, beta=float(beta), threshold=float(threshold))
