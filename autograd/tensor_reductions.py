"""`ReductionExtrasMixin`: Tensor's less common reductions as PyTorch spells them: ``nansum``,
``nanmean``, ``count_nonzero``, ``aminmax`` and ``unique``.

The differentiable ones are built from the NaN-aware statistics ops (autograd/ops/statistics.py)
and the min/max reductions, so they need no rule of their own; ``count_nonzero`` and ``unique``
give integer or data-dependent results and are not recorded, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

from .dialect import pick_dim, pick_keepdim, reduce_dims

# Bound by tensor.py once Tensor and the ops are loaded (they import this file's importer).
Tensor: Any = None
_reduction: Any = None
_statistics: Any = None
_unary: Any = None
_return_types: Any = None


class ReductionExtrasMixin:
    """`Tensor`'s NaN-aware reductions, ``count_nonzero``, ``aminmax`` and ``unique``."""

    __slots__ = ()

    def nansum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
               axis: Any = None, keepdims: bool | None = None) -> Any:
        """Sum over `dim` treating NaN as zero (a NaN's gradient is 0)."""
        x = self if dtype is None else _unary.astype(self, dtype)
        return _statistics.nansum(x, axis=_dims(self, "nansum", dim, axis),
                                  keepdims=pick_keepdim("nansum", keepdim, keepdims))

    def nanmean(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
                axis: Any = None, keepdims: bool | None = None) -> Any:
        """Mean over `dim` of the entries that are not NaN (NaN for a slice with none);
        floating input only, as PyTorch's."""
        x = self if dtype is None else _unary.astype(self, dtype)
        kind = x.array.dtype
        if kind.kind not in "fc" and kind.name != "bfloat16":
            raise RuntimeError(f"nanmean(): expected a floating point or complex tensor, got "
                               f"dtype {kind}; pass dtype=ag.float32 or cast first")
        return _statistics.nanmean(x, axis=_dims(self, "nanmean", dim, axis),
                                   keepdims=pick_keepdim("nanmean", keepdim, keepdims))

    def count_nonzero(self, dim: Any = None, *, axis: Any = None) -> Any:
        """The number of nonzero entries over `dim` (all dims by default), as int64."""
        axes = _dims(self, "count_nonzero", dim, axis)
        counts = (self.array != 0).sum(axis=axes).astype("int64")
        return Tensor._make(self._backend.asarray(counts), self._backend)

    def aminmax(self, *, dim: Any = None, keepdim: bool = False, axis: Any = None,
                keepdims: bool | None = None) -> Any:
        """``(min, max)`` over `dim` (all dims by default), a named tuple as PyTorch's; both
        differentiable (ties share the gradient, as ``amin``/``amax``)."""
        dim = pick_dim("aminmax", dim, axis)
        keep = pick_keepdim("aminmax", keepdim, keepdims)
        if self.array.size == 0:
            raise RuntimeError(f"aminmax(): cannot reduce a tensor of shape {self.shape} with "
                               "no elements (the min and max of nothing are undefined)")
        if dim is not None and not isinstance(dim, int):
            raise TypeError(f"aminmax(): dim must be an int or None, got {dim!r}")
        axes = reduce_dims(dim, self.array.ndim, "aminmax")
        return _return_types.aminmax(_reduction.min(self, axis=axes, keepdims=keep),
                                     _reduction.max(self, axis=axes, keepdims=keep))

    def unique(self, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
               return_counts: bool = False, dim: Any = None) -> Any:
        """The distinct values (sorted), and on request the inverse indices (this tensor's
        shape) and the counts, as PyTorch's ``unique``; along `dim`, the distinct slices.
        Not differentiable; on a GPU the result's size is read back to the host."""
        xp, backend = self.xp, self._backend
        array = self.array
        if dim is not None:
            from .dialect import wrap_dim

            dim = wrap_dim(dim, array.ndim, "unique")
            array = xp.moveaxis(array, dim, 0)
            flat = array.reshape(array.shape[0], -1)
            values, inverse, counts = xp.unique(flat, axis=0, return_inverse=True,
                                                return_counts=True)
            values = xp.moveaxis(values.reshape((-1,) + array.shape[1:]), 0, dim)
            inverse = inverse.reshape(-1)
        else:
            values, inverse, counts = xp.unique(array.reshape(-1), return_inverse=True,
                                                return_counts=True)
            inverse = inverse.reshape(self.array.shape)
        out = [Tensor._make(values, backend)]
        if return_inverse:
            out.append(Tensor._make(inverse.astype("int64"), backend))
        if return_counts:
            out.append(Tensor._make(counts.astype("int64"), backend))
        return out[0] if len(out) == 1 else tuple(out)


def _dims(x: Any, op: str, dim: Any, axis: Any) -> Any:
    """The reduced dims (`dim` or its alias `axis`) as the ops' `axis`."""
    return reduce_dims(pick_dim(op, dim, axis), x.array.ndim, op)
