"""Matrix structure: tril, triu, diagonal, diag_embed, diag, trace, roll.

tril/triu keep a triangle of the last two axes (their rule keeps the same triangle of gy).
`Diagonal` and `DiagEmbed` are each other's adjoint: the gradient of taking a diagonal puts gy
on that diagonal of zeros, and back. diag and trace are composed from them, roll's rule rolls
back.
"""

from __future__ import annotations

import operator
from typing import Any

from ..function import Function
from ..tensor import Tensor
from .indexing import _axis

__all__ = ["tril", "triu", "diagonal", "diag_embed", "diag", "diagflat", "trace", "roll"]


class Triangle(Function):
    """y = the lower (``upper=False``) or upper triangle of the last two axes, from diagonal
    `k` on, zeros elsewhere; the rule keeps the same triangle of gy."""

    raw_backward = True

    def forward(self, x):
        xp = self.xp
        n, m = x.shape[-2:]
        if self.upper:
            mask = ~xp.tri(n, m, self.k - 1, dtype=bool)
        else:
            mask = xp.tri(n, m, self.k, dtype=bool)
        return xp.where(mask, x, xp.zeros((), dtype=x.dtype))

    def backward(self, gy):
        return Triangle.apply(gy, k=self.k, upper=self.upper)


def _triangle(x: Tensor, k: int, upper: bool, op: str) -> Tensor:
    if x.ndim < 2:
        raise ValueError(f"{op}: expected a tensor with at least 2 dimensions, got shape "
                         f"{x.shape}")
    return Triangle.apply(x, k=operator.index(k), upper=upper)


def tril(x: Tensor, k: int = 0) -> Tensor:
    """The lower triangle of the last two axes (entries with ``col - row <= k``), zeros above."""
    return _triangle(x, k, False, "tril")


def triu(x: Tensor, k: int = 0) -> Tensor:
    """The upper triangle of the last two axes (entries with ``col - row >= k``), zeros below."""
    return _triangle(x, k, True, "triu")


def _diagonal_index(xp: Any, offset: int, n1: int, n2: int) -> tuple:
    """Row and column indices of diagonal `offset` of an (n1, n2) matrix."""
    length = max(0, min(n1 + min(offset, 0), n2 - max(offset, 0)))
    steps = xp.arange(length)
    return steps + max(-offset, 0), steps + max(offset, 0), length


class Diagonal(Function):
    """y = diagonal `offset` of axes (axis1, axis2), as the last axis (a copy); the rule is
    `DiagEmbed` of gy into x's shape."""

    def forward(self, x):
        self.in_shape = x.shape
        return self.xp.diagonal(x, self.offset, self.axis1, self.axis2).copy()

    def backward(self, gy):
        return DiagEmbed.apply(gy, offset=self.offset, dim1=self.axis1, dim2=self.axis2,
                               sizes=(self.in_shape[self.axis1], self.in_shape[self.axis2]))


class DiagEmbed(Function):
    """y = zeros with the last axis of x on diagonal `offset` of the new axes (dim1, dim2) of
    lengths `sizes`; the rule takes that diagonal of gy."""

    def forward(self, x):
        xp = self.xp
        n1, n2 = self.sizes
        rows, cols, length = _diagonal_index(xp, self.offset, n1, n2)
        if x.shape[-1] != length:
            raise ValueError(f"diag_embed: the last axis has length {x.shape[-1]}, but diagonal "
                             f"{self.offset} of a {n1}x{n2} matrix has {length} entries")
        batch = x.shape[:-1]
        y = xp.zeros(batch + (n1, n2), dtype=x.dtype)
        y[..., rows, cols] = x
        # The new axes sit at the end (rows, columns); move them to dim1 and dim2.
        if (self.dim1, self.dim2) != (len(batch), len(batch) + 1):
            y = xp.moveaxis(y, (-2, -1), (self.dim1, self.dim2))
        return y

    def backward(self, gy):
        return Diagonal.apply(gy, offset=self.offset, axis1=self.dim1, axis2=self.dim2)


def diagonal(x: Tensor, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """Diagonal `offset` of the matrices in axes (axis1, axis2), appended as the last axis
    (NumPy's ``diagonal``; a copy)."""
    if x.ndim < 2:
        raise ValueError(f"diagonal: expected at least 2 dimensions, got shape {x.shape}")
    a1, a2 = _axis(axis1, x.ndim, "diagonal"), _axis(axis2, x.ndim, "diagonal")
    if a1 == a2:
        raise ValueError(f"diagonal: axis1 and axis2 are the same axis ({a1})")
    return Diagonal.apply(x, offset=operator.index(offset), axis1=a1, axis2=a2)


def diag_embed(x: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices whose diagonal `offset` (in the new axes dim1, dim2) holds x's last axis
    (PyTorch's ``diag_embed``); zeros elsewhere."""
    offset = operator.index(offset)
    ndim = x.ndim + 1
    d1, d2 = _axis(dim1, ndim, "diag_embed"), _axis(dim2, ndim, "diag_embed")
    if d1 == d2:
        raise ValueError(f"diag_embed: dim1 and dim2 are the same axis ({d1})")
    if x.ndim == 0:
        raise ValueError("diag_embed: expected at least 1 dimension, got a 0-d tensor")
    n = x.shape[-1] + abs(offset)
    return DiagEmbed.apply(x, offset=offset, dim1=d1, dim2=d2, sizes=(n, n))


def diag(x: Tensor, k: int = 0) -> Tensor:
    """NumPy's and PyTorch's ``diag``: a 1-d x becomes a square matrix with x on diagonal `k`;
    a 2-d x gives its diagonal `k` (1-d)."""
    if x.ndim == 1:
        return diag_embed(x, k, 0, 1)
    if x.ndim == 2:
        return diagonal(x, k, 0, 1)
    raise ValueError(f"diag: expected a 1-d or 2-d tensor, got shape {x.shape}")


def diagflat(x: Tensor, k: int = 0) -> Tensor:
    """A square matrix with the flattened x on diagonal `k` (NumPy's ``diagflat``)."""
    return diag_embed(x.reshape((-1,)), k, 0, 1)


def trace(x: Tensor, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The sum along diagonal `offset` of axes (axis1, axis2) (NumPy's ``trace``)."""
    return diagonal(x, offset, axis1, axis2).sum(axis=-1)


class Roll(Function):
    """y = x rolled by `shift` along `axis` (tuples, as ``xp.roll``); the rule rolls back."""

    raw_backward = True

    def forward(self, x):
        return self.xp.roll(x, self.shift, self.axis)

    def backward(self, gy):
        back = tuple(-s for s in self.shift) if self.axis is not None else -self.shift
        return Roll.apply(gy, shift=back, axis=self.axis)


def roll(x: Tensor, shift: Any, axis: Any = None) -> Tensor:
    """Elements shifted cyclically by `shift` along `axis` (NumPy's ``roll``; PyTorch's ``roll``
    with ``shifts``/``dims``): with ``axis=None`` the flattened tensor rolls and keeps its
    shape."""
    if axis is None:
        if not isinstance(shift, int) and not hasattr(shift, "__index__"):
            shift = sum(operator.index(s) for s in shift)
        return Roll.apply(x, shift=operator.index(shift), axis=None)
    axes = (axis,) if isinstance(axis, int) or hasattr(axis, "__index__") else tuple(axis)
    shifts = (shift,) if isinstance(shift, int) or hasattr(shift, "__index__") else tuple(shift)
    if len(shifts) == 1 and len(axes) > 1:
        shifts = shifts * len(axes)
    if len(shifts) != len(axes):
        raise ValueError(f"roll: {len(shifts)} shifts for {len(axes)} axes")
    axes = tuple(_axis(a, x.ndim, "roll") for a in axes)
    return Roll.apply(x, shift=tuple(operator.index(s) for s in shifts), axis=axes)
