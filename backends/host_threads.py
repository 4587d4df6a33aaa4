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

Where it can, the first split also moves OpenBLAS's threaded calls onto the host kernels' BLAS
pool (`_install_pool`), whose idle threads sleep as soon as a split starts instead of spinning
on the core the split's second half needs.

``KEDJA_HOST_THREADS=1`` turns the split (and the pool) off; ``KEDJA_BLAS_POOL=0`` the pool.
"""

from __future__ import annotations

import ctypes
import os
import threading
from typing import Any

_worker: Any = None
_setter: Any = None
_ready: bool | None = None
_pool: Any = None  # the host kernels' module once its BLAS pool runs OpenBLAS's threaded calls
_inside = threading.local()  # set while this thread runs a half: a nested split runs whole
_libraries: list | None = None


def openblas_function(name: str, restype: Any = ctypes.c_int, argtypes: tuple = ()) -> Any:
    """OpenBLAS's function `name` (``openblas_...``) from the library NumPy loaded, under any
    of the names its builds give it (NumPy's wheels: ``scipy_openblas_..64_``), or None."""
    global _libraries
    if _libraries is None:
        import numpy  # noqa: F401  (its BLAS must be loaded to be found)

        _libraries = []
        try:
            with open("/proc/self/maps") as maps:
                paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
        except OSError:
            paths = set()
        for path in sorted(p for p in paths if p.startswith("/")):
            try:
                _libraries.append(ctypes.CDLL(path))
            except OSError:
                continue
    for lib in _libraries:
        for prefix in ("", "scipy_"):
            for suffix in ("", "64_", "_64"):
                fn = getattr(lib, prefix + name + suffix, None)
                if fn is not None:
                    fn.restype, fn.argtypes = restype, list(argtypes)
                    return fn
    return None


def _find_setter() -> Any:
    """OpenBLAS's per-thread thread-count setter (``openblas_set_num_threads_local``), or
    None. Its NumPy wheels export it under this one name."""
    return openblas_function("openblas_set_num_threads_local", argtypes=(ctypes.c_int,))


def _install_pool() -> None:
    """Hands OpenBLAS's threaded calls to the host kernels' BLAS pool (backends/csrc/
    blas_pool.c): OpenBLAS's own idle threads spin on the other cores for ~0.1 s after every
    threaded call, the pool's stop at once when a split starts (`_park`), so the halves of a
    split get both cores. Needs an OpenBLAS with a threads callback (>= 0.3.27) built on
    pthreads (its OpenMP builds do not spin so), the host kernels built, and
    ``KEDJA_BLAS_POOL`` not ``0``.

    Not while another thread of the program runs a threaded LU factorisation (NumPy's
    ``linalg.solve``, ``inv``, ``det`` of 100 x 100 and up): OpenBLAS runs those on its own
    threads, whose scratch buffers the pool's jobs share (set ``KEDJA_BLAS_POOL=0`` there).
    """
    global _pool
    from . import native

    kernels = native.host_kernels
    if kernels is None or os.environ.get("KEDJA_BLAS_POOL", "").strip() == "0":
        return
    install = openblas_function("openblas_set_threads_callback_function", None, (ctypes.c_void_p,))
    parallel = openblas_function("openblas_get_parallel")
    if install is None or parallel is None or parallel() != 1:  # 1: pthreads, 2: OpenMP
        return
    address = kernels.blas_pool_callback()
    if address is not None:
        install(address)
        _pool = kernels


def pool_running() -> bool:
    """Whether OpenBLAS's threaded calls run on the host kernels' BLAS pool (`_install_pool`)."""
    return enabled() and _pool is not None


def _park() -> None:
    """The BLAS pool's idle workers stop spinning and sleep (a split is about to start)."""
    if _pool is not None:
        _pool.blas_pool_park()


def blas_spins() -> bool:
    """Whether an idle BLAS thread may be spinning on the other core when a split starts:
    OpenBLAS's own workers spin there for ~0.1 s after every threaded call, so a thread of
    ours started meanwhile shares its core with one (a split recurrent loop measured 143 ms
    per LSTM step against 126 whole). Not so where NumPy's OpenBLAS runs one thread
    (``OPENBLAS_NUM_THREADS=1``) or its threaded calls run on the BLAS pool, whose workers
    sleep when a split starts (`pool_running`; the split then took 92-101 ms)."""
    if pool_running():
        return False
    count = openblas_function("openblas_get_num_threads")
    return count is None or count() > 1


def enabled() -> bool:
    """Whether `halves` splits: two usable cores, OpenBLAS's per-thread setter found, and
    ``KEDJA_HOST_THREADS`` not ``1``. The first call also starts the BLAS pool where it can
    (`_install_pool`)."""
    global _ready, _setter
    if _ready is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        _ready = False
        if cores >= 2 and os.environ.get("KEDJA_HOST_THREADS", "").strip() != "1":
            _setter = _find_setter()
            _ready = _setter is not None
            if _ready:
                _install_pool()
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
        _park()
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
        if self.before is not None:
            _park()  # the BLAS pool's workers sleep rather than spin beside the loop

    def __exit__(self, *exc: Any) -> None:
        if self.before is not None:
            _setter(self.before)
