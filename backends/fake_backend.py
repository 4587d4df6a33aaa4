"""The strict fake device: a GPU backend from the engine's point of view, NumPy underneath.

CI has no GPU, so this backend keeps the CuPy path honest. Its arrays (`FakeDeviceArray`) refuse
what breaks CuPy code (implicit NumPy conversion, host arrays mixed into device operations,
``np.add.at``, numpy functions called on device data) and count every host synchronisation::

    >>> import backends
    >>> fake = backends.get("fake")
    >>> x = fake.asarray([1.0, 2.0])            # host -> device: a transfer, not a sync
    >>> with fake.expect_no_sync():
    ...     y = fake.xp.exp(x).sum()            # fine: stays on the device
    ...     float(y)                            # raises HostSyncError
    >>> fake.sync_count                         # syncs seen so far (outside the region too)

It is a test device: ``backends.available()`` does not list it, ``backends.get("fake")`` and
``KEDJA_DEVICE=fake`` select it. See docs/devices.md.
"""

from __future__ import annotations

import collections
import contextlib
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np

from .base import RANDOM_IN_CAPTURE, Backend, DeviceIndexChecks, erf_keeping_dtype
from .fake_array import (
    FAKE_DLPACK_DEVICE,
    FakeCapsule,
    FakeDeviceArray,
    _index,
    _operand,
    export_dlpack,
    launch,
    wrap,
)
from .fake_graph import FakeCapture, FakeGraph
from .fake_namespace import FakeNamespace
from .fake_rules import CURRENT

__all__ = ["FakeDeviceArray", "FakeDeviceBackend", "HostSyncError"]


def _cuda_bodies_default() -> bool:
    import os

    if os.environ.get("KEDJA_FAKE_CUDA_BODIES", "1") == "0":
        return False
    from .fake_kernels import compiler

    return compiler() is not None


class HostSyncError(RuntimeError):
    """A device -> host synchronisation happened inside ``expect_no_sync()``."""


class SyncCounter:
    """Counts the synchronisations of one backend from its creation on (see `count_syncs`)."""

    def __init__(self, backend: FakeDeviceBackend) -> None:
        self._backend = backend
        self._start = backend.sync_count
        self._end: int | None = None

    @property
    def count(self) -> int:
        end = self._end if self._end is not None else self._backend.sync_count
        return end - self._start


class FakeDeviceBackend(Backend):
    """NumPy dressed as a CUDA device: strict about host/device boundaries, counts syncs.

    Attributes:
        sync_count: device -> host synchronisations so far (``float()``, ``.item()``,
            ``to_numpy``, ``repr``, boolean-mask indexing, ...).
        transfer_count: host -> device transfers so far (``asarray`` of host data).
        sync_log: the last few synchronisations, described (newest last).
    """

    name = "fake"
    is_device = True
    supports_graphs = True
    array_type = FakeDeviceArray

    def __init__(self, index: int = 0) -> None:
        self.index = index
        self.device = f"fake:{index}"
        # fake:0 is current at start (as device 0 is on CuPy); work on fake:N, N > 0, runs in
        # device_scope(), and operators on its arrays outside one fail (see fake_rules.CURRENT).
        self.needs_device_scope = index != 0
        self.xp = FakeNamespace(self)
        self._rng = np.random.default_rng()
        self.sync_count = 0
        self.transfer_count = 0
        self.sync_log: collections.deque[str] = collections.deque(maxlen=16)
        self._forbidden = 0
        self._live: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self._index_checks = DeviceIndexChecks()
        #: Run the fused kernels' CUDA bodies (compiled as host C++, as the ``_on_cupy``
        #: branches run on a GPU) rather than their NumPy bodies: on where a C++ compiler
        #: exists, off with KEDJA_FAKE_CUDA_BODIES=0 (see backends/fake_kernels.py).
        self.run_cuda_bodies = _cuda_bodies_default()

    # -- bookkeeping ------------------------------------------------------------------------
    def _track(self, array: FakeDeviceArray) -> None:
        self._live[id(array)] = array

    def _record_sync(self, reason: str) -> None:
        if self._capture is not None:
            self._refuse_in_capture(f"{reason} (a device -> host synchronisation)")
        self.sync_count += 1
        self.sync_log.append(reason)
        if self._forbidden:
            raise HostSyncError(
                f"{self.device}: {reason} is a device -> host synchronisation, inside "
                "expect_no_sync(); on a GPU it would stall the pipeline. Keep the value on the "
                "device (as a tensor), or read it back outside the hot loop"
            )

    def _count_transfer(self) -> None:
        if self._capture is not None:
            self._refuse_in_capture("a host -> device copy (from pageable host memory, "
                                    "synchronous on CUDA)")
        self.transfer_count += 1

    def reset_sync_count(self) -> None:
        """Sets `sync_count` (and `transfer_count`) back to zero."""
        self.sync_count = 0
        self.transfer_count = 0
        self.sync_log.clear()

    @contextlib.contextmanager
    def expect_no_sync(self) -> Iterator[None]:
        """Makes any host synchronisation on this device raise `HostSyncError` in the block."""
        self._forbidden += 1
        try:
            yield
        finally:
            self._forbidden -= 1

    forbid_host_sync = expect_no_sync

    @contextlib.contextmanager
    def count_syncs(self) -> Iterator[SyncCounter]:
        """Counts the synchronisations in the block: ``with b.count_syncs() as c: ...; c.count``."""
        counter = SyncCounter(self)
        try:
            yield counter
        finally:
            counter._end = self.sync_count

    # -- arrays -------------------------------------------------------------------------------
    def owns(self, array: Any) -> bool:
        return type(array) is FakeDeviceArray and array._dev is self

    @contextlib.contextmanager
    def device_scope(self) -> Iterator[None]:
        """Makes this fake device current in the block (``with cupy.cuda.Device(n):``)."""
        previous = CURRENT[0]
        CURRENT[0] = self.index
        try:
            yield
        finally:
            CURRENT[0] = previous

    def asarray(self, data: Any, dtype: Any = None) -> FakeDeviceArray:
        """Device arrays pass through (cast if asked); host data is copied to the device."""
        if type(data) is FakeDeviceArray:
            if data._dev is not self:  # device -> device copy, as cupy.asarray under a Device
                return FakeDeviceArray(np.array(data._a, dtype=dtype), self)
            if dtype is None:
                return data
            raw = data._a
            return launch(self, lambda: raw.astype(dtype, copy=False), [raw], [data],
                          view_only=True)
        if hasattr(data, "__cuda_array_interface__"):
            raise TypeError(f"{self.device}: cannot take a real CUDA array "
                            f"({type(data).__name__}); move it to the host first")
        if isinstance(data, (list, tuple)):
            from .fake_array import unwrap

            data = unwrap(self, data, f"{self.device} asarray", [], host_ok=True)
        self._count_transfer()
        # np.array copies: device memory never aliases the host data it came from.
        return wrap(self, np.array(data, dtype=dtype))

    def to_numpy(self, array: Any) -> np.ndarray:
        """A host copy of `array` (counted as a synchronisation)."""
        if type(array) is not FakeDeviceArray:
            raise TypeError(f"{self.device} to_numpy: expected a fake device array, got "
                            f"{type(array).__name__}")
        host = array._host("to_numpy()").copy()
        self._index_checks.raise_pending(self)
        return host

    def check_index(self, index: Any, size: int, where: str) -> None:
        self._index_checks.note(self, index, size, where)

    def raise_index_errors(self) -> None:
        """Raises for out-of-range indices noted since the last check (a synchronisation)."""
        if self._index_checks._pending:
            self._record_sync("raise_index_errors()")
        self._index_checks.raise_pending(self)

    def _read_flags(self, flags: FakeDeviceArray) -> np.ndarray:
        # Read along with the synchronisation that asked for it: not counted again.
        return flags._a

    def scatter_add(self, target: Any, indices: Any, values: Any) -> None:
        """``target[indices] += values`` with repeated indices accumulated (cupyx.scatter_add)."""
        if type(target) is not FakeDeviceArray or target._dev is not self:
            raise TypeError(f"{self.device} scatter_add: target must be an array of this "
                            f"device, got {type(target).__name__}")
        v = _operand(self, values, "scatter_add")
        if v is NotImplemented:
            raise TypeError(f"scatter_add: values must be a device array or a scalar, got "
                            f"{type(values).__name__}")
        raw = target._a

        def add() -> None:
            # cupyx.scatter_add wraps out-of-range indices, as CuPy's indexing does.
            np.add.at(raw, _index(self, indices, False, raw.shape), v)

        launch(self, add, [raw] + ([v] if isinstance(v, np.ndarray) else []))

    def erf(self, x: Any) -> FakeDeviceArray:
        """The error function, elementwise (cupyx.scipy.special.erf on a real GPU)."""
        if type(x) is not FakeDeviceArray or x._dev is not self:
            raise TypeError(f"{self.device} erf: expected an array of this device, got "
                            f"{type(x).__name__}")
        return erf_keeping_dtype(self._raw_erf, x)

    def _raw_erf(self, x: FakeDeviceArray) -> FakeDeviceArray:
        """cupyx.scipy.special.erf as CuPy has it: loops for float32 and float64 only, so
        float16 (and integer) input gives float64."""
        from . import host

        raw = x._a

        def erf() -> np.ndarray:
            a = raw if raw.dtype == np.float32 else raw.astype(np.float64)
            return np.asarray(host().erf(a)).astype(a.dtype, copy=False)

        return launch(self, erf, [raw])

    # -- CUDA bodies as host C++ (backends/fake_kernels.py) ------------------------------------
    def elementwise_kernel(self, *args: Any, **kwargs: Any) -> Any:
        """cupy.ElementwiseKernel on this device, its body compiled as host C++."""
        from .fake_kernels import HostElementwiseKernel

        return HostElementwiseKernel(self, *args, **kwargs)

    def reduction_kernel(self, *args: Any, **kwargs: Any) -> Any:
        """cupy.ReductionKernel on this device, its expressions compiled as host C++."""
        from .fake_kernels import HostReductionKernel

        return HostReductionKernel(self, *args, **kwargs)

    def special(self, name: str, *args: Any) -> FakeDeviceArray:
        """SciPy's special function `name` (cupyx.scipy.special on a real GPU), on the host."""
        from . import host

        raw = []
        for a in args:
            if type(a) is FakeDeviceArray:
                if a._dev is not self:
                    raise TypeError(f"{self.device} special: an array of {a.device}")
                raw.append(a._a)
            elif isinstance(a, np.ndarray):
                raise TypeError(f"{self.device} special.{name}: got a host numpy.ndarray; move "
                                "it to the device first")
            else:
                raw.append(a)
        return launch(self, lambda: np.asarray(host().special(name, *raw)),
                      [a for a in raw if isinstance(a, np.ndarray)])

    # -- randomness -------------------------------------------------------------------------
    def _no_draws_in_capture(self) -> None:
        if self._capture is not None:
            self._refuse_in_capture(RANDOM_IN_CAPTURE)

    def seed(self, seed: int | None) -> None:
        self._rng = np.random.default_rng(seed)

    def uniform(self, low: float, high: float, shape: tuple, dtype: Any) -> FakeDeviceArray:
        self._no_draws_in_capture()
        return wrap(self, np.asarray(self._rng.uniform(low, high, shape)).astype(dtype))

    def normal(self, mean: float, std: float, shape: tuple, dtype: Any) -> FakeDeviceArray:
        self._no_draws_in_capture()
        return wrap(self, np.asarray(self._rng.normal(mean, std, shape)).astype(dtype))

    def integers(self, low: int, high: int, shape: tuple) -> FakeDeviceArray:
        self._no_draws_in_capture()
        return wrap(self, np.asarray(self._rng.integers(low, high, shape, dtype=np.int64)))

    def permutation(self, n: int) -> FakeDeviceArray:
        self._no_draws_in_capture()
        return wrap(self, self._rng.permutation(n).astype(np.int64))

    # -- graphs (backends/fake_graph.py) -------------------------------------------------------
    def _begin_capture(self) -> FakeCapture:
        return FakeCapture(self)

    def _abort_capture(self, capture: FakeCapture) -> None:
        capture.finish()

    def _end_capture(self, capture: FakeCapture, index_flags: dict) -> FakeGraph:
        capture.finish()
        return FakeGraph(self, capture, index_flags)

    # -- interop ----------------------------------------------------------------------------
    def to_dlpack(self, array: Any, **kwargs: Any) -> Any:
        """Exports `array` by DLPack; only the fake backend can import the result."""
        return export_dlpack(array, tuple(kwargs.values()))

    def dlpack_device(self, array: Any) -> tuple:
        return (FAKE_DLPACK_DEVICE, self.index)

    def from_dlpack(self, obj: Any) -> FakeDeviceArray:
        """Imports a fake array (or an object exporting one) without a copy; refuses host or
        foreign memory, which a real GPU library could not import either."""
        capsule = obj if isinstance(obj, FakeCapsule) else None
        if capsule is None and type(obj) is FakeDeviceArray:
            capsule = FakeCapsule(obj)
        if capsule is None and hasattr(obj, "__dlpack__"):
            exported = obj.__dlpack__()
            capsule = exported if isinstance(exported, FakeCapsule) else None
        if capsule is None:
            raise BufferError(
                f"{self.device} from_dlpack: can import only fake device arrays, got "
                f"{type(obj).__name__}; copy host data with backend.asarray instead"
            )
        if capsule.array._dev is not self:
            raise BufferError(f"{self.device} from_dlpack: the array is on "
                              f"{capsule.array.device}; DLPack does not move data between devices")
        return capsule.array

    # -- memory -------------------------------------------------------------------------------
    def memory_info(self) -> dict:
        """Bytes held by live arrays of this device (views counted once) and their number."""
        roots: dict[int, int] = {}
        arrays = list(self._live.values())
        for array in arrays:
            a = array._a
            while isinstance(a.base, np.ndarray):
                a = a.base
            roots[id(a)] = a.nbytes
        return {"used_bytes": sum(roots.values()), "cached_bytes": 0, "live_arrays": len(arrays)}

    def synchronize(self) -> None:
        """Waits for the device (a synchronisation: counted)."""
        self._record_sync("synchronize()")
        self._index_checks.raise_pending(self)
