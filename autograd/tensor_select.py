"""`SelectMixin`: Tensor's selection and scatter methods in PyTorch's dialect (``x.gather(1, i)``,
``x.scatter_add(0, i, src)``, ``x.masked_fill(m, 0)``, ``x.nonzero()``, ...); a base class of
`Tensor`. Their ``_`` forms (``scatter_``, ``index_add_``, ...) come from tensor_inplace.py.
"""

from __future__ import annotations

import numbers
from typing import Any

# Bound by tensor.py once Tensor and the ops are loaded (they import this file's importer).
Tensor: Any = None
_arith: Any = None
_scatter: Any = None
_scatter_reduce: Any = None


class SelectMixin:
    """`Tensor`'s gather/scatter, index_* and masked_* methods, `nonzero` and `where`."""

    __slots__ = ()

    def gather(self, dim: int, index: Any) -> Tensor:
        """``out[i][j] = self[i][index[i][j]]`` for dim 1; out has index's shape."""
        return _scatter.gather(self, dim, index)

    def take_along_dim(self, indices: Any, dim: int | None = None) -> Tensor:
        """Entries picked at `indices` along `dim` (broadcast elsewhere; flattened if None)."""
        return _scatter.take_along_dim(self, indices, dim)

    def scatter(self, dim: int, index: Any, src: Any = None, *, value: Any = None,
                reduce: str | None = None) -> Tensor:
        """A copy with ``src[i][j]`` (or a number `value`) written at ``[i][index[i][j]]``
        for dim 1; with repeated indices the last write (in index's order) wins."""
        if isinstance(src, numbers.Number):
            src, value = None, src
        return _scatter.scatter(self, dim, index, src, value, reduce)

    def scatter_add(self, dim: int, index: Any, src: Any) -> Tensor:
        """A copy with ``src[i][j]`` added at ``[i][index[i][j]]`` (dim 1), repeats adding up."""
        return _scatter.scatter_add(self, dim, index, src)

    def scatter_reduce(self, dim: int, index: Any, src: Any, reduce: str, *,
                       include_self: bool = True) -> Tensor:
        """A copy with `src` combined at `index` by "sum", "prod", "mean", "amax" or "amin"."""
        return _scatter_reduce.scatter_reduce(self, dim, index, src, reduce, include_self)

    def index_select(self, dim: int, index: Any) -> Tensor:
        """The entries at the 1-d `index` along `dim`."""
        return _scatter.index_select(self, dim, index)

    def index_add(self, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Tensor:
        """A copy with ``alpha * source`` added at `index` along `dim` (repeats add up)."""
        return _scatter.index_add(self, dim, index, source, alpha)

    def index_fill(self, dim: int, index: Any, value: Any) -> Tensor:
        """A copy with `value` at every entry `index` picks along `dim`."""
        return _scatter.index_fill(self, dim, index, value)

    def index_copy(self, dim: int, index: Any, source: Any) -> Tensor:
        """A copy with source's slices written at `index` along `dim`."""
        return _scatter.index_copy(self, dim, index, source)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """A copy with `value` where the bool `mask` (broadcast to this shape) is true."""
        return _scatter.masked_fill(self, mask, value)

    def masked_select(self, mask: Any) -> Tensor:
        """The entries where `mask` is true, as a 1-d tensor."""
        return _scatter.masked_select(self, mask)

    def where(self, condition: Any, other: Any) -> Tensor:
        """Self where `condition` holds, else `other` (``torch.where(condition, self, other)``)."""
        return _arith.where(condition, self, other)

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        """The indices of the nonzero entries: an (n, ndim) int64 tensor, or with `as_tuple`
        one 1-d tensor per dim (PyTorch's forms; ``ag.nonzero`` is NumPy's tuple)."""
        array = self.array if self.array.ndim else self.array.reshape(1)
        found = self.xp.nonzero(array)
        backend = self._backend
        if as_tuple:
            return tuple(Tensor._make(i.astype("int64"), backend) for i in found)
        if not self.array.ndim:
            return Tensor._make(self.xp.zeros((found[0].shape[0], 0), dtype="int64"), backend)
        return Tensor._make(self.xp.stack(found, axis=1).astype("int64"), backend)

    def argwhere(self) -> Tensor:
        """``nonzero()``: the indices of the nonzero entries as an (n, ndim) tensor."""
        return self.nonzero()
