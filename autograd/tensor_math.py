"""`MathMixin`: Tensor's methods that forward to the elementwise, dtype and reduction ops
(``x.exp()``, ``x.sum(axis=0)``, ...); a base class of `Tensor`, to keep autograd/tensor.py short.
"""

from __future__ import annotations

from typing import Any

from . import return_types as _return_types
from .dialect import pick_dim, pick_keepdim, reduce_dims, wrap_dim
from .tensor_base import _FLOATING

# Tensor and the op modules import autograd/tensor.py, which imports this file: tensor.py binds
# them here once it has defined and loaded them (an import from this file would close a circle).
Tensor: Any = None
_activation: Any = None
_arith: Any = None
_promotion: Any = None
_reduction: Any = None
_unary: Any = None
_shape: Any = None
_indexing: Any = None


class MathMixin:
    """`Tensor`'s elementwise, dtype and reduction methods, and the named comparisons."""

    __slots__ = ()

    # -- methods forwarding to ops (NumPy names, PyTorch aliases) --------------------------------
    # PyTorch's dtype rules (promotion.py): the float functions (exp, log, sqrt, sin, tanh, erf,
    # sigmoid, ...) compute integer and bool tensors in the default dtype; binary methods cast
    # both operands to PyTorch's result type.
    def astype(self, dtype: Any) -> Tensor:
        return _unary.astype(self, dtype)

    def exp(self) -> Tensor:
        return _unary.exp(self if self.array.dtype in _FLOATING else _promotion.floating(self))

    def log(self) -> Tensor:
        return _unary.log(self if self.array.dtype in _FLOATING else _promotion.floating(self))

    def log1p(self) -> Tensor:
        return _unary.log1p(self if self.array.dtype in _FLOATING else _promotion.floating(self))

    def expm1(self) -> Tensor:
        return _unary.expm1(self if self.array.dtype in _FLOATING else _promotion.floating(self))

    def sqrt(self) -> Tensor:
        return _unary.sqrt(self if self.array.dtype in _FLOATING else _promotion.floating(self))

    def sin(self) -> Tensor:
        return _unary.sin(self if self.array.dtype in _FLOATING else _promotion.floating(self))

    def cos(self) -> Tensor:
        return _unary.cos(self if self.array.dtype in _FLOATING else _promotion.floating(self))

    def tanh(self) -> Tensor:
        return _unary.tanh(self if self.array.dtype in _FLOATING else _promotion.floating(self))

    def square(self) -> Tensor:
        return _unary.square(self)

    def sign(self) -> Tensor:
        return _unary.sign(self)

    def erf(self) -> Tensor:
        return _unary.erf(self if self.array.dtype in _FLOATING else _promotion.floating(self))

    def sigmoid(self) -> Tensor:
        x = self if self.array.dtype in _FLOATING else _promotion.floating(self)
        return _activation.sigmoid(x)

    def relu(self) -> Tensor:
        return _activation.relu(self)

    def abs(self) -> Tensor:
        return _unary.abs(self)

    def neg(self) -> Tensor:
        return _arith.Neg.apply(self)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - PyTorch's names
        """Each element limited to [min, max]; the bounds may be numbers or tensors (a tensor
        bound gets the gradient where it is the result, the element where it lies inside). The
        result has PyTorch's promoted dtype: a float bound makes an integer tensor float."""
        x = _promotion.cast(self, _promotion.result_type(
            self, *(bound for bound in (min, max) if bound is not None)))
        if _is_operand(min) or _is_operand(max) or (
                min is not None and max is not None and min > max):
            # Tensor bounds, or min > max (PyTorch then gives max everywhere): as two wheres.
            out = x
            if min is not None:
                out = _arith.where(out < min, min, out)
            if max is not None:
                out = _arith.where(out > max, max, out)
            return out
        return _unary.clip(x, min, max, inclusive=True)  # PyTorch: gradient 1 at the bounds

    clip = clamp

    # -- arithmetic by name (PyTorch's keywords: alpha, value, rounding_mode) -------------------
    def add(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """``self + alpha * other``."""
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """``self - alpha * other``."""
        return self - (other if alpha == 1 else other * alpha)

    subtract = sub

    def mul(self, other: Any) -> Tensor:
        return self * other

    multiply = mul

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        """``self / other``; ``rounding_mode="floor"`` or ``"trunc"`` rounds the quotient (a
        constant: its gradient is zero almost everywhere, so none is recorded)."""
        if rounding_mode is None:
            return self / other
        return _rounded_quotient(self, other, rounding_mode)

    divide = div

    def true_divide(self, other: Any) -> Tensor:
        return self / other


    def pow(self, exponent: Any) -> Tensor:
        return self.__pow__(exponent)

    def matmul(self, other: Any) -> Tensor:
        return self.__matmul__(other)

    def maximum(self, other: Any) -> Tensor:
        return _arith.maximum(*_promotion.operands(self, other))

    def minimum(self, other: Any) -> Tensor:
        return _arith.minimum(*_promotion.operands(self, other))

    # -- reductions (PyTorch's `dim`/`keepdim`; NumPy's `axis`/`keepdims` are accepted aliases) --
    def sum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, axis: Any = None,
            keepdims: bool | None = None) -> Tensor:
        x = self if dtype is None else _unary.astype(self, dtype)
        return _reduction.sum(x, axis=_dims(self, "sum", dim, axis),
                              keepdims=pick_keepdim("sum", keepdim, keepdims))

    def mean(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
             axis: Any = None, keepdims: bool | None = None) -> Tensor:
        """Mean over `dim` (all dims by default). Integer and bool tensors need ``dtype=`` (or a
        cast first), as in PyTorch: their mean has no dtype of their own to take."""
        if dtype is None:
            _need_floating(self, "mean")
        x = self if dtype is None else _unary.astype(self, dtype)
        return _reduction.mean(x, axis=_dims(self, "mean", dim, axis),
                               keepdims=pick_keepdim("mean", keepdim, keepdims))

    def prod(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
             axis: Any = None, keepdims: bool | None = None) -> Tensor:
        x = self if dtype is None else _unary.astype(self, dtype)
        return _reduction.prod(x, axis=_dims(self, "prod", dim, axis),
                               keepdims=pick_keepdim("prod", keepdim, keepdims))

    def var(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: Any = None, axis: Any = None, keepdims: bool | None = None) -> Tensor:
        """Variance over `dim`, unbiased (divided by n - 1) unless ``unbiased=False`` or
        ``correction=0``: ``sum((x - mean)**2) / (n - correction)``, as PyTorch's."""
        _need_floating(self, "var")
        dim, ddof = _var_args("var", dim, unbiased, correction)
        return _reduction.var(self, axis=_dims(self, "var", dim, axis), ddof=ddof,
                              keepdims=pick_keepdim("var", keepdim, keepdims))

    def std(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: Any = None, axis: Any = None, keepdims: bool | None = None) -> Tensor:
        """Standard deviation over `dim`: the square root of `var` (unbiased by default)."""
        _need_floating(self, "std")
        dim, ddof = _var_args("std", dim, unbiased, correction)
        return _reduction.std(self, axis=_dims(self, "std", dim, axis), ddof=ddof,
                              keepdims=pick_keepdim("std", keepdim, keepdims))

    def max(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Any:
        """PyTorch's three forms: ``x.max()`` the largest element (0-d), ``x.max(dim)`` the named
        tuple ``(values, indices)`` along `dim`, ``x.max(other)`` the elementwise maximum."""
        return _extreme(self, "max", dim, keepdim, axis, keepdims)

    def min(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Any:
        """``x.min()``, ``x.min(dim)`` -> ``(values, indices)``, ``x.min(other)``: as `max`."""
        return _extreme(self, "min", dim, keepdim, axis, keepdims)

    def amax(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
             keepdims: bool | None = None) -> Tensor:
        """The largest values over `dim` (all dims by default); ties share the gradient."""
        return _reduction.max(self, axis=_dims(self, "amax", dim, axis),
                              keepdims=pick_keepdim("amax", keepdim, keepdims))

    def amin(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
             keepdims: bool | None = None) -> Tensor:
        """The smallest values over `dim` (all dims by default); ties share the gradient."""
        return _reduction.min(self, axis=_dims(self, "amin", dim, axis),
                              keepdims=pick_keepdim("amin", keepdim, keepdims))

    def logsumexp(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
                  keepdims: bool | None = None) -> Tensor:
        return _reduction.logsumexp(self, axis=_dims(self, "logsumexp", dim, axis),
                                    keepdims=pick_keepdim("logsumexp", keepdim, keepdims))

    def softmax(self, dim: Any = None, dtype: Any = None, *, axis: Any = None) -> Tensor:
        """Softmax over `dim`, which is required (as in PyTorch)."""
        x = self if dtype is None else _unary.astype(self, dtype)
        return _reduction.softmax(x, axis=_softmax_dim(self, "softmax", dim, axis))

    def log_softmax(self, dim: Any = None, dtype: Any = None, *, axis: Any = None) -> Tensor:
        """Log-softmax over `dim`, which is required (as in PyTorch)."""
        x = self if dtype is None else _unary.astype(self, dtype)
        return _reduction.log_softmax(x, axis=_softmax_dim(self, "log_softmax", dim, axis))

    def argmax(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
               keepdims: bool | None = None) -> Tensor:
        """Index of the largest element (of the flattened tensor when `dim` is None)."""
        return _arg_extreme(self, "argmax", dim, keepdim, axis, keepdims)

    def argmin(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
               keepdims: bool | None = None) -> Tensor:
        """Index of the smallest element (of the flattened tensor when `dim` is None)."""
        return _arg_extreme(self, "argmin", dim, keepdim, axis, keepdims)

    def any(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Tensor:
        axes = _dims(self, "any", dim, axis)
        keep = pick_keepdim("any", keepdim, keepdims)
        return Tensor._make(self._backend.asarray(self.array.any(axis=axes, keepdims=keep)),
                            self._backend)

    def all(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Tensor:
        axes = _dims(self, "all", dim, axis)
        keep = pick_keepdim("all", keepdim, keepdims)
        return Tensor._make(self._backend.asarray(self.array.all(axis=axes, keepdims=keep)),
                            self._backend)

    # -- comparisons by name (PyTorch's aliases of the operators) -----------------------------
    def eq(self, other: Any) -> Tensor:
        return self.__eq__(other)

    def ne(self, other: Any) -> Tensor:
        return self.__ne__(other)

    def lt(self, other: Any) -> Tensor:
        return self.__lt__(other)

    def le(self, other: Any) -> Tensor:
        return self.__le__(other)

    def gt(self, other: Any) -> Tensor:
        return self.__gt__(other)

    def ge(self, other: Any) -> Tensor:
        return self.__ge__(other)


# -- argument handling of the reductions ---------------------------------------------------------
def _dims(x: Any, op: str, dim: Any, axis: Any) -> Any:
    """The reduced dims (`dim` or its alias `axis`) as the ops' `axis`."""
    return reduce_dims(pick_dim(op, dim, axis), x.array.ndim, op)


def _need_floating(x: Any, op: str) -> None:
    """PyTorch's refusal of integer and bool input to mean, var and std."""
    dtype = x.array.dtype
    if dtype.kind not in "fc" and dtype.name != "bfloat16":
        hint = " (or pass dtype=ag.float32)" if op == "mean" else ""
        raise RuntimeError(
            f"{op}(): expected a floating point or complex tensor, got dtype {dtype}: cast it "
            f"first, e.g. x.float().{op}(){hint}; the ag.{op} function computes NumPy's "
            "float64 result"
        )


def _var_args(op: str, dim: Any, unbiased: Any, correction: Any) -> tuple:
    """(dim, ddof) from PyTorch's var/std arguments; ``x.var(False)`` is ``unbiased=False``."""
    if isinstance(dim, bool):  # PyTorch's overload var(unbiased)
        if unbiased is not None:
            raise TypeError(f"{op}: got unbiased twice")
        dim, unbiased = None, dim
    if correction is not None:
        if unbiased is not None:
            raise TypeError(f"{op}: give unbiased or correction, not both")
        return dim, correction
    return dim, 0 if unbiased is False else 1


def _is_operand(other: Any) -> bool:
    """True for what ``x.max(other)`` takes: a tensor or array (not a dim)."""
    return isinstance(other, Tensor) or (hasattr(other, "shape") and getattr(other, "ndim", 0) > 0)


def _extreme(x: Any, op: str, dim: Any, keepdim: bool, axis: Any, keepdims: Any) -> Any:
    if _is_operand(dim):
        return (_arith.maximum if op == "max" else _arith.minimum)(*_promotion.operands(x, dim))
    dim = pick_dim(op, dim, axis)
    keep = pick_keepdim(op, keepdim, keepdims)
    if dim is None:
        if keep:
            raise TypeError(f"{op}: keepdim needs a dim; use amax/amin to keep all dims")
        return (_reduction.max if op == "max" else _reduction.min)(x)
    ndim = x.array.ndim
    d = wrap_dim(dim, ndim, op)
    if not ndim:
        index = Tensor._make(x.backend.asarray(0, dtype="int64"), x.backend)
        return getattr(_return_types, op)(_shape.reshape(x, ()), index)
    # The values are x gathered at the arg-extremes, so the gradient goes to that one index
    # (the first of tied extremes), as in PyTorch.
    index = _reduction.argmax(x, d, True) if op == "max" else _reduction.argmin(x, d, True)
    values = _indexing.take_along_axis(x, index, d)
    if not keep:
        values, index = _shape.squeeze(values, d), _shape.squeeze(index, d)
    return getattr(_return_types, op)(values, index)


def _arg_extreme(x: Any, op: str, dim: Any, keepdim: bool, axis: Any, keepdims: Any) -> Tensor:
    dim = pick_dim(op, dim, axis)
    keep = pick_keepdim(op, keepdim, keepdims)
    fn = _reduction.argmax if op == "argmax" else _reduction.argmin
    if dim is None:
        out = fn(x)
        return _shape.reshape(out, (1,) * x.array.ndim) if keep else out
    ndim = x.array.ndim
    d = wrap_dim(dim, ndim, op)
    return fn(x, d if ndim else None, keep and bool(ndim))


def _softmax_dim(x: Any, op: str, dim: Any, axis: Any) -> int:
    dim = pick_dim(op, dim, axis)
    if dim is None:
        raise TypeError(f"{op}(): missing the dim to normalise over (e.g. x.{op}(dim=-1))")
    return wrap_dim(dim, x.array.ndim, op)


def _rounded_quotient(x: Any, other: Any, mode: str) -> Tensor:
    xp = x.xp
    b = other.array if isinstance(other, Tensor) else other
    if mode == "floor":
        q = xp.floor_divide(x.array, b)
    elif mode == "trunc":
        q = xp.trunc(xp.true_divide(x.array, b))
        if x.array.dtype.kind in "iu" and xp.asarray(b).dtype.kind in "iu":
            q = q.astype(xp.result_type(x.array, b))
    else:
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {mode!r}")
    q = Tensor._make(x.backend.asarray(q), x.backend)
    if not (x.requires_grad or isinstance(other, Tensor) and other.requires_grad):
        return q
    # PyTorch's rounded quotient is in the graph with a zero gradient: a where that never picks
    # the (differentiable) true quotient gives exactly that.
    nowhere = Tensor._make(x.xp.zeros(q.shape, dtype=bool), x.backend)
    return _arith.where(nowhere, x / other, q)
