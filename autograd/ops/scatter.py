"""Selection and scatter along a dim: gather, scatter, scatter_add, index_select, index_add,
index_fill, index_copy, masked_fill, masked_select, take_along_dim.

Everything is composed from three exact primitives: the gather (`GetItemAdvanced`, whose rule
scatter-adds), its scatter-add (`ScatterAdd`, whose rule gathers) and `where`. So repeated
indices accumulate in `scatter_add`/`index_add` and their gradients, and all of them are
differentiable to any order. Writes (`scatter`, `index_copy`) with repeated indices keep the
value written last in the index's C order, on every backend, and only that value gets a
gradient: the winners are picked first (`_last_writers`) and then written once each.

The functions take PyTorch's arguments (they have no NumPy counterpart); `dim` may be negative.
"""

from __future__ import annotations

from typing import Any

from ..dialect import wrap_dim
from ..tensor import Tensor, _lift
from .arithmetic import where
from .indexing import GetItemAdvanced, ScatterAdd, SetItem, _index_array, _Slot
from .layout import broadcast_to, reshape

__all__ = [
    "gather", "scatter", "scatter_add", "index_select", "index_add", "index_fill", "index_copy",
    "masked_fill", "masked_select", "take_along_dim",
]


# -- index checks ---------------------------------------------------------------------------
def _integer_index(index: Any, x: Tensor, op: str) -> Any:
    """`index` as an integer Tensor or array on x's backend (not boolean)."""
    index = _index_array(index, x._backend, op)
    if index.dtype.kind == "b":
        raise TypeError(f"{op}: index must hold integers, got dtype bool")
    return index


def _check_range(index: Any, n: int, x: Tensor, dim: int, op: str) -> None:
    """Indices must lie in [0, n), as in PyTorch; checked on the host only (no device read)."""
    raw = index.array if isinstance(index, Tensor) else index
    if x._backend.is_device or raw.size == 0:
        return
    low, high = int(raw.min()), int(raw.max())
    if low < 0 or high >= n:
        raise IndexError(
            f"{op}: index {low if low < 0 else high} is out of bounds for dim {dim} of size {n} "
            f"(tensor shape {x.shape})"
        )


def _along_dim(x: Tensor, dim: int, index: Any, op: str) -> tuple:
    """The gather arrays for ``out[i][j][k] = x[i][index[i][j][k]][k]`` (dim 1): index at
    `dim`, an arange over index's length at every other dim; and the parts template."""
    if index.ndim != x.ndim:
        raise ValueError(
            f"{op}: index (shape {tuple(index.shape)}) must have as many dims as the tensor "
            f"(shape {x.shape})"
        )
    for k, (m, n) in enumerate(zip(index.shape, x.shape)):
        if k != dim and m > n:
            raise ValueError(
                f"{op}: index of shape {tuple(index.shape)} is larger than the tensor of shape "
                f"{x.shape} at dim {k}"
            )
    _check_range(index, x.shape[dim], x, dim, op)
    xp, ndim = x.xp, x.ndim
    arrays = []
    for k, m in enumerate(index.shape):
        if k == dim:
            arrays.append(index)
        else:
            arrays.append(xp.arange(m).reshape((1,) * k + (m,) + (1,) * (ndim - k - 1)))
    return arrays, tuple(_Slot(k) for k in range(ndim))


def _block(src: Tensor, shape: tuple, op: str) -> Tensor:
    """The leading block of `src` of `shape` (PyTorch reads src only where index reaches)."""
    if tuple(src.shape) == tuple(shape):
        return src
    if src.ndim != len(shape) or any(s < m for s, m in zip(src.shape, shape)):
        raise ValueError(
            f"{op}: src of shape {src.shape} must be at least as large as index "
            f"(shape {tuple(shape)}) in every dim"
        )
    return src[tuple(slice(0, m) for m in shape)]


def _as_tensor(value: Any, x: Tensor) -> Tensor:
    """A scalar or tensor operand as a tensor of x's dtype on x's device."""
    if isinstance(value, Tensor):
        if value.dtype != x.dtype:
            value = value.astype(x.dtype)
        return value
    return Tensor._make(x.xp.asarray(value, dtype=x.dtype), x.backend)


def _restore(t: Tensor, shape: tuple) -> Tensor:
    """`t` back in the caller's `shape` (only a 0-d input was made 1-d)."""
    return t if t.shape == shape else reshape(t, shape)


def _scalar_dim(x: Tensor, dim: int, op: str) -> tuple:
    """(x as at least 1-d, dim): PyTorch treats a 0-d tensor as one element along dim 0."""
    d = wrap_dim(dim, x.ndim, op)
    return (reshape(x, (1,)) if x.ndim == 0 else x), d


# -- gather and take_along_dim --------------------------------------------------------------
def gather(x: Tensor, dim: int, index: Any) -> Tensor:
    """``out[i][j] = x[i][index[i][j]]`` for dim 1 (any dim alike); out has index's shape.

    An element gathered several times gets the sum of those gradients.
    """
    index = _integer_index(index, x, "gather")
    if x.ndim == 0:
        return reshape(gather(reshape(x, (1,)), 0, reshape(_wrap(index, x), (-1,))), index.shape)
    d = wrap_dim(dim, x.ndim, "gather")
    arrays, parts = _along_dim(x, d, index, "gather")
    return GetItemAdvanced.apply(x, *arrays, parts=parts)


def take_along_dim(x: Tensor, indices: Any, dim: int | None = None) -> Tensor:
    """``x`` picked at `indices` along `dim`, the two broadcast against each other elsewhere
    (of the flattened x when `dim` is None)."""
    indices = _integer_index(indices, x, "take_along_dim")
    if dim is None:
        x, d = reshape(x, (-1,)), 0
        indices = reshape(_wrap(indices, x), (-1,))
    else:
        x, d = _scalar_dim(x, dim, "take_along_dim")
        if indices.ndim != x.ndim:
            raise ValueError(
                f"take_along_dim: indices (shape {tuple(indices.shape)}) must have as many dims "
                f"as the tensor (shape {x.shape})"
            )
    _check_range(indices, x.shape[d], x, d, "take_along_dim")
    xp, ndim = x.xp, x.ndim
    arrays = [indices if k == d else xp.arange(n).reshape((1,) * k + (n,) + (1,) * (ndim - k - 1))
              for k, n in enumerate(x.shape)]
    # Elsewhere x and indices broadcast: an arange of length 1 picks x's one element.
    return GetItemAdvanced.apply(x, *arrays, parts=tuple(_Slot(k) for k in range(ndim)))


def _wrap(index: Any, x: Tensor) -> Tensor:
    return index if isinstance(index, Tensor) else Tensor._make(index, x.backend)


# -- scatter_add, index_add, index_select ---------------------------------------------------
def scatter_add(x: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    """x with ``src[i][j]`` added at ``[i][index[i][j]]`` (dim 1); repeated indices add up."""
    index = _integer_index(index, x, "scatter_add")
    src = _as_tensor(_lift(src, x), x)
    if x.ndim == 0:
        out = scatter_add(reshape(x, (1,)), 0, reshape(_wrap(index, x), (-1,)),
                          reshape(src, (-1,)))
        return reshape(out, ())
    d = wrap_dim(dim, x.ndim, "scatter_add")
    arrays, parts = _along_dim(x, d, index, "scatter_add")
    block = _block(src, tuple(index.shape), "scatter_add")
    return x + ScatterAdd.apply(block, *arrays, parts=parts, shape=x.shape)


def _dim_index(x: Tensor, dim: int, index: Any, op: str) -> tuple:
    """(x at least 1-d, dim, index as a 1-d integer array or Tensor) for the index_* ops."""
    x, d = _scalar_dim(x, dim, op)
    index = _integer_index(index, x, op)
    if index.ndim > 1:
        raise ValueError(f"{op}: index must be 0-d or 1-d, got shape {tuple(index.shape)}")
    if index.ndim == 0:
        index = reshape(_wrap(index, x), (1,))
    _check_range(index, x.shape[d], x, d, op)
    return x, d, index


def index_select(x: Tensor, dim: int, index: Any) -> Tensor:
    """The entries of x at `index` (1-d) along `dim`; repeated picks add their gradients."""
    shape = x.shape
    x, d, index = _dim_index(x, dim, index, "index_select")
    out = GetItemAdvanced.apply(x, index, parts=(slice(None),) * d + (_Slot(0),))
    return out if shape else reshape(out, (index.shape[0],) if index.shape[0] != 1 else ())


def index_add(x: Tensor, dim: int, index: Any, source: Tensor, alpha: Any = 1) -> Tensor:
    """x with ``alpha * source`` added at `index` along `dim`; repeated indices add up."""
    shape = x.shape
    x, d, index = _dim_index(x, dim, index, "index_add")
    source = _as_tensor(_lift(source, x), x)
    expected = x.shape[:d] + (index.shape[0],) + x.shape[d + 1 :]
    if source.shape != expected:
        if source.numel() == 1 and not source.ndim and len(expected) == 1:
            source = reshape(source, expected)
        else:
            raise ValueError(
                f"index_add: source has shape {source.shape}, expected {expected} for index "
                f"of length {index.shape[0]} along dim {d} of a tensor of shape {shape}"
            )
    if alpha != 1:
        source = source * alpha
    added = ScatterAdd.apply(source, index, parts=(slice(None),) * d + (_Slot(0),),
                             shape=x.shape)
    return _restore(x + added, shape)


# -- masks: index_fill, masked_fill, masked_select ------------------------------------------
def _mask_at(x: Tensor, dim: int, index: Any) -> Tensor:
    """A boolean tensor, true at `index` along `dim`, shaped to broadcast against x."""
    xp = x.xp
    raw = index.array if isinstance(index, Tensor) else index
    mask = xp.zeros(x.shape[dim], dtype=bool)
    mask[raw] = True
    return Tensor._make(mask.reshape((-1,) + (1,) * (x.ndim - dim - 1)), x.backend)


def index_fill(x: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """x with every entry at `index` along `dim` set to `value` (a number or a 0-d tensor,
    which gets the sum of the filled entries' gradients)."""
    shape = x.shape
    x, d, index = _dim_index(x, dim, index, "index_fill")
    value = _fill_value(value, x, "index_fill")
    return _restore(where(_mask_at(x, d, index), value, x), shape)


def _fill_value(value: Any, x: Tensor, op: str) -> Tensor:
    if isinstance(value, Tensor) and value.ndim:
        raise ValueError(f"{op}: value must be a number or a 0-d tensor, got shape "
                         f"{value.shape}")
    return _as_tensor(value, x)


def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    """x with `value` (a number or a 0-d tensor) where the bool `mask` is true (the two
    broadcast; the in-place form needs the result in x's shape)."""
    mask = _bool_mask(mask, x, "masked_fill")
    return where(mask, _fill_value(value, x, "masked_fill"), x)


def _bool_mask(mask: Any, x: Tensor, op: str) -> Tensor:
    mask = _lift(mask, x, scalar_ok=False)
    if mask.dtype.kind != "b":
        raise TypeError(f"{op}: mask must be a bool tensor, got dtype {mask.dtype}")
    if mask.backend is not x.backend:
        raise RuntimeError(f"{op}: mask on {mask.device}, tensor on {x.device}")
    return mask


def masked_select(x: Tensor, mask: Any) -> Tensor:
    """The entries of x where `mask` is true, as a 1-d tensor (x and mask broadcast)."""
    mask = _bool_mask(mask, x, "masked_select")
    shape = tuple(x.xp.broadcast_shapes(x.shape, mask.shape))
    if x.shape != shape:
        x = broadcast_to(x, shape)
    raw = mask.array if mask.shape == shape else x.xp.broadcast_to(mask.array, shape)
    if not shape:
        x, raw = reshape(x, (1,)), raw.reshape(1)
    return GetItemAdvanced.apply(x, raw, parts=(_Slot(0),))


# -- writes: scatter, index_copy ------------------------------------------------------------
def _last_writers(xp: Any, ids: Any) -> tuple:
    """(targets, winners): each flat target position in `ids` once, with the position in `ids`
    (C order) of the last write to it. A stable order comes from unique sort keys."""
    flat = ids.reshape(-1)
    n = flat.shape[0]
    keys = flat.astype("int64") * max(n, 1) + xp.arange(n)
    order = xp.argsort(keys)
    ordered = flat[order]
    last = xp.concatenate([ordered[1:] != ordered[:-1], xp.ones(min(n, 1), dtype=bool)])
    return ordered[last], order[last]


def _write(x: Tensor, ids: Any, src: Tensor) -> Tensor:
    """x with ``x.flat[ids] = src`` (same shapes ids and src), the last of repeated ids
    winning; the other writes pass no gradient."""
    targets, winners = _last_writers(x.xp, ids)
    picked = GetItemAdvanced.apply(reshape(src, (-1,)), winners, parts=(_Slot(0),))
    out = SetItem.apply(reshape(x, (-1,)), picked, targets, parts=(_Slot(0),))
    return _restore(out, x.shape)


def _flat_ids(x: Tensor) -> Any:
    return x.xp.arange(x.numel()).reshape(x.shape)


def scatter(x: Tensor, dim: int, index: Any, src: Any = None, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """x with ``src[i][j]`` written at ``[i][index[i][j]]`` (dim 1), or `value` everywhere
    index points; ``reduce="add"``/``"multiply"`` combine instead of overwriting."""
    if (src is None) == (value is None):
        raise TypeError("scatter: give exactly one of src and value")
    index = _integer_index(index, x, "scatter")
    if x.ndim == 0:
        flat_src = None if src is None else reshape(_lift(src, x), (-1,))
        out = scatter(reshape(x, (1,)), 0, reshape(_wrap(index, x), (-1,)), flat_src, value,
                      reduce)
        return reshape(out, ())
    d = wrap_dim(dim, x.ndim, "scatter")
    if src is None or not isinstance(src, Tensor) and not hasattr(src, "shape"):
        src = broadcast_to(_as_tensor(src if value is None else value, x), tuple(index.shape))
    src = _as_tensor(_lift(src, x), x)
    if reduce is not None:
        from .scatter_reduce import scatter_reduce

        how = {"add": "sum", "multiply": "prod"}.get(reduce)
        if how is None:
            raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
        return scatter_reduce(x, d, index, src, how)
    arrays, parts = _along_dim(x, d, index, "scatter")
    ids = _flat_ids(x)[tuple(a.array if isinstance(a, Tensor) else a for a in arrays)]
    return _write(x, ids, _block(src, tuple(index.shape), "scatter"))


def index_copy(x: Tensor, dim: int, index: Any, source: Tensor) -> Tensor:
    """x with the slices of `source` written at `index` along `dim` (the last of repeated
    indices wins)."""
    shape = x.shape
    x, d, index = _dim_index(x, dim, index, "index_copy")
    source = _as_tensor(_lift(source, x), x)
    raw = index.array if isinstance(index, Tensor) else index
    ids = _flat_ids(x)[(slice(None),) * d + (raw,)]
    if source.shape != tuple(ids.shape):
        if source.numel() == ids.size:
            source = reshape(source, tuple(ids.shape))
        else:
            raise ValueError(f"index_copy: source has shape {source.shape}, expected "
                             f"{tuple(ids.shape)}")
    return _restore(_write(x, ids, source), shape)
