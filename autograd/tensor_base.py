"""Tensor's fields and arithmetic operators in pure Python: the reference for the C core.

`Tensor` (tensor.py) derives from `autograd._ccore.TensorBase` where the C core is built and
from this class otherwise (see _native.py); the two behave alike, the C one is faster.
"""

from __future__ import annotations

from operator import attrgetter
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
        "_grad",
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
        t._grad = None
        t.grad_fn = None
        t.requires_grad = False
        t._backend = backend
        t._version = [0]
        t._hooks = None
        return t

    def _set_grad(self, value: Any) -> None:
        if value is not None and not _grad_fits(self, value):
            _raise_bad_grad(self, value)
        self._grad = value

    def _del_grad(self) -> None:
        self._grad = None

    grad = property(
        attrgetter("_grad"), _set_grad, _del_grad,
        "the accumulated gradient: None or a Tensor of this tensor's shape, dtype and device",
    )

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


def _grad_fits(t: Any, g: Any) -> bool:
    """Whether `g` may be the ``.grad`` of `t`: a Tensor on its device with its dtype and shape.

    What PyTorch accepts, and what the engine writes (it writes ``_grad`` unchecked; the C core
    checks ``t.grad = g`` the same way).
    """
    return (isinstance(g, _tensor_types) and g._backend is t._backend
            and g.array.dtype == t.array.dtype and g.array.shape == t.array.shape)


def _raise_bad_grad(t: Any, g: Any) -> None:
    """Raises for a ``.grad`` that `_grad_fits` refused, naming what the tensor and the value
    are (both cores call it)."""
    have = f"shape {tuple(t.array.shape)}, dtype {t.array.dtype}, device {t._backend.device}"
    if not isinstance(g, _tensor_types):
        raise TypeError(
            f"Tensor.grad: expected None or a Tensor, got {type(g).__name__}; the tensor has "
            f"{have} (wrap arrays with ag.tensor(..., device=t.device))"
        )
    raise RuntimeError(
        f"Tensor.grad: the assigned gradient has shape {tuple(g.array.shape)}, dtype "
        f"{g.array.dtype}, device {g._backend.device}, but the tensor has {have}; a gradient "
        "must match its tensor's shape, dtype and device"
    )


#: The classes `.grad` may hold (this core's TensorBase, and the C core's where it is built).
_tensor_types: tuple = (TensorBase,)
