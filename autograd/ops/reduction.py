"""Reductions: sum, mean, var, std, prod, max, min, logsumexp, softmax, log_softmax, argmax.

NumPy semantics throughout: ``axis`` is None (all axes), an int (negative counts from the end) or
a tuple of ints, and ``keepdims`` keeps reduced axes with length 1.

Primitives are Sum, Prod, Max, Min, LogSumExp and LogSoftmax; mean, var, std and softmax are
composed from them and from elementwise ops. LogSumExp and LogSoftmax are fused for numerical
stability: they subtract the maximum before exponentiating and keep -inf entries (masked logits)
from turning gradients into NaN. argmax/argmin are not differentiable and return plain int64
tensors.
"""

from __future__ import annotations

import builtins
from typing import Any

import backends

from ..function import Function
from ..tensor import Tensor
from .arithmetic import where
from .shape import BroadcastTo

__all__ = [
    "sum", "mean", "var", "std", "prod", "max", "min", "logsumexp", "softmax", "log_softmax",
    "argmax", "argmin",
]

_NEG_INF = float("-inf")
_NAN = float("nan")


def _axes(axis: Any, ndim: int, op: str = "") -> tuple:
    """`axis` as a tuple of non-negative ints (all axes for None).

    A 0-d tensor takes axis 0 or -1 and reduces over nothing (returns itself), as PyTorch's
    reductions and NumPy's ufunc reductions (sum, prod, max, min) do.
    """
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    out = []
    for a in axis:
        if ndim == 0 and a in (0, -1):
            continue
        if not -ndim <= a < ndim:
            raise ValueError(f"{op + ': ' if op else ''}axis {a} is out of bounds for a tensor "
                             f"of dimension {ndim}"
                             + (" (a 0-d tensor takes axis 0 or -1)" if ndim == 0 else ""))
        out.append(a % ndim)
    return tuple(out)


def _keepdims_shape(shape: tuple, axes: tuple) -> tuple:
    """The shape a reduction over `axes` has with keepdims=True."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _count(shape: tuple, axes: tuple) -> int:
    """How many elements each reduced slice holds."""
    count = 1
    for a in axes:
        count *= shape[a]
    return count


def _keep(t: Tensor, fn: Function) -> Tensor:
    """`t` (shaped like the op's output) reshaped to the keepdims shape, to broadcast against x."""
    if fn.keepdims:
        return t
    return t.reshape(_keepdims_shape(fn.in_shape, fn.axes))


def _finite_max(xp: Any, x: Any, axes: tuple) -> Any:
    """The maximum over `axes` (keepdims) to subtract before exp, replaced by 0 where it is not
    finite (an all -inf slice must not give -inf - -inf = NaN) or where a slice is empty."""
    shape = _keepdims_shape(x.shape, axes)
    if any(x.shape[a] == 0 for a in axes):
        return xp.zeros(shape, dtype=x.dtype)
    m = xp.max(x, axis=axes, keepdims=True)
    return xp.where(xp.isfinite(m), m, 0)


def _softmax_axes(axis: Any, ndim: int) -> tuple:
    # A 0-d tensor is one slice of one element: its (log-)softmax is 1 (0).
    return () if ndim == 0 and axis is None else _axes(axis, ndim)


# -- sum, mean, var, std ---------------------------------------------------------------------


class Sum(Function):
    """y = sum of x over `axis`; the rule broadcasts gy back."""

    raw_backward = True

    def forward(self, x):
        self.in_shape = x.shape
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        if not self.keepdims:
            gy = gy.reshape(_keepdims_shape(self.in_shape, _axes(self.axis, len(self.in_shape))))
        return BroadcastTo.apply(gy, shape=self.in_shape)


def sum(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over `axis` (all axes for None); an empty sum is 0."""
    if axis is not None:
        _axes(axis, x.ndim, "sum")  # checked here, for an error that names the op
    return Sum.apply(x, axis=axis, keepdims=keepdims)


def mean(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over `axis` (NaN for an empty reduction, as NumPy gives)."""
    count = _count(x.shape, _axes(axis, x.ndim, "mean"))
    if not (x.dtype.kind in "fc" or x.dtype.name == "bfloat16"):
        # NumPy averages integers and bools in float64 (the operators below would promote
        # PyTorch's way, to the default dtype).
        x = Tensor._make(x.array.astype(backends.dtype_of("float64")), x.backend)
    total = Sum.apply(x, axis=axis, keepdims=keepdims)
    # Empty slices: NaN added, not multiplied, so that no 0 * NaN reaches second-order gradients.
    return total * (1.0 / count) if count else total + _NAN


def var(x: Tensor, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Variance over `axis`: ``sum((x - mean)**2) / (n - ddof)``, composed from sum and mean.

    Args:
        x: input tensor.
        axis: None (all axes), an int or a tuple of ints.
        ddof: delta degrees of freedom (1 gives the unbiased estimate).
        keepdims: keep the reduced axes with length 1.

    Returns:
        The variance; as in NumPy, inf or NaN where ``n - ddof <= 0``.
    """
    count = _count(x.shape, _axes(axis, x.ndim, "var"))
    d = x - mean(x, axis=axis, keepdims=True)
    squares = sum(d * d, axis=axis, keepdims=keepdims)
    if count == 0:
        return squares + _NAN  # empty slices, as in `mean`
    # Dividing by a Python 0.0 gives NumPy's inf/NaN (with its warning) where n <= ddof.
    return squares / float(builtins.max(count - ddof, 0))


def std(x: Tensor, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Standard deviation over `axis`: ``sqrt(var(x, axis, ddof))``.

    At a zero variance (all elements of a slice equal) std is not differentiable; there it
    passes on the gradient of the variance, which is 0, rather than 0 * inf = NaN.

    Example:
        >>> import autograd as ag
        >>> ag.std(ag.tensor([1.0, 3.0])).item()
        1.0
    """
    _axes(axis, x.ndim, "std")  # checked here, for an error that names std, not var
    v = var(x, axis=axis, ddof=ddof, keepdims=keepdims)
    # sqrt only where v > 0 (the inner where keeps its infinite slope at 0 out of the graph);
    # elsewhere v itself: 0 stays 0 and a NaN from empty slices or n <= ddof passes through.
    positive = v > 0
    return where(positive, where(positive, v, 1.0) ** 0.5, v)


# -- prod ------------------------------------------------------------------------------------


class Prod(Function):
    """y = product of x over `axis`.

    dy/dx_i is the product of the other elements of x_i's slice. It is computed as the product
    of the nonzero others (``prod(x with zeros set to 1) / x_i``) times the product of the zero
    others, so that it is exact with zeros present and needs no division by zero. The zeros'
    part is written so that second derivatives are exact too: with one zero z, the others get
    ``... * x_z`` (0 in value, slope 1 in x_z); with two zeros, each zero gets the other one.
    """

    def forward(self, x):
        self.in_shape = x.shape
        self.axes = _axes(self.axis, x.ndim)
        self.save_for_backward(x)
        return self.xp.prod(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return _keep(gy, self) * _product_of_others(x, self.axes)


def _product_of_others(x: Tensor, axes: tuple) -> Tensor:
    """For each element, the product of the other elements of its slice over `axes`."""
    zero = x == 0
    n_zero = zero.astype(x.dtype).sum(axis=axes, keepdims=True)
    safe = where(zero, 1.0, x)
    nonzero_others = prod(safe, axis=axes, keepdims=True) / safe
    zero_sum = where(zero, x, 0.0).sum(axis=axes, keepdims=True)  # 0, with slope 1 in each zero
    # The product of the zero others: 1 if there are none; a zero's own factor is left out; with
    # three or more zeros every product holds two zeros, so its value and slope are both 0.
    at_zero = where(n_zero == 1, 1.0, where(n_zero == 2, zero_sum - x, 0.0))
    at_nonzero = where(n_zero == 0, 1.0, where(n_zero == 1, zero_sum, 0.0))
    return nonzero_others * where(zero, at_zero, at_nonzero)


def prod(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Product over `axis` (all axes for None); an empty product is 1.

    The gradient is exact where x holds zeros (see `Prod`).
    """
    return Prod.apply(x, axis=axis, keepdims=keepdims)


# -- max, min --------------------------------------------------------------------------------


def _nonempty_axes(name: str, x: Any, axis: Any) -> tuple:
    axes = _axes(axis, x.ndim)
    if any(x.shape[a] == 0 for a in axes):
        raise ValueError(
            f"{name}: cannot reduce a tensor of shape {tuple(x.shape)} over axis {axis}: a "
            f"reduced axis has length 0 and the {name} of no elements is undefined"
        )
    return axes


class Max(Function):
    """y = maximum of x over `axis`; tied maxima share the gradient evenly."""

    def forward(self, x):
        self.in_shape = x.shape
        self.axes = _nonempty_axes("max", x, self.axis)
        y = self.xp.max(x, axis=self.axes, keepdims=self.keepdims)
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, y = self.saved_tensors
        return _split_among_ties(self, gy, x, y)


class Min(Function):
    """y = minimum of x over `axis`; tied minima share the gradient evenly."""

    def forward(self, x):
        self.in_shape = x.shape
        self.axes = _nonempty_axes("min", x, self.axis)
        y = self.xp.min(x, axis=self.axes, keepdims=self.keepdims)
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, y = self.saved_tensors
        return _split_among_ties(self, gy, x, y)


def _split_among_ties(fn: Function, gy: Tensor, x: Tensor, y: Tensor) -> Tensor:
    # The elements equal to the result (a constant mask) each get gy / (how many there are).
    hit = (x == _keep(y.detach(), fn)).astype(gy.dtype)
    return _keep(gy, fn) * (hit / hit.sum(axis=fn.axes, keepdims=True))


def max(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Maximum over `axis`.

    Ties split the gradient evenly (two equal maxima get gy / 2 each). Raises ValueError when a
    reduced axis is empty.
    """
    return Max.apply(x, axis=axis, keepdims=keepdims)


def min(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Minimum over `axis`.

    Ties split the gradient evenly. Raises ValueError when a reduced axis is empty.
    """
    return Min.apply(x, axis=axis, keepdims=keepdims)


# -- logsumexp, softmax, log_softmax -----------------------------------------------------------


class LogSumExp(Function):
    """y = log(sum(exp(x))) over `axis`; fused to subtract the maximum first (no overflow).

    dy/dx = exp(x - y), the softmax; -inf entries get 0, and so does an all -inf slice (y = -inf).
    """

    def forward(self, x):
        xp = self.xp
        self.in_shape = x.shape
        self.axes = _axes(self.axis, x.ndim)
        m = _finite_max(xp, x, self.axes)
        y = xp.log(xp.exp(x - m).sum(axis=self.axes, keepdims=True)) + m
        if not self.keepdims:
            y = y.reshape(tuple(n for i, n in enumerate(x.shape) if i not in self.axes))
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, y = self.saved_tensors
        y = _keep(y, self)
        # An all -inf slice has y = -inf; exp(-inf - 0) = 0 instead of exp(-inf + inf) = NaN.
        y = where(y == _NEG_INF, 0.0, y)
        return _keep(gy, self) * (x - y).exp()


def logsumexp(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x), axis))``, computed stably (the maximum is subtracted first).

    An all -inf slice gives -inf (with gradient 0); an empty slice gives -inf.

    Example:
        >>> import autograd as ag
        >>> round(ag.logsumexp(ag.tensor([1000.0, 1000.0])).item(), 3)  # 1000 + log 2
        1000.693
    """
    return LogSumExp.apply(x, axis=axis, keepdims=keepdims)


class LogSoftmax(Function):
    """y = x - logsumexp(x, axis, keepdims=True); fused for stability.

    dy/dx applied to gy is ``gy - softmax * sum(gy)``. A -inf input (a masked logit) is treated
    as a constant: its gradient is 0, not NaN, and its output (-inf whatever the other inputs
    are) passes no gradient on, so the other inputs get the gradient of log_softmax over the
    finite entries alone.
    """

    def forward(self, x):
        xp = self.xp
        self.axes = _softmax_axes(self.axis, x.ndim)
        if x.size == 0:
            y = x.copy()
        else:
            z = x - _finite_max(xp, x, self.axes)
            y = z - xp.log(xp.exp(z).sum(axis=self.axes, keepdims=True))
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, y = self.saved_tensors
        masked = x == _NEG_INF
        gy = where(masked, 0.0, gy)
        # softmax, 0 at masked entries (also in an all -inf slice, where y is NaN).
        p = where(masked, 0.0, y.exp())
        return gy - p * gy.sum(axis=self.axes, keepdims=True)


def log_softmax(x: Tensor, axis: Any = -1) -> Tensor:
    """``x - logsumexp(x, axis)``: log-probabilities, stable for large logits.

    -inf entries (masked logits) give -inf and a zero gradient; a slice that is all -inf gives
    NaN (its softmax is undefined), also with a zero gradient.
    """
    return LogSoftmax.apply(x, axis=axis)


def softmax(x: Tensor, axis: Any = -1) -> Tensor:
    """``exp(x) / sum(exp(x), axis)``, computed as ``exp(log_softmax(x, axis))`` (stable).

    Each slice along `axis` sums to 1; -inf entries get probability 0 and a zero gradient.
    """
    return log_softmax(x, axis=axis).exp()


# -- argmax, argmin ----------------------------------------------------------------------------


def _arg_reduce(name: str, x: Tensor, axis: Any, keepdims: bool) -> Tensor:
    if axis is not None and not isinstance(axis, int):
        raise TypeError(f"{name}: axis must be None or an int, got {axis!r}")
    empty = x.size == 0 if axis is None else any(
        x.shape[a] == 0 for a in _axes(axis, x.ndim, name))
    if empty:
        raise ValueError(
            f"{name}: cannot reduce a tensor of shape {x.shape} over axis {axis}: a reduced "
            "axis has length 0"
        )
    index = getattr(x.xp, name)(x.array, axis=axis, keepdims=keepdims)
    return Tensor._make(x.backend.asarray(index, dtype=backends.dtype_of("int64")), x.backend)


def argmax(x: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the maximum (of the flattened tensor for axis=None) as an int64 tensor.

    Not differentiable: the result has no ``grad_fn``. Ties give the first index.
    """
    return _arg_reduce("argmax", x, axis, keepdims)


def argmin(x: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the minimum (of the flattened tensor for axis=None) as an int64 tensor.

    Not differentiable: the result has no ``grad_fn``. Ties give the first index.
    """
    return _arg_reduce("argmin", x, axis, keepdims)
