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

The backend's ``xp`` (`FakeNamespace`) lives in fake_namespace.py. The class itself (with
`wrap`, `unwrap` and DLPack) is in fake_device_array.py, the dtype and operand rules in
fake_rules.py; this module gives the class its operators and methods (import it from here).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

# Everything below stays importable from here, as before the split.
from .fake_device_array import (  # noqa: F401
    FAKE_DLPACK_DEVICE,
    FakeCapsule,
    FakeDeviceArray,
    _index,
    _index_item,
    _operand,
    _rebuild,
    export_dlpack,
    launch,
    unwrap,
    wrap,
)
from .fake_rules import (  # noqa: F401
    _SCALARS,
    _UNSUPPORTED_DTYPES,
    _UNSUPPORTED_KINDS,
    CURRENT,
    _check_current,
    _checked,
    _device_error,
    _host_error,
)


def _arrays(a: Any, b: Any) -> list:
    """The NumPy arrays among two operands (what a launch reads or writes)."""
    return [a, b] if type(b) is np.ndarray else [a]


def _binary(op: Any, name: str) -> Any:
    def method(self: FakeDeviceArray, other: Any) -> Any:
        dev = self._dev
        if dev.index != CURRENT[0]:
            _check_current(dev, name)
        b = _operand(dev, other, name)
        if b is NotImplemented:
            return NotImplemented
        a = self._a
        if dev._capture is None:
            return wrap(dev, op(a, b))
        return launch(dev, lambda: op(a, b), _arrays(a, b))

    method.__name__ = name
    return method


def _reflected(op: Any, name: str) -> Any:
    def method(self: FakeDeviceArray, other: Any) -> Any:
        dev = self._dev
        if dev.index != CURRENT[0]:
            _check_current(dev, name)
        b = _operand(dev, other, name)
        if b is NotImplemented:
            return NotImplemented
        a = self._a
        if dev._capture is None:
            return wrap(dev, op(b, a))
        return launch(dev, lambda: op(b, a), _arrays(a, b))

    method.__name__ = name
    return method


def _inplace(op: Any, name: str) -> Any:
    def method(self: FakeDeviceArray, other: Any) -> Any:
        dev = self._dev
        if dev.index != CURRENT[0]:
            _check_current(dev, name)
        b = _operand(dev, other, name)
        if b is NotImplemented:
            return NotImplemented
        a = self._a
        if dev._capture is None:
            op(a, b)  # writes into self._a
        else:
            launch(dev, lambda: op(a, b), _arrays(a, b))
        return self

    method.__name__ = name
    return method


def _unary(op: Any, name: str) -> Any:
    def method(self: FakeDeviceArray) -> Any:
        dev = self._dev
        if dev.index != CURRENT[0]:
            _check_current(dev, name)
        a = self._a
        if dev._capture is None:
            return wrap(dev, op(a))
        return launch(dev, lambda: op(a), [a])

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


# Methods that only make a new view (no kernel launch): they run on any device, as on CuPy.
_VIEW_METHODS = frozenset({"reshape", "view", "squeeze", "transpose", "swapaxes", "diagonal"})


def _method(name: str, sync: str | None) -> Any:
    launches = name not in _VIEW_METHODS
    from .cupy_surface import load

    known = load()["methods"].get(name)
    keywords = None if known is None else frozenset(known)

    def method(self: FakeDeviceArray, *args: Any, **kwargs: Any) -> Any:
        dev = self._dev
        if launches and dev.index != CURRENT[0]:
            _check_current(dev, f"{type(self).__name__}.{name}")
        seen = [self]
        where = f"{type(self).__name__}.{name}"
        if args:
            args = unwrap(dev, args, where, seen)
        if kwargs:
            _refuse_numpy_only_kwargs(where, kwargs)
            if keywords is not None and not keywords.issuperset(kwargs):
                raise TypeError(f"{where}: CuPy's ndarray.{name} takes no keyword(s) "
                                f"{sorted(set(kwargs) - keywords)} (it takes {sorted(keywords)})")
            kwargs = unwrap(dev, kwargs, where, seen)
        if sync is not None:
            dev._record_sync(f"{sync} on a {dev.device} array of shape {self.shape}")
        if dev._capture is None:
            return wrap(dev, getattr(self._a, name)(*args, **kwargs), seen)
        bound = getattr(self._a, name)
        return launch(dev, lambda: bound(*args, **kwargs), [f._a for f in seen], seen,
                      view_only=not launches)

    method.__name__ = name
    return method


for _name in _METHODS:
    setattr(FakeDeviceArray, _name, _method(_name, None))
for _name, _why in _SYNC_METHODS.items():
    setattr(FakeDeviceArray, _name, _method(_name, _why))
