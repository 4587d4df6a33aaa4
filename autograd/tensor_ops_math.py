"""`OpsMathMixin`: Tensor's elementwise math and product methods with PyTorch's names and
arguments (``x.floor()``, ``x.fmod(y)``, ``x.atan2(y)``, ``x.addmm(a, b, beta=, alpha=)``,
``x.mm(y)``, ...), the operators ``% // & | ^ ~`` with their in-place forms, and the ``foo_``
in-place spellings of these methods. A base class of `Tensor`; the ops are in autograd/ops/.

The in-place ``foo_`` methods are made by `inplace_method` (one helper, so that they can move
to a shared in-place mechanism in one place): recorded out of place and rebound where autograd
needs it, written into the tensor's memory otherwise, as Tensor's in-place operators are.
"""

from __future__ import annotations

from typing import Any

from .grad_mode import state as _grad_state
from .tensor_base import _FLOATING

# Bound by `bind()` (tensor.py calls it once the op modules can be imported: they import
# autograd/tensor.py, which imports this file).
Tensor: Any = None
_blending: Any = None
_clamping: Any = None
_exponential: Any = None
_logical: Any = None
_products: Any = None
_rounding: Any = None
_trig: Any = None


_promotion: Any = None


def bind(tensor_class: Any) -> None:
    """Binds Tensor and the op modules the methods forward to."""
    global Tensor, _blending, _clamping, _exponential, _logical, _products, _rounding, _trig
    global _promotion
    from . import promotion
    from .ops import blending, clamping, exponential, logical, products, rounding, trigonometry

    Tensor, _promotion = tensor_class, promotion
    _blending, _clamping, _exponential, _logical = blending, clamping, exponential, logical
    _products, _rounding, _trig = products, rounding, trigonometry


# PyTorch's dtype rules (promotion.py): the float functions compute integer and bool tensors in
# the default dtype; binary methods and operators cast both operands to PyTorch's result type.
def _floating(x: Any) -> Any:
    return x if x.array.dtype in _FLOATING else _promotion.floating(x)


def _operands(a: Any, b: Any) -> tuple:
    return _promotion.operands(a, b)


def _floating_operands(a: Any, b: Any) -> tuple:
    return _promotion.operands(a, b, floating=True)


def _result_into(self: Any, result: Any, name: str) -> Any:
    """Makes `result` (computed out of place from self) the new value of self, in place."""
    recorded = _grad_state.enabled and result.requires_grad
    if not recorded:
        if result.array.shape != self.array.shape:
            raise RuntimeError(f"{name}: the result's shape {result.shape} differs from the "
                               f"tensor's {self.shape}; an in-place op cannot change the shape")
        self.array[...] = result.array
        self._version[0] += 1
        return self
    if self.grad_fn is None and self.requires_grad:
        raise RuntimeError(
            f"{name}: in place on a leaf tensor that requires grad (shape {self.shape}, dtype "
            f"{self.dtype}) would change it behind autograd's back; wrap the update in "
            "`with no_grad():` or use the out-of-place method"
        )
    if result.dtype != self.dtype:
        result = result.astype(self.dtype)
    if result.shape != self.shape:
        raise RuntimeError(f"{name}: the result's shape {result.shape} differs from the "
                           f"tensor's {self.shape}")
    self._rebind(result)
    return self


def inplace_method(name: str) -> Any:
    """``x.name_(*args)``: ``x.name(*args)`` written into x (see the module docstring)."""

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return _result_into(self, getattr(self, name)(*args, **kwargs), f"{name}_")

    method.__name__ = f"{name}_"
    method.__doc__ = f"In-place ``{name}``: ``x.{name}_(...)`` is ``x.{name}(...)`` into x."
    return method


class OpsMathMixin:
    """`Tensor`'s rounding, trigonometric, exponential, clamping and product methods."""

    __slots__ = ()

    # -- rounding and remainders ---------------------------------------------------------------
    def floor(self) -> Tensor:
        return _rounding.floor(self)

    def ceil(self) -> Tensor:
        return _rounding.ceil(self)

    def trunc(self) -> Tensor:
        return _rounding.trunc(self)

    fix = trunc

    def round(self, decimals: int = 0) -> Tensor:
        return _rounding.round(self, decimals)

    def frac(self) -> Tensor:
        return _rounding.frac(self)

    def fmod(self, other: Any) -> Tensor:
        return _rounding.fmod(*_operands(self, other))

    def remainder(self, other: Any) -> Tensor:
        return _rounding.remainder(*_operands(self, other))

    def floor_divide(self, other: Any) -> Tensor:
        return _rounding.floor_divide(*_operands(self, other))

    def copysign(self, other: Any) -> Tensor:
        return _rounding.copysign(*_floating_operands(self, other))

    # -- trigonometric and hyperbolic ------------------------------------------------------------
    def tan(self) -> Tensor:
        return _trig.tan(_floating(self))

    def asin(self) -> Tensor:
        return _trig.arcsin(_floating(self))

    def acos(self) -> Tensor:
        return _trig.arccos(_floating(self))

    def atan(self) -> Tensor:
        return _trig.arctan(_floating(self))

    def atan2(self, other: Any) -> Tensor:
        return _trig.arctan2(*_floating_operands(self, other))

    def sinh(self) -> Tensor:
        return _trig.sinh(_floating(self))

    def cosh(self) -> Tensor:
        return _trig.cosh(_floating(self))

    def asinh(self) -> Tensor:
        return _trig.arcsinh(_floating(self))

    def acosh(self) -> Tensor:
        return _trig.arccosh(_floating(self))

    def atanh(self) -> Tensor:
        return _trig.arctanh(_floating(self))

    arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
    arcsinh, arccosh, arctanh = asinh, acosh, atanh

    def hypot(self, other: Any) -> Tensor:
        return _trig.hypot(*_floating_operands(self, other))

    def sinc(self) -> Tensor:
        return _trig.sinc(_floating(self))

    def deg2rad(self) -> Tensor:
        return _trig.deg2rad(_floating(self))

    def rad2deg(self) -> Tensor:
        return _trig.rad2deg(_floating(self))

    # -- exponential and logarithmic ---------------------------------------------------------------
    def log2(self) -> Tensor:
        return _exponential.log2(_floating(self))

    def log10(self) -> Tensor:
        return _exponential.log10(_floating(self))

    def exp2(self) -> Tensor:
        return _exponential.exp2(_floating(self))

    def logit(self, eps: float | None = None) -> Tensor:
        return _exponential.logit(_floating(self), eps)

    def rsqrt(self) -> Tensor:
        return _exponential.rsqrt(_floating(self))

    def reciprocal(self) -> Tensor:
        return _exponential.reciprocal(_floating(self))

    def logaddexp(self, other: Any) -> Tensor:
        return _exponential.logaddexp(*_floating_operands(self, other))

    def logaddexp2(self, other: Any) -> Tensor:
        return _exponential.logaddexp2(*_floating_operands(self, other))

    # -- bounds and NaN ------------------------------------------------------------------------
    def clamp_min(self, min: Any) -> Tensor:  # noqa: A002 - PyTorch's name
        return _clamping.clamp_min(self, min)

    def clamp_max(self, max: Any) -> Tensor:  # noqa: A002 - PyTorch's name
        return _clamping.clamp_max(self, max)

    def fmax(self, other: Any) -> Tensor:
        return _clamping.fmax(*_operands(self, other))

    def fmin(self, other: Any) -> Tensor:
        return _clamping.fmin(*_operands(self, other))

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None,
                   neginf: float | None = None) -> Tensor:
        return _clamping.nan_to_num(self, nan, posinf, neginf)

    # -- combinations and products (PyTorch's shape rules) ----------------------------------------
    def lerp(self, end: Any, weight: Any) -> Tensor:
        return _blending.lerp(self, end, weight)

    def addcmul(self, tensor1: Any, tensor2: Any, *, value: float = 1.0) -> Tensor:
        return _blending.addcmul(self, tensor1, tensor2, value)

    def addcdiv(self, tensor1: Any, tensor2: Any, *, value: float = 1.0) -> Tensor:
        return _blending.addcdiv(self, tensor1, tensor2, value)

    def mm(self, mat2: Any) -> Tensor:
        return _products.mm(self, mat2)

    def bmm(self, mat2: Any) -> Tensor:
        return _products.bmm(self, mat2)

    def mv(self, vec: Any) -> Tensor:
        return _products.mv(self, vec)

    def addmm(self, mat1: Any, mat2: Any, *, beta: float = 1.0, alpha: float = 1.0) -> Tensor:
        return _products.addmm(self, mat1, mat2, beta, alpha)

    def baddbmm(self, batch1: Any, batch2: Any, *, beta: float = 1.0,
                alpha: float = 1.0) -> Tensor:
        return _products.baddbmm(self, batch1, batch2, beta, alpha)

    def dot(self, other: Any) -> Tensor:
        """PyTorch's ``dot``: the inner product of two 1-d tensors (``ag.dot`` is NumPy's)."""
        _vectors("dot", self, other)
        return _products.dot(self, other)

    def inner(self, other: Any) -> Tensor:
        return _products.inner(self, other)

    def outer(self, vec2: Any) -> Tensor:
        """PyTorch's ``outer`` of two 1-d tensors (``ag.outer`` flattens, as NumPy's)."""
        _vectors("outer", self, vec2)
        return _products.outer(self, vec2)

    ger = outer

    def kron(self, other: Any) -> Tensor:
        return _products.kron(self, other)

    # -- operators ------------------------------------------------------------------------------
    def __mod__(self, other: Any) -> Tensor:
        return _rounding.remainder(*_operands(self, other))

    def __rmod__(self, other: Any) -> Tensor:
        return _rounding.remainder(*_operands(other, self))

    def __floordiv__(self, other: Any) -> Tensor:
        return _rounding.floor_divide(*_operands(self, other))

    def __rfloordiv__(self, other: Any) -> Tensor:
        return _rounding.floor_divide(*_operands(other, self))

    def __and__(self, other: Any) -> Tensor:
        return _logical.bitwise_and(self, other)

    def __rand__(self, other: Any) -> Tensor:
        return _logical.bitwise_and(other, self)

    def __or__(self, other: Any) -> Tensor:
        return _logical.bitwise_or(self, other)

    def __ror__(self, other: Any) -> Tensor:
        return _logical.bitwise_or(other, self)

    def __xor__(self, other: Any) -> Tensor:
        return _logical.bitwise_xor(self, other)

    def __rxor__(self, other: Any) -> Tensor:
        return _logical.bitwise_xor(other, self)

    def __invert__(self) -> Tensor:
        return _logical.bitwise_not(self)

    def __imod__(self, other: Any) -> Tensor:
        return _result_into(self, self.__mod__(other), "__imod__")

    def __ifloordiv__(self, other: Any) -> Tensor:
        return _result_into(self, self.__floordiv__(other), "__ifloordiv__")

    def __iand__(self, other: Any) -> Tensor:
        return _result_into(self, self.__and__(other), "__iand__")

    def __ior__(self, other: Any) -> Tensor:
        return _result_into(self, self.__or__(other), "__ior__")

    def __ixor__(self, other: Any) -> Tensor:
        return _result_into(self, self.__xor__(other), "__ixor__")


def _vectors(op: str, a: Any, b: Any) -> None:
    for t in (a, b):
        if getattr(t, "ndim", 1) != 1:
            raise ValueError(f"{op}: expected 1-d tensors, got shapes {getattr(a, 'shape', ())} "
                             f"and {getattr(b, 'shape', ())}")


#: PyTorch's in-place spellings of the methods above (``x.floor_()``, ``x.clamp_min_(0)``...).
INPLACE = (
    "floor", "ceil", "trunc", "fix", "round", "frac", "fmod", "remainder", "floor_divide",
    "copysign", "tan", "asin", "acos", "atan", "atan2", "arcsin", "arccos", "arctan", "arctan2",
    "sinh", "cosh", "asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "hypot", "sinc",
    "deg2rad", "rad2deg", "log2", "log10", "exp2", "logit", "rsqrt", "reciprocal", "clamp_min",
    "clamp_max", "nan_to_num", "lerp", "addcmul", "addcdiv", "addmm", "baddbmm",
)
for _name in INPLACE:
    setattr(OpsMathMixin, f"{_name}_", inplace_method(_name))
