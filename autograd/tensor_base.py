"""Tensor's fields and arithmetic operators in pure Python: the reference for the C core.

`Tensor` (tensor.py) derives from `autograd._ccore.TensorBase` where the C core is built and
from this class otherwise (see _native.py); the two behave alike, the C one is faster.
"""

from __future__ import annotations

from typing import Any

_SCALARS = (int, float, bool)
# Operand types that arithmetic passes to ops as they are (checked by exact type: fast);
# tensor.py adds Tensor.
_PASS: set = {int, float}

# Bound by tensor.py once the op modules are loaded (they import Tensor).
_arith: Any = None
_lift: Any = None


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

    def __add__(self, other: Any) -> Any:
        return _arith.Add.apply(self, (other if other.__class__ in _PASS else _lift(other, self)))

    def __radd__(self, other: Any) -> Any:
        return _arith.Add.apply((other if other.__class__ in _PASS else _lift(other, self)), self)

    def __sub__(self, other: Any) -> Any:
        return _arith.Sub.apply(self, (other if other.__class__ in _PASS else _lift(other, self)))

    def __rsub__(self, other: Any) -> Any:
        return _arith.Sub.apply((other if other.__class__ in _PASS else _lift(other, self)), self)

    def __mul__(self, other: Any) -> Any:
        return _arith.Mul.apply(self, (other if other.__class__ in _PASS else _lift(other, self)))

    def __rmul__(self, other: Any) -> Any:
        return _arith.Mul.apply((other if other.__class__ in _PASS else _lift(other, self)), self)

    def __truediv__(self, other: Any) -> Any:
        return _arith.Div.apply(self, (other if other.__class__ in _PASS else _lift(other, self)))

    def __rtruediv__(self, other: Any) -> Any:
        return _arith.Div.apply((other if other.__class__ in _PASS else _lift(other, self)), self)

    def __neg__(self) -> Any:
        return _arith.Neg.apply(self)
