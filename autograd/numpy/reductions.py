"""`autograd.numpy`'s reductions: sum, mean, var, std, prod, max, min (and amax, amin), argmax,
argmin, all, any, with NumPy's ``axis``, ``keepdims``, ``ddof``, ``dtype`` and ``initial``.

Gradients at ties and zeros: tied maxima (minima) share the gradient evenly; prod's gradient is
exact where the input holds zeros (the product of the other elements), see autograd/ops/
reduction.py. Reductions other op modules define (cumsum, nansum, median, ...) are taken from
the `autograd` namespace where it has them.
"""

from __future__ import annotations

from typing import Any

import autograd as _ag

from ..ops import arithmetic as _ar
from ..ops import reduction as _red
from ..tensor import Tensor
from .calls import check_out, constant_call
from .dispatch import as_tensor, cast, like_of, numpy_function, onp

__all__ = ["sum", "mean", "var", "std", "prod", "max", "min", "amax", "amin", "argmax",
           "argmin", "all", "any"]

_NO_VALUE = getattr(onp, "_NoValue", None)


def _prepare(name: str, a: Any, dtype: Any, out: Any, where: Any) -> Tensor:
    check_out(name, out)
    if where is not True and where is not _NO_VALUE:
        raise TypeError(f"autograd.numpy.{name}: where= is not supported on Tensors; use "
                        "np.where on the input first")
    a = as_tensor(a, like_of(a))
    return cast(a, dtype) if dtype is not None else a


def _axis(axis: Any) -> Any:
    if isinstance(axis, list):
        return tuple(axis)
    return axis


def _given(value: Any) -> bool:
    return value is not None and value is not _NO_VALUE


@numpy_function(onp.sum)
def sum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,  # noqa: A001
        keepdims: bool = False, initial: Any = _NO_VALUE, where: Any = True) -> Any:
    """NumPy's ``sum`` over `axis` (all axes for None); an empty sum is 0 (plus `initial`)."""
    a = _prepare("sum", a, dtype, out, where)
    if a.array.dtype.kind == "b":
        a = cast(a, "int64")
    y = _red.Sum.apply(a, axis=_axis(axis), keepdims=bool(keepdims))
    return _ar.Add.apply(y, initial) if _given(initial) else y


@numpy_function(onp.mean)
def mean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
         where: Any = True) -> Any:
    """NumPy's ``mean`` over `axis` (NaN for an empty slice, as in NumPy)."""
    a = _prepare("mean", a, dtype, out, where)
    if a.array.dtype.kind in "biu":
        a = cast(a, "float64")
    return _red.mean(a, axis=_axis(axis), keepdims=bool(keepdims))


def _ddof(ddof: Any, correction: Any) -> Any:
    if _given(correction):
        if ddof:
            raise ValueError("var/std: give ddof or correction, not both")
        return correction
    return ddof


@numpy_function(onp.var)
def var(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
        keepdims: bool = False, *, where: Any = True, mean: Any = _NO_VALUE,
        correction: Any = _NO_VALUE) -> Any:
    """NumPy's ``var``: the mean squared deviation, divided by ``n - ddof`` (biased for 0)."""
    a = _prepare("var", a, dtype, out, where)
    if a.array.dtype.kind in "biu":
        a = cast(a, "float64")
    return _red.var(a, axis=_axis(axis), ddof=_ddof(ddof, correction), keepdims=bool(keepdims))


@numpy_function(onp.std)
def std(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
        keepdims: bool = False, *, where: Any = True, mean: Any = _NO_VALUE,
        correction: Any = _NO_VALUE) -> Any:
    """NumPy's ``std``: ``sqrt(var)``; where the variance is 0 its gradient is 0, not NaN."""
    a = _prepare("std", a, dtype, out, where)
    if a.array.dtype.kind in "biu":
        a = cast(a, "float64")
    return _red.std(a, axis=_axis(axis), ddof=_ddof(ddof, correction), keepdims=bool(keepdims))


@numpy_function(onp.prod)
def prod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
         initial: Any = _NO_VALUE, where: Any = True) -> Any:
    """NumPy's ``prod`` over `axis`; the gradient is exact where the input holds zeros."""
    a = _prepare("prod", a, dtype, out, where)
    if a.array.dtype.kind == "b":
        a = cast(a, "int64")
    y = _red.Prod.apply(a, axis=_axis(axis), keepdims=bool(keepdims))
    return _ar.Mul.apply(y, initial) if _given(initial) else y


def _extreme(name: str, op: Any, pick: Any) -> Any:
    def f(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False,
          initial: Any = _NO_VALUE, where: Any = True) -> Any:
        a = _prepare(name, a, None, out, where)
        if _given(initial) and a.size == 0:
            shape = onp.empty(a.shape).sum(axis=_axis(axis), keepdims=bool(keepdims)).shape
            return Tensor._make(a.xp.full(shape, initial, dtype=a.array.dtype), a.backend)
        y = op.apply(a, axis=_axis(axis), keepdims=bool(keepdims))
        return pick.apply(y, initial) if _given(initial) else y

    f.__doc__ = (f"NumPy's ``{name}`` over `axis`; tied extremes share the gradient evenly "
                 "(an empty reduction without `initial` raises ValueError).")
    return numpy_function(getattr(onp, name), name)(f)


max = _extreme("max", _red.Max, _ar.Maximum)  # noqa: A001
min = _extreme("min", _red.Min, _ar.Minimum)  # noqa: A001
amax = _extreme("amax", _red.Max, _ar.Maximum)
amin = _extreme("amin", _red.Min, _ar.Minimum)


def _arg(name: str) -> Any:
    def f(a: Any, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
        check_out(name, out)
        return getattr(_red, name)(as_tensor(a, like_of(a)), axis=axis, keepdims=keepdims)

    f.__doc__ = f"NumPy's ``{name}`` (an int64 constant: indices carry no gradient)."
    return numpy_function(getattr(onp, name), name, kind="constant")(f)


argmax = _arg("argmax")
argmin = _arg("argmin")


def _logical(name: str) -> Any:
    def f(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, *,
          where: Any = True) -> Any:
        check_out(name, out)
        return constant_call(name, (a,), {"axis": _axis(axis), "keepdims": keepdims})

    f.__doc__ = f"NumPy's ``{name}`` (a boolean constant)."
    return numpy_function(getattr(onp, name), name, kind="constant")(f)


all = _logical("all")  # noqa: A001
any = _logical("any")  # noqa: A001

#: Reductions and scans other op modules define, from the `autograd` namespace where present.
AG_REDUCTIONS = (
    "cumsum", "cumprod", "nansum", "nanmean", "nanprod", "nanmax", "nanmin", "nanvar",
    "nanstd", "average", "median", "nanmedian", "percentile", "nanpercentile", "quantile",
    "nanquantile", "ptp", "nancumsum", "nancumprod", "count_nonzero",
)


def from_ag(name: str) -> Any:
    """NumPy's `name` run by ``autograd.<name>`` (first argument made a Tensor)."""
    impl = getattr(_ag, name)

    def f(a: Any, *args: Any, **kwargs: Any) -> Any:
        return impl(as_tensor(a, like_of(a, *args, *kwargs.values())), *args, **kwargs)

    return numpy_function(getattr(onp, name), name, impl.__doc__)(f)


for _name in AG_REDUCTIONS:
    if hasattr(_ag, _name) and hasattr(onp, _name):
        globals()[_name] = from_ag(_name)
        __all__.append(_name)
