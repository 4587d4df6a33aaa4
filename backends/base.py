"""The `Backend` interface: one array namespace, one device, one random generator.

The engine never imports numpy or cupy for tensor data; it asks a backend. A backend names its
array namespace `xp` and spells the few things NumPy and CuPy do differently (scatter-add, host
transfer, random numbers).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from typing import Any


class Backend:
    """An array library bound to one device.

    Attributes:
        name: registry name, e.g. ``"numpy"``.
        device: device string tensors report, e.g. ``"cpu"`` or ``"cuda:0"``.
        xp: the array namespace (``numpy``, ``cupy`` or a stand-in with the same API).
        array_type: the concrete array class this backend produces.
    """

    name: str = "abstract"
    device: str = "none"
    xp: Any = None
    array_type: type = object
    #: True where the data live off the host, so reading them back is a synchronisation.
    is_device: bool = False
    #: True where work must run inside `device_scope()` (CuPy on a device other than cuda:0).
    needs_device_scope: bool = False
    #: True where `capture_graph` records work for replay (CUDA graphs; the fake device).
    supports_graphs: bool = False
    #: The capture in progress on this backend (see `capture_graph`), else None.
    _capture: Any = None

    # -- arrays -------------------------------------------------------------------------------
    def asarray(self, data: Any, dtype: Any = None) -> Any:
        """Converts `data` (nested lists, scalars, host arrays) to this backend's array type."""
        return self.xp.asarray(data, dtype=dtype)

    def to_numpy(self, array: Any) -> Any:
        """Copies `array` to a host NumPy array (a synchronisation on a device backend)."""
        raise NotImplementedError

    def asarray_pinned(self, host: Any) -> Any:
        """`asarray` of a host array, staged through page-locked host memory where the device
        has it (a faster copy in; ``DataLoader(pin_memory=True)``). Elsewhere plain asarray."""
        return self.asarray(host)

    def is_array(self, obj: Any) -> bool:
        """True if `obj` is an array of this backend."""
        return isinstance(obj, self.array_type)

    def owns(self, array: Any) -> bool:
        """True if `array` is an array of this backend *and device* (cuda:0 vs cuda:1)."""
        return type(array) is self.array_type

    def device_scope(self) -> Any:
        """A context manager making this backend's device current (a no-op off CUDA).

        CuPy launches kernels and allocates on the *current* device, so work on ``cuda:1``
        arrays must run inside ``with backend.device_scope():``.
        """
        return contextlib.nullcontext()

    def check_index(self, index: Any, size: int, where: str) -> None:
        """Notes whether integer `index` has entries outside ``[-size, size)`` (an axis of that
        size); a no-op on the host, where NumPy raises IndexError itself.

        CuPy wraps out-of-range indices (``index % size``) instead of raising, and a check
        that read the answer back at once would synchronise every indexing op. So a device
        backend keeps a flag on the device and raises `IndexError` at the next
        synchronisation it sees (`to_numpy`, `synchronize`, `raise_index_errors`), as CUDA
        reports asynchronous errors; with ``KEDJA_CHECK_INDICES=eager`` it reads the flag back
        at once (one synchronisation per indexing op, for debugging).
        """

    def raise_index_errors(self) -> None:
        """Raises `IndexError` for out-of-range indices noted by `check_index` since the last
        check (a synchronisation on a device backend; nothing to do on the host)."""

    def scatter_add(self, target: Any, indices: Any, values: Any) -> None:
        """Adds `values` into `target[indices]` in place, accumulating repeated indices."""
        raise NotImplementedError

    def erf(self, array: Any) -> Any:
        """The Gauss error function, elementwise, keeping a floating `array`'s dtype."""
        raise NotImplementedError(f"{self.name} backend: erf is not implemented")

    def special(self, name: str, *args: Any) -> Any:
        """SciPy's special function `name` elementwise (erfc, erfinv, gammaln, digamma,
        polygamma, log_ndtr), in the floating dtype of the arrays."""
        raise NotImplementedError(f"{self.name} backend: special functions are not implemented")

    # -- randomness -------------------------------------------------------------------------
    def seed(self, seed: int | None) -> None:
        """Re-seeds this backend's random generator."""
        raise NotImplementedError

    def uniform(self, low: float, high: float, shape: tuple, dtype: Any) -> Any:
        """Draws uniformly from [low, high)."""
        raise NotImplementedError

    def normal(self, mean: float, std: float, shape: tuple, dtype: Any) -> Any:
        """Draws from a normal distribution."""
        raise NotImplementedError

    def integers(self, low: int, high: int, shape: tuple) -> Any:
        """Draws int64 values from [low, high)."""
        raise NotImplementedError

    def permutation(self, n: int) -> Any:
        """A random permutation of ``range(n)`` as an int64 array."""
        raise NotImplementedError

    # -- interop ------------------------------------------------------------------------------
    def to_dlpack(self, array: Any, **kwargs: Any) -> Any:
        """Exports `array` by DLPack (``array.__dlpack__(**kwargs)``: a capsule)."""
        return array.__dlpack__(**kwargs)

    def dlpack_device(self, array: Any) -> tuple:
        """``(device_type, device_id)`` of `array` as DLPack spells it (1 = CPU, 2 = CUDA)."""
        return tuple(array.__dlpack_device__())

    def from_dlpack(self, obj: Any) -> Any:
        """An array of this backend sharing memory with `obj` (anything with ``__dlpack__``)."""
        return self.xp.from_dlpack(obj)

    # -- graphs -------------------------------------------------------------------------------
    def capture_graph(self, fn: Callable[[], None]) -> CapturedGraph:
        """Runs `fn` under stream capture and returns a graph whose ``launch()`` re-runs the
        captured work, writing into the same buffers (a CUDA graph; docs/devices.md "Graph
        capture").

        During the capture nothing executes on a device: arrays written by `fn` hold
        undefined values afterwards (the fake device fills them with NaN) and arrays it
        updates in place keep their old values until the first ``launch()``. Host
        synchronisations, host <-> device copies and random draws inside `fn` raise
        `GraphCaptureError`. Arrays allocated during the capture belong to the graph: they
        stay allocated, at the same addresses, for as long as the graph lives.

        Raises:
            GraphCaptureError: the backend has no graphs (NumPy), a capture is already in
                progress, or `fn` did something that cannot be captured.
        """
        if not self.supports_graphs:
            raise GraphCaptureError(
                f"{self.name} backend ({self.device}): capture_graph needs a device backend "
                "(CUDA graphs on cuda, or the fake device); on the host there is no graph to "
                "capture: run the work eagerly (check backend.supports_graphs first)"
            )
        if self._capture is not None:
            raise GraphCaptureError(
                f"{self.device}: capture_graph called inside another capture; captures do "
                "not nest (CUDA refuses to begin capturing a stream that is capturing)"
            )
        capture = self._begin_capture()
        # Index flags noted inside the capture belong to the graph (its launches set them).
        checks = getattr(self, "_index_checks", None)
        earlier = checks.stash() if checks is not None else None
        self._capture = capture
        try:
            fn()
        except BaseException:
            self._capture = None
            self._abort_capture(capture)
            if checks is not None:
                checks.restore(earlier)
            raise
        self._capture = None
        flags = checks.restore(earlier) if checks is not None else {}
        if capture.invalid is not None:  # `fn` caught the error and went on: CUDA still fails
            self._abort_capture(capture)
            raise GraphCaptureError(
                f"{self.device}: the capture was invalidated by {capture.invalid} (CUDA: "
                "cudaErrorStreamCaptureInvalidated at end of capture); no graph was made"
            )
        return self._end_capture(capture, flags)

    @property
    def is_capturing(self) -> bool:
        """True while `capture_graph` runs its function on this backend."""
        return self._capture is not None

    def _refuse_in_capture(self, what: str) -> None:
        """Raises `GraphCaptureError` for `what` (a host sync, a copy, a draw) in a capture."""
        capture = self._capture
        if capture is not None and capture.thread == threading.get_ident():
            capture.invalidate(what)
            raise GraphCaptureError(capture_message(self.device, what))

    def _begin_capture(self) -> Any:
        raise NotImplementedError

    def _abort_capture(self, capture: Any) -> None:
        raise NotImplementedError

    def _end_capture(self, capture: Any, index_flags: dict) -> CapturedGraph:
        raise NotImplementedError

    # -- memory -------------------------------------------------------------------------------
    def memory_info(self) -> dict:
        """Bytes used and cached by this backend's allocator (empty where it keeps none)."""
        return {}

    def free_cached_memory(self) -> None:
        """Returns cached, unused blocks to the device (a no-op where there is no pool)."""

    def synchronize(self) -> None:
        """Waits for queued work on the device (a no-op on the host)."""

    def __deepcopy__(self, memo: dict) -> Backend:
        # A backend is a process-wide singleton per device: copies of tensors share it.
        return self

    def __copy__(self) -> Backend:
        return self

    def __repr__(self) -> str:
        return f"<Backend {self.name} device={self.device}>"


class GraphCaptureError(RuntimeError):
    """Work that cannot be captured into a graph (CUDA: cudaErrorStreamCaptureUnsupported,
    which also invalidates the capture), or graphs asked of a backend without them."""


def capture_message(device: str, what: str) -> str:
    """The `GraphCaptureError` text for `what` done while `device` is capturing."""
    return (
        f"{device}: {what} inside capture_graph: nothing runs on the device while a stream is "
        "captured, so the host cannot wait for, read or send device data (CUDA fails with "
        "cudaErrorStreamCaptureUnsupported and invalidates the capture). Move it out of the "
        "captured function: copy inputs into the graph's buffers before launch(), read "
        "results after it"
    )


#: Why random draws are refused during a capture (both device backends say it).
RANDOM_IN_CAPTURE = (
    "a random draw (a captured graph would replay the same numbers on every launch: draw "
    "outside the capture into a buffer the graph reads)"
)


class CaptureState:
    """What every capture keeps: the capturing thread, and why it became invalid (if so)."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.invalid: str | None = None

    def invalidate(self, why: str) -> None:
        if self.invalid is None:
            self.invalid = why


class CapturedGraph:
    """Work captured by `Backend.capture_graph`; ``launch()`` re-runs it.

    Attributes:
        allocated_bytes: device memory allocated during the capture, owned by the graph (its
            buffers keep their addresses for as long as the graph lives).
    """

    def __init__(self, backend: Backend, index_flags: dict, allocated_bytes: int) -> None:
        self._backend = backend
        self._index_flags = index_flags
        self.allocated_bytes = allocated_bytes

    def launch(self) -> None:
        """Re-runs the captured work in order, into the buffers it wrote during the capture;
        ordered after the work already queued on the current stream, and before work queued
        after it (no host synchronisation)."""
        backend = self._backend
        if backend._capture is not None:
            raise GraphCaptureError(
                f"{backend.device}: launch() inside capture_graph; launch graphs outside "
                "captures (kedja does not capture graphs into graphs)"
            )
        self._replay()
        if self._index_flags:
            backend._index_checks.add(backend, self._index_flags)

    def _replay(self) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return (f"<CapturedGraph on {self._backend.device}, "
                f"{self.allocated_bytes} bytes of buffers>")


def erf_keeping_dtype(raw_erf: Any, x: Any) -> Any:
    """``raw_erf(x)`` in x's dtype: cupyx.scipy.special.erf has no half loop (float16 in,
    float64 out), so float16 is computed in float32 and cast back."""
    if x.dtype.name == "float16":
        return raw_erf(x.astype("float32")).astype(x.dtype)
    return raw_erf(x)


class DeviceIndexChecks:
    """`Backend.check_index` for device backends: one device flag per indexing site, read back
    together at the next synchronisation (see `Backend.check_index`)."""

    #: Distinct sites kept apart; more are folded into one flag (the message then says so).
    MAX_SITES = 64

    def __init__(self) -> None:
        self._pending: dict[str, Any] = {}

    def note(self, backend: Any, index: Any, size: int, where: str) -> None:
        if index.dtype.kind not in "iu" or index.size == 0:
            return
        with backend.device_scope():
            bad = (index >= size).any() if index.dtype.kind == "u" else (
                ((index < -size) | (index >= size)).any())
            if os.environ.get("KEDJA_CHECK_INDICES", "").lower() == "eager":
                if bool(bad):  # a synchronisation, asked for
                    raise IndexError(_index_message([where]))
                return
            if where not in self._pending and len(self._pending) >= self.MAX_SITES:
                where = "(further indexing sites)"
            previous = self._pending.get(where)
            self._pending[where] = bad if previous is None else previous | bad

    def stash(self) -> dict:
        """Takes the pending flags away (a capture starts with none); `restore` puts them back."""
        earlier, self._pending = self._pending, {}
        return earlier

    def restore(self, earlier: dict | None) -> dict:
        """Puts `stash`'s flags back; returns those noted since (the captured ones)."""
        captured, self._pending = self._pending, dict(earlier or {})
        return captured

    def add(self, backend: Any, flags: dict) -> None:
        """Notes a launched graph's flags: copies, since the next launch rewrites them."""
        with backend.device_scope():
            for where, flag in flags.items():
                previous = self._pending.get(where)
                self._pending[where] = flag.copy() if previous is None else previous | flag

    def raise_pending(self, backend: Any) -> None:
        if not self._pending:
            return
        sites, flags = list(self._pending), list(self._pending.values())
        self._pending = {}
        with backend.device_scope():
            host = backend._read_flags(backend.xp.stack(flags))
        bad = [site for site, flag in zip(sites, host.tolist()) if flag]
        if bad:
            raise IndexError(_index_message(bad))


def _index_message(sites: list) -> str:
    return (
        "index out of range (found on the device at a synchronisation; CuPy would have "
        f"wrapped it silently): {'; '.join(sites)}. Set KEDJA_CHECK_INDICES=eager to raise at "
        "the indexing op itself"
    )

