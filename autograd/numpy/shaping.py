"""`autograd.numpy`'s shape functions: reshape, transpose and axis moves, joining and
splitting, flips and rotations, atleast_nd, meshgrid, tile, repeat, pad.

All are compositions of kedja's layout, joining and indexing ops (autograd/ops/), so their
gradients (and second derivatives) come from those ops' rules.
"""

from __future__ import annotations

import operator
from typing import Any

from ..ops import indexing as _idx
from ..ops import layout as _lay
from ..ops import shape as _shape
from ..tensor import Tensor
from .calls import check_out
from .dispatch import as_tensor, cast, like_of, numpy_function, onp, result_dtype, tensor_args

__all__ = [
    "reshape", "ravel", "transpose", "swapaxes", "moveaxis", "rollaxis", "expand_dims",
    "squeeze", "broadcast_to", "broadcast_arrays", "atleast_1d", "atleast_2d", "atleast_3d",
    "concatenate", "stack", "hstack", "vstack", "dstack", "column_stack", "split",
    "array_split", "hsplit", "vsplit", "dsplit", "append", "flip", "flipud", "fliplr", "rot90",
    "tile", "repeat", "pad", "meshgrid", "shape", "ndim", "size", "copy",
]
if hasattr(onp, "row_stack"):
    __all__.append("row_stack")

_NO_VALUE = getattr(onp, "_NoValue", None)


def _t(a: Any) -> Tensor:
    return as_tensor(a, like_of(a))


def _norm_axis(axis: int, ndim: int, name: str) -> int:
    return _idx._axis(axis, ndim, name)


# -- reshape and axes --------------------------------------------------------------------------
@numpy_function(onp.reshape)
def reshape(a: Any, /, shape: Any = None, order: str = "C", *, newshape: Any = None,
            copy: Any = None) -> Any:
    """NumPy's ``reshape`` (one axis may be -1); ``order="F"`` reads and writes column-major."""
    shape = newshape if shape is None else shape
    if shape is None:
        raise TypeError("reshape: a shape is required")
    shape = (operator.index(shape),) if not isinstance(shape, (tuple, list)) else tuple(shape)
    a = _t(a)
    if order == "F":
        flipped = _lay.Reshape.apply(_reverse(a), shape=tuple(reversed(shape)))
        return _reverse(flipped)
    if order not in ("C", "A"):
        raise ValueError(f"reshape: order must be 'C', 'F' or 'A', got {order!r}")
    return _lay.Reshape.apply(a, shape=shape)


def _reverse(a: Tensor) -> Tensor:
    return _lay.Transpose.apply(a, axes=tuple(range(a.ndim - 1, -1, -1)))


@numpy_function(onp.ravel)
def ravel(a: Any, order: str = "C") -> Any:
    """NumPy's ``ravel``: the elements as a 1-D array (C order, or F)."""
    return reshape(_t(a), (-1,), order=order)


@numpy_function(onp.transpose)
def transpose(a: Any, axes: Any = None) -> Any:
    """NumPy's ``transpose``: the axes reversed, or permuted by `axes`."""
    a = _t(a)
    if axes is None:
        axes = tuple(range(a.ndim - 1, -1, -1))
    axes = tuple(_norm_axis(x, a.ndim, "transpose") for x in axes)
    if sorted(axes) != list(range(a.ndim)):
        raise ValueError(f"transpose: axes {axes} do not match an array of {a.ndim} dimensions")
    return _lay.Transpose.apply(a, axes=axes)


@numpy_function(onp.swapaxes)
def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    """NumPy's ``swapaxes``: two axes exchanged."""
    a = _t(a)
    axes = list(range(a.ndim))
    i, j = _norm_axis(axis1, a.ndim, "swapaxes"), _norm_axis(axis2, a.ndim, "swapaxes")
    axes[i], axes[j] = axes[j], axes[i]
    return _lay.Transpose.apply(a, axes=tuple(axes))


@numpy_function(onp.moveaxis)
def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    """NumPy's ``moveaxis``: axes moved to new positions, the others keeping their order."""
    a = _t(a)
    source = [source] if isinstance(source, int) else list(source)
    destination = [destination] if isinstance(destination, int) else list(destination)
    if len(source) != len(destination):
        raise ValueError("moveaxis: source and destination must have the same number of axes")
    source = [_norm_axis(s, a.ndim, "moveaxis") for s in source]
    destination = [_norm_axis(d, a.ndim, "moveaxis") for d in destination]
    order = [n for n in range(a.ndim) if n not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return _lay.Transpose.apply(a, axes=tuple(order))


@numpy_function(onp.rollaxis)
def rollaxis(a: Any, axis: int, start: int = 0) -> Any:
    """NumPy's ``rollaxis``: `axis` moved to lie before position `start`."""
    a = _t(a)
    n = a.ndim
    axis = _norm_axis(axis, n, "rollaxis")
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise ValueError(f"rollaxis: start {start} is out of range for {n} dimensions")
    if axis < start:
        start -= 1
    if axis == start:
        return a
    return moveaxis(a, axis, start)


@numpy_function(onp.expand_dims)
def expand_dims(a: Any, axis: Any) -> Any:
    """NumPy's ``expand_dims``: new axes of length 1 at `axis` (an int or a tuple)."""
    a = _t(a)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    ndim = a.ndim + len(axes)
    axes = tuple(sorted(_norm_axis(x, ndim, "expand_dims") for x in axes))
    shape = list(a.shape)
    for x in axes:
        shape.insert(x, 1)
    return _lay.Reshape.apply(a, shape=tuple(shape))


@numpy_function(onp.squeeze)
def squeeze(a: Any, axis: Any = None) -> Any:
    """NumPy's ``squeeze``: axes of length 1 removed (an error for an axis of another length)."""
    a = _t(a)
    if axis is not None:
        axis = tuple(_norm_axis(x, a.ndim, "squeeze")
                     for x in ((axis,) if isinstance(axis, int) else axis))
    return _lay.Squeeze.apply(a, axis=axis)


@numpy_function(onp.broadcast_to)
def broadcast_to(array: Any, shape: Any, subok: bool = False) -> Any:
    """NumPy's ``broadcast_to``; the gradient sums back over the broadcast axes."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    a = _t(array)
    if a.shape == shape:
        return a
    return _lay.BroadcastTo.apply(a, shape=shape)


@numpy_function(onp.broadcast_arrays)
def broadcast_arrays(*args: Any, subok: bool = False) -> Any:
    """NumPy's ``broadcast_arrays``: the arguments broadcast against each other."""
    arrays = tensor_args(*args)
    shape = onp.broadcast_shapes(*(t.shape for t in arrays))
    return tuple(broadcast_to(t, shape) for t in arrays)


def _atleast(n: int) -> Any:
    def one(a: Any) -> Tensor:
        a = _t(a)
        if a.ndim >= n:
            return a
        if n == 1 or a.ndim == 0:
            shape = (1,) * n
        elif n == 2:
            shape = (1,) + a.shape
        else:  # NumPy puts a 1-D array in the middle, a 2-D one in front: (1, N, 1), (M, N, 1)
            shape = (1, a.shape[0], 1) if a.ndim == 1 else a.shape + (1,)
        return _lay.Reshape.apply(a, shape=shape)

    def f(*arys: Any) -> Any:
        if len(arys) == 1:
            return one(arys[0])
        like = like_of(*arys)
        return tuple(one(as_tensor(x, like)) for x in arys)

    f.__doc__ = f"NumPy's ``atleast_{n}d``: views with at least {n} dimensions."
    return numpy_function(getattr(onp, f"atleast_{n}d"), f"atleast_{n}d")(f)


atleast_1d = _atleast(1)
atleast_2d = _atleast(2)
atleast_3d = _atleast(3)


# -- joining -----------------------------------------------------------------------------------
def _joined(arrays: Any, dtype: Any, name: str) -> list:
    arrays = list(arrays)
    if not arrays:
        raise ValueError(f"{name}: need at least one array to join")
    tensors = tensor_args(*arrays)
    target = dtype if dtype is not None else result_dtype(*tensors)
    return [cast(t, target) for t in tensors]


@numpy_function(onp.concatenate)
def concatenate(arrays: Any, axis: Any = 0, out: Any = None, *, dtype: Any = None,
                casting: str = "same_kind") -> Any:
    """NumPy's ``concatenate`` (``axis=None`` joins the flattened arrays)."""
    check_out("concatenate", out)
    tensors = _joined(arrays, dtype, "concatenate")
    if axis is None:
        tensors = [_lay.Reshape.apply(t, shape=(-1,)) for t in tensors]
        axis = 0
    return _shape.concatenate(tensors, axis=axis)


@numpy_function(onp.stack)
def stack(arrays: Any, axis: int = 0, out: Any = None, *, dtype: Any = None,
          casting: str = "same_kind") -> Any:
    """NumPy's ``stack``: arrays of one shape joined along a new axis."""
    check_out("stack", out)
    return _shape.stack(_joined(arrays, dtype, "stack"), axis=axis)


def _tuple_of(tup: Any, name: str) -> list:
    if isinstance(tup, Tensor):
        return list(tup)  # NumPy iterates an array's first axis
    return list(tup)


@numpy_function(onp.hstack)
def hstack(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Any:
    """NumPy's ``hstack``: joined along axis 1 (axis 0 for 1-D arrays)."""
    arrays = [atleast_1d(t) for t in _joined(_tuple_of(tup, "hstack"), dtype, "hstack")]
    return _shape.concatenate(arrays, axis=0 if arrays[0].ndim == 1 else 1)


@numpy_function(onp.vstack)
def vstack(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Any:
    """NumPy's ``vstack``: joined along axis 0 after making each at least 2-D."""
    arrays = [atleast_2d(t) for t in _joined(_tuple_of(tup, "vstack"), dtype, "vstack")]
    return _shape.concatenate(arrays, axis=0)


if hasattr(onp, "row_stack"):
    @numpy_function(onp.vstack, "row_stack")
    def row_stack(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Any:
        """NumPy's ``row_stack`` (the same as ``vstack``)."""
        return vstack(tup, dtype=dtype)


@numpy_function(onp.dstack)
def dstack(tup: Any) -> Any:
    """NumPy's ``dstack``: joined along axis 2 after making each at least 3-D."""
    arrays = [atleast_3d(t) for t in _joined(_tuple_of(tup, "dstack"), None, "dstack")]
    return _shape.concatenate(arrays, axis=2)


@numpy_function(onp.column_stack)
def column_stack(tup: Any) -> Any:
    """NumPy's ``column_stack``: 1-D arrays as columns, 2-D arrays as they are, along axis 1."""
    arrays = []
    for t in _joined(_tuple_of(tup, "column_stack"), None, "column_stack"):
        arrays.append(_lay.Reshape.apply(t, shape=(-1, 1)) if t.ndim < 2 else t)
    return _shape.concatenate(arrays, axis=1)


@numpy_function(onp.append)
def append(arr: Any, values: Any, axis: Any = None) -> Any:
    """NumPy's ``append``: `values` joined after `arr` (both flattened when axis is None)."""
    return concatenate((arr, values), axis=axis)


# -- splitting ---------------------------------------------------------------------------------
def _split_at(a: Tensor, bounds: list, axis: int) -> list:
    lead = (slice(None),) * axis
    return [_idx.getitem(a, lead + (slice(lo, hi),)) for lo, hi in zip(bounds[:-1], bounds[1:])]


@numpy_function(onp.array_split)
def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> Any:
    """NumPy's ``array_split``: like split, but n sections need not be equal (the first ones
    get one element more)."""
    a = _t(ary)
    axis = _norm_axis(axis, a.ndim, "array_split")
    n = a.shape[axis]
    if _idx._is_int(indices_or_sections):
        sections = operator.index(indices_or_sections)
        if sections <= 0:
            raise ValueError("array_split: number sections must be larger than 0.")
        each, extra = divmod(n, sections)
        sizes = [0] + [each + 1] * extra + [each] * (sections - extra)
        bounds = [int(x) for x in onp.cumsum(sizes)]
    else:
        # Python's slice rules for each piece, as NumPy (negative and too large indices).
        bounds = [0, *(operator.index(i) for i in indices_or_sections), n]
    return _split_at(a, bounds, axis)


@numpy_function(onp.split)
def split(ary: Any, indices_or_sections: Any, axis: int = 0) -> Any:
    """NumPy's ``split``: equal sections (an error otherwise) or the pieces between indices."""
    a = _t(ary)
    if _idx._is_int(indices_or_sections):
        n = a.shape[_norm_axis(axis, a.ndim, "split")]
        if n % operator.index(indices_or_sections):
            raise ValueError("array split does not result in an equal division")
    return array_split(a, indices_or_sections, axis)


def _split_along(name: str, axis_of: Any, min_ndim: int) -> Any:
    def f(ary: Any, indices_or_sections: Any) -> Any:
        a = _t(ary)
        if a.ndim < min_ndim:
            raise ValueError(f"{name} only works on arrays of {min_ndim} or more dimensions")
        return split(a, indices_or_sections, axis_of(a))

    f.__doc__ = f"NumPy's ``{name}``: ``split`` along its axis."
    return numpy_function(getattr(onp, name), name)(f)


hsplit = _split_along("hsplit", lambda a: 0 if a.ndim == 1 else 1, 1)
vsplit = _split_along("vsplit", lambda a: 0, 2)
dsplit = _split_along("dsplit", lambda a: 2, 3)


# -- flips, rotation, repetition ------------------------------------------------------------------
@numpy_function(onp.flip)
def flip(m: Any, axis: Any = None) -> Any:
    """NumPy's ``flip``: the order of elements reversed along `axis` (all axes for None)."""
    return _shape.flip(_t(m), axis)


@numpy_function(onp.flipud)
def flipud(m: Any) -> Any:
    """NumPy's ``flipud``: reversed along axis 0."""
    return _shape.flip(_t(m), 0)


@numpy_function(onp.fliplr)
def fliplr(m: Any) -> Any:
    """NumPy's ``fliplr``: reversed along axis 1 (the array must be at least 2-D)."""
    m = _t(m)
    if m.ndim < 2:
        raise ValueError("Input must be >= 2-d.")
    return _shape.flip(m, 1)


@numpy_function(onp.rot90)
def rot90(m: Any, k: int = 1, axes: Any = (0, 1)) -> Any:
    """NumPy's ``rot90``: rotated by 90 degrees `k` times in the plane of `axes`."""
    m = _t(m)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    a0, a1 = (_norm_axis(x, m.ndim, "rot90") for x in axes)
    if a0 == a1:
        raise ValueError("Axes must be different.")
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return _shape.flip(m, (a0, a1))
    order = list(range(m.ndim))
    order[a0], order[a1] = order[a1], order[a0]
    if k == 1:
        return _lay.Transpose.apply(_shape.flip(m, a1), axes=tuple(order))
    return _shape.flip(_lay.Transpose.apply(m, axes=tuple(order)), a1)


@numpy_function(onp.tile)
def tile(A: Any, reps: Any) -> Any:  # noqa: N803 - NumPy's name
    """NumPy's ``tile``: the whole array repeated `reps` times along each axis."""
    return _shape.tile(_t(A), reps)


@numpy_function(onp.repeat)
def repeat(a: Any, repeats: Any, axis: Any = None) -> Any:
    """NumPy's ``repeat``: each element repeated (the flattened array for axis=None)."""
    return _shape.repeat(_t(a), repeats, axis)


@numpy_function(onp.pad)
def pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Any:
    """NumPy's ``pad`` (modes constant, edge, reflect, symmetric, wrap)."""
    return _shape.pad(_t(array), pad_width, mode=mode, **kwargs)


@numpy_function(onp.meshgrid)
def meshgrid(*xi: Any, copy: bool = True, sparse: bool = False, indexing: str = "xy") -> Any:
    """NumPy's ``meshgrid``: coordinate arrays from 1-D coordinate vectors."""
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    vectors = tensor_args(*xi)
    n = len(vectors)
    outputs = []
    for i, v in enumerate(vectors):
        shape = [1] * n
        shape[i] = -1
        outputs.append(_lay.Reshape.apply(v, shape=tuple(shape)))
    if indexing == "xy" and n > 1:
        outputs = [swapaxes(o, 0, 1) for o in outputs]
    if not sparse:
        outputs = list(broadcast_arrays(*outputs))
    return tuple(outputs)


# -- queries and copies ------------------------------------------------------------------------
def shape(a: Any) -> tuple:
    """NumPy's ``shape``: the shape of an array, Tensor or nested sequence."""
    return tuple(a.shape) if isinstance(a, Tensor) else onp.shape(a)


def ndim(a: Any) -> int:
    """NumPy's ``ndim``: the number of dimensions."""
    return a.ndim if isinstance(a, Tensor) else onp.ndim(a)


def size(a: Any, axis: Any = None) -> int:
    """NumPy's ``size``: the number of elements (along `axis` if given)."""
    if isinstance(a, Tensor):
        return a.size if axis is None else a.shape[axis]
    return onp.size(a, axis)


@numpy_function(onp.copy)
def copy(a: Any, order: str = "K", subok: bool = False) -> Any:
    """NumPy's ``copy``: a copy that stays in the graph."""
    from ..ops.unary import Clone

    return Clone.apply(_t(a))
