"""Dtype objects (``ag.float32``, ``ag.long``, ...), the default dtype, `finfo` and `iinfo`.

A tensor's ``.dtype`` is its backend array's NumPy dtype (what NumPy, CuPy and every kernel
read). The objects here are PyTorch's spelling of the same types: each compares and hashes
equal to its NumPy dtype (``t.dtype == ag.float32``, ``{t.dtype: ...}[ag.float32]``) and is
accepted wherever a dtype is (creation functions, ``astype``, ``to``, ``type``, NumPy itself),
since NumPy reads the ``.dtype`` attribute of any object it is handed as a dtype.

The default dtype (float32 unless `set_default_dtype` changes it) is what Python floats become
in ``ag.tensor`` and the creation functions, and what integers are promoted to where a result
must be floating (``int / int``, ``int_tensor.exp()``, ``int_tensor * 1.5``).
"""

from __future__ import annotations

from typing import Any

import backends

# `float`, `int` and `bool` (PyTorch's aliases) are left out of __all__ so that a star import
# never shadows Python's builtins; `autograd/__init__.py` imports them by name.
__all__ = [
    "DType", "float16", "half", "bfloat16", "float32", "float64", "double", "complex64",
    "cfloat", "complex128", "cdouble", "uint8", "int8", "int16", "short", "int32", "int64",
    "long", "get_default_dtype", "set_default_dtype", "finfo", "iinfo",
]

_builtin_float, _builtin_int, _builtin_bool = float, int, bool


class DType:
    """A tensor element type, as PyTorch spells it (``ag.float32``); NumPy's dtype inside.

    Attributes:
        name: the NumPy name (``"float32"``).
        dtype: the NumPy dtype (so that ``numpy.dtype(ag.float32)`` works); for bfloat16 it
            needs ml_dtypes (``pip install 'kedja[bfloat16]'``).
        is_floating_point, is_complex, is_signed, itemsize: as on PyTorch's dtypes.
    """

    __slots__ = ("name", "is_floating_point", "is_complex", "is_signed", "itemsize", "_numpy")

    def __init__(self, name: str, kind: str, itemsize: _builtin_int) -> None:
        self.name = name
        self.is_floating_point = kind == "f"
        self.is_complex = kind == "c"
        self.is_signed = kind in "fci"
        self.itemsize = itemsize
        self._numpy = None  # resolved on first use: bfloat16 may need ml_dtypes imported

    @property
    def dtype(self) -> Any:
        if self._numpy is None:
            try:
                self._numpy = backends.dtype_of(self.name)
            except TypeError as e:
                raise TypeError(
                    f"{self!r} needs the ml_dtypes package, which gives NumPy a {self.name} "
                    "type: pip install 'kedja[bfloat16]'"
                ) from e
        return self._numpy

    def to_complex(self) -> DType:
        """The complex type with this floating type's precision (float64 -> complex128)."""
        return complex128 if self.name in ("float64", "complex128") else complex64

    def to_real(self) -> DType:
        """The real type of this complex type's parts (complex64 -> float32)."""
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    def __eq__(self, other: Any) -> Any:
        if isinstance(other, DType):
            return other.name == self.name
        if other is None:  # numpy.dtype(None) would be float64
            return False
        try:
            return backends.dtype_of(other).name == self.name
        except (TypeError, ValueError):
            return NotImplemented

    def __ne__(self, other: Any) -> Any:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> _builtin_int:
        # The NumPy dtype's hash, so that either finds the other's entries in a dict.
        try:
            return hash(self.dtype)
        except TypeError:  # bfloat16 without ml_dtypes: no NumPy dtype to agree with
            return hash(self.name)

    def __repr__(self) -> str:
        return f"autograd.{self.name}"

    def __str__(self) -> str:
        return self.name

    def __reduce__(self) -> Any:
        return (_by_name, (self.name,))  # unpickles to the one object of that name

    def __copy__(self) -> DType:
        return self

    def __deepcopy__(self, memo: dict) -> DType:
        return self


_ALL: dict[str, DType] = {}


def _make(name: str, kind: str, itemsize: _builtin_int) -> DType:
    _ALL[name] = DType(name, kind, itemsize)
    return _ALL[name]


def _by_name(name: str) -> DType:
    return _ALL[name]


bool = _make("bool", "b", 1)  # noqa: A001 - PyTorch's name
uint8 = _make("uint8", "u", 1)
int8 = _make("int8", "i", 1)
int16 = short = _make("int16", "i", 2)
int32 = int = _make("int32", "i", 4)  # noqa: A001 - PyTorch's name
int64 = long = _make("int64", "i", 8)
float16 = half = _make("float16", "f", 2)
bfloat16 = _make("bfloat16", "f", 2)
float32 = float = _make("float32", "f", 4)  # noqa: A001 - PyTorch's name
float64 = double = _make("float64", "f", 8)
complex64 = cfloat = _make("complex64", "c", 8)
complex128 = cdouble = _make("complex128", "c", 16)


def of(dtype: Any) -> DType | None:
    """The dtype object of a NumPy dtype (None for types PyTorch has no object for)."""
    return _ALL.get(backends.dtype_of(dtype).name)


# -- what counts as floating -------------------------------------------------------------------
def is_floating(dtype: Any) -> _builtin_bool:
    """True for floating and complex NumPy dtypes, bfloat16 included (its NumPy kind is 'V')."""
    return dtype.kind in "fc" or dtype.name == "bfloat16"


# -- the default dtype --------------------------------------------------------------------------
_DEFAULTS = ("float16", "bfloat16", "float32", "float64")
_default = backends.dtype_of("float32")
_default_complex = backends.dtype_of("complex64")


def get_default_dtype() -> DType:
    """The floating dtype Python floats become (``ag.float32`` unless changed)."""
    return _ALL[_default.name]


def set_default_dtype(dtype: Any) -> None:
    """Sets the floating dtype Python floats become, in ``ag.tensor`` and the creation
    functions, and that integers are promoted to where a result must be floating.

    Args:
        dtype: ``ag.float32`` (the default), ``ag.float64``, ``ag.float16`` or ``ag.bfloat16``
            (as an object, a string or a NumPy dtype). Python complex numbers follow: complex128
            with float64, else complex64 (NumPy has no complex32 for float16's).

        >>> ag.set_default_dtype(ag.float64)
        >>> ag.tensor([1.5]).dtype, (ag.tensor([1, 2]) / 2).dtype
        (dtype('float64'), dtype('float64'))
    """
    global _default, _default_complex
    resolved = resolve(dtype)
    if resolved.name not in _DEFAULTS:
        raise TypeError(
            f"set_default_dtype: only floating dtypes ({', '.join(_DEFAULTS)}) can be the "
            f"default, got {dtype!r}"
        )
    _default = resolved
    _default_complex = backends.dtype_of("complex128" if resolved.name == "float64"
                                         else "complex64")


def default_float() -> Any:
    """The default dtype as a NumPy dtype (for library code)."""
    return _default


def default_complex() -> Any:
    """The complex dtype Python complex numbers become (follows the default dtype)."""
    return _default_complex


# -- resolving dtype arguments ----------------------------------------------------------------
def resolve(dtype: Any, backend: Any = None) -> Any:
    """The NumPy dtype a ``dtype=`` argument names (a dtype object, string, NumPy type or dtype),
    checked against `backend` where given: CuPy (and the fake device) have no bfloat16."""
    resolved = dtype.dtype if isinstance(dtype, DType) else backends.dtype_of(dtype)
    if backend is not None and backend.is_device and resolved.name == "bfloat16":
        raise TypeError(
            f"dtype bfloat16 is not available on {backend.device}: CuPy has no bfloat16 type "
            "(bfloat16 tensors live on the CPU, with ml_dtypes installed)"
        )
    return resolved


# -- machine limits -----------------------------------------------------------------------------
def finfo(type: Any = None) -> Any:  # noqa: A002 - NumPy's and PyTorch's argument name
    """Machine limits of a floating dtype (``eps``, ``tiny``, ``max``, ``min``, ``resolution``,
    ``bits``, ``smallest_normal``): NumPy's ``finfo``. Without an argument, of the default dtype
    (as PyTorch); a tensor gives its own dtype's.

        >>> ag.finfo(ag.float32).eps
        1.1920929e-07
    """
    if type is None:
        return backends.finfo(_default)
    dtype = _dtype_argument(type)
    if not is_floating(dtype):
        raise TypeError(f"finfo: expected a floating dtype, got {dtype}; use iinfo for integers")
    return backends.finfo(dtype)


def iinfo(type: Any) -> Any:  # noqa: A002 - NumPy's and PyTorch's argument name
    """Machine limits of an integer dtype (``min``, ``max``, ``bits``): NumPy's ``iinfo``.

        >>> ag.iinfo(ag.int8).max
        127
    """
    dtype = _dtype_argument(type)
    if dtype.kind not in "iu":
        raise TypeError(f"iinfo: expected an integer dtype, got {dtype}; use finfo for floats")
    return backends.iinfo(dtype)


def _dtype_argument(value: Any) -> Any:
    array = getattr(value, "array", None)  # a Tensor: its dtype
    if array is not None:
        return array.dtype
    return resolve(value)
