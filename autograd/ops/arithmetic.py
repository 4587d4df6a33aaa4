"""Binary elementwise ops with broadcasting: + - * / **, maximum, minimum, where.

Rules return gradients in the broadcast shape; the engine sums them back to each input's shape.
"""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..tensor import Tensor, _lift


class Add(Function):
    """y = a + b."""

    raw_backward = True

    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        return gy, gy


class Sub(Function):
    """y = a - b."""

    raw_backward = True

    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        return gy, (-gy if self.needs_input_grad[1] else None)


class Mul(Function):
    """y = a * b."""

    raw_backward = True

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a * b

    def backward(self, gy):
        a, b = self.saved_tensors
        need_a, need_b = self.needs_input_grad
        return (gy * b if need_a else None), (gy * a if need_b else None)


class Div(Function):
    """y = a / b."""

    raw_backward = True

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a / b

    def backward(self, gy):
        a, b = self.saved_tensors
        ga = gy / b if self.needs_input_grad[0] else None
        gb = -gy * a / (b * b) if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    """y = -x."""

    raw_backward = True

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class Pow(Function):
    """y = a ** b, for a tensor base and a tensor exponent.

    d/da = b * a**(b-1), 0 where b == 0; d/db = y * log(a), as PyTorch defines it at a <= 0:
    0 where a == 0 and b >= 0 (the limit), -inf where a == 0 and b < 0, NaN where a < 0.
    """

    def forward(self, a, b):
        y = a**b
        self.save_for_backward(a, b, y)
        return y

    def backward(self, gy):
        a, b, y = self.saved_tensors
        ga = None
        if self.needs_input_grad[0]:
            # b == 0: y is the constant 1, so 0 (b * a**(b-1) would be 0 * inf at a == 0).
            ga = where(b == 0, 0.0, gy * b * a ** (b - 1))
        gb = None
        if self.needs_input_grad[1]:
            positive = a > 0
            safe_a = where(positive, a, 1.0)
            at_zero = where(b >= 0, 0.0, float("-inf"))
            gb = gy * where(positive, y * safe_a.log(), where(a < 0, float("nan"), at_zero))
        return ga, gb


class PowScalar(Function):
    """y = x ** p for a constant Python exponent p."""

    raw_backward = True

    def forward(self, x):
        self.save_for_backward(x)
        return x**self.p

    def backward(self, gy):
        (x,) = self.saved_tensors
        p = self.p
        if p == 0:
            return gy * 0.0
        if p == 1:
            return gy
        if p == 2:
            return gy * 2.0 * x
        return gy * p * x ** (p - 1)


class RPowScalar(Function):
    """y = c ** x for a constant Python base c > 0."""

    raw_backward = True

    def forward(self, x):
        y = self.c**x
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy * y * _log_constant(self.c)


def _log_constant(c: float) -> float:
    import math

    return math.log(c) if c > 0 else float("nan")


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001 - NumPy's name
    """Elementwise ``a ** b`` (either may be a Python scalar)."""
    if isinstance(b, (int, float)) and not isinstance(b, bool) and isinstance(a, Tensor):
        return PowScalar.apply(a, p=b)
    if isinstance(a, (int, float)) and isinstance(b, Tensor):
        if a > 0:
            return RPowScalar.apply(b, c=a)
        # a <= 0: the general rule's limits at 0 and NaN below; a as the 0-d array NumPy's
        # weak-scalar rule would make it (0 ** float32 stays float32).
        a = Tensor._make(b.xp.asarray(a, dtype=b.xp.result_type(a, b.array)), b.backend)
    return Pow.apply(a, b)


class Maximum(Function):
    """y = max(a, b) elementwise; at ties the gradient is split evenly."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return self.xp.maximum(a, b)

    def backward(self, gy):
        a, b = self.saved_tensors
        return _select_grads(self, gy, a, b, a > b)


class Minimum(Function):
    """y = min(a, b) elementwise; at ties the gradient is split evenly."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return self.xp.minimum(a, b)

    def backward(self, gy):
        a, b = self.saved_tensors
        return _select_grads(self, gy, a, b, a < b)


def _select_grads(fn: Function, gy: Tensor, a: Any, b: Any, a_wins: Tensor) -> tuple:
    # weight of a: 1 where it wins, 1/2 at a tie, 0 where it loses; b gets the rest.
    tie = (a == b).astype(gy.dtype) if isinstance(a, Tensor) else (a == b)
    wa = a_wins.astype(gy.dtype) + tie * 0.5
    ga = gy * wa if fn.needs_input_grad[0] else None
    gb = gy * (1.0 - wa) if fn.needs_input_grad[1] else None
    return ga, gb


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum with broadcasting (gradient split evenly at ties)."""
    a, b = _pair(a, b)
    return Maximum.apply(a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum with broadcasting (gradient split evenly at ties)."""
    a, b = _pair(a, b)
    return Minimum.apply(a, b)


class Where(Function):
    """y = a where condition else b; the condition gets no gradient."""

    def forward(self, condition, a, b):
        self.save_for_backward(condition)
        return self.xp.where(condition, a, b)

    def backward(self, gy):
        (condition,) = self.saved_tensors
        zero = gy * 0.0
        ga = where(condition, gy, zero) if self.needs_input_grad[1] else None
        gb = where(condition, zero, gy) if self.needs_input_grad[2] else None
        return None, ga, gb


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Picks `a` where `condition` holds, else `b` (NumPy's ``where`` with broadcasting)."""
    like = next((t for t in (condition, a, b) if isinstance(t, Tensor)), None)
    if like is None:
        raise TypeError("where: at least one argument must be a Tensor")
    condition = _lift(condition, like, scalar_ok=False)
    a = _lift(a, like)
    b = _lift(b, like)
    return Where.apply(condition, a, b)


def add(a: Any, b: Any) -> Tensor:
    """Elementwise ``a + b``."""
    a, b = _pair(a, b)
    return Add.apply(a, b)


def sub(a: Any, b: Any) -> Tensor:
    """Elementwise ``a - b``."""
    a, b = _pair(a, b)
    return Sub.apply(a, b)


def mul(a: Any, b: Any) -> Tensor:
    """Elementwise ``a * b``."""
    a, b = _pair(a, b)
    return Mul.apply(a, b)


def div(a: Any, b: Any) -> Tensor:
    """Elementwise ``a / b``."""
    a, b = _pair(a, b)
    return Div.apply(a, b)


def neg(x: Tensor) -> Tensor:
    """Elementwise ``-x``."""
    return Neg.apply(x)


subtract, multiply, divide, true_divide, negative, power = sub, mul, div, div, neg, pow


def _pair(a: Any, b: Any) -> tuple:
    if isinstance(a, Tensor):
        return a, _lift(b, a)
    if isinstance(b, Tensor):
        return _lift(a, b), b
    raise TypeError(f"expected at least one Tensor, got {type(a).__name__} and {type(b).__name__}")
