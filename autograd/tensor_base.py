"""Tensor's fields and arithmetic operators in pure Python: the reference for the C core.

`Tensor` (tensor.py) derives from `autograd._ccore.TensorBase` where the C core is built and
from this class otherwise (see _native.py); the two behave alike, the C one is faster.
"""

from __future__ import annotations

from typing import Any

import backends

_SCALARS = (int, float, bool)
#: Floating dtypes the operators recognise at once (others, bfloat16, take promotion.py's path).
#: A tuple, not a set: ``in`` finds float32 by identity at once, where a set would hash the
#: dtype (NumPy computes a dtype's hash anew on every call).
_FLOATING = tuple(backends.dtype_of(name) for name in
                  ("float32", "float64", "float16", "complex64", "complex128"))

# Bound by tensor.py once the op modules are loaded (they import Tensor).
_arith: Any = None
_promote: Any = None  # promotion.binary: the operators' path where PyTorch's rules need a cast


class TensorBase:
    """The fields every Tensor has, `_make`, and the operators ``+ - * / unary -``."""

    __slots__ = (
        "array",
        "grad",
        "requires_grad",
        "grad_fn",
        "_backend",
        "_version",
        "_hooks",
        "__weakref__",
    )

    @classmethod
    def _make(cls, data: Any, backend: Any) -> Any:
        """Wraps a backend array without checks (the fast path ops use)."""
        t = object.__new__(cls)
        t.array = data
        t.grad = None
        t.grad_fn = None
        t.requires_grad = False
        t._backend = backend
        t._version = [0]
        t._hooks = None
        return t

    # The operators take the op straight where NumPy's result type is PyTorch's: a Python int
    # (except in division), a Python float with a floating tensor, or two tensors of one dtype
    # (floating, in division). Anything else goes through `_promote` (promotion.py), which
    # casts the operands to PyTorch's result type first. The C core's `binary` is the twin.
    def __add__(self, other: Any) -> Any:
        k = other.__class__
        if k is int or (self.array.dtype in _FLOATING if k is float else isinstance(
                other, TensorBase) and self.array.dtype is other.array.dtype):
            return _arith.Add.apply(self, other)
        return _promote(_arith.Add, self, other)

    def __radd__(self, other: Any) -> Any:
        k = other.__class__
        if k is int or (self.array.dtype in _FLOATING if k is float else isinstance(
                other, TensorBase) and self.array.dtype is other.array.dtype):
            return _arith.Add.apply(other, self)
        return _promote(_arith.Add, other, self)

    def __sub__(self, other: Any) -> Any:
        k = other.__class__
        if k is int or (self.array.dtype in _FLOATING if k is float else isinstance(
                other, TensorBase) and self.array.dtype is other.array.dtype):
            return _arith.Sub.apply(self, other)
        return _promote(_arith.Sub, self, other)

    def __rsub__(self, other: Any) -> Any:
        k = other.__class__
        if k is int or (self.array.dtype in _FLOATING if k is float else isinstance(
                other, TensorBase) and self.array.dtype is other.array.dtype):
            return _arith.Sub.apply(other, self)
        return _promote(_arith.Sub, other, self)

    def __mul__(self, other: Any) -> Any:
        k = other.__class__
        if k is int or (self.array.dtype in _FLOATING if k is float else isinstance(
                other, TensorBase) and self.array.dtype is other.array.dtype):
            return _arith.Mul.apply(self, other)
        return _promote(_arith.Mul, self, other)

    def __rmul__(self, other: Any) -> Any:
        k = other.__class__
        if k is int or (self.array.dtype in _FLOATING if k is float else isinstance(
                other, TensorBase) and self.array.dtype is other.array.dtype):
            return _arith.Mul.apply(other, self)
        return _promote(_arith.Mul, other, self)

    def __truediv__(self, other: Any) -> Any:
        d = self.array.dtype
        k = other.__class__
        if d in _FLOATING and (k is int or k is float or isinstance(other, TensorBase)
                               and d is other.array.dtype):
            return _arith.Div.apply(self, other)
        return _promote(_arith.Div, self, other)

    def __rtruediv__(self, other: Any) -> Any:
        d = self.array.dtype
        k = other.__class__
        if d in _FLOATING and (k is int or k is float or isinstance(other, TensorBase)
                               and d is other.array.dtype):
            return _arith.Div.apply(other, self)
        return _promote(_arith.Div, other, self)

    def __neg__(self) -> Any:
        return _arith.Neg.apply(self)
