"""`autograd.numpy`'s array creation: array/asarray from Tensors (and lists of them),
``*_like`` on a Tensor's device, full with a Tensor fill value, and linspace/logspace that are
differentiable in their start and stop.

zeros, ones, empty, eye, identity, arange and the other functions that take no arrays return
plain NumPy arrays, as NumPy does; combined with Tensors they join the Tensors' device.
"""

from __future__ import annotations

import operator
from typing import Any

from ..ops import arithmetic as _ar
from ..ops import indexing as _idx
from ..ops import layout as _lay
from ..ops import shape as _shape
from ..ops.unary import Clone
from ..tensor import Tensor
from .dispatch import as_tensor, cast, like_of, numpy_function, onp, result_dtype, tensors_in

__all__ = [
    "array", "asarray", "asanyarray", "ascontiguousarray", "zeros_like", "ones_like",
    "empty_like", "full_like", "full", "linspace", "logspace", "zeros", "ones", "empty", "eye",
    "identity", "arange",
]

# Functions without array arguments: NumPy's own (plain arrays, NumPy's defaults).
zeros = onp.zeros
ones = onp.ones
empty = onp.empty
eye = onp.eye
identity = onp.identity
arange = onp.arange


def _build(obj: Any, like: Tensor) -> Tensor:
    """A nested sequence holding Tensors as one Tensor (NumPy's dtype discovery, then stack)."""
    if isinstance(obj, Tensor):
        return as_tensor(obj, like)
    if isinstance(obj, (list, tuple)) and tensors_in((obj,)):
        if not obj:
            return as_tensor(onp.asarray([]), like)
        items = [_build(x, like) for x in obj]
        dtype = onp.result_type(*(t.array.dtype for t in items))
        shape = items[0].shape
        if any(t.shape != shape for t in items):
            shapes = sorted({str(t.shape) for t in items})
            raise ValueError(f"array: the sequence is ragged (items of shapes {', '.join(shapes)})")
        return _shape.stack([cast(t, dtype) for t in items], axis=0)
    return as_tensor(onp.asarray(obj), like)


@numpy_function(onp.array)
def array(object: Any, dtype: Any = None, *, copy: Any = True, order: str = "K",  # noqa: A002
          subok: bool = False, ndmin: int = 0, like: Any = None) -> Any:
    """NumPy's ``array``: also from lists of Tensors (stacked, differentiably)."""
    t = _build(object, like_of(object))
    if dtype is not None:
        t = cast(t, onp.dtype(dtype))
    if copy and t is object:
        t = Clone.apply(t)
    if ndmin > t.ndim:
        t = _lay.Reshape.apply(t, shape=(1,) * (ndmin - t.ndim) + t.shape)
    return t


@numpy_function(onp.asarray)
def asarray(a: Any, dtype: Any = None, order: Any = None, *, device: Any = None,
            copy: Any = None, like: Any = None) -> Any:
    """NumPy's ``asarray``: a Tensor stays itself (cast if `dtype` asks)."""
    t = _build(a, like_of(a))
    return cast(t, onp.dtype(dtype)) if dtype is not None else t


@numpy_function(onp.asanyarray, "asanyarray")
def asanyarray(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """NumPy's ``asanyarray`` (``asarray`` for Tensors)."""
    return asarray(a, dtype)


@numpy_function(onp.ascontiguousarray, "ascontiguousarray")
def ascontiguousarray(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """NumPy's ``ascontiguousarray`` (``asarray`` for Tensors: layouts are the backend's)."""
    return asarray(a, dtype)


def _like(name: str, fill: Any) -> Any:
    def f(a: Any, dtype: Any = None, order: str = "K", subok: bool = True,
          shape: Any = None, **kwargs: Any) -> Any:
        a = as_tensor(a, like_of(a))
        dtype = a.array.dtype if dtype is None else onp.dtype(dtype)
        shape = a.shape if shape is None else ((shape,) if isinstance(shape, int) else shape)
        return Tensor._make(fill(a.xp, tuple(shape), dtype), a.backend)

    f.__doc__ = f"NumPy's ``{name}``: a constant on the Tensor's device."
    return numpy_function(getattr(onp, name), name)(f)


zeros_like = _like("zeros_like", lambda xp, shape, dtype: xp.zeros(shape, dtype=dtype))
ones_like = _like("ones_like", lambda xp, shape, dtype: xp.ones(shape, dtype=dtype))
empty_like = _like("empty_like", lambda xp, shape, dtype: xp.empty(shape, dtype=dtype))


@numpy_function(onp.full_like)
def full_like(a: Any, fill_value: Any, dtype: Any = None, order: str = "K", subok: bool = True,
              shape: Any = None, **kwargs: Any) -> Any:
    """NumPy's ``full_like`` (differentiable in a Tensor `fill_value`)."""
    like = like_of(a, fill_value)
    base = as_tensor(a, like)
    dtype = base.array.dtype if dtype is None else onp.dtype(dtype)
    shape = base.shape if shape is None else ((shape,) if isinstance(shape, int) else shape)
    return full(tuple(shape), as_tensor(fill_value, like) if isinstance(fill_value, Tensor)
                else fill_value, dtype=dtype, like=base)


@numpy_function(onp.full)
def full(shape: Any, fill_value: Any, dtype: Any = None, order: str = "C", *,
         like: Any = None, device: Any = None) -> Any:
    """NumPy's ``full``: `fill_value` broadcast to `shape` (differentiable in a Tensor fill)."""
    shape = (operator.index(shape),) if not isinstance(shape, (tuple, list)) else tuple(shape)
    if not isinstance(fill_value, Tensor):
        base = like if isinstance(like, Tensor) else like_of(fill_value)
        dtype = onp.array(fill_value).dtype if dtype is None else onp.dtype(dtype)
        return Tensor._make(base.xp.full(shape, fill_value, dtype=dtype), base.backend)
    fill = cast(fill_value, onp.dtype(dtype)) if dtype is not None else fill_value
    return _lay.BroadcastTo.apply(fill, shape=shape)


@numpy_function(onp.linspace)
def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True,
             retstep: bool = False, dtype: Any = None, axis: int = 0, *,
             device: Any = None) -> Any:
    """NumPy's ``linspace``, differentiable in `start` and `stop` (Tensors of any shape).

    The values are NumPy's: ``k * step + start`` with ``step = (stop - start) / div``, and the
    last value is `stop` itself when `endpoint` is set.
    """
    like = like_of(start, stop)
    start, stop = as_tensor(start, like), as_tensor(stop, like)
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    div = (num - 1) if endpoint else num
    dt = result_dtype(start, stop, float(num))
    start, stop = cast(start, dt), cast(stop, dt)
    delta = _ar.Sub.apply(stop, start)
    batch = onp.broadcast_shapes(start.shape, stop.shape)
    k = Tensor._make(like.xp.arange(num, dtype=dt).reshape((-1,) + (1,) * len(batch)),
                     like.backend)
    if div > 0:
        step = _ar.Div.apply(delta, float(div))
        y = _ar.Add.apply(_ar.Mul.apply(k, step), start)
    else:
        step = float("nan")
        y = _ar.Add.apply(_ar.Mul.apply(k, delta), start)
    y = _lay.BroadcastTo.apply(y, shape=(num,) + batch) if y.shape != (num,) + batch else y
    if endpoint and num > 1:
        last = _lay.BroadcastTo.apply(stop, shape=batch) if stop.shape != batch else stop
        last = _lay.Reshape.apply(last, shape=(1,) + batch)
        y = _shape.concatenate([_idx.getitem(y, (slice(0, num - 1),)), last], axis=0)
    if axis != 0:
        from .shaping import moveaxis

        y = moveaxis(y, 0, axis)
    if dtype is not None:
        target = onp.dtype(dtype)
        if target.kind in "iu":
            y = Tensor._make(like.xp.floor(y.array), like.backend)
        y = cast(y, target)
    return (y, step) if retstep else y


@numpy_function(onp.logspace)
def logspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: Any = 10.0,
             dtype: Any = None, axis: int = 0) -> Any:
    """NumPy's ``logspace``: ``base ** linspace(start, stop)``, differentiable in all three."""
    from .elementwise import power

    like = like_of(start, stop, base)
    y = linspace(as_tensor(start, like), as_tensor(stop, like), num=num, endpoint=endpoint,
                 axis=axis)
    if isinstance(base, Tensor) or not isinstance(base, (int, float)):
        base = as_tensor(base, like)
        from .shaping import expand_dims

        base = expand_dims(base, axis) if base.ndim else base
    out = power(base, y)
    return cast(out, onp.dtype(dtype)) if dtype is not None else out
