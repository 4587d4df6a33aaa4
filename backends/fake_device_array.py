"""The fake device's array class and its conversions: `wrap` (NumPy results as device values),
`unwrap`, the operand and index checks, and its DLPack export. Its operators and CuPy's array
methods are added by fake_array.py, which is where the rest of kedja imports it from.
"""

from __future__ import annotations

from threading import get_ident
from typing import Any

import numpy as np

from .fake_rules import _SCALARS, CURRENT, _check_current, _checked, _device_error, _host_error


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


def launch(dev: Any, call: Any, inputs: Any = (), seen: list | None = None,
           view_only: bool = False, allocation: bool = False) -> Any:
    """``wrap(dev, call())``: one kernel launch (or, `view_only`, maybe none), recorded for
    replay while `dev` captures a graph (backends/fake_graph.py); `inputs` are the NumPy arrays
    `call` reads or writes."""
    capture = dev._capture
    if capture is None or capture.thread != get_ident():
        return wrap(dev, call(), seen)
    return capture.record(call, inputs, seen, view_only, allocation, wrap)


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


def _index(dev: Any, index: Any, getting: bool, shape: tuple | None = None) -> Any:
    """The NumPy index for `index`; with the indexed array's `shape`, integer index arrays
    wrap around (``i % size``) as CuPy's do, where NumPy would raise IndexError."""
    if type(index) is tuple:
        items = [_index_item(dev, i, getting) for i in index]
    else:
        items = [_index_item(dev, index, getting)]
    if shape is not None:
        _wrap_out_of_range(items, shape)
    return tuple(items) if type(index) is tuple else items[0]


def _wrap_out_of_range(items: list, shape: tuple) -> None:
    """Replaces integer index arrays by their values modulo their axis' size, in place."""
    widths = []
    for i in items:
        if i is None:
            widths.append(0)
        elif i is Ellipsis:
            widths.append(None)
        elif isinstance(i, np.ndarray) and i.dtype == np.bool_:
            widths.append(i.ndim)
        else:
            widths.append(1)
    used = sum(w for w in widths if w is not None)
    axis = 0
    for k, (i, width) in enumerate(zip(items, widths)):
        if width is None:
            axis += len(shape) - used
            continue
        if type(i) is list:
            i = np.asarray(i)
        if (isinstance(i, np.ndarray) and i.dtype.kind in "iu" and axis < len(shape)
                and shape[axis] > 0):
            items[k] = np.mod(i, shape[axis])
        axis += width


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


def _get(dev: Any, a: np.ndarray, index: Any) -> np.ndarray:
    """``a[index]`` as CuPy gives it: one element is a 0-d view (NumPy: a scalar copy)."""
    index = _index(dev, index, True, a.shape)
    r = a[index]
    if type(r) is not np.ndarray:
        r = a[(*index, Ellipsis) if type(index) is tuple else (index, Ellipsis)]
    return r


def _launches(index: Any) -> bool:
    """True for an index with arrays or lists in it (advanced indexing launches a kernel)."""
    items = index if type(index) is tuple else (index,)
    return any(type(i) is FakeDeviceArray or type(i) is list for i in items)


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
        a = self._a
        return launch(self._dev, lambda: a.copy(), [a])

    def __deepcopy__(self, memo: Any) -> FakeDeviceArray:
        return self.__copy__()

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
        if self._dev.index != CURRENT[0] and _launches(index):  # advanced indexing: a kernel
            _check_current(self._dev, "__getitem__")
        dev, a = self._dev, self._a
        if dev._capture is None:
            return wrap(dev, _get(dev, a, index))
        # Under capture the index is converted inside the launch: a replay reads index arrays
        # as they are then (the wrap-around of CuPy's integer indices included).
        return launch(dev, lambda: _get(dev, a, index), [a], view_only=True)

    def __setitem__(self, index: Any, value: Any) -> None:
        dev = self._dev
        if dev.index != CURRENT[0]:
            _check_current(dev, "__setitem__")
        if type(value) is list:
            value = unwrap(dev, value, "__setitem__", [])
        else:
            v = _operand(dev, value, "__setitem__")
            if v is NotImplemented:
                raise TypeError(f"__setitem__: cannot assign a {type(value).__name__} to a "
                                f"{dev.device} array")
            value = v
        a = self._a
        if dev._capture is None:
            a[_index(dev, index, False, a.shape)] = value
            return

        def assign() -> None:
            a[_index(dev, index, False, a.shape)] = value

        launch(dev, assign, [a] + ([value] if isinstance(value, np.ndarray) else []))

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
