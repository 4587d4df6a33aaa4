"""PyTorch's type promotion, for Tensor's operators and methods (the `ag.` functions keep NumPy's).

Both dialects run the same ops, which compute with NumPy's rules (NEP 50: Python scalars are
"weak", arrays of any shape are not). Where PyTorch's rules give another dtype, the Tensor
wrappers cast the operands to PyTorch's result type first, so that the op computes in it:

* Categories rank bool < integer < floating < complex. Within a category the usual promotion
  holds (float32 with float64 gives float64, uint8 with int8 int16); across categories the
  higher category's type wins as it is (int64 with float16 gives float16, NumPy's float64).
* Operands are weighed in three tiers: tensors with dimensions, 0-d tensors, Python numbers.
  A lower tier changes the result only if it is of a higher category: a float32 vector times
  a float64 0-d tensor is float32, an int vector times a float64 0-d tensor is float64. A
  Python float counts as the default dtype, a Python complex as the default complex type, a
  Python int as int64, a NumPy scalar as the Python number of its kind.
* Where the result must be floating (true division, ``exp`` and the other float functions),
  integer and bool inputs give the default dtype: ``int / int`` and ``int_tensor.exp()`` are
  float32.
* NumPy arrays and lists in an operator are converted to tensors first (lists of floats take the
  tensor's floating type, else the default dtype); an array counts as a 0-d tensor or one with
  dimensions by its shape.

The operators check the case that needs no cast first (both dtypes the same, or a Python int or
float with a floating tensor) and come here only otherwise (tensor_base.py, its C twin).
"""

from __future__ import annotations

from typing import Any

import backends

from . import dtypes
from .function_base import _reraise_with_context
from .tensor import Tensor, _lift

_BOOL, _INTEGER, _FLOATING, _COMPLEX = 0, 1, 2, 3
_CATEGORY = {"b": _BOOL, "i": _INTEGER, "u": _INTEGER, "f": _FLOATING, "c": _COMPLEX}
#: NumPy's scalar types (NumPy 2 treats them as strong; PyTorch as Python numbers).
_NUMPY_SCALAR = backends.host().xp.generic
_INT64 = backends.dtype_of("int64")
_BOOL_DTYPE = backends.dtype_of("bool")
_COMPLEX128 = backends.dtype_of("complex128")
_COMPLEX64 = backends.dtype_of("complex64")


# Bound by tensor.py once the op modules are loaded (they import Tensor).
_arith: Any = None
_unary: Any = None


def category(dtype: Any) -> int:
    """0 bool, 1 integer, 2 floating (bfloat16 too), 3 complex."""
    found = _CATEGORY.get(dtype.kind)
    if found is None:
        if dtype.name == "bfloat16":
            return _FLOATING
        raise TypeError(f"type promotion: dtype {dtype} has no category (bool, integer, "
                        "floating or complex)")
    return found


def promote_types(a: Any, b: Any) -> Any:
    """PyTorch's ``promote_types`` of two NumPy dtypes (either may be None: the other wins)."""
    if a is None or a == b:
        return b
    if b is None:
        return a
    ca, cb = category(a), category(b)
    if ca == _INTEGER and cb > _INTEGER:
        return b  # PyTorch keeps the floating type as it is; NumPy would widen it
    if cb == _INTEGER and ca > _INTEGER:
        return a
    return backends.host().xp.promote_types(a, b)  # NumPy agrees everywhere else


def _combine(higher: Any, lower: Any) -> Any:
    """The type of a higher tier (`higher`) joined by a lower one: the lower tier counts only
    where it is of a higher category (PyTorch's ``combine_categories``)."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    ch, cl = category(higher), category(lower)
    if ch == _COMPLEX:
        return higher
    if cl == _COMPLEX:
        if ch == _FLOATING:  # keep the floating type's precision
            return _COMPLEX128 if higher.name == "float64" else _COMPLEX64
        return lower
    if ch == _FLOATING:
        return higher
    if ch == _BOOL or cl == _FLOATING:
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value: Any) -> Any:
    """The dtype a Python number counts as: bool, int64, the default float or complex type."""
    if isinstance(value, bool):
        return _BOOL_DTYPE
    if isinstance(value, int):
        return _INT64
    if isinstance(value, float):
        return dtypes.default_float()
    if isinstance(value, complex):
        return dtypes.default_complex()
    raise TypeError(f"type promotion: {type(value).__name__} is not a number")


def result_type(*operands: Any) -> Any:
    """PyTorch's result type of Tensors and Python numbers, as a NumPy dtype."""
    dims = zero_dims = numbers = None
    for x in operands:
        if isinstance(x, Tensor):
            dtype = x.array.dtype
            if x.array.ndim:
                dims = promote_types(dims, dtype)
            else:
                zero_dims = promote_types(zero_dims, dtype)
        elif x is not None:
            numbers = promote_types(numbers, scalar_dtype(x))
    return _combine(dims, _combine(zero_dims, numbers))


def operand(x: Any, like: Tensor) -> Any:
    """`x` as an operand beside `like`: Tensors and Python numbers as they are, NumPy scalars as
    Python numbers (PyTorch weighs them so), arrays and lists as tensors on `like`'s device."""
    if isinstance(x, Tensor) or type(x) in (int, float, bool, complex):
        return x
    if isinstance(x, _NUMPY_SCALAR):
        return x.item()  # a host scalar: no device read
    if isinstance(x, complex):
        return complex(x)
    return _lift(x, like, scalar_ok=False)


def cast(x: Any, dtype: Any) -> Any:
    """Tensor `x` as `dtype` (a differentiable cast where it changes); numbers as they are."""
    if isinstance(x, Tensor) and x.array.dtype != dtype:
        return _unary.astype(x, dtype)
    return x


def operands(a: Any, b: Any, floating: bool = False) -> tuple:
    """`a` and `b` (one a Tensor) cast to PyTorch's result type, for a binary op to compute in;
    with `floating`, an integer or bool result type becomes the default dtype."""
    like = a if isinstance(a, Tensor) else b
    a, b = operand(a, like), operand(b, like)
    dtype = result_type(a, b)
    if floating and category(dtype) < _FLOATING:
        dtype = dtypes.default_float()
    return cast(a, dtype), cast(b, dtype)


def binary(op: Any, a: Any, b: Any) -> Tensor:
    """``a op b`` for Tensor's operators where a cast is needed (their slow path): `op` is the
    Function class (``Div`` divides in a floating type) or a function of two operands."""
    like = a if isinstance(a, Tensor) else b
    a, b = operand(a, like), operand(b, like)
    dtype = result_type(a, b)
    if op is _arith.Div and category(dtype) < _FLOATING:
        dtype = dtypes.default_float()
    if category(dtype) == _COMPLEX and any(isinstance(x, Tensor) and x.requires_grad
                                           for x in (a, b)):
        # The op itself refuses a complex result that requires grad, naming itself.
        return op.apply(a, b) if isinstance(op, type) else op(a, b)
    cast_a, cast_b = cast(a, dtype), cast(b, dtype)
    if not isinstance(op, type):
        return op(cast_a, cast_b)
    if (cast_a is not a or cast_b is not b) and isinstance(cast_a, Tensor) and isinstance(
            cast_b, Tensor) and cast_a.shape != cast_b.shape:
        # Shapes that do not broadcast: say so naming the operands as given, not as cast.
        try:
            backends.host().xp.broadcast_shapes(cast_a.shape, cast_b.shape)
        except ValueError as e:
            _reraise_with_context(op, (a, b), e)
    return op.apply(cast_a, cast_b)


def floating(x: Tensor) -> Tensor:
    """`x` itself if floating, else cast to the default dtype (what PyTorch's float functions,
    ``exp``, ``sqrt``, ``sigmoid``, ..., do with integer and bool tensors)."""
    dtype = x.array.dtype
    if dtypes.is_floating(dtype):
        return x
    return _unary.astype(x, dtypes.default_float())
