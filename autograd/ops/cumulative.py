"""Cumulative ops along one axis: cumsum, cumprod, cummax, cummin, logcumsumexp.

All are vectorised. NumPy's ``ufunc.accumulate`` runs the scans of cummax/cummin/logcumsumexp
on the host; CuPy has no ``accumulate`` for maximum, minimum or logaddexp, so on a device they
run as a doubling scan (log2(n) whole-array passes, Hillis-Steele).

Gradients: cumsum's is a reversed cumsum. cumprod's is exact where x holds zeros: first order
takes the fast ``revcumsum(gy * y) / x`` where the slice has no zero and handles the first zero
of a slice apart (see `Cumprod`); recorded (create_graph) it is written without any division,
so second derivatives are exact at zeros too. cummax/cummin route each output's gradient to the
index they return (the last of tied maxima, as PyTorch). logcumsumexp's rule is two reversed
logcumsumexps of the positive and negative parts of gy (stable: no exp overflows).
"""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..tensor import Tensor
from .arithmetic import where
from .indexing import _axis
from .joining import concatenate
from .sorting import take_along

__all__ = ["cumsum", "cumprod", "logcumsumexp"]

_NEG_INF = float("-inf")


def _flip(xp: Any, x: Any, axis: int, reverse: bool) -> Any:
    return xp.flip(x, axis) if reverse else x


def _cut(x: Any, axis: int, start: Any, stop: Any) -> Any:
    return x[(slice(None),) * axis + (slice(start, stop),)]


def doubling_scan(xp: Any, x: Any, axis: int, op: Any) -> Any:
    """Inclusive scan of the associative elementwise `op(earlier, later)` along `axis`, in
    ceil(log2(n)) vectorised passes (for devices without ``ufunc.accumulate``)."""
    n = x.shape[axis]
    shift = 1
    while shift < n:
        combined = op(_cut(x, axis, None, n - shift), _cut(x, axis, shift, None))
        x = xp.concatenate([_cut(x, axis, None, shift), combined], axis=axis)
        shift *= 2
    return x


# -- cumsum ----------------------------------------------------------------------------------
class Cumsum(Function):
    """y = running sum of x along `axis` (from the end when `reverse`); the rule is the
    running sum of gy in the other direction."""

    raw_backward = True

    def forward(self, x):
        xp = self.xp
        return _flip(xp, xp.cumsum(_flip(xp, x, self.axis, self.reverse), axis=self.axis),
                     self.axis, self.reverse)

    def backward(self, gy):
        return Cumsum.apply(gy, axis=self.axis, reverse=not self.reverse)


def cumsum(x: Tensor, axis: int | None = None, dtype: Any = None) -> Tensor:
    """NumPy's ``cumsum``: running sums along `axis` (of the flattened x for None).

    Integer and boolean inputs sum in int64 (NumPy and PyTorch); `dtype` casts first.
    """
    x, axis = _along(x, axis, "cumsum")
    if dtype is not None:
        x = x.astype(dtype)
    return Cumsum.apply(x, axis=axis, reverse=False)


def _along(x: Tensor, axis: Any, op: str) -> tuple:
    if axis is None:
        return x.reshape((-1,)), 0
    if x.ndim == 0:
        return x.reshape((1,)), 0  # as NumPy: a 0-d input gives a 1-d result
    return x, _axis(axis, x.ndim, op)


# -- cumprod ---------------------------------------------------------------------------------
class Cumprod(Function):
    """y = running product of x along `axis`.

    dy_i/dx_k = prod_{j <= i, j != k} x_j, so gx_k = sum_{i >= k} gy_i prod_{j <= i, j != k}
    x_j. Before the first zero z of a slice that is ``revcumsum(gy * y)_k / x_k``; at z it is
    ``revcumsum(gy * y~)_z`` with y~ the running product of x with x_z set to 1; after z it is
    0 (every product holds x_z). Recorded, it is ``E_k * S_k`` with E the exclusive running
    product and S the reverse linear recurrence ``S_k = gy_k + x_{k+1} S_{k+1}`` (a doubling
    scan of tensor ops): no division, exact to every order.
    """

    raw_backward = True

    def forward(self, x):
        y = self.xp.cumprod(x, axis=self.axis)
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, y = self.saved_tensors
        if isinstance(gy, Tensor):
            return _cumprod_grad_recorded(x, y, gy, self.axis)
        return _cumprod_grad_raw(self.backend, x, y, gy, self.axis)


def _revcumsum(xp: Any, x: Any, axis: int) -> Any:
    return xp.flip(xp.cumsum(xp.flip(x, axis), axis=axis), axis)


def _cumprod_grad_raw(backend: Any, x: Any, y: Any, gy: Any, axis: int) -> Any:
    xp = backend.xp
    r = _revcumsum(xp, gy * y, axis)
    zero = x == 0
    # On the host a slice without zeros is the common case and checking costs one pass; on a
    # device the check would be a synchronisation, so the general formula always runs there.
    if not backend.is_device and not zero.any():
        return r / x
    seen = xp.cumsum(zero, axis=axis)
    before = seen == 0
    first = zero & (seen == 1)
    one = xp.ones((), dtype=x.dtype)
    g = xp.where(before, r / xp.where(before, x, one), xp.zeros((), dtype=r.dtype))
    y_first = xp.cumprod(xp.where(first, one, x), axis=axis)
    return xp.where(first, _revcumsum(xp, gy * y_first, axis), g)


def _shift_back(t: Tensor, axis: int, d: int, fill: float) -> Tensor:
    """t moved d places toward the start along `axis` (t_{k+d} at k), `fill` past the end."""
    n = t.shape[axis]
    pad_shape = t.shape[:axis] + (min(d, n),) + t.shape[axis + 1:]
    pad = Tensor._make(t.xp.full(pad_shape, fill, dtype=t.dtype), t._backend)
    return concatenate([t[(slice(None),) * axis + (slice(d, None),)], pad], axis=axis)


def _shift_forward(t: Tensor, axis: int, fill: float) -> Tensor:
    """t moved one place toward the end (t_{k-1} at k), `fill` at the start."""
    n = t.shape[axis]
    pad_shape = t.shape[:axis] + (min(1, n),) + t.shape[axis + 1:]
    pad = Tensor._make(t.xp.full(pad_shape, fill, dtype=t.dtype), t._backend)
    return concatenate([pad, t[(slice(None),) * axis + (slice(0, max(n - 1, 0)),)]], axis=axis)


def _cumprod_grad_recorded(x: Tensor, y: Tensor, gy: Tensor, axis: int) -> Tensor:
    n = x.shape[axis]
    if n == 0:
        return gy
    exclusive = _shift_forward(y, axis, 1.0)  # prod_{j < k} x_j
    s, a = gy, _shift_back(x, axis, 1, 0.0)  # S_k = gy_k + a_k S_{k+1}, a_k = x_{k+1}
    d = 1
    while d < n:
        s = s + a * _shift_back(s, axis, d, 0.0)
        a = a * _shift_back(a, axis, d, 0.0)
        d *= 2
    return exclusive * s


def cumprod(x: Tensor, axis: int | None = None, dtype: Any = None) -> Tensor:
    """NumPy's ``cumprod``: running products along `axis` (of the flattened x for None).

    The gradient is exact where x holds zeros (see `Cumprod`).
    """
    x, axis = _along(x, axis, "cumprod")
    if dtype is not None:
        x = x.astype(dtype)
    return Cumprod.apply(x, axis=axis)


# -- cummax, cummin --------------------------------------------------------------------------
def cumulative_extreme(x: Tensor, axis: int, largest: bool) -> tuple:
    """(values, int64 indices) of the running maximum (or minimum) along `axis`.

    Ties take the later index and a NaN sticks (PyTorch's cummax/cummin); the gradient of each
    output goes to the index returned.
    """
    xp, data = x.xp, x.array
    n = data.shape[axis]
    better = xp.maximum if largest else xp.minimum
    if x.backend.is_device:
        values = doubling_scan(xp, data, axis, better)
    else:
        values = better.accumulate(data, axis=axis) if n else data.copy()
    # A new extreme (or a tie with it, or a NaN) starts at each such place; the index is the
    # latest of those places so far.
    record = data == values
    if data.dtype.kind in "fc":
        record |= xp.isnan(data)
    positions = xp.arange(n).reshape((n,) + (1,) * (data.ndim - axis - 1))
    starts = xp.where(record, positions, 0)
    if x.backend.is_device:
        index = doubling_scan(xp, starts, axis, xp.maximum)
    else:
        index = xp.maximum.accumulate(starts, axis=axis) if n else starts
    index = index.astype("int64", copy=False)
    return take_along(x, index, axis, unique=False), Tensor._make(index, x._backend)


# -- logcumsumexp ----------------------------------------------------------------------------
class LogCumSumExp(Function):
    """y_i = log(sum_{j <= i} exp(x_j)) along `axis` (from the end when `reverse`).

    gx_k = sum_{i >= k} gy_i exp(x_k - y_i). With gy split into its positive and negative
    parts, each sum is ``exp(x_k + R_k)`` with R a logcumsumexp (the other way) of
    ``log(gy_i) - y_i``: no exp overflows, and the rule is made of differentiable ops. A slice
    whose prefix is all -inf has y = -inf and passes no gradient.
    """

    def forward(self, x):
        xp = self.xp
        data = _flip(xp, x, self.axis, self.reverse)
        if x.shape[self.axis] == 0:
            y = data.copy()
        elif self.backend.is_device:
            y = doubling_scan(xp, data, self.axis, xp.logaddexp)
        else:
            y = xp.logaddexp.accumulate(data, axis=self.axis)
        y = _flip(xp, y, self.axis, self.reverse)
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, y = self.saved_tensors
        empty = y == _NEG_INF
        safe_y = where(empty, 0.0, y)
        total = None
        for sign in (1.0, -1.0):
            part = gy * sign
            positive = part > 0
            logs = where(positive, where(positive, part, 1.0).log(), _NEG_INF)
            terms = where(empty, _NEG_INF, logs - safe_y)
            r = LogCumSumExp.apply(terms, axis=self.axis, reverse=not self.reverse)
            piece = (x + r).exp() * sign
            total = piece if total is None else total + piece
        return total


def logcumsumexp(x: Tensor, axis: int = -1) -> Tensor:
    """``log(cumsum(exp(x)))`` along `axis`, computed stably (a running logaddexp)."""
    x, axis = _along(x, axis, "logcumsumexp")
    if x.dtype.kind not in "fc":
        x = x.astype("float32")
    return LogCumSumExp.apply(x, axis=axis, reverse=False)


def cummax(x: Tensor, dim: int) -> tuple:
    """PyTorch's ``cummax``: ``(values, indices)`` of the running maximum along `dim`."""
    return Tensor.cummax(x, dim)


def cummin(x: Tensor, dim: int) -> tuple:
    """PyTorch's ``cummin``: ``(values, indices)`` of the running minimum along `dim`."""
    return Tensor.cummin(x, dim)
