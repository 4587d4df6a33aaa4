"""`autograd.numpy`'s elementwise functions: arithmetic, exp/log, trigonometry, comparisons,
complex parts, where and clip, each NumPy's name, arguments and promotion.

Differentiable ones run kedja's ops (autograd/ops/); the math ops other modules define (tan,
arcsinh, logaddexp, mod...) are taken from the `autograd` namespace where it has them.
Comparisons and logic run NumPy's function on the backend arrays: their results are constants.
"""

from __future__ import annotations

import math
from typing import Any

import autograd as _ag

from ..ops import arithmetic as _ar
from ..ops import unary as _un
from ..ops.linalg import MatMul
from ..tensor import Tensor
from .calls import check_out, constant_call, forward_only, ufunc_options
from .dispatch import as_tensor, cast, like_of, numpy_function, onp, operand

__all__: list[str] = []


def _export(fn: Any) -> Any:
    globals()[fn.__name__] = fn
    __all__.append(fn.__name__)
    return fn


def _doc(name: str, what: str) -> str:
    return f"NumPy's ``{name}``: {what}"


# -- unary -------------------------------------------------------------------------------------
def unary(name: str, impl: Any, what: str) -> Any:
    """A NumPy ufunc of one argument whose Tensor version is ``impl(tensor)``."""

    def f(x: Any, /, **kwargs: Any) -> Any:
        dtype = ufunc_options(name, kwargs)
        x = as_tensor(x, like_of(x))
        return impl(cast(x, dtype) if dtype is not None else x)

    return _export(numpy_function(getattr(onp, name), name, _doc(name, what))(f))


def _deg2rad(x: Tensor) -> Tensor:
    return _ar.Mul.apply(_float(x), math.pi / 180.0)


def _rad2deg(x: Tensor) -> Tensor:
    return _ar.Mul.apply(_float(x), 180.0 / math.pi)


def _float(x: Tensor) -> Tensor:
    """`x` as float64 if it holds integers or booleans (NumPy's ufuncs compute those in float)."""
    return cast(x, "float64") if x.array.dtype.kind in "biu" else x


for _name, _impl, _what in (
    ("negative", _ar.Neg.apply, "-x"),
    ("positive", lambda x: x, "+x (the array itself)"),
    ("abs", _un.Abs.apply, "|x| (gradient 0 at 0)"),
    ("absolute", _un.Abs.apply, "|x| (gradient 0 at 0)"),
    ("fabs", lambda x: _un.Abs.apply(_float(x)), "|x| as floats (gradient 0 at 0)"),
    ("exp", _un.Exp.apply, "e**x"),
    ("log", _un.Log.apply, "the natural logarithm"),
    ("log1p", _un.Log1p.apply, "log(1 + x), accurate near 0"),
    ("expm1", _un.Expm1.apply, "exp(x) - 1, accurate near 0"),
    ("sqrt", _un.Sqrt.apply, "the square root"),
    ("square", _un.Square.apply, "x * x"),
    ("sin", _un.Sin.apply, "sine (radians)"),
    ("cos", _un.Cos.apply, "cosine (radians)"),
    ("tanh", _un.Tanh.apply, "hyperbolic tangent"),
    ("sign", _un.Sign.apply, "-1, 0 or 1 (gradient 0)"),
    ("deg2rad", _deg2rad, "degrees to radians"),
    ("radians", _deg2rad, "degrees to radians"),
    ("rad2deg", _rad2deg, "radians to degrees"),
    ("degrees", _rad2deg, "radians to degrees"),
):
    unary(_name, _impl, _what)

#: Unary math defined by other op modules, used from the `autograd` namespace where present.
AG_UNARY = (
    "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh", "arctanh",
    "asin", "acos", "atan", "asinh", "acosh", "atanh", "sinc", "cbrt", "exp2", "log2",
    "log10", "reciprocal", "floor", "ceil", "trunc", "rint", "fix", "spacing",
)
for _name in AG_UNARY:
    if hasattr(_ag, _name) and hasattr(onp, _name):
        unary(_name, getattr(_ag, _name), f"elementwise {_name}")


# -- binary ------------------------------------------------------------------------------------
def binary(name: str, impl: Any, what: str) -> Any:
    """A NumPy ufunc of two arguments whose Tensor version is ``impl(a, b)``."""

    def f(a: Any, b: Any, /, **kwargs: Any) -> Any:
        dtype = ufunc_options(name, kwargs)
        like = like_of(a, b)
        a, b = operand(a, like), operand(b, like)
        if dtype is not None:
            a, b = cast(_tensor(a, like), dtype), cast(_tensor(b, like), dtype)
        return impl(a, b)

    return _export(numpy_function(getattr(onp, name), name, _doc(name, what))(f))


def _tensor(x: Any, like: Tensor) -> Tensor:
    return x if isinstance(x, Tensor) else as_tensor(onp.asarray(x), like)


def _power(a: Any, b: Any) -> Tensor:
    if isinstance(b, (int, float)) and not isinstance(b, bool) and isinstance(a, Tensor):
        return _ar.PowScalar.apply(a, p=b)
    if isinstance(a, (int, float)) and not isinstance(a, bool) and a > 0:
        return _ar.RPowScalar.apply(b, c=a)
    return _ar.Pow.apply(_tensor(a, b if isinstance(b, Tensor) else a),
                         _tensor(b, a if isinstance(a, Tensor) else b))


def _float_power(a: Any, b: Any) -> Tensor:
    like = a if isinstance(a, Tensor) else b
    complex_ = onp.result_type(*(t.array.dtype if isinstance(t, Tensor) else t for t in (a, b)))
    dtype = "complex128" if complex_.kind == "c" else "float64"
    return _power(cast(_tensor(a, like), dtype), cast(_tensor(b, like), dtype))


def _matmul(a: Any, b: Any) -> Tensor:
    like = like_of(a, b)
    return MatMul.apply(as_tensor(a, like), as_tensor(b, like))


def _maximum(a: Any, b: Any) -> Tensor:
    return _ar.Maximum.apply(a, b)


def _minimum(a: Any, b: Any) -> Tensor:
    return _ar.Minimum.apply(a, b)


for _name, _impl, _what in (
    ("add", _ar.Add.apply, "a + b"),
    ("subtract", _ar.Sub.apply, "a - b"),
    ("multiply", _ar.Mul.apply, "a * b"),
    ("divide", _ar.Div.apply, "a / b (true division)"),
    ("true_divide", _ar.Div.apply, "a / b"),
    ("power", _power, "a ** b"),
    ("float_power", _float_power, "a ** b computed in float64 (or complex128)"),
    ("maximum", _maximum, "the larger of a and b (ties split the gradient evenly)"),
    ("minimum", _minimum, "the smaller of a and b (ties split the gradient evenly)"),
    ("matmul", _matmul, "the matrix product a @ b (1-D, 2-D, batched)"),
):
    binary(_name, _impl, _what)
if hasattr(onp, "pow"):  # NumPy 2's array-API name
    binary("pow", _power, "a ** b")

#: Binary math defined by other op modules, used from the `autograd` namespace where present.
AG_BINARY = (
    "fmax", "fmin", "mod", "remainder", "fmod", "floor_divide", "arctan2", "atan2", "hypot",
    "logaddexp", "logaddexp2", "copysign", "heaviside", "nextafter", "ldexp",
)
for _name in AG_BINARY:
    if hasattr(_ag, _name) and hasattr(onp, _name):
        binary(_name, getattr(_ag, _name), f"elementwise {_name}")


# -- comparisons and logic: constants -----------------------------------------------------------
CONSTANT_UFUNCS = (
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and",
    "logical_or", "logical_xor", "logical_not", "isnan", "isinf", "isfinite", "isposinf",
    "isneginf", "signbit", "isreal", "iscomplex", "bitwise_and", "bitwise_or", "bitwise_xor",
    "invert", "bitwise_not", "bitwise_invert", "left_shift", "right_shift",
    "bitwise_left_shift", "bitwise_right_shift", "gcd", "lcm",
)


def constant(name: str, module: str = "") -> Any:
    """A NumPy function whose result carries no gradient (comparisons, indices, counts)."""

    def f(*args: Any, **kwargs: Any) -> Any:
        return constant_call(name, args, kwargs, module)

    plain = getattr(onp if not module else getattr(onp, module), name)
    return numpy_function(plain, name, _doc(name, "a constant result (no gradient)"),
                          kind="constant")(f)


for _name in CONSTANT_UFUNCS:
    if hasattr(onp, _name):
        _export(constant(_name))

# Piecewise-constant functions where no op module has them yet: constants (gradient 0 a.e.).
for _name in ("floor", "ceil", "trunc", "rint", "fix", "floor_divide"):
    if _name not in globals():
        _export(constant(_name))


# -- where, clip --------------------------------------------------------------------------------
def _plain_where(condition: Any, x: Any = None, y: Any = None) -> Any:
    return onp.where(condition) if x is None and y is None else onp.where(condition, x, y)


@_export
@numpy_function(_plain_where, "where")
def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """NumPy's ``where``: `x` where `condition` holds, else `y` (the condition gets no gradient);
    with the condition alone, the indices where it holds (``nonzero``)."""
    if x is None and y is None:
        return constant_call("nonzero", (condition,), {})
    like = like_of(condition, x, y)
    condition = as_tensor(condition, like)
    return _ar.Where.apply(condition, operand(x, like), operand(y, like))


_NO_BOUND = object()


@_export
@numpy_function(onp.clip)
def clip(a: Any, a_min: Any = _NO_BOUND, a_max: Any = _NO_BOUND, out: Any = None, *,
         min: Any = None, max: Any = None, **kwargs: Any) -> Any:  # noqa: A002 - NumPy's names
    """NumPy's ``clip``: `a` limited to [a_min, a_max] (either may be None or an array).

    The gradient passes to `a` strictly inside the bounds and to an array bound where it is
    the one taken (0 to `a` at a bound), as in HIPS autograd.
    """
    check_out("clip", out)
    lo = min if a_min is _NO_BOUND else a_min
    hi = max if a_max is _NO_BOUND else a_max
    like = like_of(a, lo, hi)
    a = as_tensor(a, like)
    scalar = (int, float, onp.generic, type(None))
    if isinstance(lo, scalar) and isinstance(hi, scalar):
        if lo is None and hi is None:
            raise ValueError("clip: at least one of a_min and a_max must be given")
        return _un.Clip.apply(a, min=None if lo is None else lo.item() if
                              isinstance(lo, onp.generic) else lo,
                              max=None if hi is None else hi.item() if
                              isinstance(hi, onp.generic) else hi)
    y = a
    if lo is not None:
        lo = operand(lo, like)
        y = _ar.Where.apply(_lt(y, lo), lo, y)
    if hi is not None:
        hi = operand(hi, like)
        y = _ar.Where.apply(_lt(hi, y), hi, y)
    return y


def _lt(a: Any, b: Any) -> Tensor:
    return constant_call("less", (a, b), {})


# -- complex parts: real data differentiable, complex data forward only ------------------------
def _complex_part(name: str, on_real: Any, what: str) -> Any:
    def f(val: Any, *args: Any, **kwargs: Any) -> Any:
        x = as_tensor(val, like_of(val))
        if x.array.dtype.kind != "c":
            return on_real(x, *args, **kwargs)
        if x.requires_grad:
            raise TypeError(
                f"autograd.numpy.{name}: complex gradients are not supported in kedja; "
                f"{name} of a complex tensor runs only on tensors that do not require grad"
            )
        return constant_call(name, (x, *args), kwargs)

    return _export(numpy_function(getattr(onp, name), name, _doc(name, what))(f))


def _zeros_of(x: Tensor) -> Tensor:
    return Tensor._make(x.xp.zeros(x.array.shape, dtype=x.array.dtype), x.backend)


def _angle_real(x: Tensor, deg: bool = False) -> Tensor:
    half_turn = 180.0 if deg else math.pi
    dtype = "float64" if x.array.dtype.kind in "biu" else x.array.dtype
    values = x.xp.where(x.array < 0, half_turn, 0.0).astype(dtype)
    return Tensor._make(values, x.backend)


_complex_part("real", lambda x: x, "the real part (the array itself for real data)")
_complex_part("imag", _zeros_of, "the imaginary part (zeros, a constant, for real data)")
_complex_part("conj", lambda x: x, "the complex conjugate (the array itself for real data)")
_complex_part("conjugate", lambda x: x, "the complex conjugate")
_complex_part("angle", _angle_real, "the argument (0 or pi, a constant, for real data)")


def _round(a: Any, decimals: int = 0, out: Any = None) -> Any:
    check_out("round", out)
    x = as_tensor(a, like_of(a))
    if hasattr(_ag, "round"):
        return _ag.round(x, decimals=decimals)
    return constant_call("round", (x,), {"decimals": decimals})


for _name in ("round", "around"):
    if hasattr(onp, _name):
        _export(numpy_function(getattr(onp, _name), _name, _doc(
            _name, "rounded to `decimals` (half to even; gradient 0)"))(_round))


def _astype(x: Any, dtype: Any, /, *, copy: bool = True, device: Any = None) -> Any:
    t = as_tensor(x, like_of(x))
    return _un.astype(t, onp.dtype(dtype))


if hasattr(onp, "astype"):  # NumPy 2's function form of ndarray.astype
    _export(numpy_function(onp.astype, "astype", _doc(
        "astype", "a copy in another dtype (differentiable between float types)"))(_astype))


def not_differentiable(name: str) -> Any:
    """A NumPy function kedja runs on tensors that need no gradient (see forward_only)."""

    def f(*args: Any, **kwargs: Any) -> Any:
        return forward_only(name, args, kwargs)

    return numpy_function(getattr(onp, name), name,
                          _doc(name, "forward only on tensors (not differentiable)"),
                          kind="forward only")(f)
