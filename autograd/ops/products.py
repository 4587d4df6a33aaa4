"""Products of vectors, matrices and tensors: dot, inner, outer, tensordot, kron (NumPy's
meanings) and mm, bmm, mv, addmm, baddbmm (PyTorch's, with their shape checks).

All are composed from matmul, transpose, reshape and broadcasting multiplication, the way NumPy
computes them itself (``tensordot`` is a transpose, a reshape and one GEMM), so each costs the
same array work as NumPy's function and gets exact first and second derivatives from those ops.
"""

from __future__ import annotations

import operator
from typing import Any

from ..tensor import Tensor, _lift
from .indexing import _axis
from .layout import broadcast_to, reshape, transpose
from .linalg import matmul

__all__ = [
    "dot", "vdot", "inner", "outer", "tensordot", "kron", "mm", "bmm", "mv", "addmm", "baddbmm",
]


def _both(a: Any, b: Any, op: str) -> tuple:
    if isinstance(a, Tensor):
        return a, _lift(b, a, scalar_ok=False)
    if isinstance(b, Tensor):
        return _lift(a, b, scalar_ok=False), b
    raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and "
                    f"{type(b).__name__}")


def _prod(shape: Any) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def _axes_list(axes: Any, ndim: int, op: str) -> list:
    if isinstance(axes, int) or hasattr(axes, "__index__"):
        axes = [axes]
    return [_axis(a, ndim, op) for a in axes]


def tensordot(a: Any, b: Any, axes: Any = 2) -> Tensor:
    """Sum of products over the given axes (NumPy's ``tensordot``).

    Args:
        axes: an int n (the last n axes of a with the first n of b) or a pair of axis
            sequences ``(axes_a, axes_b)`` contracted pairwise.

    Returns:
        The free axes of a followed by the free axes of b.
    """
    a, b = _both(a, b, "tensordot")
    if isinstance(axes, int) or hasattr(axes, "__index__"):
        n = operator.index(axes)
        if n < 0 or n > a.ndim or n > b.ndim:
            raise ValueError(f"tensordot: cannot contract {n} axes of tensors of shapes "
                             f"{a.shape} and {b.shape}")
        axes_a, axes_b = list(range(a.ndim - n, a.ndim)), list(range(n))
    else:
        first, second = axes
        axes_a = _axes_list(first, a.ndim, "tensordot")
        axes_b = _axes_list(second, b.ndim, "tensordot")
    if len(axes_a) != len(axes_b) or any(
            a.shape[i] != b.shape[j] for i, j in zip(axes_a, axes_b)):
        raise ValueError(
            f"tensordot: shape mismatch for the contracted axes {axes_a} of {a.shape} and "
            f"{axes_b} of {b.shape}"
        )
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [i for i in range(b.ndim) if i not in axes_b]
    k = _prod(a.shape[i] for i in axes_a)
    shape_a = tuple(a.shape[i] for i in free_a)
    shape_b = tuple(b.shape[i] for i in free_b)
    left = reshape(_permuted(a, free_a + axes_a), (_prod(shape_a), k))
    right = reshape(_permuted(b, axes_b + free_b), (k, _prod(shape_b)))
    return reshape(matmul(left, right), shape_a + shape_b)


def _permuted(x: Tensor, order: list) -> Tensor:
    return x if order == list(range(x.ndim)) else transpose(x, tuple(order))


def dot(a: Any, b: Any) -> Tensor:
    """NumPy's ``dot``: a product for 0-d operands, the inner product of vectors, the matrix
    product of matrices, and for N-d operands the sum over the last axis of `a` and the
    second-to-last of `b` (1-d `b`: its only axis)."""
    a, b = _both(a, b, "dot")
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim == 1 or (a.ndim <= 2 and b.ndim == 2):
        return matmul(a, b)
    if a.ndim == 1 and b.ndim > 2:
        return tensordot(a, b, axes=([0], [b.ndim - 2]))
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 2]))


def vdot(a: Any, b: Any) -> Tensor:
    """The dot product of the flattened operands (real tensors: NumPy's ``vdot``)."""
    a, b = _both(a, b, "vdot")
    if a.numel() != b.numel():
        raise ValueError(f"vdot: operands of shapes {a.shape} and {b.shape} have different sizes")
    return matmul(reshape(a, (-1,)), reshape(b, (-1,)))


def inner(a: Any, b: Any) -> Tensor:
    """The sum of products over the last axes (NumPy's and PyTorch's ``inner``); a product
    when either operand is 0-d."""
    a, b = _both(a, b, "inner")
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"inner: the last axes of shapes {a.shape} and {b.shape} differ")
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 1]))


def outer(a: Any, b: Any) -> Tensor:
    """``out[i, j] = a[i] * b[j]`` over the flattened operands (NumPy's ``outer``)."""
    a, b = _both(a, b, "outer")
    return reshape(a, (-1, 1)) * reshape(b, (1, -1))


def kron(a: Any, b: Any) -> Tensor:
    """The Kronecker product: blocks ``a[i, j] * b`` (NumPy's and PyTorch's ``kron``); the
    operand with fewer axes gets leading length-1 axes."""
    a, b = _both(a, b, "kron")
    ndim = max(a.ndim, b.ndim)
    sa = (1,) * (ndim - a.ndim) + a.shape
    sb = (1,) * (ndim - b.ndim) + b.shape
    # a as (a0, 1, a1, 1, ...) times b as (1, b0, 1, b1, ...): each block one product.
    left = reshape(a, tuple(n for s in sa for n in (s, 1)))
    right = reshape(b, tuple(n for s in sb for n in (1, s)))
    return reshape(left * right, tuple(p * q for p, q in zip(sa, sb)))


# -- PyTorch's matrix products with their shape checks --------------------------------------
def _require(op: str, t: Tensor, ndim: int, name: str) -> None:
    if t.ndim != ndim:
        raise ValueError(f"{op}: {name} must be {ndim}-d, got shape {t.shape}")


def mm(a: Any, b: Any) -> Tensor:
    """The matrix product of two 2-d tensors (PyTorch's ``mm``)."""
    a, b = _both(a, b, "mm")
    _require("mm", a, 2, "the first operand")
    _require("mm", b, 2, "the second operand")
    return matmul(a, b)


def bmm(a: Any, b: Any) -> Tensor:
    """Batched matrix product of (B, n, m) and (B, m, p) tensors (PyTorch's ``bmm``)."""
    a, b = _both(a, b, "bmm")
    _require("bmm", a, 3, "the first operand")
    _require("bmm", b, 3, "the second operand")
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"bmm: batch sizes differ: {a.shape} and {b.shape}")
    return matmul(a, b)


def mv(a: Any, v: Any) -> Tensor:
    """Matrix times vector: (n, m) @ (m,) -> (n,) (PyTorch's ``mv``)."""
    a, v = _both(a, v, "mv")
    _require("mv", a, 2, "the matrix")
    _require("mv", v, 1, "the vector")
    return matmul(a, v)


def _scaled_sum(x: Any, product: Tensor, beta: float, alpha: float) -> Tensor:
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        # PyTorch ignores x then (its NaN and inf do not propagate); only its shape counts.
        shape = _broadcast_shape(product.shape, getattr(x, "shape", ()))
        return product if shape == product.shape else broadcast_to(product, shape)
    return (x if beta == 1 else x * beta) + product


def _broadcast_shape(p: tuple, q: tuple) -> tuple:
    n = max(len(p), len(q))
    p = (1,) * (n - len(p)) + tuple(p)
    q = (1,) * (n - len(q)) + tuple(q)
    return tuple(max(i, j) if min(i, j) != 0 else 0 for i, j in zip(p, q))


def addmm(x: Any, mat1: Any, mat2: Any, beta: float = 1.0, alpha: float = 1.0) -> Tensor:
    """``beta * x + alpha * (mat1 @ mat2)`` for 2-d mat1, mat2 and `x` broadcastable to the
    product (PyTorch's ``addmm``; with ``beta=0`` x is ignored, NaN included)."""
    x = _lift(x, mat1 if isinstance(mat1, Tensor) else mat2)
    return _scaled_sum(x, mm(mat1, mat2), beta, alpha)


def baddbmm(x: Any, batch1: Any, batch2: Any, beta: float = 1.0, alpha: float = 1.0) -> Tensor:
    """``beta * x + alpha * bmm(batch1, batch2)`` (PyTorch's ``baddbmm``)."""
    x = _lift(x, batch1 if isinstance(batch1, Tensor) else batch2)
    return _scaled_sum(x, bmm(batch1, batch2), beta, alpha)
