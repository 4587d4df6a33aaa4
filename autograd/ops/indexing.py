"""Indexing ops: getitem (basic and advanced), its scatter-add rule, setitem, take_along_axis."""

from __future__ import annotations

import operator
from typing import Any

import backends
from backends.kernels import indexing as kernels_indexing

from ..function import Function
from ..tensor import Tensor, _lift

__all__ = ["getitem", "setitem", "take_along_axis"]


# -- axis and index helpers (shape.py uses _axis and _is_int too) ---------------------------
def _axis(axis: Any, ndim: int, op: str) -> int:
    """`axis` as a non-negative int, with an error naming `op` when it is out of range."""
    axis = operator.index(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis {axis} is out of bounds for a tensor of dimension {ndim}")
    return axis % ndim


def _is_int(obj: Any) -> bool:
    """True for Python ints, NumPy integer scalars and 0-d host integer arrays (not bools)."""
    if isinstance(obj, int):
        return not isinstance(obj, bool)
    if isinstance(obj, Tensor):
        return False
    owner = backends.backend_of_array(obj)
    if owner is not None and owner.is_device:
        return False  # device data stays an array: reading it as an int would synchronise
    kind = getattr(getattr(obj, "dtype", None), "kind", None)  # None for foreign dtypes
    return kind is not None and kind in "iu" and getattr(obj, "ndim", 1) == 0


class _Slot:
    """Marks where the k-th index array goes in an index template (the arrays travel as op
    inputs, so the op keeps them through `save_for_backward`)."""

    __slots__ = ("k",)

    def __init__(self, k: int) -> None:
        self.k = k

    def __repr__(self) -> str:
        return f"<array {self.k}>"


def _assemble(parts: tuple, arrays: Any) -> tuple:
    return tuple(arrays[p.k] if type(p) is _Slot else p for p in parts)


def _index_array(item: Any, backend: Any, op: str) -> Any:
    """An array-like index as an integer or boolean array of `backend`.

    A Tensor stays a Tensor: as an op input its version is checked before backward uses it.
    """
    if isinstance(item, Tensor):
        if item._backend is not backend:
            raise RuntimeError(
                f"{op}: the index tensor is on {item.device} but the indexed tensor is on "
                f"{backend.device}; move the index first"
            )
        array = item
    elif backend.is_array(item):
        array = item
    else:
        array = backend.asarray(item)
        if array.size == 0 and array.dtype.kind == "f":
            array = array.astype("int64")  # an empty list indexes nothing, as in NumPy
    if array.dtype.kind not in "biu":
        raise IndexError(
            f"{op}: index arrays must hold integers or booleans, got dtype {array.dtype}"
        )
    return array


def _parse_index(x: Tensor, index: Any, op: str) -> tuple:
    """Splits `index` into a template (ints, slices, None, Ellipsis, `_Slot`s) and its arrays.

    Ints are checked against their axis; boolean masks against the axes they cover.
    """
    items = index if isinstance(index, tuple) else (index,)
    shape = x.shape
    parts, arrays, widths = [], [], []  # widths: axes each part consumes (None for ...)
    for item in items:
        if item is None or isinstance(item, slice):
            if isinstance(item, slice):
                item = slice(*(v if v is None else operator.index(v)
                               for v in (item.start, item.stop, item.step)))
            parts.append(item)
            widths.append(0 if item is None else 1)
        elif item is Ellipsis:
            if Ellipsis in parts:
                raise IndexError(f"{op}: an index can have only one Ellipsis (...)")
            parts.append(item)
            widths.append(None)
        elif _is_int(item):
            parts.append(operator.index(item))
            widths.append(1)
        else:
            array = _index_array(item, x._backend, op)
            parts.append(_Slot(len(arrays)))
            arrays.append(array)
            widths.append(array.ndim if array.dtype.kind == "b" else 1)
    used = sum(w for w in widths if w is not None)
    if used > len(shape):
        raise IndexError(
            f"{op}: too many indices for a tensor of shape {shape}: {used} axes are indexed"
        )
    backend = x._backend
    device = backend.is_device
    axis = 0
    for part, width in zip(parts, widths):
        if width is None:
            axis += len(shape) - used
            continue
        if type(part) is int:
            n = shape[axis]
            if not -n <= part < n:
                raise IndexError(
                    f"{op}: index {part} is out of range for axis {axis} of size {n} "
                    f"(tensor shape {shape})"
                )
        elif type(part) is _Slot and arrays[part.k].dtype.kind in "iu" and device:
            # NumPy raises for these itself; CuPy would wrap them (see Backend.check_index).
            index = arrays[part.k]
            backend.check_index(
                index.array if isinstance(index, Tensor) else index, shape[axis],
                f"{op}: an index array into axis {axis} of size {shape[axis]} (tensor shape "
                f"{shape})",
            )
        elif type(part) is _Slot and arrays[part.k].dtype.kind == "b" and width:
            covered = shape[axis : axis + width]
            if tuple(arrays[part.k].shape) != covered:
                raise IndexError(
                    f"{op}: a boolean mask of shape {tuple(arrays[part.k].shape)} does not "
                    f"match the axes {axis}..{axis + width - 1} of shape {covered} it indexes "
                    f"(tensor shape {shape})"
                )
        axis += width
    return tuple(parts), arrays


class GetItem(Function):
    """y = x[index] for a basic index (ints, slices, None, Ellipsis): a view of x.

    `parts` is the index with its arrays (advanced indexing, in `GetItemAdvanced`) replaced by
    `_Slot`s; the arrays are the extra positional inputs. The rule is `ScatterAdd`.
    """

    is_view = True

    def forward(self, x, *arrays):
        self.in_shape = x.shape
        if arrays:
            self.save_for_backward(*arrays)
        index = _assemble(self.parts, arrays)
        try:
            y = x[index]
        except IndexError as e:
            raise IndexError(f"getitem: {e} (tensor shape {tuple(x.shape)})") from None
        if type(y) is not type(x):  # NumPy gives a scalar copy for one element: a 0-d view
            y = x[index + (Ellipsis,)]
        return y

    def backward(self, gy):
        arrays = [a.array for a in self.saved_tensors]
        gx = ScatterAdd.apply(gy, *arrays, parts=self.parts, shape=self.in_shape)
        return (gx,) + (None,) * len(arrays)


class GetItemAdvanced(GetItem):
    """y = x[index] with integer or boolean arrays in the index (a copy, NumPy's rules)."""

    is_view = False


class ScatterAdd(Function):
    """y = zeros(shape) with g added at y[index]; repeated indices accumulate.

    The rule of getitem; its own rule is getitem again. An index without arrays writes each
    element once, so plain assignment does; arrays go through `backend.scatter_add`.
    """

    def forward(self, g, *arrays):
        if arrays:
            self.save_for_backward(*arrays)
        y = self.xp.zeros(self.shape, dtype=g.dtype)
        index = _assemble(self.parts, arrays)
        if arrays:
            # One integer array on axis 0 (``weight[index]``): a C loop over rows where built,
            # the same additions in the same order as the backend's (np.add.at's) at ~1/5 of
            # its cost.
            if not (len(index) == 1 and g.ndim >= 1 and index[0].dtype.kind in "iu"
                    and kernels_indexing.scatter_add_rows(self.backend, y, index[0], g)):
                self.backend.scatter_add(y, index, g)
        else:
            y[index] = g
        return y

    def backward(self, ggx):
        arrays = [a.array for a in self.saved_tensors]
        cls = GetItemAdvanced if arrays else GetItem
        return (cls.apply(ggx, *arrays, parts=self.parts),) + (None,) * len(arrays)


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` with NumPy's rules (``Tensor.__getitem__`` calls this).

    Basic indices (ints, slices with any step, ``...``, None) give a view of x. Integer arrays,
    lists or int Tensors and boolean masks (advanced indexing, mixed freely with basic indices)
    give a copy; an element picked several times gets the sum of those gradients
    (``x[[0, 0, 1]]`` gives gradient 2 at 0).
    """
    parts, arrays = _parse_index(x, index, "getitem")
    cls = GetItemAdvanced if arrays else GetItem
    return cls.apply(x, *arrays, parts=parts)


class SetItem(Function):
    """y = a copy of x with y[index] = value.

    gx is gy with the overwritten positions zeroed; gvalue is gy[index] (the engine sums it back
    to value's shape where value was broadcast).
    """

    def forward(self, x, value, *arrays):
        if arrays:
            self.save_for_backward(*arrays)
        self.value_shape = tuple(getattr(value, "shape", ()))
        y = x.copy()
        try:
            y[_assemble(self.parts, arrays)] = value
        except (IndexError, ValueError) as e:
            raise type(e)(
                f"setitem: {e} (tensor shape {tuple(x.shape)}, value shape {self.value_shape})"
            ) from None
        return y

    def backward(self, gy):
        arrays = [a.array for a in self.saved_tensors]
        gx = gvalue = None
        if self.needs_input_grad[0]:
            gx = SetItem.apply(gy, 0.0, *arrays, parts=self.parts)
        if self.needs_input_grad[1]:
            cls = GetItemAdvanced if arrays else GetItem
            gvalue = cls.apply(gy, *arrays, parts=self.parts)
            lead = len(self.value_shape) - gvalue.ndim
            if lead > 0:  # NumPy drops leading length-1 axes of a value with too many axes
                gvalue = gvalue.reshape((1,) * lead + gvalue.shape)
        return (gx, gvalue) + (None,) * len(arrays)


def setitem(x: Tensor, index: Any, value: Any) -> Tensor:
    """A new tensor equal to `x` with ``[index] = value`` (differentiable in both).

    ``Tensor.__setitem__`` uses this when autograd records the write. The overwritten positions
    pass no gradient to `x`; `value` gets ``gy[index]`` (summed where it was broadcast). With
    repeated advanced indices the last write wins, but every copy of `value` gets a gradient.
    """
    value = _lift(value, x)
    parts, arrays = _parse_index(x, index, "setitem")
    return SetItem.apply(x, value, *arrays, parts=parts)


def check_raw_index(x: Tensor, index: Any, op: str) -> None:
    """Checks `index` for indexing ``x.array`` directly: on a device the range check of its
    integer arrays is noted (see ``Backend.check_index``); NumPy checks on the host."""
    if x._backend.is_device:
        _parse_index(x, index, op)


def raw_index(index: Any) -> Any:
    """`index` with its Tensors replaced by their backend arrays, for indexing ``.array``."""
    if isinstance(index, Tensor):
        return index.array
    if isinstance(index, tuple):
        return tuple(raw_index(i) for i in index)
    if isinstance(index, list) and any(isinstance(i, Tensor) for i in index):
        return [raw_index(i) for i in index]
    if isinstance(index, slice) and any(
        isinstance(v, Tensor) for v in (index.start, index.stop, index.step)
    ):
        return slice(*(v if v is None else operator.index(v)
                       for v in (index.start, index.stop, index.step)))
    return index


def take_along_axis(x: Tensor, indices: Any, axis: int | None) -> Tensor:
    """Picks ``x[..., indices[i], ...]`` along `axis` (NumPy's ``take_along_axis``).

    Args:
        indices: an integer array with x's number of dimensions (length-1 axes broadcast).
        axis: the axis to pick along; None picks from the flattened x (indices 1-D).

    The rule scatter-adds gy back, so an element picked twice gets both gradients. Example:
    ``take_along_axis(logp, targets[:, None], 1)`` picks each row's target entry.
    """
    if axis is None:
        x = x.reshape((-1,))
        axis = 0
    indices = _index_array(indices, x._backend, "take_along_axis")
    if indices.dtype.kind == "b" or indices.ndim != x.ndim:
        raise ValueError(
            f"take_along_axis: indices must be integers with as many axes as x, got indices "
            f"of shape {tuple(indices.shape)} and dtype {indices.dtype} for x of shape {x.shape}"
        )
    axis = _axis(axis, x.ndim, "take_along_axis")
    if x._backend.is_device:  # NumPy raises for out-of-range indices; CuPy would wrap them
        x._backend.check_index(
            indices.array if isinstance(indices, Tensor) else indices, x.shape[axis],
            f"take_along_axis: indices into axis {axis} of size {x.shape[axis]} (tensor shape "
            f"{x.shape})",
        )
    xp = x.xp
    arrays = []
    for i, n in enumerate(x.shape):
        if i == axis:
            arrays.append(indices)
        else:  # every other axis indexes itself, broadcast against indices
            arrays.append(xp.arange(n).reshape((1,) * i + (n,) + (1,) * (x.ndim - i - 1)))
    return GetItemAdvanced.apply(x, *arrays, parts=tuple(_Slot(i) for i in range(x.ndim)))
