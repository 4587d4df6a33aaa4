"""Two host threads for the big batched ops (the fused convolution's GEMM loops).

NumPy releases the GIL inside GEMMs and ufunc loops, so an op that works image by image can
run its two halves of the batch on two cores at once. OpenBLAS does not do this for us on the
convolution's GEMMs (K = 9..288, N = 16..32 and chunks of ~1 MiB: its 2 threads give them
nothing), and two callers each asking OpenBLAS for 2 threads at once make every call 2-3x
slower. So while the halves run, each of the two threads asks OpenBLAS for one thread of its
own (``openblas_set_num_threads_local``, OpenBLAS >= 0.3.27; in builds where that count is
process-wide, the caller restores it only after both halves finished, so every run of a program
computes the same bits); where that call is not found (or the process may use one core)
nothing is split.

``KEDJA_HOST_THREADS=1`` turns the split off.
"""

from __future__ import annotations

import ctypes
import os
import threading
from typing import Any

_worker: Any = None
_setter: Any = None
_ready: bool | None = None
_inside = threading.local()  # set while this thread runs a half: a nested split runs whole


def _find_setter() -> Any:
    """OpenBLAS's per-thread thread-count setter, from the library NumPy loaded, or None."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(p for p in paths if p.startswith("/")):
        try:
            fn = ctypes.CDLL(path).openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        fn.restype, fn.argtypes = ctypes.c_int, [ctypes.c_int]
        return fn
    return None


_getter: Any = None


def blas_spins() -> bool:
    """Whether NumPy's OpenBLAS runs more than one thread (or its count is unknown): its
    worker threads then spin on the other cores for a while after every threaded call, so a
    thread of ours started there meanwhile shares its core with one (a split recurrent loop
    measured 143 ms per LSTM step against 126 whole; with ``OPENBLAS_NUM_THREADS=1``, or
    ``OPENBLAS_THREAD_TIMEOUT=4`` to cut the spin short, the split took 92-101 ms)."""
    global _getter
    if _getter is None:
        _getter = False
        try:
            with open("/proc/self/maps") as maps:
                paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
        except OSError:
            paths = set()
        for path in sorted(p for p in paths if p.startswith("/")):
            for name in ("openblas_get_num_threads", "scipy_openblas_get_num_threads64_",
                         "scipy_openblas_get_num_threads"):
                try:
                    fn = getattr(ctypes.CDLL(path), name)
                except (OSError, AttributeError):
                    continue
                fn.restype, fn.argtypes = ctypes.c_int, []
                _getter = fn
                break
            if _getter:
                break
    return not _getter or _getter() > 1


def enabled() -> bool:
    """Whether `halves` splits: two usable cores, OpenBLAS's per-thread setter found, and
    ``KEDJA_HOST_THREADS`` not ``1``."""
    global _ready, _setter
    if _ready is None:
        import numpy  # noqa: F401  (its BLAS must be loaded to be found)

        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        _ready = False
        if cores >= 2 and os.environ.get("KEDJA_HOST_THREADS", "").strip() != "1":
            _setter = _find_setter()
            _ready = _setter is not None
    return _ready


class _Worker:
    """One daemon thread running one half at a time, handed over with two locks (a
    ThreadPoolExecutor's futures and queue cost ~60 us per round trip, this ~20 us)."""

    def __init__(self) -> None:
        self.pid = os.getpid()        # a forked child has no such thread: it makes its own
        self.owner = threading.Lock()  # one caller at a time; another runs its op whole
        self.go = threading.Lock()
        self.done = threading.Lock()
        self.go.acquire()
        self.done.acquire()
        self.job: Any = None
        self.error: BaseException | None = None
        threading.Thread(target=self._loop, name="kedja-host", daemon=True).start()

    def _loop(self) -> None:
        _inside.on = True
        while True:
            self.go.acquire()
            fn, start, stop = self.job
            # Set and restored around each job, never at thread start: where the count is
            # process-wide, a start-up write would race with the caller's (see `halves`).
            before = _setter(1)
            try:
                fn(start, stop)
            except BaseException as e:  # noqa: BLE001  (re-raised in the caller)
                self.error = e
            finally:
                _setter(before)
            self.job = None
            self.done.release()


def halves(backend: Any, fn: Any, n: int) -> None:
    """Runs ``fn(start, stop)`` over ``[0, n)``; on the host as ``[n//2, n)`` on a worker
    thread and ``[0, n//2)`` on the caller at the same time, one BLAS thread each.

    `fn` must write disjoint outputs for disjoint ranges and compute each of them the same way
    whatever the range. Elementwise passes then give the same bits split or not; a GEMM over a
    half may round differently in the last bit (BLAS kernels can depend on the row and thread
    counts), so results agree to rounding, and a given machine and batch still always split
    the same way (runs stay reproducible). On a device, for n < 2, or
    where splitting is off (see `enabled`) it is one call, ``fn(0, n)``.
    """
    global _worker
    if backend.is_device or n < 2 or getattr(_inside, "on", False) or not enabled():
        fn(0, n)
        return
    if _worker is None or _worker.pid != os.getpid():
        _worker = _Worker()
    worker = _worker
    if not worker.owner.acquire(blocking=False):  # another thread is splitting right now
        fn(0, n)
        return
    try:
        mid = n // 2
        # In some OpenBLAS builds (scipy-openblas 0.3.31 among them) the "local" count is
        # process-wide: set it before the worker starts its half and restore it only once the
        # worker is done, or a half runs with 2 threads at random and the count stays at 1.
        before = _setter(1)
        _inside.on = True
        worker.job = (fn, mid, n)
        worker.go.release()
        try:
            fn(0, mid)
        finally:
            _inside.on = False
            worker.done.acquire()
            _setter(before)
            # Taken whatever happened here: an error left behind would be raised by the next,
            # good call (the caller's own error, if any, is the one that propagates).
            error, worker.error = worker.error, None
        if error is not None:
            raise error
    finally:
        worker.owner.release()


#: Elementwise host ops over at least this many bytes are split by `big_halves`: below, a
#: thread hand-off (~20-50 us) costs more than half the pass.
SPLIT_BYTES = 1 << 20


def big_halves(backend: Any, fn: Any, n: int, nbytes: int) -> None:
    """`halves` for an op over `nbytes` of memory: split only from `SPLIT_BYTES` on."""
    if nbytes < SPLIT_BYTES:
        fn(0, n)
    else:
        halves(backend, fn, n)


class one_blas_thread:  # noqa: N801 - used as a context manager, like a function
    """A block in which this thread's BLAS calls run on one thread (where OpenBLAS's
    per-thread setter is found; otherwise nothing changes).

    For loops of many small GEMMs that must run in sequence (a recurrent layer's time steps):
    a 2-thread GEMM synchronises its threads on every call, and with another process on one
    of the cores each call waits for it (a 64-step LSTM loop measured 1.4-4 s with two
    threads on a loaded 2-core machine, 0.12-0.14 s with one).
    """

    def __enter__(self) -> None:
        self.before = _setter(1) if not getattr(_inside, "on", False) and enabled() else None

    def __exit__(self, *exc: Any) -> None:
        if self.before is not None:
            _setter(self.before)
