"""The GPU backend: CuPy arrays on one CUDA device, imported only when CUDA is asked for.

CuPy allocates and launches kernels on the *current* device. For ``cuda:0`` (the usual current
device) the namespace is the ``cupy`` module itself; for another device it is a thin proxy that
makes that device current around each call, so that ``backend.xp.zeros(...)`` lands on it.
Operators on arrays (``a + b``) still run on the current device: code driving ``cuda:N`` with
N > 0 runs inside ``with backend.device_scope():`` (see docs/devices.md).
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

from .base import Backend


class _OnDevice:
    """Calls a CuPy callable (function or ufunc) with one device made current."""

    __slots__ = ("_fn", "_device")

    def __init__(self, fn: Any, device: Any) -> None:
        self._fn = fn
        self._device = device

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._device:
            return self._fn(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._fn, name)  # ufunc.reduce / .outer / .at; nin, nout, ...
        return _OnDevice(attr, self._device) if callable(attr) else attr


class _DeviceNamespace:
    """``cupy`` (or one of its submodules) with every call made on one device."""

    def __init__(self, module: Any, device: Any) -> None:
        self._module = module
        self._device = device

    def __getattr__(self, name: str) -> Any:
        obj = getattr(self._module, name)
        if isinstance(obj, types.ModuleType):
            value: Any = _DeviceNamespace(obj, self._device)
        elif isinstance(obj, type) or not callable(obj):
            value = obj  # ndarray, dtypes, constants
        else:
            value = _OnDevice(obj, self._device)
        setattr(self, name, value)
        return value


class CupyBackend(Backend):
    """Runs every op with CuPy on CUDA device `index`.

    Raises:
        ImportError: CuPy is not installed (``pip install kedja[gpu]``).
        RuntimeError: no CUDA driver or device, or `index` is out of range.
    """

    name = "cupy"
    is_device = True

    def __init__(self, index: int = 0) -> None:
        try:
            import cupy
            import cupyx
        except ImportError as e:
            raise ImportError(
                "the cuda backend needs CuPy: pip install 'kedja[gpu]' (cupy-cuda12x)"
            ) from e
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as e:  # noqa: BLE001 - CUDARuntimeError without a driver, and others
            raise RuntimeError(f"cuda:{index}: no usable CUDA driver or device ({e})") from e
        if not 0 <= index < count:
            raise RuntimeError(f"cuda:{index}: no such device ({count} CUDA device(s) found)")
        self._cupy = cupy
        self._cupyx = cupyx
        self.array_type = cupy.ndarray
        self.index = index
        self.device = f"cuda:{index}"
        self._device = cupy.cuda.Device(index)
        self.xp = cupy if index == 0 else _DeviceNamespace(cupy, self._device)
        self.needs_device_scope = index != 0
        # Allocate now so that a broken context fails here, not in the first op.
        with self._device:
            cupy.empty(1, dtype=cupy.float32)
            self._rng = cupy.random.RandomState()
        self._erf: Any = None

    # -- arrays -------------------------------------------------------------------------------
    def owns(self, array: Any) -> bool:
        return type(array) is self.array_type and array.device.id == self.index

    def device_scope(self) -> Any:
        return self._device  # cupy.cuda.Device is a reusable context manager

    def asarray(self, data: Any, dtype: Any = None) -> Any:
        # Under the device, cupy.asarray copies host data in and other devices' arrays over.
        with self._device:
            return self._cupy.asarray(data, dtype=dtype)

    def to_numpy(self, array: Any) -> Any:
        return self._cupy.asnumpy(array)

    def asarray_pinned(self, host: Any) -> Any:
        # The copy into page-locked memory runs on the host; the DMA from there is faster
        # than from pageable memory. Synchronous: the staging block returns to CuPy's pinned
        # pool when this returns, so it must not be read after.
        host = np.ascontiguousarray(host)
        if host.dtype.kind not in "biufc" or host.size == 0:
            return self.asarray(host)
        block = self._cupy.cuda.alloc_pinned_memory(host.nbytes)
        staged = np.frombuffer(block, host.dtype, host.size).reshape(host.shape)
        staged[...] = host
        with self._device:
            out = self._cupy.empty(host.shape, host.dtype)
            out.set(staged)
        return out

    def scatter_add(self, target: Any, indices: Any, values: Any) -> None:
        with self._device:
            self._cupyx.scatter_add(target, indices, values)

    def erf(self, x: Any) -> Any:
        """The error function, elementwise (cupyx.scipy.special.erf)."""
        if self._erf is None:
            from cupyx.scipy import special

            self._erf = special.erf
        with self._device:
            return self._erf(x)

    # -- randomness -------------------------------------------------------------------------
    def seed(self, seed: int | None) -> None:
        with self._device:
            self._rng = self._cupy.random.RandomState(seed)

    def _draw_dtype(self, dtype: Any) -> Any:
        # CuPy draws floats as float32 or float64 only: draw float16 in float32, then cast.
        kind = self._cupy.dtype(dtype)
        return kind if kind in (self._cupy.float32, self._cupy.float64) else self._cupy.float32

    def uniform(self, low: float, high: float, shape: tuple, dtype: Any) -> Any:
        with self._device:
            y = self._rng.uniform(low, high, shape, dtype=self._draw_dtype(dtype))
            return y.astype(dtype, copy=False)

    def normal(self, mean: float, std: float, shape: tuple, dtype: Any) -> Any:
        with self._device:
            y = self._rng.normal(mean, std, shape, dtype=self._draw_dtype(dtype))
            return y.astype(dtype, copy=False)

    def integers(self, low: int, high: int, shape: tuple) -> Any:
        with self._device:
            return self._rng.randint(low, high, shape, dtype=self._cupy.int64)

    def permutation(self, n: int) -> Any:
        with self._device:
            return self._rng.permutation(n).astype(self._cupy.int64, copy=False)

    # -- interop ----------------------------------------------------------------------------
    def from_dlpack(self, obj: Any) -> Any:
        with self._device:
            return self._cupy.from_dlpack(obj)

    # -- memory -------------------------------------------------------------------------------
    def memory_info(self) -> dict:
        """Bytes in use and held by CuPy's memory pool on this device, and the device's totals."""
        with self._device:
            pool = self._cupy.get_default_memory_pool()
            free, total = self._cupy.cuda.runtime.memGetInfo()
            return {
                "used_bytes": pool.used_bytes(),
                "cached_bytes": pool.total_bytes() - pool.used_bytes(),
                "pool_bytes": pool.total_bytes(),
                "device_free_bytes": free,
                "device_total_bytes": total,
            }

    def free_cached_memory(self) -> None:
        """Returns the pool's unused blocks (device and pinned host) to the driver."""
        with self._device:
            self._cupy.get_default_memory_pool().free_all_blocks()
        self._cupy.get_default_pinned_memory_pool().free_all_blocks()

    def synchronize(self) -> None:
        self._device.synchronize()
