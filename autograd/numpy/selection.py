"""`autograd.numpy`'s selection and difference functions: take, take_along_axis, choose,
select, compress, diff, cross, roll, and the index-valued functions (nonzero, argsort, ...).

Selections are gathers (kedja's getitem), so an element picked several times gets the sum of
its gradients; the index arrays themselves are constants.
"""

from __future__ import annotations

import operator
from typing import Any

import autograd as _ag

from ..ops import arithmetic as _ar
from ..ops import indexing as _idx
from ..ops import layout as _lay
from ..ops import shape as _shape
from ..tensor import Tensor
from .calls import check_out, constant_call
from .dispatch import as_tensor, cast, like_of, numpy_function, onp, operand, result_dtype
from .elementwise import constant
from .shaping import broadcast_arrays, moveaxis

__all__ = ["take", "take_along_axis", "choose", "select", "compress", "diff", "cross",
           "gradient"]


def _index_array(indices: Any, like: Tensor) -> Any:
    """Integer indices as a backend array (constants: they carry no gradient)."""
    if isinstance(indices, Tensor):
        return indices.array
    return like.backend.asarray(onp.asarray(indices))


@numpy_function(onp.take)
def take(a: Any, indices: Any, axis: Any = None, out: Any = None, mode: str = "raise") -> Any:
    """NumPy's ``take``: elements at `indices` along `axis` (of the flattened array for None);
    ``mode`` "wrap" and "clip" map out-of-range indices as NumPy does."""
    check_out("take", out)
    like = like_of(a, indices)
    a = as_tensor(a, like)
    if axis is None:
        a = _lay.Reshape.apply(a, shape=(-1,))
        axis = 0
    axis = _idx._axis(axis, a.ndim, "take")
    if _idx._is_int(indices) and mode == "raise":
        return _idx.getitem(a, (slice(None),) * axis + (operator.index(indices),))
    index = _index_array(indices, like)
    n = a.shape[axis]
    if mode == "wrap":
        index = index % n
    elif mode == "clip":
        index = like.xp.clip(index, 0, n - 1)
    elif mode != "raise":
        raise ValueError(f"take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    return _idx.getitem(a, (slice(None),) * axis + (Tensor._make(index, like.backend),))


@numpy_function(onp.take_along_axis)
def take_along_axis(arr: Any, indices: Any, axis: Any = -1) -> Any:
    """NumPy's ``take_along_axis``: ``arr[..., indices[i], ...]`` along `axis`."""
    like = like_of(arr, indices)
    return _idx.take_along_axis(as_tensor(arr, like), _index_array(indices, like), axis)


@numpy_function(onp.choose)
def choose(a: Any, choices: Any, out: Any = None, mode: str = "raise") -> Any:
    """NumPy's ``choose``: ``choices[a[i]][i]`` for each i (everything broadcast together)."""
    check_out("choose", out)
    like = like_of(a, choices)
    index = as_tensor(a, like)
    options = [as_tensor(c, like) for c in choices]
    n = len(options)
    raw = index.array
    if mode == "wrap":
        raw = raw % n
    elif mode == "clip":
        raw = like.xp.clip(raw, 0, n - 1)
    elif mode != "raise":
        raise ValueError(f"choose: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    dtype = result_dtype(*options)
    *options, index = broadcast_arrays(*(cast(o, dtype) for o in options),
                                       Tensor._make(raw, like.backend))
    stacked = _shape.stack(options, axis=0)
    picked = _idx.take_along_axis(stacked, index.array[None], 0)
    return _lay.Reshape.apply(picked, shape=picked.shape[1:])


@numpy_function(onp.select)
def select(condlist: Any, choicelist: Any, default: Any = 0) -> Any:
    """NumPy's ``select``: where the first true condition picks its choice, else `default`."""
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    like = like_of(condlist, choicelist, default)
    choices = [operand(c, like) for c in choicelist]
    dtype = result_dtype(*choices, default)
    result: Any = cast(operand(default, like), dtype)
    if not isinstance(result, Tensor):
        result = Tensor._make(like.xp.asarray(result, dtype=dtype), like.backend)
    for cond, choice in zip(reversed(list(condlist)), reversed(choices)):
        result = _ar.Where.apply(as_tensor(cond, like), cast(choice, dtype), result)
    return result


@numpy_function(onp.compress)
def compress(condition: Any, a: Any, axis: Any = None, out: Any = None) -> Any:
    """NumPy's ``compress``: the slices along `axis` where `condition` holds."""
    check_out("compress", out)
    like = like_of(condition, a)
    a = as_tensor(a, like)
    if axis is None:
        a = _lay.Reshape.apply(a, shape=(-1,))
        axis = 0
    axis = _idx._axis(axis, a.ndim, "compress")
    mask = _index_array(condition, like).astype(bool)
    picked = like.xp.nonzero(mask)[0]  # the result's size depends on the data (a sync on GPU)
    return _idx.getitem(a, (slice(None),) * axis + (Tensor._make(picked, like.backend),))


@numpy_function(onp.diff)
def diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = onp._NoValue,
         append: Any = onp._NoValue) -> Any:
    """NumPy's ``diff``: the `n`-th discrete difference ``a[i + 1] - a[i]`` along `axis`."""
    like = like_of(a, prepend, append)
    a = as_tensor(a, like)
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n!r}")
    if n == 0:
        return a
    if a.ndim == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = _idx._axis(axis, a.ndim, "diff")
    parts = []
    for extra in (prepend, append):
        if extra is onp._NoValue:
            parts.append(None)
            continue
        extra = as_tensor(extra, like)
        if extra.ndim == 0:
            shape = list(a.shape)
            shape[axis] = 1
            extra = _lay.BroadcastTo.apply(extra, shape=tuple(shape))
        parts.append(extra)
    if parts[0] is not None or parts[1] is not None:
        dtype = result_dtype(a, *(p for p in parts if p is not None))
        a = _shape.concatenate([cast(p, dtype) for p in (parts[0], a, parts[1])
                                if p is not None], axis=axis)
    lead = (slice(None),) * axis
    for _ in range(n):
        upper = _idx.getitem(a, lead + (slice(1, None),))
        lower = _idx.getitem(a, lead + (slice(None, -1),))
        if a.array.dtype.kind == "b":
            a = constant_call("not_equal", (upper, lower), {})
        else:
            a = _ar.Sub.apply(upper, lower)
    return a


@numpy_function(onp.cross)
def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: Any = None) -> Any:
    """NumPy's ``cross``: the cross product of 3-vectors (or 2-vectors, their z component)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    like = like_of(a, b)
    a = moveaxis(as_tensor(a, like), axisa, -1)
    b = moveaxis(as_tensor(b, like), axisb, -1)
    na, nb = a.shape[-1], b.shape[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n"
                         "(dimension must be 2 or 3)")

    def part(v: Tensor, i: int) -> Any:
        return _idx.getitem(v, (Ellipsis, i)) if i < v.shape[-1] else None

    def mul(x: Any, y: Any) -> Any:
        return None if x is None or y is None else _ar.Mul.apply(x, y)

    def sub(x: Any, y: Any) -> Any:
        if y is None:
            return x
        return _ar.Neg.apply(y) if x is None else _ar.Sub.apply(x, y)

    a0, a1, a2 = (part(a, i) for i in range(3))
    b0, b1, b2 = (part(b, i) for i in range(3))
    z = sub(mul(a0, b1), mul(a1, b0))
    if na == 2 and nb == 2:
        return z
    x = sub(mul(a1, b2), mul(a2, b1))
    y = sub(mul(a2, b0), mul(a0, b2))
    shape = onp.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    dtype = result_dtype(a, b)
    comps = []
    for c in (x, y, z):
        if c is None:
            c = Tensor._make(like.xp.zeros(shape, dtype=dtype), like.backend)
        elif c.shape != shape:
            c = _lay.BroadcastTo.apply(c, shape=shape)
        comps.append(c)
    return moveaxis(_shape.stack(comps, axis=-1), -1, axisc)


@numpy_function(onp.gradient)
def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """NumPy's ``gradient`` with uniform spacings (scalars in `varargs`): central differences
    inside, one-sided ones of `edge_order` (1 or 2) at the ends; one array per axis."""
    from .calls import forward_only

    like = like_of(f, *varargs)
    f = as_tensor(f, like)
    if any(not isinstance(v, (int, float, onp.generic)) or onp.ndim(v) for v in varargs):
        return forward_only("gradient", (f, *varargs), {"axis": axis, "edge_order": edge_order})
    axes = list(range(f.ndim)) if axis is None else (
        [axis] if isinstance(axis, int) else list(axis))
    axes = [_idx._axis(a, f.ndim, "gradient") for a in axes]
    spacings = list(varargs) or [1.0]
    if len(spacings) == 1:
        spacings = spacings * len(axes)
    if len(spacings) != len(axes):
        raise TypeError("invalid number of arguments")
    if edge_order not in (1, 2):
        raise ValueError("'edge_order' greater than 2 not supported")
    if f.array.dtype.kind in "biu":
        f = cast(f, "float64")
    out = []
    for ax, h in zip(axes, spacings):
        n = f.shape[ax]
        if n < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, "
                             "at least (edge_order + 1) elements are required.")
        lead = (slice(None),) * ax

        def part(start: Any, stop: Any, _lead: tuple = lead) -> Tensor:
            return _idx.getitem(f, _lead + (slice(start, stop),))

        inside = _ar.Div.apply(_ar.Sub.apply(part(2, None), part(None, -2)), 2.0 * h)
        if edge_order == 1:
            first = _ar.Div.apply(_ar.Sub.apply(part(1, 2), part(0, 1)), float(h))
            last = _ar.Div.apply(_ar.Sub.apply(part(n - 1, n), part(n - 2, n - 1)), float(h))
        else:
            first = _ar.Div.apply(-1.5 * part(0, 1) + 2.0 * part(1, 2) - 0.5 * part(2, 3),
                                  float(h))
            last = _ar.Div.apply(0.5 * part(n - 3, n - 2) - 2.0 * part(n - 2, n - 1)
                                 + 1.5 * part(n - 1, n), float(h))
        out.append(_shape.concatenate([first, inside, last], axis=ax))
    return out[0] if len(out) == 1 else tuple(out)


def _roll(a: Any, shift: Any, axis: Any = None) -> Any:
    """NumPy's ``roll``: elements shifted along `axis`, wrapping around (a gather)."""
    like = like_of(a)
    a = as_tensor(a, like)
    if axis is None:
        return _lay.Reshape.apply(_roll(_lay.Reshape.apply(a, shape=(-1,)), shift, 0),
                                  shape=a.shape)
    shifts = (shift,) if isinstance(shift, int) else tuple(shift)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    if len(axes) == 1:
        axes = axes * len(shifts)
    for s, ax in zip(shifts, axes):
        ax = _idx._axis(ax, a.ndim, "roll")
        n = a.shape[ax]
        if n == 0:
            continue
        source = (like.xp.arange(n) - s) % n
        a = _idx.getitem(a, (slice(None),) * ax + (Tensor._make(source, like.backend),))
    return a


if hasattr(_ag, "roll"):
    roll = numpy_function(onp.roll, "roll")(lambda a, shift, axis=None: _ag.roll(
        as_tensor(a, like_of(a)), shift, axis))
else:
    roll = numpy_function(onp.roll, "roll")(_roll)
__all__.append("roll")

#: Index-valued functions: results are constants.
CONSTANT_FUNCTIONS = (
    "nonzero", "argwhere", "flatnonzero", "unique", "searchsorted", "argsort", "argpartition",
    "isclose", "allclose", "array_equal", "array_equiv", "count_nonzero", "digitize",
    "bincount", "histogram", "isin", "in1d", "lexsort", "iscomplexobj", "isrealobj",
)
for _name in CONSTANT_FUNCTIONS:
    if hasattr(onp, _name) and not hasattr(_ag, _name):
        globals()[_name] = constant(_name)
        __all__.append(_name)

#: Products and structure ops other op modules define, from the `autograd` namespace.
AG_FUNCTIONS = (
    "dot", "vdot", "inner", "outer", "tensordot", "einsum", "kron", "trace", "diag",
    "diagonal", "diagflat", "tril", "triu", "sort", "partition", "argsort", "argpartition",
    "searchsorted", "nan_to_num", "isclose", "allclose",
)


def _from_ag(name: str) -> Any:
    impl = getattr(_ag, name)

    def f(*args: Any, **kwargs: Any) -> Any:
        if name == "einsum":
            return impl(*args, **kwargs)
        like = like_of(*args, *kwargs.values())
        lifted = [as_tensor(x, like) if not isinstance(x, (int, float, str, type(None)))
                  and hasattr(x, "__len__") or isinstance(x, Tensor) else x for x in args[:2]]
        return impl(*lifted, *args[2:], **kwargs)

    return numpy_function(getattr(onp, name), name, impl.__doc__)(f)


for _name in AG_FUNCTIONS:
    if hasattr(_ag, _name) and hasattr(onp, _name):
        globals()[_name] = _from_ag(_name)
        __all__.append(_name)
