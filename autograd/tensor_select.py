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
_lift: Any = None
_indexing_torch: Any = None


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

    # -- writes at advanced indices, masks and flat positions -----------------------------------
    def index_put(self, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
        """A copy with `values` written at ``self[indices]`` (a tuple of index tensors, as
        ``x[i, j] = v``); with `accumulate`, added instead, repeated positions adding up."""
        indices = tuple(indices) if isinstance(indices, (tuple, list)) else (indices,)
        values = _lift(values, self)
        if not accumulate:
            return _indexing_torch.setitem(self, indices, values)
        return _index_put_accumulate(self, indices, values)

    def put(self, index: Any, source: Any, accumulate: bool = False) -> Tensor:
        """A copy with `source`'s entries written at the flat positions `index` (this tensor
        taken as 1-d, row-major); with `accumulate`, added instead."""
        index = _lift(index, self)
        source = _lift(source, self)
        if not isinstance(source, Tensor) or source.numel() != index.numel():
            raise RuntimeError(f"put: source must have as many entries as index ({index.numel()}), "
                               f"got {getattr(source, 'shape', source)}")
        flat = self.reshape(-1)
        return flat.index_put((index.reshape(-1),), source.reshape(-1),
                              accumulate).reshape(self.shape)

    def masked_scatter(self, mask: Any, source: Any) -> Tensor:
        """A copy with `source`'s leading entries (in row-major order) written where the bool
        `mask` (broadcast to this shape) is true. The count of true entries is read on the
        host, as the result of ``x[mask]`` needs it."""
        mask = _lift(mask, self)
        if not isinstance(mask, Tensor) or mask.array.dtype.kind != "b":
            raise TypeError(f"masked_scatter: mask must be a bool tensor, got "
                            f"{getattr(mask, 'dtype', type(mask).__name__)}")
        mask = Tensor._make(self.xp.broadcast_to(mask.array, self.array.shape), self._backend)
        count = int(mask.array.sum())
        source = _lift(source, self)
        if source.numel() < count:
            raise RuntimeError(f"masked_scatter: the mask selects {count} entries but source "
                               f"(shape {source.shape}) has only {source.numel()}")
        return _indexing_torch.setitem(self, mask, source.reshape(-1)[:count])

    def fill_diagonal_(self, fill_value: Any, wrap: bool = False) -> Tensor:
        """Fills the main diagonal in place (every dim of equal size for more than 2 dims); a
        tall matrix's diagonal restarts below each square block when `wrap` is true, as NumPy's
        ``fill_diagonal`` and PyTorch's."""
        shape = self.array.shape
        if len(shape) < 2 or (len(shape) > 2 and len(set(shape)) != 1):
            raise RuntimeError(f"fill_diagonal_: needs at least 2 dims, all of one size beyond "
                               f"2, got shape {tuple(shape)}")
        size = self.array.size
        if len(shape) == 2:
            # Row-major, the diagonal steps cols + 1; without wrap it stops at the square block.
            step, limit = shape[1] + 1, (size if wrap else min(size, shape[1] * shape[1]))
        else:
            n = shape[0]
            step, limit = sum(n**i for i in range(len(shape))), size
        flat = self.xp.arange(size)
        mask = ((flat % step) == 0) & (flat < limit)
        return self.masked_fill_(Tensor._make(mask.reshape(shape), self._backend), fill_value)


def _index_put_accumulate(self: Any, indices: tuple, values: Any) -> Tensor:
    """``index_put(..., accumulate=True)``: the index tuple made one flat index into self's
    leading dims, then one differentiable ``index_add`` along them (repeats add up)."""
    xp = self.xp
    parts = []
    for index in indices:
        array = index.array if isinstance(index, Tensor) else xp.asarray(index)
        if array.dtype.kind == "b":  # a mask covers as many dims as it has
            parts.extend(xp.nonzero(array))
        else:
            parts.append(array)
    shape = self.array.shape
    k = len(parts)
    if k > len(shape):
        raise IndexError(f"index_put: {k} index tensors for a tensor of shape {tuple(shape)}")
    parts = xp.broadcast_arrays(*parts)
    flat = xp.zeros(parts[0].shape, dtype="int64")
    for part, n in zip(parts, shape[:k]):
        flat = flat * n + xp.where(part < 0, part + n, part).astype("int64")
    lead = 1
    for n in shape[:k]:
        lead *= n
    rest = tuple(shape[k:])
    values = values if isinstance(values, Tensor) else Tensor._make(
        xp.asarray(values, dtype=self.array.dtype), self._backend)
    if values.array.dtype != self.array.dtype:
        values = values.astype(self.array.dtype)
    values = values.expand(*(flat.shape + rest)).reshape((-1,) + rest)
    rows = Tensor._make(flat.reshape(-1), self._backend)
    return self.reshape((lead,) + rest).index_add(0, rows, values).reshape(shape)
