"""PyTorch's indexing rule, for ``Tensor.__getitem__``/``__setitem__`` (the `autograd` functions
keep NumPy's).

The two libraries differ in one place: NumPy counts an integer next to index arrays as an
advanced index, PyTorch selects with it first. So ``x[1, :, idx]`` puts idx's axis first in NumPy
(the advanced indices 1 and idx are separated by a slice) and keeps it in place in PyTorch.
Where that changes the result, the index is applied in PyTorch's two steps: a view selecting
with the integers, then the rest (one more view op; writes go through the same two steps).
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .indexing import GetItem, GetItemAdvanced, SetItem, _assemble, _parse_index, _Slot, raw_index


def _host_scalar_ints(index: Any) -> Any:
    """0-d integer tensors on the host as ints (PyTorch selects with them, as with ints)."""
    items = index if type(index) is tuple else (index,)
    for i in items:
        if isinstance(i, Tensor) and i.array.ndim == 0:
            break
    else:
        return index
    out = tuple(
        int(i.item()) if isinstance(i, Tensor) and i.ndim == 0 and i.dtype.kind in "iu"
        and not i.backend.is_device else i
        for i in items
    )
    return out if type(index) is tuple else out[0]


def _split(parts: tuple, arrays: list) -> tuple | None:
    """(select, select_arrays, rest, rest_arrays) where PyTorch's rule differs from NumPy's for
    this index, else None.

    PyTorch selects with the integers first (`select`: the integers, and 0-d integer tensors on
    a device, which are gathered rather than read back; every other indexed dim kept whole),
    then indexes with the rest. The results differ where the index arrays are adjacent once the
    integers are gone but are not adjacent counting them.
    """
    if not arrays:
        return None
    # One letter per part: s for an integer (or 0-d integer array), a for an index array, o
    # for anything else; the rules differ only with both s and a present.
    kinds = []
    for p in parts:
        if type(p) is int:
            kinds.append("s")
        elif type(p) is _Slot:
            a = arrays[p.k]
            kinds.append("s" if a.ndim == 0 and a.dtype.kind in "iu" else "a")
        else:
            kinds.append("o")
    kinds = "".join(kinds)
    if "s" not in kinds or "a" not in kinds:
        return None
    numpy_adjacent = "o" not in kinds.strip("o")
    torch_adjacent = "o" not in kinds.replace("s", "").strip("o")
    if numpy_adjacent or not torch_adjacent:
        return None

    select, select_arrays, rest, rest_arrays = [], [], [], []
    for p, kind in zip(parts, kinds):
        if kind == "s":
            if type(p) is _Slot:
                select.append(_Slot(len(select_arrays)))
                select_arrays.append(arrays[p.k])
            else:
                select.append(p)
            continue
        if type(p) is _Slot:
            a = arrays[p.k]
            select.extend([slice(None)] * (a.ndim if a.dtype.kind == "b" else 1))
            rest.append(_Slot(len(rest_arrays)))
            rest_arrays.append(a)
            continue
        if isinstance(p, slice):
            select.append(slice(None))
        elif p is Ellipsis:
            select.append(p)
        rest.append(p)
    return tuple(select), select_arrays, tuple(rest), rest_arrays


def _select(x: Tensor, parts: tuple, arrays: list) -> Tensor:
    return (GetItemAdvanced if arrays else GetItem).apply(x, *arrays, parts=parts)


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` with PyTorch's rule (see the module docstring); NumPy's elsewhere."""
    parts, arrays = _parse_index(x, _host_scalar_ints(index), "getitem")
    if not arrays:
        return GetItem.apply(x, parts=parts)
    split = _split(parts, arrays)
    if split is not None:
        select, select_arrays, parts, arrays = split
        x = _select(x, select, select_arrays)
    return GetItemAdvanced.apply(x, *arrays, parts=parts)


def setitem(x: Tensor, index: Any, value: Tensor) -> Tensor:
    """A new tensor equal to `x` with ``[index] = value`` under PyTorch's rule (recorded)."""
    parts, arrays = _parse_index(x, _host_scalar_ints(index), "setitem")
    split = _split(parts, arrays)
    if split is None:
        return SetItem.apply(x, value, *arrays, parts=parts)
    select, select_arrays, rest, rest_arrays = split
    part = SetItem.apply(_select(x, select, select_arrays), value, *rest_arrays, parts=rest)
    return SetItem.apply(x, part, *select_arrays, parts=select)


def setitem_raw(x: Tensor, index: Any, value: Any) -> None:
    """``x.array[index] = value`` (raw arrays, not recorded) under PyTorch's rule."""
    raw = raw_index(index)
    if type(index) is tuple and _mixes_ints_and_arrays(index):
        parts, arrays = _parse_index(x, _host_scalar_ints(index), "setitem")
        split = _split(parts, arrays)
        if split is not None:
            select, select_arrays, rest, rest_arrays = (
                [a.array if isinstance(a, Tensor) else a for a in part]
                if isinstance(part, list) else part for part in split)
            if select_arrays:  # a gather copies: write the part back through the selection
                part = x.array[_assemble(select, select_arrays)]
                part[_assemble(rest, rest_arrays)] = value
                x.array[_assemble(select, select_arrays)] = part
            else:
                x.array[select][_assemble(rest, rest_arrays)] = value
            return
    x.array[raw] = value


def _mixes_ints_and_arrays(index: tuple) -> bool:
    """Whether `index` holds an integer and an index array (where the rules may differ)."""
    has_int = has_array = False
    for item in index:
        if isinstance(item, int) or (isinstance(item, Tensor) and item.ndim == 0):
            has_int = True
        elif not (item is None or item is Ellipsis or isinstance(item, slice)):
            has_array = True
    return has_int and has_array
