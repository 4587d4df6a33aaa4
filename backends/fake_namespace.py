"""The strict fake device's ``xp``: NumPy's API on fake arrays, with CuPy's restrictions.

Every function unwraps fake arrays (of its own device), refuses host ``numpy.ndarray``
arguments (except in ``asarray`` / ``array``: a host -> device transfer), calls NumPy and wraps
the result; ufuncs take only CuPy's keyword arguments and have no ``.at``; a few host-only
corners of NumPy (``random``, ``errstate``, ``save``...) are refused with the reason.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

from .fake_array import FakeDeviceArray, _refuse_numpy_only_kwargs, launch, unwrap, wrap

# Functions taking host data: a host -> device transfer (counted, not a synchronisation).
_TRANSFERS = frozenset({"asarray", "array", "asanyarray", "ascontiguousarray", "asfortranarray"})
# Functions whose output size depends on the data: CuPy reads a count back to the host.
_SYNC_FUNCTIONS = frozenset({"nonzero", "flatnonzero", "argwhere", "unique", "compress",
                             "extract", "trim_zeros"})
# NumPy returns Python scalars here; CuPy returns 0-d device arrays.
_SCALAR_RESULTS = frozenset({"allclose", "array_equal", "array_equiv", "count_nonzero"})
# Reductions: CuPy needs a device array as the first argument (`xp.prod(shape)` fails there).
_NEEDS_ARRAY = frozenset({"sum", "prod", "mean", "max", "min", "amax", "amin", "any", "all",
                          "argmax", "argmin", "std", "var", "cumsum", "cumprod", "median",
                          "average", "nansum", "nanmax", "nanmin", "nanmean", "count_nonzero"})
# Functions that only allocate (no kernel: nothing to replay in a captured graph).
_ALLOCATIONS = frozenset({"empty", "empty_like"})
# Functions that make a view where they can (a copy, a launch, only where they cannot).
_VIEWS = frozenset({"reshape", "ravel", "transpose", "swapaxes", "moveaxis", "squeeze",
                    "expand_dims", "broadcast_to", "broadcast_arrays", "atleast_1d",
                    "atleast_2d", "atleast_3d", "asarray", "asanyarray", "diagonal", "real",
                    "imag", "split", "array_split", "hsplit", "vsplit", "dsplit", "rollaxis",
                    "ascontiguousarray", "asfortranarray", "flip", "fliplr", "flipud",
                    "rot90", "shape", "ndim", "size", "result_type", "can_cast",
                    "min_scalar_type", "promote_types"})
_UFUNC_KWARGS = frozenset({"out", "dtype", "casting"})  # no where=, order=, subok=, signature=
_SUBMODULES = frozenset({"linalg", "fft", "lib", "stride_tricks"})
_REFUSED = {
    "random": "draw with the backend's seeded generator (backend.uniform / normal / integers / "
              "permutation) so that manual_seed reproduces runs",
    "errstate": "CuPy has no errstate (GPU kernels raise no floating-point warnings); compute "
                "safely (e.g. with where) instead",
    "seterr": "CuPy has no floating-point error state",
    "geterr": "CuPy has no floating-point error state",
    "nditer": "element-wise Python iteration runs on the host; use array operations",
    "ndenumerate": "element-wise Python iteration runs on the host; use array operations",
    "vectorize": "numpy.vectorize calls Python per element; use array operations",
    "frompyfunc": "Python functions cannot run on the device",
    "fromiter": "build the data on the host and move it with backend.asarray",
    "save": "save host copies (backend.to_numpy) instead",
    "savez": "save host copies (backend.to_numpy) instead",
    "load": "load on the host (backends.host()) and move with backend.asarray",
    "set_printoptions": "printing device arrays is a host synchronisation",
    "matrix": "CuPy has no matrix class",
    "memmap": "memory maps live on the host",
}


_SURFACE: dict = {}


def _surface() -> dict:
    """CuPy's API surface, read once from the committed backends/cupy_surface.json."""
    if not _SURFACE:
        from .cupy_surface import load

        _SURFACE.update(load())
    return _SURFACE


def _space(prefix: str) -> dict:
    """The surface of one namespace: ``"xp"`` -> cupy, ``"xp.linalg"`` -> cupy.linalg, ..."""
    return _surface()["namespaces"][prefix.partition(".")[2]]


class FakeUfunc:
    """A NumPy ufunc on fake arrays; ``.at`` is refused (CuPy code must use scatter_add)."""

    def __init__(self, dev: Any, ufunc: np.ufunc) -> None:
        self._dev = dev
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__

    def _call(self, fn: Any, where: str, args: tuple, kwargs: dict) -> Any:
        dev = self._dev
        seen: list = []
        for a in args:
            if type(a) is list or type(a) is tuple:
                raise TypeError(f"{where}: got a {type(a).__name__}; CuPy ufuncs take device "
                                "arrays or scalars, so convert with xp.asarray first")
        args = unwrap(dev, args, where, seen)
        if kwargs:
            kwargs = unwrap(dev, kwargs, where, seen)
        if dev._capture is None:
            return wrap(dev, fn(*args, **kwargs), seen)
        return launch(dev, lambda: fn(*args, **kwargs), [f._a for f in seen], seen)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        unknown = set(kwargs) - _UFUNC_KWARGS
        if unknown:  # CuPy's ufunc.__call__ raises "Wrong arguments" for these
            raise TypeError(f"xp.{self.__name__}: CuPy ufuncs take only out=, dtype= and "
                            f"casting=, got {sorted(unknown)}")
        return self._call(self._ufunc, f"xp.{self.__name__}", args, kwargs)

    def reduce(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(self._ufunc.reduce, f"xp.{self.__name__}.reduce", args, kwargs)

    def accumulate(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(self._ufunc.accumulate, f"xp.{self.__name__}.accumulate", args, kwargs)

    def outer(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(self._ufunc.outer, f"xp.{self.__name__}.outer", args, kwargs)

    def at(self, *args: Any, **kwargs: Any) -> Any:
        raise AttributeError(
            f"xp.{self.__name__}.at: CuPy's ufunc.at is missing or limited to a few dtypes; "
            "use backend.scatter_add(target, indices, values) for add.at"
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ufunc, name)  # nin, nout, nargs, identity, types

    def __repr__(self) -> str:
        return f"<fake ufunc {self.__name__}>"


class FakeFunction:
    """A NumPy function on fake arrays: unwraps, refuses host arrays, calls, wraps."""

    def __init__(self, dev: Any, fn: Any, name: str, keywords: list | None = None) -> None:
        self._dev = dev
        self._fn = fn
        self.__name__ = name
        # CuPy's keyword names for this function (None: it takes **kwargs, any keyword).
        self._keywords = None if keywords is None else frozenset(keywords)
        self._host_ok = name in _TRANSFERS
        self._needs_array = name in _NEEDS_ARRAY
        self._sync = name in _SYNC_FUNCTIONS
        self._scalar = name in _SCALAR_RESULTS

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        dev = self._dev
        name = self.__name__
        where = f"xp.{name}"
        if self._needs_array and (not args or type(args[0]) is not FakeDeviceArray):
            got = type(args[0]).__name__ if args else "nothing"
            raise TypeError(f"{where}: CuPy needs a device array here, got {got}")
        seen: list = []
        args = unwrap(dev, args, where, seen, self._host_ok)
        if kwargs and self._needs_array:
            _refuse_numpy_only_kwargs(where, kwargs)
        if kwargs and self._keywords is not None and not self._keywords.issuperset(kwargs):
            unknown = sorted(set(kwargs) - self._keywords)
            raise TypeError(f"{where}: CuPy's {name} takes no keyword(s) {unknown} (it takes "
                            f"{sorted(self._keywords)})")
        if kwargs:
            kwargs = unwrap(dev, kwargs, where, seen, self._host_ok)
        if self._host_ok and not seen:
            dev._count_transfer()
        if self._sync or (name == "where" and len(args) == 1):
            dev._record_sync(f"{where} (the result's size depends on the data)")
        if dev._capture is None:
            return wrap(dev, self._call(args, kwargs, seen), seen)
        return launch(dev, lambda: self._call(args, kwargs, seen), [f._a for f in seen], seen,
                      view_only=name in _VIEWS, allocation=name in _ALLOCATIONS)

    def _call(self, args: tuple, kwargs: dict, seen: list) -> Any:
        r = self._fn(*args, **kwargs)
        if self._scalar and type(r) in (bool, int, float):
            r = np.asarray(r)
        if self._host_ok and type(r) is np.ndarray and r is args[0] and not seen:
            r = r.copy()  # device memory never aliases host memory
        return r

    def __repr__(self) -> str:
        return f"<fake function {self.__name__}>"


class FakeNamespace:
    """The fake backend's ``xp``: NumPy's API on fake arrays of one device."""

    ndarray = FakeDeviceArray

    def __init__(self, dev: Any, module: Any = np, prefix: str = "xp") -> None:
        self._dev = dev
        self._module = module
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        where = f"{self._prefix}.{name}"
        if name in _REFUSED:
            raise AttributeError(f"{where} is not available on the fake device: {_REFUSED[name]}")
        space = _space(self._prefix)
        if name not in space["functions"] and name not in space["ufuncs"] and (
                name not in space["values"]):
            raise AttributeError(
                f"{where}: CuPy {_surface()['cupy_version']} has no such function (the fake "
                "device offers exactly CuPy's API, backends/cupy_surface.json)"
            )
        obj = getattr(self._module, name)
        if isinstance(obj, np.ufunc):
            value: Any = FakeUfunc(self._dev, obj)
        elif isinstance(obj, types.ModuleType):
            if name not in _SUBMODULES:
                raise AttributeError(f"{where}: only xp.linalg, xp.fft and "
                                     "xp.lib.stride_tricks are part of the device namespace")
            value = FakeNamespace(self._dev, obj, where)
        elif isinstance(obj, type) or not callable(obj):
            value = obj  # dtypes, finfo, iinfo, constants (pi, inf, nan, newaxis)
        else:
            value = FakeFunction(self._dev, obj, name, space["functions"].get(name))
        setattr(self, name, value)  # cached: __getattr__ runs once per name
        return value

    def __repr__(self) -> str:
        return f"<fake namespace {self._prefix} on {self._dev.device}>"
