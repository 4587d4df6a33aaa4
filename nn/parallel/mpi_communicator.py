"""Collectives on host (NumPy) arrays over MPI (mpi4py), non-blocking and waited on with a timeout.

Every collective is started with MPI's non-blocking call (``Iallreduce``, ``Ibcast``, ...) and
returns a `Work`; `Work.wait` polls it until it completes or the timeout passes, so a rank that
died or hangs makes the others raise `DistributedTimeoutError` instead of blocking for ever.
Polling also drives MPI's progress engine, which is what lets DDP's bucket all-reduces advance
while backward is still running (MPICH and Open MPI progress only inside MPI calls).
"""

from __future__ import annotations

import time
from typing import Any

from .errors import DistributedError, DistributedTimeoutError

__all__ = ["MpiCommunicator", "Work", "load_mpi"]


def load_mpi() -> Any:
    """mpi4py's MPI module (initialises MPI on first import), with a clear error without it."""
    try:
        from mpi4py import MPI
    except ImportError as e:  # pragma: no cover - depends on the installation
        raise DistributedError(
            "nn.parallel: mpi4py is not installed; install the distributed extra "
            "(pip install 'kedja[distributed]', which brings mpi4py and the MPICH runtime) "
            "and launch with mpiexec -n N python train.py"
        ) from e
    return MPI


class Work:
    """A started collective: `wait()` blocks until it is done (raising past the timeout),
    `is_completed()` asks without blocking. `then` runs after completion (e.g. a division)."""

    def __init__(self, requests: list, what: str, timeout: float,
                 then: Any = None, mpi: Any = None) -> None:
        self._requests = requests
        self._what = what
        self._timeout = timeout
        self._then = then
        self._mpi = mpi
        self._done = not requests
        self._started = time.monotonic()
        if self._done and then is not None:
            then()
            self._then = None

    def is_completed(self) -> bool:
        """True once the collective finished (advances MPI's progress engine)."""
        if not self._done and self._mpi.Request.Testall(self._requests):
            self._finish()
        return self._done

    def _finish(self) -> None:
        self._done = True
        if self._then is not None:
            then, self._then = self._then, None
            then()

    def wait(self) -> None:
        """Blocks until done; raises `DistributedTimeoutError` after the timeout (from start)."""
        if self._done:
            return
        test = self._mpi.Request.Testall
        # Spin briefly (a bucket usually finishes in microseconds), then back off so that a
        # waiting rank does not take the core another rank on the same machine computes on.
        delay, spins = 0.0, 0
        while not test(self._requests):
            spins += 1
            if spins > 200:
                if time.monotonic() - self._started > self._timeout:
                    raise DistributedTimeoutError(
                        f"nn.parallel: {self._what} did not complete within the timeout of "
                        f"{self._timeout:g} s on rank {self._mpi.COMM_WORLD.Get_rank()}: another "
                        "rank has died, hangs, or runs a different collective (all ranks must "
                        "call the same collectives in the same order)"
                    )
                delay = min(1e-3, max(2e-5, delay * 2))
                time.sleep(delay)
        self._finish()


def _contiguous(array: Any, what: str) -> Any:
    if not array.flags.c_contiguous:
        raise DistributedError(f"nn.parallel: {what} needs a C-contiguous array, got a view of "
                               f"shape {array.shape} with strides {array.strides}")
    return array


class MpiCommunicator:
    """Collectives over an MPI communicator on host arrays (anything with the buffer protocol
    and an MPI-known dtype: the float, int and bool types NumPy has)."""

    def __init__(self, comm: Any, timeout: float) -> None:
        self.mpi = load_mpi()
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.timeout = float(timeout)
        self._ops = {"sum": self.mpi.SUM, "max": self.mpi.MAX, "min": self.mpi.MIN,
                     "product": self.mpi.PROD}

    def _work(self, request: Any, what: str, then: Any = None) -> Work:
        return Work([request], what, self.timeout, then, self.mpi)

    def all_reduce(self, array: Any, op: str = "sum") -> Work:
        """Reduces `array` in place over all ranks (`op`: sum, max, min, product)."""
        _contiguous(array, "all_reduce")
        if self.size == 1:
            return Work([], "all_reduce", self.timeout)
        req = self.comm.Iallreduce(self.mpi.IN_PLACE, array, op=self._ops[op])
        return self._work(req, f"all_reduce of {array.size} {array.dtype} values")

    def broadcast(self, array: Any, src: int) -> Work:
        """Overwrites `array` on every rank with rank `src`'s."""
        _contiguous(array, "broadcast")
        if self.size == 1:
            return Work([], "broadcast", self.timeout)
        req = self.comm.Ibcast(array, root=src)
        return self._work(req, f"broadcast of {array.size} {array.dtype} values from {src}")

    def all_gather(self, send: Any, recv: Any) -> Work:
        """``recv`` (world_size * send.size values) gets every rank's `send`, in rank order."""
        _contiguous(send, "all_gather")
        _contiguous(recv, "all_gather")
        req = self.comm.Iallgather(send, recv)
        return self._work(req, f"all_gather of {send.size} {send.dtype} values")

    def reduce_scatter(self, send: Any, recv: Any, op: str = "sum") -> Work:
        """Reduces `send` (world_size equal blocks) over ranks; rank r gets block r in `recv`."""
        _contiguous(send, "reduce_scatter")
        _contiguous(recv, "reduce_scatter")
        req = self.comm.Ireduce_scatter_block(send, recv, op=self._ops[op])
        return self._work(req, f"reduce_scatter of {send.size} {send.dtype} values")

    def barrier(self) -> Work:
        """Completes once every rank has entered the barrier."""
        return self._work(self.comm.Ibarrier(), "barrier")

    def all_gather_bytes(self, payload: bytes) -> list[bytes]:
        """Every rank's `payload` (any length), in rank order: for metadata, never for tensors."""
        import array as _array  # the standard library's typed buffers, no NumPy needed

        sizes = _array.array("q", [0] * self.size)
        self._work(self.comm.Iallgather(_array.array("q", [len(payload)]), sizes),
                   "all_gather of metadata sizes").wait()
        out = bytearray(sum(sizes))
        offsets = [sum(sizes[:i]) for i in range(self.size)]
        req = self.comm.Iallgatherv(payload, [out, (list(sizes), offsets), self.mpi.BYTE])
        self._work(req, "all_gather of metadata").wait()
        return [bytes(out[o:o + s]) for o, s in zip(offsets, sizes)]

    def abort(self, code: int = 1) -> None:
        """Ends every rank of the job (mpiexec kills the others)."""
        self.comm.Abort(code)
