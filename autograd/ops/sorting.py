"""Sorting and selection: sort, argsort, partition, topk, kthvalue, median/nanmedian (PyTorch's,
with indices), searchsorted; and `TakeAlong`/`PutAlong`, the gather/scatter pair they share.

Every selection computes integer indices first (argsort, argpartition) and then gathers the
values with `TakeAlong`, whose rule scatters gy back to exactly those indices. So gradients at
ties go to the element whose index is returned, PyTorch's convention: ``sort`` of ``[1, 1]``
sends gy[0] to x[0] and gy[1] to x[1]; ``topk``/``kthvalue``/``median`` send each gradient to
the index they return. Sorts keep ties in their order where asked (``stable=True``,
``kind='stable'``; NumPy's stable sort of floats is about 3x slower than its default, CuPy's is
always stable). NaN sorts as the largest value (NumPy and PyTorch).
"""

from __future__ import annotations

import operator
from typing import Any

import backends

from .. import return_types
from ..function import Function
from ..tensor import Tensor, _lift
from .indexing import _axis

__all__ = ["sort", "argsort", "partition", "argpartition", "topk", "searchsorted"]


def _raw(t: Any) -> Any:
    return t.array if isinstance(t, Tensor) else t


def _flat_index(xp: Any, index: Any, axis: int, shape: tuple) -> Any:
    """Positions in the flattened (C-order) array of `shape` of the elements picked by `index`
    along `axis` (every position of the other axes): one int64 array, so that the gather is one
    ``take`` and the scatter one assignment or ``bincount`` (several times faster than indexing
    with one broadcast array per axis)."""
    strides = [1] * len(shape)
    for i in range(len(shape) - 2, -1, -1):
        strides[i] = strides[i + 1] * shape[i + 1]
    flat = index.astype(xp.int64, copy=False) * strides[axis]
    for i, n in enumerate(index.shape):
        if i != axis and n > 1:
            flat = flat + (xp.arange(n, dtype=xp.int64) * strides[i]).reshape(
                (n,) + (1,) * (index.ndim - i - 1))
    return flat


class TakeAlong(Function):
    """y = x picked at `index` along `axis` (``take_along_axis``); the rule is `PutAlong`.

    `unique` says that no index repeats along the axis (sort, topk): the rule then writes
    instead of accumulating.
    """

    def forward(self, x, index):
        self.in_shape = x.shape
        self.save_for_backward(index)
        if x.size == 0 or index.size == 0:
            return self.xp.take_along_axis(x, index, self.axis)
        flat = _flat_index(self.xp, index, self.axis, x.shape)
        return self.xp.take(x.reshape(-1), flat)

    def backward(self, gy):
        (index,) = self.saved_tensors
        gx = PutAlong.apply(gy, _raw(index), axis=self.axis, shape=self.in_shape,
                            unique=self.unique)
        return gx, None


class PutAlong(Function):
    """y = zeros of `shape` with g added at `index` along `axis`; the rule is `TakeAlong`."""

    def forward(self, g, index):
        self.save_for_backward(index)
        xp = self.xp
        size = 1
        for n in self.shape:
            size *= n
        if g.size == 0:
            return xp.zeros(self.shape, dtype=g.dtype)
        flat = _flat_index(xp, index, self.axis, self.shape).reshape(-1)
        if self.unique:
            y = xp.zeros(size, dtype=g.dtype)
            y[flat] = g.reshape(-1)
        else:  # repeated indices accumulate (bincount sums in float64)
            y = xp.bincount(flat, weights=g.reshape(-1), minlength=size).astype(g.dtype)
        return y.reshape(self.shape)

    def backward(self, ggx):
        (index,) = self.saved_tensors
        return TakeAlong.apply(ggx, _raw(index), axis=self.axis, unique=self.unique), None


def take_along(x: Tensor, index: Any, axis: int, unique: bool) -> Tensor:
    """`x` picked at the backend integer array `index` along `axis` (differentiable)."""
    return TakeAlong.apply(x, index, axis=axis, unique=unique)


def _plain(like: Tensor, array: Any) -> Tensor:
    return Tensor._make(array, like._backend)


def _flat_axis(x: Tensor, axis: Any, op: str) -> tuple:
    """(x, axis) with ``axis=None`` meaning the flattened x, as NumPy's functions do."""
    if axis is None:
        return x.reshape((-1,)), 0
    if x.ndim == 0:
        x = x.reshape((1,))
    return x, _axis(axis, x.ndim, op)


# -- order ------------------------------------------------------------------------------------
def sort_order(xp: Any, x: Any, axis: int, descending: bool, stable: bool = False) -> Any:
    """argsort along `axis`. `stable` keeps tied elements in their original order (ascending
    and descending alike; NumPy's default quicksort does not, CuPy always does). NaN sorts as
    the largest value: last ascending, first descending."""
    kind = "stable" if stable else None
    if not descending:
        return xp.argsort(x, axis=axis, kind=kind)
    flipped = xp.argsort(xp.flip(x, axis), axis=axis, kind=kind)
    return (x.shape[axis] - 1) - xp.flip(flipped, axis)


def sort_with_indices(x: Tensor, axis: int, descending: bool = False,
                      stable: bool = False) -> tuple:
    """(values, int64 indices) of x sorted along `axis` (ties in order when `stable`)."""
    order = sort_order(x.xp, x.array, axis, descending, stable)
    return take_along(x, order, axis, unique=True), _plain(x, order.astype("int64", copy=False))


_STABLE_KINDS = ("stable", "mergesort")


def sort(x: Tensor, axis: Any = -1, kind: str | None = None) -> Tensor:
    """NumPy's ``sort``: a sorted copy along `axis` (the flattened x for None).

    The gradient of each output goes to the input it came from. ``kind='stable'`` (or
    ``'mergesort'``) keeps ties in order; other kinds pick NumPy's default algorithm.
    """
    x, axis = _flat_axis(x, axis, "sort")
    return sort_with_indices(x, axis, stable=kind in _STABLE_KINDS)[0]


def argsort(x: Tensor, axis: Any = -1, kind: str | None = None, descending: bool = False,
            stable: bool | None = None) -> Tensor:
    """NumPy's ``argsort`` (``axis=None`` flattens; ``kind='stable'`` keeps ties in order):
    int64 indices, no gradient."""
    x, axis = _flat_axis(x, axis, "argsort")
    stable = bool(stable) or kind in _STABLE_KINDS
    return _plain(x, sort_order(x.xp, x.array, axis, descending, stable)
                  .astype("int64", copy=False))


def argpartition(x: Tensor, kth: Any, axis: Any = -1) -> Tensor:
    """NumPy's ``argpartition``: indices that put the `kth` element in its sorted place."""
    x, axis = _flat_axis(x, axis, "argpartition")
    return _plain(x, x.xp.argpartition(x.array, kth, axis=axis).astype("int64", copy=False))


def partition(x: Tensor, kth: Any, axis: Any = -1) -> Tensor:
    """NumPy's ``partition``: the element at position `kth` is the one a sort would put there,
    smaller ones before it and larger ones after (in no given order); differentiable."""
    x, axis = _flat_axis(x, axis, "partition")
    order = x.xp.argpartition(x.array, kth, axis=axis)
    return take_along(x, order, axis, unique=True)


# -- selection with indices (PyTorch's) ---------------------------------------------------------
def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> tuple:  # noqa: A002
    """The `k` largest (or smallest) entries along `dim` and their indices (PyTorch's
    ``topk``, the signature ``ag.topk`` and ``Tensor.topk`` share).

    Returns:
        ``(values, indices)``; sorted (largest first for ``largest=True``) when `sorted`, and
        in that order anyway. Ties at the k-th place are broken by argpartition; among the
        chosen, equal values are ordered by index. Gradients go to the returned indices.
    """
    x1 = x.reshape((1,)) if x.ndim == 0 else x
    axis = _axis(dim, x1.ndim, "topk")
    n = x1.shape[axis]
    k = operator.index(k)
    if not 0 <= k <= n:
        raise ValueError(f"topk: k ({k}) is out of range for dimension {dim} of size {n} "
                         f"(shape {x.shape})")
    xp, data = x.xp, x1.array
    if 0 < k < n:
        # The k candidates (argpartition, linear time), then only those are sorted.
        kth = n - k if largest else k - 1
        part = xp.argpartition(data, kth, axis=axis)
        lead = (slice(None),) * axis
        chosen = part[lead + ((slice(n - k, None) if largest else slice(0, k)),)]
        chosen = xp.sort(chosen, axis=axis)  # by index first: ties come out in index order
        values = xp.take_along_axis(data, chosen, axis)
        inner = sort_order(xp, values, axis, descending=largest, stable=True)
        index = xp.take_along_axis(chosen, inner, axis)
    else:
        index = sort_order(xp, data, axis, descending=largest, stable=True)
        lead = (slice(None),) * axis
        index = index[lead + (slice(0, k),)]
    values = take_along(x1, index, axis, unique=True)
    index = index.astype("int64", copy=False)
    if x.ndim == 0 and k == 1:
        return return_types.topk(values.reshape(()), _plain(x, index.reshape(())))
    return return_types.topk(values, _plain(x, index))


def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> tuple:
    """The k-th smallest entry (1-based) along `dim` and its index (PyTorch's ``kthvalue``)."""
    x1 = x.reshape((1,)) if x.ndim == 0 else x
    axis = _axis(dim, x1.ndim, "kthvalue")
    n = x1.shape[axis]
    k = operator.index(k)
    if not 1 <= k <= n:
        raise ValueError(f"kthvalue: k ({k}) is out of range for dimension {dim} of size {n} "
                         f"(shape {x.shape})")
    xp = x.xp
    part = xp.argpartition(x1.array, k - 1, axis=axis)
    index = part[(slice(None),) * axis + (slice(k - 1, k),)]
    return return_types.kthvalue(*_finish_selection(x, x1, index, axis, keepdim))


def _finish_selection(x: Tensor, x1: Tensor, index: Any, axis: int, keepdim: bool) -> tuple:
    """(values, indices) for one index per slice (length 1 along `axis`), squeezed unless
    `keepdim`."""
    values = take_along(x1, index, axis, unique=True)
    index = index.astype("int64", copy=False)
    if x.ndim == 0:
        return values.reshape(()), _plain(x, index.reshape(()))
    if not keepdim:
        values = values.squeeze(axis)
        index = index.squeeze(axis)
    return values, _plain(x, index)


def median_with_index(x: Tensor, dim: Any = None, keepdim: bool = False,
                      ignore_nan: bool = False) -> Any:
    """PyTorch's ``median``/``nanmedian``: the lower median (the ``(n - 1) // 2``-th smallest).

    With ``dim=None``: the median of all elements (a 0-d tensor, no index). Otherwise
    ``(values, indices)``. A slice with a NaN has median NaN (its index is the first NaN's)
    unless `ignore_nan`, which takes the lower median of the other values (NaN if none).
    """
    xp = x.xp
    if dim is None:
        flat = x.reshape((-1,))
        if flat.shape[0] == 0:
            return flat.sum() + float("nan")
        return median_with_index(flat, 0, False, ignore_nan)[0]
    x1 = x.reshape((1,)) if x.ndim == 0 else x
    axis = _axis(dim, x1.ndim, "median")
    n = x1.shape[axis]
    if n == 0:
        raise ValueError(f"median: cannot reduce dimension {dim} of size 0 (shape {x.shape})")
    data = x1.array
    floating = data.dtype.kind in "fc"
    if ignore_nan and floating:
        # The rank depends on each slice's count of numbers: one sort (NaN last), then a pick.
        order = sort_order(xp, data, axis, descending=False)
        count = n - xp.isnan(data).sum(axis=axis, keepdims=True)
        index = xp.take_along_axis(order, xp.maximum(count - 1, 0) // 2, axis)
    else:
        # A fixed rank: argpartition (linear time) instead of a sort.
        rank = (n - 1) // 2
        part = xp.argpartition(data, rank, axis=axis)
        index = part[(slice(None),) * axis + (slice(rank, rank + 1),)]
        if floating:  # a slice with NaN: its median is NaN, the first NaN's index
            nan = xp.isnan(data)
            first = xp.argmax(nan, axis=axis, keepdims=True)
            index = xp.where(nan.any(axis=axis, keepdims=True), first, index)
    return _finish_selection(x, x1, index, axis, keepdim)


# -- searchsorted -----------------------------------------------------------------------------
def searchsorted(a: Any, v: Any, side: str = "left", sorter: Any = None,
                 right: bool | None = None) -> Tensor:
    """Insertion points of `v` into the sorted `a` (NumPy's ``searchsorted``), int64.

    `a` may be N-d, as in PyTorch: each row of its last axis is searched for the matching row
    of `v`. ``side='right'`` (or PyTorch's ``right=True``) counts equal entries as before the
    insertion point; `sorter` gives the indices that sort a 1-d `a`.
    """
    like = a if isinstance(a, Tensor) else v
    if not isinstance(like, Tensor):
        raise TypeError("searchsorted: expected a Tensor for a or v")
    a, v = _lift(a, like, scalar_ok=False), _lift(v, like, scalar_ok=False)
    if right is not None:
        side = "right" if right else "left"
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    xp = like.xp
    seq, values = a.array, v.array
    if sorter is not None:
        seq = xp.take_along_axis(seq, _lift(sorter, like, scalar_ok=False).array, -1)
    if seq.ndim <= 1:
        out = xp.searchsorted(seq.reshape(-1), values, side=side)
    else:
        if seq.shape[:-1] != values.shape[:-1]:
            raise ValueError(f"searchsorted: the leading axes of a {a.shape} and v {v.shape} "
                             "must match")
        out = _searchsorted_rows(xp, seq, values, side == "right")
    return _plain(like, xp.asarray(out).astype(backends.dtype_of("int64"), copy=False))


def _searchsorted_rows(xp: Any, seq: Any, values: Any, right: bool) -> Any:
    """Row-wise searchsorted by one stable sort of each row of [values, seq] (or [seq,
    values] for `right`): an entry of v lands after exactly the entries of a that precede it."""
    n, m = seq.shape[-1], values.shape[-1]
    dtype = xp.result_type(seq.dtype, values.dtype)
    parts = (seq, values) if right else (values, seq)
    merged = xp.concatenate([p.astype(dtype, copy=False) for p in parts], axis=-1)
    from_seq = xp.zeros(n + m, dtype=xp.int64)
    if right:
        from_seq[:n] = 1
    else:
        from_seq[m:] = 1
    order = xp.argsort(merged, axis=-1, kind="stable")
    seq_before = xp.cumsum(from_seq[order], axis=-1)  # a's entries at or before each place
    where_is = xp.argsort(order, axis=-1, kind="stable")  # where each merged entry landed
    value_slots = where_is[..., n:] if right else where_is[..., :m]
    return xp.take_along_axis(seq_before, value_slots, -1)
