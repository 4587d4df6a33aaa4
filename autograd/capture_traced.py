"""The traced array and the namespace proxy of a capture (see autograd/capture.py).

`Traced` is a view of a host array whose operations reach the active `Recorder`: ufuncs
through ``__array_ufunc__``, NumPy functions through ``__array_function__``, the methods NumPy
writes in C (copy, astype, take, indexing) through the overrides below; outside a capture it
behaves as a plain ndarray. `Namespace` stands in for ``backend.xp``: it sees the creation
functions, keeps conversions of traced arrays traced and refuses random numbers.
"""

from __future__ import annotations

import operator
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from .capture import _arrays, _current, _expect, _is_traced_any, _plain, _traced

# Functions of the namespace that make arrays from shapes or Python data, never from a traced
# array: their result is a constant of the capture, restored before replay if a call writes it.
_CREATION = frozenset({
    "zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like",
    "arange", "eye", "identity", "linspace", "logspace", "tri", "indices",
})
# Functions whose result shape depends on array values, and the random module.
_DATA_DEPENDENT = frozenset({
    "nonzero", "argwhere", "flatnonzero", "unique", "extract", "compress", "unique_values",
    "unique_counts", "unique_inverse", "unique_all", "trim_zeros",
})
# Conversions that would hand a traced array to untraced code as a plain ndarray.
_CONVERSIONS = frozenset({"asarray", "asanyarray", "ascontiguousarray", "asfortranarray",
                          "array", "require", "copy"})


class Traced(np.ndarray):
    """A view of a host array whose operations a `Recorder` records (only during a capture)."""

    def __array_finalize__(self, obj: Any) -> None:
        if obj is None:
            return
        owner = getattr(obj, "_kedja_owner", None)
        if owner is not None and self.base is not None:
            self._kedja_owner = owner
        rec = _current()
        if rec is not None and self.base is None:
            # A new array of this class that no recorded call made: an unseen operation.
            rec.note_unrecorded("an array made by an operation it could not see "
                                f"(a new {self.dtype} array of shape {self.shape})")

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        rec = _current()
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        if rec is None:
            out = _plain(kwargs.get("out"))
            r = fn(*_plain(inputs), **_plain(kwargs))
            return r if out is not None else _traced(r)
        if "out" in kwargs and isinstance(kwargs["out"], tuple) and len(kwargs["out"]) == 1:
            kwargs = {**kwargs, "out": kwargs["out"][0]}
        return rec.call(fn, inputs, kwargs, f"{ufunc.__name__}.{method}",
                        writes_first=method == "at")

    def __array_function__(self, func: Any, types_: Any, args: tuple, kwargs: dict) -> Any:
        rec = _current()
        name = getattr(func, "__name__", str(func))
        if rec is None:
            return _traced(func(*_plain(args), **_plain(kwargs)))
        if name in _DATA_DEPENDENT:
            rec.refuse(f"np.{name}: its result's shape depends on the array's values")
        if name in ("copyto", "place", "put", "putmask", "put_along_axis", "fill_diagonal"):
            return rec.call(func, args, kwargs, name, writes_first=True)
        return rec.call(func, args, kwargs, name)

    # -- host reads ------------------------------------------------------------------------
    # Library code reads values on the host to check them (a class index in range, a shape
    # flag): each read becomes a check at replay that the value is still the one the capture
    # saw, so a replay never silently takes the capture's path with other values. A tensor's
    # own host reads (.item(), float(t), bool(t), .numpy()) go through the backend's
    # to_numpy, which `ag.compile` refuses instead.
    def _host_read(self, what: str, read: Callable) -> Any:
        plain = self.view(np.ndarray)
        value = read(plain)
        rec = _current()
        if rec is not None:
            rec.calls.append((_expect, (read, plain, value, what), {}))
        return value

    def __bool__(self) -> bool:
        return self._host_read("bool()", bool)

    def __float__(self) -> float:
        return self._host_read("float()", float)

    def __int__(self) -> int:
        return self._host_read("int()", int)

    def __index__(self) -> int:
        return self._host_read("operator.index()", operator.index)

    def __complex__(self) -> complex:
        return self._host_read("complex()", complex)

    def item(self, *args: Any) -> Any:
        return self._host_read(".item()", lambda a: a.item(*args))

    def tolist(self) -> Any:
        return self._host_read(".tolist()", lambda a: a.tolist())

    def tobytes(self, order: str = "C") -> bytes:
        rec = _current()
        if rec is not None:
            rec.refuse(".tobytes() of a traced array")
        return self.view(np.ndarray).tobytes(order)

    # -- indexing --------------------------------------------------------------------------
    def __getitem__(self, index: Any) -> Any:
        rec = _current()
        if rec is None:
            return _traced(self.view(np.ndarray)[_plain(index)])
        for a in _arrays(index, []):
            if a.dtype == np.bool_:
                rec.refuse("boolean-mask indexing: its result's shape depends on the mask's "
                           "values")
        return rec.call(_getitem, (self, index), {}, "__getitem__", try_out=False)

    def __setitem__(self, index: Any, value: Any) -> None:
        rec = _current()
        if rec is None:
            self.view(np.ndarray)[_plain(index)] = _plain(value)
            return
        for a in _arrays(index, []):
            if a.dtype == np.bool_ and np.ndim(value) > 0:
                rec.refuse("assignment through a boolean mask of an array of values")
        rec.call(_setitem, (self, index, value), {}, "__setitem__", writes_first=True)


def _getitem(a: np.ndarray, index: Any) -> Any:
    return a[index]


def _setitem(a: np.ndarray, index: Any, value: Any) -> None:
    a[index] = value


def _method(name: str, writes: bool = False) -> Callable:
    """A Traced method that records the plain ndarray method `name`."""
    plain_method = getattr(np.ndarray, name)

    def method(self: Traced, *args: Any, **kwargs: Any) -> Any:
        rec = _current()
        if rec is None:
            return _traced(plain_method(self.view(np.ndarray), *_plain(args), **_plain(kwargs)))
        return rec.call(plain_method, (self,) + args, kwargs, name, writes_first=writes)

    method.__name__ = name
    return method


# ndarray methods written in C that make arrays without a ufunc (sum, max, mean, clip, ... go
# through ufuncs, hence __array_ufunc__, already).
for _name in ("copy", "astype", "reshape", "ravel", "flatten", "take", "repeat", "argmax",
              "argmin", "argsort", "dot", "cumsum", "cumprod", "round", "diagonal", "trace",
              "searchsorted", "choose", "__copy__", "__deepcopy__", "squeeze", "transpose",
              "swapaxes", "view"):
    if _name != "view":
        setattr(Traced, _name, _method(_name))
for _name in ("fill", "put", "sort", "partition", "itemset"):
    if hasattr(np.ndarray, _name):
        setattr(Traced, _name, _method(_name, writes=True))


def _refusing(name: str, why: str) -> Callable:
    def refuse(self: Traced, *args: Any, **kwargs: Any) -> Any:
        rec = _current()
        if rec is not None:
            rec.refuse(f".{name}(): {why}")
        return getattr(np.ndarray, name)(self.view(np.ndarray), *_plain(args), **_plain(kwargs))

    return refuse


Traced.nonzero = _refusing("nonzero", "its result's shape depends on the array's values")
Traced.compress = _refusing("compress", "its result's shape depends on the array's values")


class Namespace(types.SimpleNamespace):
    """Stands in for ``backend.xp`` (NumPy) during a capture: records creation functions,
    refuses random numbers and data-dependent shapes, and keeps conversions traced."""

    def __init__(self, xp: Any) -> None:
        super().__init__()
        object.__setattr__(self, "_xp", xp)

    def __getattr__(self, name: str) -> Any:
        xp = object.__getattribute__(self, "_xp")
        value = getattr(xp, name)
        if name == "random":
            return _RandomRefuser()
        if name == "lib":
            return _Lib(value)
        if isinstance(value, np.ufunc) or not callable(value) or isinstance(value, type):
            return value
        if name in _CREATION:
            def create(*args: Any, **kwargs: Any) -> Any:
                rec = _current()
                if rec is None:
                    return value(*args, **kwargs)
                return rec.creation(value, args, kwargs, name)

            return create
        if name in _DATA_DEPENDENT:
            def refuse(*args: Any, **kwargs: Any) -> Any:
                rec = _current()
                if rec is not None:
                    rec.refuse(f"xp.{name}: its result's shape depends on the array's values")
                return value(*args, **kwargs)

            return refuse
        if name in _CONVERSIONS:
            return _conversion(name, value)
        return value


def _conversion(name: str, fn: Callable) -> Callable:
    """``xp.asarray`` and friends: a traced argument stays traced (a copy or cast recorded)."""

    def convert(a: Any, *args: Any, **kwargs: Any) -> Any:
        rec = _current()
        if rec is not None and not isinstance(a, np.ndarray) and not _is_traced_any(a):
            # A constant from Python data (the engine's seed gradient): traced, so what is
            # computed from it is recorded too.
            return rec.creation(fn, (a,) + args, kwargs, name)
        if rec is None or not _is_traced_any(a):
            return fn(a, *args, **kwargs)
        if not isinstance(a, Traced):
            rec.refuse(f"xp.{name} of a list holding traced arrays")
        plain = a.view(np.ndarray)
        result = fn(plain, *args, **kwargs)
        if np.may_share_memory(result, plain):
            return result.view(Traced)  # no copy was needed: an alias
        return rec.call(fn, (a,) + args, kwargs, name)

    return convert


def _view_keeping_trace(fn: Callable) -> Callable:
    """A function returning a view of its first argument (as_strided): traced in, traced out
    (NumPy hands back a plain ndarray, and a copy made from that would escape the recorder)."""

    def view(a: Any, *args: Any, **kwargs: Any) -> Any:
        result = fn(_plain(a), *args, **kwargs)
        return result.view(Traced) if isinstance(a, Traced) else result

    return view


class _StrideTricks(types.SimpleNamespace):
    def __init__(self, module: Any) -> None:
        super().__init__()
        object.__setattr__(self, "_module", module)

    def __getattr__(self, name: str) -> Any:
        value = getattr(object.__getattribute__(self, "_module"), name)
        if name in ("as_strided", "sliding_window_view"):
            return _view_keeping_trace(value)
        return value


class _Lib(_StrideTricks):
    def __getattr__(self, name: str) -> Any:
        value = getattr(object.__getattribute__(self, "_module"), name)
        return _StrideTricks(value) if name == "stride_tricks" else value


class _RandomRefuser:
    def __getattr__(self, name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            rec = _current()
            if rec is not None:
                rec.refuse(f"xp.random.{name}: random numbers (the replay would repeat the "
                           "capture's draws)")
            return getattr(np.random, name)(*args, **kwargs)

        return refuse
