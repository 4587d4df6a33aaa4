"""Collectives on device arrays through NCCL (``cupy.cuda.nccl``), on a stream of their own.

Each collective waits (on the device, through an event) for the work queued so far on the
rank's current stream, runs on the communication stream, and returns a `NcclWork` whose
``wait()`` makes the current stream wait for it: the host never blocks, and backward keeps
queueing kernels while a bucket's all-reduce runs. The NCCL unique id is created by rank 0 and
passed to the others over MPI (the launcher's communicator).

Faults: a watchdog thread polls the pending collectives' events (``Event.done``, no
synchronisation) and, when one is older than the timeout, prints which and aborts the job
(``ncclCommAbort``, then MPI_Abort), as a hung GPU collective cannot raise on the host.

`library` is ``cupy.cuda.nccl`` plus CuPy's streams and events, or, on the fake device, the
same interface over MPI (nn/parallel/fake_nccl.py), so CI runs this file's logic.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

from .errors import DistributedError

__all__ = ["NcclCommunicator", "NcclWork", "CupyNccl"]


class CupyNccl:
    """``cupy.cuda.nccl`` and CuPy's streams and events, as NcclCommunicator uses them."""

    def __init__(self) -> None:
        try:
            import cupy
            from cupy.cuda import nccl
        except ImportError as e:  # pragma: no cover - needs a GPU machine
            raise DistributedError("nn.parallel: the NCCL backend needs CuPy with NCCL "
                                   "(pip install 'kedja[gpu]')") from e
        if not nccl.available:  # pragma: no cover
            raise DistributedError("nn.parallel: this CuPy was built without NCCL")
        self.cupy = cupy
        self.nccl = nccl
        self.SUM, self.PROD = nccl.NCCL_SUM, nccl.NCCL_PROD
        self.MAX, self.MIN = nccl.NCCL_MAX, nccl.NCCL_MIN
        self.dtypes = {"float16": nccl.NCCL_FLOAT16, "float32": nccl.NCCL_FLOAT32,
                       "float64": nccl.NCCL_FLOAT64, "int32": nccl.NCCL_INT32,
                       "int64": nccl.NCCL_INT64, "int8": nccl.NCCL_INT8,
                       "uint8": nccl.NCCL_UINT8}
        if hasattr(nccl, "NCCL_BFLOAT16"):
            self.dtypes["bfloat16"] = nccl.NCCL_BFLOAT16

    def unique_id(self) -> tuple:
        return tuple(self.nccl.get_unique_id())

    def communicator(self, size: int, uid: tuple, rank: int) -> Any:
        return self.nccl.NcclCommunicator(size, uid, rank)

    def pointer(self, array: Any) -> int:
        return array.data.ptr

    def new_stream(self) -> Any:
        return self.cupy.cuda.Stream(non_blocking=True)

    def current_stream(self) -> Any:
        return self.cupy.cuda.get_current_stream()

    def new_event(self) -> Any:
        return self.cupy.cuda.Event(disable_timing=True)


class NcclWork:
    """A collective queued on the communication stream; `wait` orders the current stream
    after it (no host block); the arrays stay referenced until then."""

    def __init__(self, owner: NcclCommunicator, done: Any, arrays: tuple) -> None:
        self._owner = owner
        self._done = done
        self._arrays = arrays

    def is_completed(self) -> bool:
        return bool(self._done.done)

    def wait(self) -> None:
        self._owner.lib.current_stream().wait_event(self._done)
        self._arrays = ()


class NcclCommunicator:
    """Collectives over NCCL for arrays of one device (`backend`), bootstrapped over `host`
    (an MpiCommunicator)."""

    def __init__(self, host: Any, backend: Any, library: Any = None) -> None:
        if library is None:
            if backend.device.startswith("fake"):
                from .fake_nccl import FakeNccl

                library = FakeNccl(host)
            else:
                library = CupyNccl()
        self.lib = library
        self.host = host
        self.backend = backend
        self.rank, self.size, self.timeout = host.rank, host.size, host.timeout
        uid = json.dumps(library.unique_id() if host.rank == 0 else []).encode()
        root_uid = tuple(json.loads(host.all_gather_bytes(uid)[0]))
        with backend.device_scope():
            self.comm = library.communicator(host.size, root_uid, host.rank)
            self.stream = library.new_stream()
        self._ops = {"sum": library.SUM, "product": library.PROD, "max": library.MAX,
                     "min": library.MIN}
        self._pending: list[tuple[Any, float, str]] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, daemon=True,
                                          name="kedja-nccl-watchdog")
        self._watchdog.start()

    def _dtype(self, array: Any, what: str) -> Any:
        code = self.lib.dtypes.get(str(array.dtype))
        if code is None:
            raise DistributedError(f"nn.parallel: NCCL {what} cannot move {array.dtype} arrays; "
                                   f"supported: {', '.join(self.lib.dtypes)}")
        if not array.flags.c_contiguous:
            raise DistributedError(f"nn.parallel: NCCL {what} needs a C-contiguous array, got "
                                   f"shape {array.shape} strides {array.strides}")
        return code

    def _launch(self, what: str, arrays: tuple, call: Any) -> NcclWork:
        lib = self.lib
        with self.backend.device_scope():
            ready = lib.new_event()
            ready.record(lib.current_stream())  # the inputs are written on the compute stream
            self.stream.wait_event(ready)
            call(self.stream.ptr)
            done = lib.new_event()
            done.record(self.stream)
        with self._lock:
            self._pending.append((done, time.monotonic(), what))
        return NcclWork(self, done, arrays)

    def all_reduce(self, array: Any, op: str = "sum") -> NcclWork:
        code, p = self._dtype(array, "all_reduce"), self.lib.pointer(array)
        return self._launch(f"all_reduce of {array.size} {array.dtype}", (array,),
                            lambda s: self.comm.allReduce(p, p, array.size, code,
                                                          self._ops[op], s))

    def broadcast(self, array: Any, src: int) -> NcclWork:
        code, p = self._dtype(array, "broadcast"), self.lib.pointer(array)
        return self._launch(f"broadcast of {array.size} {array.dtype}", (array,),
                            lambda s: self.comm.broadcast(p, p, array.size, code, src, s))

    def all_gather(self, send: Any, recv: Any) -> NcclWork:
        code = self._dtype(send, "all_gather")
        self._dtype(recv, "all_gather")
        ps, pr = self.lib.pointer(send), self.lib.pointer(recv)
        return self._launch(f"all_gather of {send.size} {send.dtype}", (send, recv),
                            lambda s: self.comm.allGather(ps, pr, send.size, code, s))

    def reduce_scatter(self, send: Any, recv: Any, op: str = "sum") -> NcclWork:
        code = self._dtype(send, "reduce_scatter")
        self._dtype(recv, "reduce_scatter")
        ps, pr = self.lib.pointer(send), self.lib.pointer(recv)
        return self._launch(f"reduce_scatter of {send.size} {send.dtype}", (send, recv),
                            lambda s: self.comm.reduceScatter(ps, pr, recv.size, code,
                                                              self._ops[op], s))

    def barrier(self) -> Any:
        return self.host.barrier()

    def all_gather_bytes(self, payload: bytes) -> list[bytes]:
        return self.host.all_gather_bytes(payload)

    def abort(self, code: int = 1) -> None:
        try:
            self.comm.abort()
        finally:
            self.host.abort(code)

    def close(self) -> None:
        """Stops the watchdog and frees the NCCL communicator."""
        self._closed.set()
        self._watchdog.join(timeout=5)
        destroy = getattr(self.comm, "destroy", None)
        if destroy is not None:
            destroy()

    def _watch(self) -> None:
        """Aborts the job when a collective has been pending longer than the timeout."""
        while not self._closed.wait(0.5):
            with self._lock:
                self._pending = [w for w in self._pending if not w[0].done]
                late = [w for w in self._pending if time.monotonic() - w[1] > self.timeout]
            if late:
                sys.stderr.write(
                    f"[rank {self.rank}] nn.parallel: NCCL {late[0][2]} did not complete within "
                    f"the timeout of {self.timeout:g} s; aborting all ranks\n")
                sys.stderr.flush()
                self.abort(1)
