"""Array backends: the only place that imports numpy or cupy for tensor data.

    >>> import backends
    >>> backends.available()          # e.g. ['numpy'] on a machine without a GPU
    >>> backends.set_default("cpu")    # or: KEDJA_DEVICE=cuda python train.py

A backend is found by name (``"numpy"``, ``"cupy"``, ``"fake"``) or by device string (``"cpu"``,
``"cuda"``, ``"cuda:1"``, ``"fake"``). CuPy is imported only when a CUDA device is asked for.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from . import host_memory
from .base import Backend, CapturedGraph, GraphCaptureError
from .numpy_backend import NumpyBackend

host_memory.keep_heap_top()  # freed step temporaries stay mapped (see host_memory)

__all__ = [
    "Backend",
    "CapturedGraph",
    "GraphCaptureError",
    "available",
    "unavailable",
    "default",
    "get",
    "register",
    "set_default",
    "seed_all",
    "host",
    "canonical_device",
    "backend_of_array",
    "dtype_of",
    "finfo",
    "iinfo",
    "from_dlpack",
]

_HOST = NumpyBackend()
_instances: dict[str, Backend] = {"cpu": _HOST}
_factories: dict[str, Callable[[int], Backend]] = {}
_seed: int | None = None
_default: Backend | None = None

#: ``[True]`` once a backend needing device scopes (cuda:N with several GPUs, fake:N with
#: N > 0) exists: until then library code skips looking for one (a list, read as ``[0]``).
SCOPES_NEEDED = [False]

_ALIASES = {"numpy": "cpu", "np": "cpu", "cupy": "cuda", "gpu": "cuda"}


def host() -> Backend:
    """The NumPy backend on the CPU (where data sets and checkpoints are read)."""
    return _HOST


def register(kind: str, factory: Callable[[int], Backend]) -> None:
    """Registers a device kind (``"cuda"``, ``"fake"``) built by ``factory(index)``."""
    _factories[kind] = factory


def canonical_device(name: str) -> str:
    """Maps a backend name or device string to its canonical device: ``"cupy"`` -> ``"cuda:0"``."""
    if not isinstance(name, str):
        raise TypeError(
            f"backends: a device must be a string such as 'cpu' or 'cuda:0', got {name!r}"
        )
    kind, _, index = name.strip().lower().partition(":")
    kind = _ALIASES.get(kind, kind)
    if kind == "cpu":
        if index not in ("", "0"):
            raise ValueError(f"backends: there is one CPU device, got {name!r}")
        return "cpu"
    if kind not in _factories:
        known = ", ".join(["cpu", "numpy", *_factories, "cupy"])
        raise ValueError(f"backends: unknown device or backend {name!r}; known: {known}")
    if index and not index.isdigit():
        raise ValueError(f"backends: bad device index in {name!r}")
    return f"{kind}:{int(index or 0)}"


def get(name: str | Backend | None = None) -> Backend:
    """The backend for a device string or backend name; the default one for ``None``."""
    if isinstance(name, Backend):
        return name
    if name is None:
        return default()
    device = canonical_device(name)
    backend = _instances.get(device)
    if backend is None:
        kind, _, index = device.partition(":")
        backend = _factories[kind](int(index))
        if _seed is not None:
            backend.seed(_seed)
        _instances[device] = backend
        if backend.needs_device_scope:
            SCOPES_NEEDED[0] = True
    return backend


def backend_of_array(obj: Any) -> Backend | None:
    """The backend whose array `obj` is (by type and device), else None for non-arrays."""
    kind = type(obj)
    for backend in _instances.values():
        if kind is backend.array_type and backend.owns(obj):
            return backend
    if kind.__module__.startswith("cupy") and hasattr(obj, "__cuda_array_interface__"):
        return get(f"cuda:{obj.device.id}")  # a CuPy array on a device not used so far
    return None


# DLPack device types (dlpack.h): host memory, CUDA memory, and the fake device's stand-in.
_DLPACK_KINDS = {1: "cpu", 3: "cpu", 2: "cuda", 13: "cuda", 12: "fake"}


def from_dlpack(obj: Any, device: str | Backend | None = None) -> Any:
    """An array sharing memory with `obj` (a NumPy/CuPy/PyTorch/JAX array, anything exporting
    ``__dlpack__``), on the backend of the device it lives on, or on `device` if given (which
    must be that device: DLPack shares memory, it does not move data)."""
    if device is not None:
        return get(device).from_dlpack(obj)
    if not hasattr(obj, "__dlpack_device__"):
        raise TypeError(f"from_dlpack: {type(obj).__name__} does not export DLPack")
    kind, index = obj.__dlpack_device__()
    name = _DLPACK_KINDS.get(int(kind))
    if name is None:
        raise BufferError(f"from_dlpack: DLPack device type {kind} is not supported")
    return get(name if name == "cpu" else f"{name}:{int(index)}").from_dlpack(obj)


def available() -> list[str]:
    """Backend names that work on this machine (``"cupy"`` only where a GPU answers); why a
    backend does not is in `unavailable()`."""
    names = ["numpy"]
    if _cuda_works():
        names.append("cupy")
    return names


def unavailable() -> dict[str, str]:
    """Why each backend that `available()` leaves out cannot start, e.g. ``{"cupy": "cuda:0:
    CuPy cannot load cuRAND ..."}`` (the error `backends.get("cuda")` raises, named)."""
    _cuda_works()
    return dict(_why_not)


_why_not: dict[str, str] = {}


def _cuda_works() -> bool:
    try:
        get("cuda:0")
    except Exception as e:  # noqa: BLE001 - no cupy, no driver, no device, a missing library
        _why_not["cupy"] = f"{type(e).__name__}: {e}"
        return False
    _why_not.pop("cupy", None)
    return True


def default() -> Backend:
    """The backend used where no device is named (``KEDJA_DEVICE``, else the CPU)."""
    global _default
    if _default is None:
        _default = get(os.environ.get("KEDJA_DEVICE") or "cpu")
    return _default


def set_default(name: str | Backend) -> Backend:
    """Makes `name` (``"cpu"``, ``"cuda"``, ``"numpy"``, ...) the default backend; returns it."""
    global _default
    _default = get(name)
    return _default


def seed_all(seed: int | None) -> None:
    """Seeds every backend made so far and those made later (and the `on_seed` listeners)."""
    global _seed
    _seed = seed
    for backend in _instances.values():
        backend.seed(seed)
    for listener in _seed_listeners:
        listener(seed)


_seed_listeners: list[Callable[[int | None], None]] = []


def on_seed(listener: Callable[[int | None], None]) -> None:
    """Calls ``listener(seed)`` at every `seed_all` (autograd.numpy.random reseeds with it)."""
    _seed_listeners.append(listener)


def _make_cupy(index: int) -> Backend:
    from .cupy_backend import CupyBackend  # lazily: importing cupy is slow and may fail

    return CupyBackend(index)


def _make_fake(index: int) -> Backend:
    from .fake_backend import FakeDeviceBackend

    return FakeDeviceBackend(index)


register("cuda", _make_cupy)
register("fake", _make_fake)


def dtype_of(name: Any) -> Any:
    """Resolves a dtype given as a string, a NumPy type or a dtype to a NumPy dtype.

    ``"bfloat16"`` needs the optional ml_dtypes package (``pip install 'kedja[bfloat16]'``),
    which gives NumPy that type; it is imported on first use.
    """
    try:
        return _HOST.xp.dtype(name)
    except TypeError:
        if not (isinstance(name, str) and name in _EXTENSION_DTYPES) or _ml_dtypes() is None:
            raise
        return _HOST.xp.dtype(name)


#: Floating types NumPy gets from ml_dtypes (CuPy has none of them).
_EXTENSION_DTYPES = frozenset({"bfloat16"})


def _ml_dtypes() -> Any:
    """The ml_dtypes module (registering bfloat16 with NumPy), or None where it is missing."""
    try:
        import ml_dtypes
    except ImportError:
        return None
    return ml_dtypes


def finfo(dtype: Any) -> Any:
    """NumPy's machine limits of a floating dtype (ml_dtypes' for bfloat16)."""
    dtype = dtype_of(dtype)
    if dtype.name in _EXTENSION_DTYPES:
        return _ml_dtypes().finfo(dtype)
    return _HOST.xp.finfo(dtype)


def iinfo(dtype: Any) -> Any:
    """NumPy's machine limits of an integer dtype."""
    return _HOST.xp.iinfo(dtype_of(dtype))
