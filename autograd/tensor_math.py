"""`MathMixin`: Tensor's methods that forward to the elementwise, dtype and reduction ops
(``x.exp()``, ``x.sum(axis=0)``, ...); a base class of `Tensor`, to keep autograd/tensor.py short.
"""

from __future__ import annotations

from typing import Any

from .tensor_base import _FLOATING

# Tensor and the op modules import autograd/tensor.py, which imports this file: tensor.py binds
# them here once it has defined and loaded them (an import from this file would close a circle).
Tensor: Any = None
_activation: Any = None
_arith: Any = None
_promotion: Any = None
_reduction: Any = None
_unary: Any = None


class MathMixin:
    """`Tensor`'s elementwise, dtype and reduction methods, and the named comparisons."""

    __slots__ = ()

    # -- methods forwarding to ops (NumPy names, PyTorch aliases) --------------------------------
    # PyTorch's dtype rules (promotion.py): the float functions (exp, log, sqrt, sin, tanh, erf,
    # sigmoid, ...) compute integer and bool tensors in the default dtype; binary methods cast
    # both operands to PyTorch's result type.
    def astype(self, dtype: Any) -> Tensor:
        return _unary.astype(self, dtype)

    def float(self) -> Tensor:
        return _unary.astype(self, "float32")

    def double(self) -> Tensor:
        return _unary.astype(self, "float64")

    def long(self) -> Tensor:
        return _unary.astype(self, "int64")

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

    def clip(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - NumPy's names
        # A float bound makes an integer tensor float (clip itself checks the bounds' types).
        numbers = [bound for bound in (min, max) if isinstance(bound, (int, float))]
        return _unary.clip(_promotion.cast(self, _promotion.result_type(self, *numbers)), min, max)

    clamp = clip

    def pow(self, exponent: Any) -> Tensor:
        return self.__pow__(exponent)

    def matmul(self, other: Any) -> Tensor:
        return self.__matmul__(other)

    def maximum(self, other: Any) -> Tensor:
        return _arith.maximum(*_promotion.operands(self, other))

    def minimum(self, other: Any) -> Tensor:
        return _arith.minimum(*_promotion.operands(self, other))

    # -- reductions ---------------------------------------------------------------------------
    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _reduction.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _reduction.mean(self, axis=axis, keepdims=keepdims)

    def var(self, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        return _reduction.var(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def std(self, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        return _reduction.std(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def prod(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _reduction.prod(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _reduction.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _reduction.min(self, axis=axis, keepdims=keepdims)

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _reduction.logsumexp(self, axis=axis, keepdims=keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        return _reduction.softmax(self, axis=axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return _reduction.log_softmax(self, axis=axis)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return _reduction.argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return _reduction.argmin(self, axis=axis, keepdims=keepdims)

    def any(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return Tensor._make(self._backend.asarray(self.array.any(axis=axis, keepdims=keepdims)),
                            self._backend)

    def all(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return Tensor._make(self._backend.asarray(self.array.all(axis=axis, keepdims=keepdims)),
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
