"""Inverse-type linear algebra, batched over leading axes: inv, solve, det, log|det|, pinv.

Every rule is written with kedja's ops (matmul, solve, inv, transpose), so second derivatives
come for free. Rules (for real matrices, A (..., n, n) unless said otherwise):

* inv: y = A^-1, gA = -y^T gy y^T.
* solve: x = A^-1 B, gB = A^-T gx, gA = -gB x^T.
* det: y = det A, gA = gy y A^-T (infinite at a singular A, as the function's slope is).
* log|det|: gA = gy A^-T (slogdet's sign is piecewise constant: no gradient).
* pinv (A (..., m, n), X = A^+): gA = -X^T gX X^T + (I - A X) gX^T X X^T + X^T X gX^T (I - X A),
  the derivative of the pseudo-inverse where A's rank does not change (Golub and Pereyra).
"""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..tensor import Tensor
from .arithmetic import Mul, Sub
from .layout import Reshape, Transpose
from .linalg import MatMul


def mT(x: Tensor) -> Tensor:  # noqa: N802 - NumPy's name for the matrix transpose
    """x with its last two axes swapped."""
    axes = list(range(x.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return Transpose.apply(x, axes=tuple(axes))


def mm(a: Tensor, b: Tensor) -> Tensor:
    """a @ b."""
    return MatMul.apply(a, b)


def constant(like: Tensor, array: Any) -> Tensor:
    """A constant Tensor on like's backend."""
    return Tensor._make(array, like.backend)


def eye(like: Tensor, n: int) -> Tensor:
    """The n x n identity in like's dtype, as a constant."""
    return constant(like, like.xp.eye(n, dtype=like.array.dtype))


def scalar_to_matrix(t: Tensor) -> Tensor:
    """A (...) tensor reshaped to (..., 1, 1), to scale a batch of matrices."""
    return Reshape.apply(t, shape=tuple(t.shape) + (1, 1))


def _check_square(name: str, a: Any) -> None:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(
            f"{name}: expected a square matrix or a stack of them (..., n, n), got shape "
            f"{tuple(a.shape)}"
        )


class Inv(Function):
    """y = A^-1 for each matrix of a batch."""

    def forward(self, a):
        _check_square("inv", a)
        y = self.xp.linalg.inv(a)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        y_t = mT(y)
        return -mm(mm(y_t, gy), y_t)


class Solve(Function):
    """x = A^-1 B for B of shape (..., n, k) (batch axes broadcast)."""

    def forward(self, a, b):
        _check_square("solve", a)
        xp = self.xp
        batch = _broadcast_shapes(a.shape[:-2], b.shape[:-2])
        # Explicit batch axes: NumPy 2 and CuPy read b's trailing axes alike only when b has
        # as many axes as a.
        a_b = xp.broadcast_to(a, tuple(batch) + a.shape[-2:])
        b_b = xp.broadcast_to(b, tuple(batch) + b.shape[-2:])
        x = xp.linalg.solve(a_b, b_b)
        self.save_for_backward(a, x)
        return x

    def backward(self, gx):
        a, x = self.saved_tensors
        gb = Solve.apply(mT(a), gx)
        ga = -mm(gb, mT(x)) if self.needs_input_grad[0] else None
        return ga, (gb if self.needs_input_grad[1] else None)


def _broadcast_shapes(*shapes: tuple) -> tuple:
    ndim = max(len(s) for s in shapes)
    out = []
    for axis in range(ndim):
        sizes = {s[axis - ndim + len(s)] for s in shapes if axis - ndim + len(s) >= 0}
        sizes.discard(1)
        if len(sizes) > 1:
            raise ValueError(f"solve: batch shapes {shapes} do not broadcast")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


class Det(Function):
    """y = det(A) for each matrix of a batch."""

    def forward(self, a):
        _check_square("det", a)
        y = self.xp.linalg.det(a)
        self.save_for_backward(a, y)
        return y

    def backward(self, gy):
        a, y = self.saved_tensors
        return Mul.apply(scalar_to_matrix(gy * y), mT(Inv.apply(a)))


class LogAbsDet(Function):
    """y = log|det(A)| for each matrix of a batch (slogdet's second output)."""

    def forward(self, a):
        _check_square("slogdet", a)
        _sign, y = self.xp.linalg.slogdet(a)
        self.save_for_backward(a)
        return y

    def backward(self, gy):
        (a,) = self.saved_tensors
        return Mul.apply(scalar_to_matrix(gy), mT(Inv.apply(a)))


class Pinv(Function):
    """X = A^+ (the Moore-Penrose pseudo-inverse) for A of shape (..., m, n)."""

    def forward(self, a):
        if a.ndim < 2:
            raise ValueError(f"pinv: expected a matrix or a stack of them, got shape {a.shape}")
        x = self.xp.linalg.pinv(a, **self.options)
        self.save_for_backward(a, x)
        return x

    def backward(self, gx):
        a, x = self.saved_tensors
        m, n = a.shape[-2], a.shape[-1]
        x_t, gx_t = mT(x), mT(gx)
        first = -mm(mm(x_t, gx), x_t)
        left = Sub.apply(eye(a, m), mm(a, x))  # I - A X: projects onto A's left null space
        right = Sub.apply(eye(a, n), mm(x, a))  # I - X A
        second = mm(mm(left, gx_t), mm(x, x_t))
        third = mm(mm(x_t, x), mm(gx_t, right))
        return first + second + third
