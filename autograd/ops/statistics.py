"""NumPy's statistics: nansum, nanmean, average, median, percentile, quantile, ptp.

All are composed from differentiable ops: NaN-skipping sums mask NaN out with a constant
`where` (a NaN gets a zero gradient); median and the quantiles sort (`sorting.sort`, whose rule
routes gradients by index) and interpolate between the two neighbouring order statistics, so
the gradient goes to those two elements with the interpolation weights (at a tie, to the ones
the stable sort placed there).
"""

from __future__ import annotations

from typing import Any

import backends

from ..tensor import Tensor, _lift
from .arithmetic import where
from .layout import broadcast_to, transpose
from .reduction import _axes, _count, max, min, sum  # noqa: A004 - NumPy's names
from .sorting import sort_with_indices, take_along

__all__ = ["nansum", "nanmean", "average", "median", "percentile", "quantile", "ptp"]

_NAN = float("nan")
_METHODS = ("linear", "lower", "higher", "nearest", "midpoint")


def _not_nan(x: Tensor) -> Tensor:
    if x.dtype.kind not in "fc":
        return Tensor._make(x.xp.ones(x.shape, dtype=bool), x._backend)
    return Tensor._make(x.xp.logical_not(x.xp.isnan(x.array)), x._backend)


def nansum(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Sum over `axis` treating NaN as 0 (NumPy's ``nansum``); a NaN's gradient is 0."""
    return sum(where(_not_nan(x), x, 0.0), axis=axis, keepdims=keepdims)


def nanmean(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean over `axis` of the values that are not NaN (NaN for a slice with none)."""
    keep = _not_nan(x)
    count = sum(keep.astype(x.dtype if x.dtype.kind == "f" else "float64"), axis=axis,
                keepdims=keepdims)
    return nansum(x, axis=axis, keepdims=keepdims) / count


def average(x: Tensor, axis: Any = None, weights: Any = None, returned: bool = False,
            keepdims: bool = False) -> Any:
    """Weighted mean ``sum(x * w) / sum(w)`` over `axis` (NumPy's ``average``).

    Args:
        weights: None (the plain mean), a tensor of x's shape, or a 1-d tensor of the length of
            the single `axis` (then it weighs the positions along that axis). Differentiable.
        returned: also return the sum of the weights, broadcast to the result's shape.
    """
    if weights is None:
        result = sum(x, axis=axis, keepdims=keepdims)
        scale = float(_count(x.shape, _axes(axis, x.ndim)))
        result = result / scale if scale else result + _NAN
        if returned:
            return result, Tensor._make(x.xp.full(result.shape, scale, dtype=result.dtype),
                                        x._backend)
        return result
    w = _lift(weights, x, scalar_ok=False)
    if w.shape != x.shape:
        if axis is None:
            raise TypeError(f"average: weights of shape {w.shape} differ from a {x.shape}; "
                            "give axis")
        if w.ndim != 1 or not isinstance(axis, int):
            raise TypeError(f"average: 1-d weights need a single axis, got weights {w.shape} "
                            f"and axis {axis!r}")
        a = _axes(axis, x.ndim)[0]
        if w.shape[0] != x.shape[a]:
            raise ValueError(f"average: weights of length {w.shape[0]} differ from axis {a} of "
                             f"shape {x.shape}")
        w = w.reshape((1,) * a + (w.shape[0],) + (1,) * (x.ndim - a - 1))
    # The weights' sum over the reduced axes, as if w had x's shape.
    w_full = w if w.shape == x.shape else broadcast_to(w, x.shape)
    total = sum(w_full, axis=axis, keepdims=keepdims)
    result = sum(x * w, axis=axis, keepdims=keepdims) / total
    if returned:
        return result, total
    return result


def ptp(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Range ``max - min`` over `axis` (NumPy's ``ptp``); tied extremes share gradients."""
    return max(x, axis=axis, keepdims=keepdims) - min(x, axis=axis, keepdims=keepdims)


def _last_axis(x: Tensor, axis: Any) -> tuple:
    """x with the reduced axes merged into one last axis, and the keepdims shape."""
    axes = _axes(axis, x.ndim)
    keep_shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
    rest = [i for i in range(x.ndim) if i not in axes]
    if list(axes) != list(range(x.ndim - len(axes), x.ndim)):
        x = transpose(x, tuple(rest + list(axes)))
    n = _count(x.shape, tuple(range(len(rest), x.ndim)))
    return x.reshape(tuple(x.shape[:len(rest)]) + (n,)), keep_shape


def quantile(x: Tensor, q: Any, axis: Any = None, method: str = "linear",
             keepdims: bool = False) -> Tensor:
    """The `q`-th quantiles (q in [0, 1]) over `axis` (NumPy's ``quantile``).

    Args:
        q: a number or a sequence/array of numbers (not differentiable); the result has q's
            shape in front of the reduced shape.
        method: ``'linear'`` (NumPy's default: interpolate at ``q * (n - 1)``), ``'lower'``,
            ``'higher'``, ``'nearest'`` (halves to even) or ``'midpoint'``.

    A slice holding a NaN gives NaN. Differentiable in x: the gradient goes to the two order
    statistics around each quantile, with the interpolation weights.
    """
    if method not in _METHODS:
        raise ValueError(f"quantile: method must be one of {_METHODS}, got {method!r}")
    host = backends.host().xp
    qs = host.asarray(q.numpy() if isinstance(q, Tensor) else q, dtype="float64")
    if qs.size and not ((qs >= 0) & (qs <= 1)).all():
        raise ValueError("quantile: q must lie in [0, 1]")
    flat, keep_shape = _last_axis(x, axis)
    n = flat.shape[-1]
    if n == 0:
        raise ValueError(f"quantile: cannot take a quantile over an empty axis (shape {x.shape})")
    if flat.dtype.kind not in "fc":
        flat = flat.astype("float64")
    s = sort_with_indices(flat, flat.ndim - 1)[0]  # NaN sorts last
    h = qs.reshape(-1) * (n - 1)
    lo = host.floor(h)
    if method == "lower":
        hi = lo
    elif method == "higher":
        lo = hi = host.ceil(h)
    elif method == "nearest":
        lo = hi = host.around(h)
    else:
        hi = host.ceil(h)
    t = h - lo
    backend = x._backend

    def pick(index: Any) -> Tensor:
        idx = backend.asarray(index.astype("int64"))
        idx = x.xp.broadcast_to(idx, s.shape[:-1] + (idx.shape[0],))
        return take_along(s, idx, s.ndim - 1, unique=False)

    low = pick(lo)
    if method in ("lower", "higher", "nearest"):
        value = low
    else:
        high = pick(hi)
        weight = Tensor._make(backend.asarray(t.astype(s.dtype)), backend)
        if method == "midpoint":
            value = (low + high) * 0.5
        else:
            # NumPy's lerp: from the nearer end, so that t = 1 gives `high` exactly.
            diff = high - low
            value = where(weight >= 0.5, high - diff * (1.0 - weight), low + diff * weight)
    if s.dtype.kind == "f":
        has_nan = Tensor._make(x.xp.isnan(s.array[..., -1:]), backend)
        value = where(has_nan, _NAN, value)
    # (..., len(q)) -> q's shape in front of the reduced shape (keepdims: x's axes as 1).
    value = transpose(value, (value.ndim - 1,) + tuple(range(value.ndim - 1)))
    reduced = keep_shape if keepdims else value.shape[1:]
    return value.reshape(qs.shape + tuple(reduced))


def percentile(x: Tensor, q: Any, axis: Any = None, method: str = "linear",
               keepdims: bool = False) -> Tensor:
    """The `q`-th percentiles (q in [0, 100]) over `axis` (NumPy's ``percentile``)."""
    host = backends.host().xp
    qs = host.asarray(q.numpy() if isinstance(q, Tensor) else q, dtype="float64")
    return quantile(x, qs / 100.0, axis=axis, method=method, keepdims=keepdims)


def median(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """NumPy's ``median``: the middle value over `axis`, the mean of the two middle values for
    an even count (PyTorch's ``Tensor.median`` takes the lower one instead); NaN if a slice
    holds NaN. The gradient goes to the middle element(s), half each for two."""
    return quantile(x, 0.5, axis=axis, method="midpoint", keepdims=keepdims)

