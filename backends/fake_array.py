"""The strict fake device's array and namespace: NumPy underneath, CuPy's rules on top.

`FakeDeviceArray` wraps a host ``numpy.ndarray`` but behaves like a ``cupy.ndarray`` from the
engine's point of view, and refuses loudly what would break (or silently slow down) CuPy code:

- implicit conversion to NumPy (``np.asarray(a)``, ``np.exp(a)``, ``np.sum(a)``): TypeError;
- mixing with host ``numpy.ndarray`` operands, values or indices: TypeError (Python scalars and
  NumPy scalars such as ``np.float32(2)`` are fine, as in CuPy);
- mixing arrays of two fake devices: ValueError;
- reductions returning NumPy scalars: they return 0-d device arrays, as CuPy's do;
- ``xp.add.at`` (use ``backend.scatter_add``), ``xp.random`` (use the backend's seeded draws),
  ``xp.errstate`` and other host-only NumPy API: AttributeError;
- host synchronisations (``float(a)``, ``bool(a)``, ``a.item()``, ``a.tolist()``, ``repr(a)``,
  boolean-mask indexing, ``nonzero``...): allowed but counted by the backend, and an error
  inside ``backend.expect_no_sync()``.

The backend's ``xp`` (`FakeNamespace`) lives in fake_namespace.py.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

# Python and NumPy scalars combine with device arrays (CuPy accepts both).
_SCALARS = (int, float, complex, bool, np.generic)
# dtypes CuPy has no kernels for: objects, strings, void, datetimes, extended precision.
_UNSUPPORTED_KINDS = frozenset("OUSVMm")
_UNSUPPORTED_DTYPES = frozenset({np.dtype(np.longdouble), np.dtype(np.clongdouble)}) - {
    np.dtype(np.float64),
    np.dtype(np.complex128),
}


def _host_error(where: str, obj: Any) -> TypeError:
    return TypeError(
        f"{where}: got a host numpy.ndarray (shape {obj.shape}, dtype {obj.dtype}) mixed with "
        "fake device arrays; CuPy refuses this too. Move the data explicitly with "
        "backend.asarray(...) (host -> device) or backend.to_numpy(...) (device -> host)"
    )


def _device_error(where: str, a: Any, b: Any) -> ValueError:
    return ValueError(
        f"{where}: arrays on different devices ({a.device} and {b.device}); move one with "
        "Tensor.to(device) first"
    )


def _checked(dev: Any, r: np.ndarray) -> np.ndarray:
    dtype = r.dtype
    if dtype.kind in _UNSUPPORTED_KINDS or dtype in _UNSUPPORTED_DTYPES:
        raise TypeError(
            f"{dev.device}: dtype {dtype} is not supported on a CUDA device (CuPy has no "
            "object, string, datetime or long double arrays)"
        )
    return r


def wrap(dev: Any, r: Any, seen: list | None = None) -> Any:
    """NumPy results as device values: arrays and NumPy scalars become FakeDeviceArrays."""
    t = type(r)
    if t is np.ndarray:
        if seen:
            for f in seen:  # keep identity when NumPy hands an input (or `out=`) back
                if f._a is r:
                    return f
        return FakeDeviceArray(_checked(dev, r), dev)
    if isinstance(r, np.generic):
        return FakeDeviceArray(_checked(dev, np.asarray(r)), dev)
    if t is tuple or t is list:
        return t(wrap(dev, x, seen) for x in r)
    if isinstance(r, tuple) and hasattr(r, "_fields"):  # named tuples (QRResult, ...)
        return t(*(wrap(dev, x, seen) for x in r))
    return r


def unwrap(dev: Any, obj: Any, where: str, seen: list, host_ok: bool = False) -> Any:
    """Fake arrays (of `dev`) as their NumPy arrays, through lists and tuples; refuses host
    arrays unless `host_ok` (a host -> device transfer)."""
    t = type(obj)
    if t is FakeDeviceArray:
        if obj._dev is not dev:
            raise _device_error(where, obj._dev, dev)
        seen.append(obj)
        return obj._a
    if t is np.ndarray:
        if host_ok:
            return obj
        raise _host_error(where, obj)
    if t is list or t is tuple:
        return t(unwrap(dev, x, where, seen, host_ok) for x in obj)
    if t is dict:
        return {k: unwrap(dev, v, where, seen, host_ok) for k, v in obj.items()}
    if hasattr(obj, "__cuda_array_interface__"):
        raise TypeError(f"{where}: got a real CUDA array ({t.__name__}) on the fake device")
    return obj


def _operand(dev: Any, x: Any, where: str) -> Any:
    """The NumPy operand for a binary operator, or NotImplemented for foreign types."""
    t = type(x)
    if t is FakeDeviceArray:
        if x._dev is not dev:
            raise _device_error(where, dev, x._dev)
        return x._a
    if isinstance(x, _SCALARS):
        return x
    if isinstance(x, np.ndarray):
        raise _host_error(where, x)
    return NotImplemented  # lists (CuPy refuses them too) and other types (e.g. Tensor)


def _index(dev: Any, index: Any, getting: bool) -> Any:
    if type(index) is tuple:
        return tuple(_index_item(dev, i, getting) for i in index)
    return _index_item(dev, index, getting)


def _index_item(dev: Any, i: Any, getting: bool) -> Any:
    t = type(i)
    if t is FakeDeviceArray:
        if i._dev is not dev:
            raise _device_error("indexing", dev, i._dev)
        if getting and i._a.dtype == np.bool_:
            dev._record_sync("boolean-mask indexing (the result's size depends on the data)")
        return i._a
    if t is np.ndarray:
        raise _host_error("indexing", i)
    if t is list:
        return unwrap(dev, i, "indexing", [])
    return i


class FakeDeviceArray:
    """A device array of the fake backend (a NumPy array that behaves like a CuPy one)."""

    __slots__ = ("_a", "_dev", "__weakref__")
    _kedja_device_array = True
    # NumPy must not treat us as array data: ufuncs refuse us and binary operators with a host
    # array on the left defer to our reflected operator (which refuses the host array).
    __array_ufunc__ = None
    __hash__ = None  # type: ignore[assignment]  # like ndarray

    def __init__(self, array: np.ndarray, dev: Any) -> None:
        self._a = array
        self._dev = dev
        dev._track(self)

    # -- refusals --------------------------------------------------------------------------
    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        raise TypeError(
            f"Implicit conversion to a NumPy array is not allowed ({self._dev.device} array of "
            f"shape {self.shape}); use backend.to_numpy(array) or Tensor.numpy() explicitly"
        )

    def __array_function__(self, func: Any, types_: Any, args: Any, kwargs: Any) -> Any:
        raise TypeError(
            f"numpy.{func.__name__} was called on a {self._dev.device} array; use the backend "
            "namespace (tensor.xp / fn.xp / backend.xp), never numpy, for tensor data"
        )

    def __reduce__(self) -> Any:
        # Pickling copies the data to the host, as CuPy's does.
        return (_rebuild, (self._dev.device, self._host("pickling")))

    def __copy__(self) -> FakeDeviceArray:
        return FakeDeviceArray(self._a.copy(), self._dev)

    def __deepcopy__(self, memo: Any) -> FakeDeviceArray:
        return FakeDeviceArray(self._a.copy(), self._dev)

    # -- host synchronisations (counted) ---------------------------------------------------
    def _host(self, reason: str) -> np.ndarray:
        self._dev._record_sync(f"{reason} on a {self._dev.device} array of shape {self.shape}")
        return self._a

    def _one(self, what: str) -> np.ndarray:
        if self._a.size != 1:
            raise TypeError(f"{what}: only arrays with one element can be converted to a Python "
                            f"scalar, got shape {self.shape}")
        return self._host(what)

    def __float__(self) -> float:
        return float(self._one("float()").reshape(()))

    def __int__(self) -> int:
        return int(self._one("int()").reshape(()))

    def __complex__(self) -> complex:
        return complex(self._one("complex()").reshape(()))

    def __index__(self) -> int:
        if self._a.dtype.kind not in "iub":
            raise TypeError(f"only integer arrays can be used as an index, got {self.dtype}")
        return operator.index(self._one("__index__").reshape(())[()])

    def __bool__(self) -> bool:
        if self._a.size != 1:
            raise ValueError(
                f"The truth value of an array with {self._a.size} elements is ambiguous; use "
                "a.any() or a.all()"
            )
        return bool(self._host("bool()").reshape(()))

    def item(self, *args: Any) -> Any:
        """The element as a Python scalar (a host synchronisation)."""
        return self._host("item()").item(*args)

    def tolist(self) -> Any:
        """The data as nested Python lists (a host synchronisation)."""
        return self._host("tolist()").tolist()

    def get(self) -> np.ndarray:
        """A host copy, as ``cupy.ndarray.get()`` (a host synchronisation)."""
        return self._host("get()").copy()

    def tobytes(self, order: str = "C") -> bytes:
        return self._host("tobytes()").tobytes(order)

    def __contains__(self, value: Any) -> bool:
        return bool(self._host("`in`").__contains__(_operand(self._dev, value, "`in`")))

    def __repr__(self) -> str:
        return f"<{self._dev.device} {self._host('repr()')!r}>"

    def __str__(self) -> str:
        return str(self._host("str()"))

    def __format__(self, spec: str) -> str:
        return format(self._host("format()"), spec)

    # -- metadata (no synchronisation) -----------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self._a.shape

    @property
    def ndim(self) -> int:
        return self._a.ndim

    @property
    def size(self) -> int:
        return self._a.size

    @property
    def dtype(self) -> np.dtype:
        return self._a.dtype

    @property
    def itemsize(self) -> int:
        return self._a.itemsize

    @property
    def nbytes(self) -> int:
        return self._a.nbytes

    @property
    def strides(self) -> tuple:
        return self._a.strides

    @property
    def flags(self) -> Any:
        return self._a.flags

    @property
    def device(self) -> str:
        return self._dev.device

    @property
    def base(self) -> FakeDeviceArray | None:
        """The array this one is a view of (a new wrapper of the same memory), else None."""
        b = self._a.base
        if b is None:
            return None
        return FakeDeviceArray(b, self._dev) if type(b) is np.ndarray else b

    @property
    def T(self) -> FakeDeviceArray:
        return FakeDeviceArray(self._a.T, self._dev)

    @property
    def mT(self) -> FakeDeviceArray:
        return FakeDeviceArray(np.swapaxes(self._a, -1, -2), self._dev)

    @property
    def real(self) -> FakeDeviceArray:
        return wrap(self._dev, self._a.real)

    @property
    def imag(self) -> FakeDeviceArray:
        return wrap(self._dev, self._a.imag)

    def __len__(self) -> int:
        if self._a.ndim == 0:
            raise TypeError("len() of unsized object")
        return self._a.shape[0]

    def __iter__(self) -> Any:
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        dev = self._dev
        return (FakeDeviceArray(row, dev) if type(row) is np.ndarray else wrap(dev, row)
                for row in self._a)

    # -- indexing --------------------------------------------------------------------------
    def __getitem__(self, index: Any) -> Any:
        return wrap(self._dev, self._a[_index(self._dev, index, True)])

    def __setitem__(self, index: Any, value: Any) -> None:
        dev = self._dev
        if type(value) is list:
            value = unwrap(dev, value, "__setitem__", [])
        else:
            v = _operand(dev, value, "__setitem__")
            if v is NotImplemented:
                raise TypeError(f"__setitem__: cannot assign a {type(value).__name__} to a "
                                f"{dev.device} array")
            value = v
        self._a[_index(dev, index, False)] = value

    # -- DLPack ----------------------------------------------------------------------------
    def __dlpack__(self, *, stream: Any = None, max_version: Any = None, dl_device: Any = None,
                   copy: Any = None) -> Any:
        return export_dlpack(self, (stream, max_version, dl_device, copy))

    def __dlpack_device__(self) -> tuple:
        return (FAKE_DLPACK_DEVICE, self._dev.index)


FAKE_DLPACK_DEVICE = 12  # kDLExtDev: DLPack's "extension device", so no real library imports us


class FakeCapsule:
    """What a fake array exports by DLPack: only the fake backend can import it."""

    __slots__ = ("array",)

    def __init__(self, array: FakeDeviceArray) -> None:
        self.array = array


def export_dlpack(array: FakeDeviceArray, protocol_args: tuple) -> FakeCapsule:
    """A fake capsule for the fake backend's from_dlpack (which asks with no arguments); a real
    library (which passes max_version, stream or dl_device) is refused with a clear error."""
    if any(a is not None for a in protocol_args):
        raise BufferError(
            f"a {array.device} array cannot be exported by DLPack to a real array library "
            "(its memory is not on a real device); copy it with backend.to_numpy first"
        )
    return FakeCapsule(array)


def _rebuild(device: str, host: np.ndarray) -> FakeDeviceArray:
    import backends

    return backends.get(device).asarray(host)


def _binary(op: Any, name: str) -> Any:
    def method(self: FakeDeviceArray, other: Any) -> Any:
        b = _operand(self._dev, other, name)
        if b is NotImplemented:
            return NotImplemented
        return wrap(self._dev, op(self._a, b))

    method.__name__ = name
    return method


def _reflected(op: Any, name: str) -> Any:
    def method(self: FakeDeviceArray, other: Any) -> Any:
        b = _operand(self._dev, other, name)
        if b is NotImplemented:
            return NotImplemented
        return wrap(self._dev, op(b, self._a))

    method.__name__ = name
    return method


def _inplace(op: Any, name: str) -> Any:
    def method(self: FakeDeviceArray, other: Any) -> Any:
        b = _operand(self._dev, other, name)
        if b is NotImplemented:
            return NotImplemented
        op(self._a, b)  # writes into self._a
        return self

    method.__name__ = name
    return method


def _unary(op: Any, name: str) -> Any:
    def method(self: FakeDeviceArray) -> Any:
        return wrap(self._dev, op(self._a))

    method.__name__ = name
    return method


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
              "xor", "lshift", "rshift"):
    _op = getattr(operator, _name + "_" if _name in ("and", "or") else _name)
    setattr(FakeDeviceArray, f"__{_name}__", _binary(_op, f"__{_name}__"))
    setattr(FakeDeviceArray, f"__r{_name}__", _reflected(_op, f"__r{_name}__"))
    setattr(FakeDeviceArray, f"__i{_name}__",
            _inplace(getattr(operator, f"i{_name}"), f"__i{_name}__"))
for _name in ("eq", "ne", "lt", "le", "gt", "ge", "divmod"):
    _op = divmod if _name == "divmod" else getattr(operator, _name)
    setattr(FakeDeviceArray, f"__{_name}__", _binary(_op, f"__{_name}__"))
FakeDeviceArray.__rdivmod__ = _reflected(divmod, "__rdivmod__")  # type: ignore[attr-defined]
for _name in ("neg", "pos", "abs", "invert"):
    setattr(FakeDeviceArray, f"__{_name}__", _unary(getattr(operator, _name), f"__{_name}__"))

# Methods cupy.ndarray shares with numpy.ndarray; anything else is an AttributeError, as on CuPy.
_METHODS = (
    "all", "any", "argmax", "argmin", "argpartition", "argsort", "astype", "choose", "clip",
    "conj", "conjugate", "copy", "cumprod", "cumsum", "diagonal", "dot", "fill", "flatten", "max",
    "mean", "min", "partition", "prod", "put", "ravel", "repeat", "reshape", "round", "sort",
    "squeeze", "std", "sum", "swapaxes", "take", "trace", "transpose", "var", "view",
)
# Methods whose output size depends on the data: CuPy reads a count back to the host.
_SYNC_METHODS = {"nonzero": "nonzero()", "compress": "compress()"}


def _refuse_numpy_only_kwargs(where: str, kwargs: dict) -> None:
    # CuPy's reductions take axis/dtype/out/keepdims (and ddof): no initial= or where=.
    extra = {"initial", "where"} & set(kwargs)
    if extra:
        raise TypeError(f"{where}: CuPy does not accept {sorted(extra)} (NumPy-only arguments)")


def _method(name: str, sync: str | None) -> Any:
    def method(self: FakeDeviceArray, *args: Any, **kwargs: Any) -> Any:
        dev = self._dev
        seen = [self]
        where = f"{type(self).__name__}.{name}"
        if args:
            args = unwrap(dev, args, where, seen)
        if kwargs:
            _refuse_numpy_only_kwargs(where, kwargs)
            kwargs = unwrap(dev, kwargs, where, seen)
        if sync is not None:
            dev._record_sync(f"{sync} on a {dev.device} array of shape {self.shape}")
        return wrap(dev, getattr(self._a, name)(*args, **kwargs), seen)

    method.__name__ = name
    return method


for _name in _METHODS:
    setattr(FakeDeviceArray, _name, _method(_name, None))
for _name, _why in _SYNC_METHODS.items():
    setattr(FakeDeviceArray, _name, _method(_name, _why))
