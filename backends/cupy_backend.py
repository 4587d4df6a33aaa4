"""The GPU backend: CuPy arrays on one CUDA device, imported only when CUDA is asked for.

CuPy allocates and launches kernels on the *current* device. For ``cuda:0`` (the usual current
device) the namespace is the ``cupy`` module itself; for another device it is a thin proxy that
makes that device current around each call, so that ``backend.xp.zeros(...)`` lands on it.
Operators on arrays (``a + b``) still run on the current device: where there are several
devices, code driving one runs inside ``with backend.device_scope():`` (see docs/devices.md).
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from .base import (
    RANDOM_IN_CAPTURE,
    Backend,
    CapturedGraph,
    CaptureState,
    DeviceIndexChecks,
    GraphCaptureError,
    erf_keeping_dtype,
)


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
            if getattr(e, "name", None) in ("cupy", "cupyx"):
                raise ImportError(
                    "the cuda backend needs CuPy: pip install 'kedja[gpu]' (cupy-cuda12x[ctk])"
                ) from e
            raise ImportError(f"CuPy is installed but does not import: {e}") from e
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
        # With one device it is always current; with more, any may be made current (by us or
        # by the user's code), so every backend scopes its work, cuda:0 included.
        self.needs_device_scope = count > 1
        self.xp = _DeviceNamespace(cupy, self._device) if self.needs_device_scope else cupy
        # Allocate, draw and multiply now so that a broken context or a missing CUDA library
        # (cuRAND, cuBLAS: CuPy loads them on first use) fails here, not in the first op.
        try:
            with self._device:
                probe = cupy.ones((2, 2), dtype=cupy.float32)
                self._rng = cupy.random.RandomState()
                probe @ probe
        except Exception as e:  # noqa: BLE001 - CUDARuntimeError, a missing .so, ...
            raise RuntimeError(
                f"cuda:{index}: CuPy found the device but cannot use it: {type(e).__name__}: "
                f"{e}. CuPy needs CUDA's NVRTC, cuRAND, cuBLAS and cuSOLVER libraries, from a "
                "system CUDA toolkit or from pip: pip install 'kedja[gpu]' installs "
                "cupy-cuda12x[ctk] with them"
            ) from e
        self._erf: Any = None
        self._index_checks = DeviceIndexChecks()
        # CUDA graphs: stream capture is CUDA-only in CuPy (not on ROCm/HIP).
        self.supports_graphs = not getattr(cupy.cuda.runtime, "is_hip", False)
        self._graph_stream: Any = None  # made on the first capture (see _begin_capture)

    # -- arrays -------------------------------------------------------------------------------
    def owns(self, array: Any) -> bool:
        return type(array) is self.array_type and array.device.id == self.index

    def device_scope(self) -> Any:
        return self._device  # cupy.cuda.Device is a reusable context manager

    def asarray(self, data: Any, dtype: Any = None) -> Any:
        if self._capture is not None and not isinstance(data, self._cupy.ndarray):
            self._refuse_in_capture("a host -> device copy")
        # Under the device, cupy.asarray copies host data in and other devices' arrays over.
        with self._device:
            return self._cupy.asarray(data, dtype=dtype)

    def to_numpy(self, array: Any) -> Any:
        if self._capture is not None:
            self._refuse_in_capture("to_numpy() (a device -> host copy)")
        self._index_checks.raise_pending(self)
        return self._cupy.asnumpy(array)

    def check_index(self, index: Any, size: int, where: str) -> None:
        self._index_checks.note(self, index, size, where)

    def raise_index_errors(self) -> None:
        if self._capture is not None and self._index_checks._pending:
            self._refuse_in_capture("raise_index_errors() (reads index flags back)")
        self._index_checks.raise_pending(self)

    def _read_flags(self, flags: Any) -> Any:
        return self._cupy.asnumpy(flags)

    def asarray_pinned(self, host: Any) -> Any:
        # The copy into page-locked memory runs on the host; the DMA from there is faster
        # than from pageable memory. Synchronous: the staging block returns to CuPy's pinned
        # pool when this returns, so it must not be read after.
        if self._capture is not None:
            self._refuse_in_capture("a host -> device copy")
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
            return erf_keeping_dtype(self._erf, x)

    def special(self, name: str, *args: Any) -> Any:
        """SciPy's special function `name` elementwise (cupyx.scipy.special), keeping the dtype
        of the (last) floating argument."""
        from cupyx.scipy import special

        with self._device:
            out = getattr(special, name)(*args)
            floats = [a for a in args if getattr(a, "dtype", None) is not None
                      and a.dtype.kind == "f"]
            if floats and out.dtype != floats[-1].dtype:
                out = out.astype(floats[-1].dtype)
            return out

    # -- randomness -------------------------------------------------------------------------
    def seed(self, seed: int | None) -> None:
        with self._device:
            self._rng = self._cupy.random.RandomState(seed)

    def _draw_dtype(self, dtype: Any) -> Any:
        # CuPy draws floats as float32 or float64 only: draw float16 in float32, then cast.
        kind = self._cupy.dtype(dtype)
        return kind if kind in (self._cupy.float32, self._cupy.float64) else self._cupy.float32

    def uniform(self, low: float, high: float, shape: tuple, dtype: Any) -> Any:
        if self._capture is not None:
            self._refuse_in_capture(RANDOM_IN_CAPTURE)
        with self._device:
            y = self._rng.uniform(low, high, shape, dtype=self._draw_dtype(dtype))
            return y.astype(dtype, copy=False)

    def normal(self, mean: float, std: float, shape: tuple, dtype: Any) -> Any:
        if self._capture is not None:
            self._refuse_in_capture(RANDOM_IN_CAPTURE)
        with self._device:
            y = self._rng.normal(mean, std, shape, dtype=self._draw_dtype(dtype))
            return y.astype(dtype, copy=False)

    def integers(self, low: int, high: int, shape: tuple) -> Any:
        if self._capture is not None:
            self._refuse_in_capture(RANDOM_IN_CAPTURE)
        with self._device:
            return self._rng.randint(low, high, shape, dtype=self._cupy.int64)

    def permutation(self, n: int) -> Any:
        if self._capture is not None:
            self._refuse_in_capture(RANDOM_IN_CAPTURE)
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
        if self._capture is not None:
            self._refuse_in_capture("synchronize()")
        self._device.synchronize()
        self._index_checks.raise_pending(self)

    # -- graphs -------------------------------------------------------------------------------
    def capture_graph(self, fn: Callable[[], None]) -> CapturedGraph:
        """`Backend.capture_graph` with CUDA graphs (docs/devices.md "Graph capture"); CUDA's
        own capture errors come back as `GraphCaptureError`."""
        try:
            return super().capture_graph(fn)
        except self._cupy.cuda.runtime.CUDARuntimeError as e:
            if "StreamCapture" not in str(e) and "capturing" not in str(e):
                raise
            raise GraphCaptureError(
                f"{self.device}: CUDA refused work inside capture_graph ({e}); the usual "
                "causes are a host synchronisation, a synchronous copy, or a library call that "
                "allocates or synchronises on first use (run the function once eagerly before "
                "capturing it)"
            ) from e

    def _begin_capture(self) -> _CupyCapture:
        cupy = self._cupy
        allocator = cupy.cuda.get_allocator()
        if allocator is cupy.cuda.malloc_async or isinstance(
                getattr(allocator, "__self__", None), cupy.cuda.MemoryAsyncPool):
            raise GraphCaptureError(
                f"{self.device}: capture_graph works with CuPy's default MemoryPool; with "
                "MemoryAsyncPool (cudaMallocAsync) set as the allocator, allocations during "
                "capture become graph nodes whose memory kedja cannot keep for the graph"
            )
        with self._device:
            if self._graph_stream is None:
                # One dedicated non-blocking stream per device: CUDA cannot capture the
                # legacy default stream, and every graph's buffers come from (and go back
                # to) this stream's arena of the memory pool, so launches on it never race
                # with the reuse of a dropped graph's memory.
                self._graph_stream = cupy.cuda.Stream(non_blocking=True)
            capture = _CupyCapture(self, allocator)
        capture.begin()
        return capture

    def _abort_capture(self, capture: _CupyCapture) -> None:
        capture.end(keep=False)

    def _end_capture(self, capture: _CupyCapture, index_flags: dict) -> CupyGraph:
        graph = capture.end(keep=True)
        return CupyGraph(self, graph, capture, index_flags)


class _CupyCapture(CaptureState):
    """One capture on CuPy: the capture stream made current, and an allocator that keeps every
    block allocated during the capture for the graph.

    CuPy's MemoryPool hands a freed block to the next allocation at once; a block freed during
    the capture (a temporary) and then given to an array outside the graph would be
    overwritten by every launch. So the graph holds every block its capture allocated.
    """

    def __init__(self, backend: CupyBackend, allocator: Any) -> None:
        super().__init__()
        self.backend = backend
        self.stream = backend._graph_stream
        self.blocks: list = []
        self.nbytes = 0
        self._allocator = allocator
        self._scopes = contextlib.ExitStack()

    def malloc(self, size: int) -> Any:
        block = self._allocator(size)
        self.blocks.append(block)
        self.nbytes += size
        return block

    def begin(self) -> None:
        cupy = self.backend._cupy
        with contextlib.ExitStack() as scopes:
            scopes.enter_context(self.backend._device)
            scopes.enter_context(cupy.cuda.using_allocator(self.malloc))
            scopes.enter_context(self.stream)  # CuPy launches on the current stream
            # Relaxed mode (CuPy's default): the pool may call cudaMalloc to grow during the
            # capture, which the global and thread-local modes forbid.
            self.stream.begin_capture(cupy.cuda.runtime.streamCaptureModeRelaxed)
            self._scopes = scopes.pop_all()

    def end(self, keep: bool) -> Any:
        """Ends the capture (leaving the stream usable); the graph where `keep`."""
        try:
            if keep:
                return self.stream.end_capture()
            try:
                self.stream.end_capture()
            except Exception:  # noqa: BLE001 - an invalidated capture: the error that caused it
                pass  # is on its way up already
            return None
        finally:
            self._scopes.close()


class CupyGraph(CapturedGraph):
    """A CUDA graph (cupy.cuda.Graph) launched on the capture stream, ordered against the
    current stream with two events: after the work queued before ``launch()``, before the work
    queued after it."""

    def __init__(self, backend: CupyBackend, graph: Any, capture: _CupyCapture,
                 index_flags: dict) -> None:
        super().__init__(backend, index_flags, capture.nbytes)
        cupy = backend._cupy
        self._graph = graph
        self._stream = capture.stream
        self._blocks = capture.blocks  # the graph's buffers: kept as long as it lives
        with backend._device:
            self._ready = cupy.cuda.Event(disable_timing=True)
            self._done = cupy.cuda.Event(disable_timing=True)

    def _replay(self) -> None:
        backend = self._backend
        with backend._device:
            current = backend._cupy.cuda.get_current_stream()
            stream = self._stream
            if current == stream:
                self._graph.launch(stream=stream)
                return
            current.record(self._ready)
            stream.wait_event(self._ready)
            self._graph.launch(stream=stream)
            stream.record(self._done)
            current.wait_event(self._done)
