"""The NCCL interface NcclCommunicator uses, over MPI, for the fake device (CI has no GPU).

It stands in for the device-side library: its "pointers" are the fake device arrays
themselves, and each collective runs on their storage at once (through MPI, with the group's
timeout), so its streams and events are always done. What it checks is NcclCommunicator's own
logic: the unique-id bootstrap, the dtype and op codes, counts, in-place buffers and that no
collective moves data through the host side of the fake device (which would count a sync).
"""

from __future__ import annotations

from typing import Any

from backends.fake_array import unwrap

__all__ = ["FakeNccl"]


class _Done:
    """A stream or event of the fake device: work on it is always finished."""

    ptr = 0
    done = True

    def record(self, stream: Any = None) -> None:
        pass

    def wait_event(self, event: Any) -> None:
        pass


class _FakeComm:
    """``cupy.cuda.nccl.NcclCommunicator``'s methods, over an MpiCommunicator."""

    def __init__(self, lib: FakeNccl, size: int, rank: int) -> None:
        self.lib, self.size, self.rank = lib, size, rank
        self.aborted = False

    def _array(self, ptr: Any, count: int, dtype: Any) -> Any:
        a = unwrap(ptr._dev, ptr, "fake NCCL", [])
        if a.size < count or self.lib.codes[dtype] != str(a.dtype):
            raise ValueError(f"fake NCCL: buffer of {a.size} {a.dtype} for a count of {count} "
                             f"{self.lib.codes[dtype]}")
        return a.reshape(-1)

    def allReduce(self, send, recv, count, dtype, op, stream):  # noqa: N802 - cupy's name
        s, r = self._array(send, count, dtype), self._array(recv, count, dtype)
        if r is not s:
            r[:count] = s[:count]
        self.lib.mpi.all_reduce(r[:count], self.lib.op_names[op]).wait()

    def broadcast(self, send, recv, count, dtype, root, stream):
        s, r = self._array(send, count, dtype), self._array(recv, count, dtype)
        if r is not s:
            r[:count] = s[:count]
        self.lib.mpi.broadcast(r[:count], root).wait()

    def allGather(self, send, recv, count, dtype, stream):  # noqa: N802
        s = self._array(send, count, dtype)
        r = self._array(recv, count * self.size, dtype)
        self.lib.mpi.all_gather(s[:count].copy(), r[:count * self.size]).wait()

    def reduceScatter(self, send, recv, count, dtype, op, stream):  # noqa: N802
        s = self._array(send, count * self.size, dtype)
        r = self._array(recv, count, dtype)
        self.lib.mpi.reduce_scatter(s[:count * self.size].copy(), r[:count],
                                    self.lib.op_names[op]).wait()

    def abort(self) -> None:
        self.aborted = True

    def destroy(self) -> None:
        pass


class FakeNccl:
    """The subset of ``cupy.cuda.nccl`` and CuPy streams/events that NcclCommunicator calls."""

    SUM, PROD, MAX, MIN = 0, 1, 2, 3

    def __init__(self, mpi: Any) -> None:
        self.mpi = mpi
        self.op_names = {0: "sum", 1: "product", 2: "max", 3: "min"}
        names = ("int8", "uint8", "int32", "int64", "float16", "float32", "float64")
        self.dtypes = {n: 10 + i for i, n in enumerate(names)}
        self.codes = {c: n for n, c in self.dtypes.items()}

    def unique_id(self) -> tuple:
        return (7, 1, 2, 3)  # NCCL's id is opaque bytes; the bootstrap only passes it on

    def communicator(self, size: int, uid: tuple, rank: int) -> _FakeComm:
        if uid != self.unique_id():
            raise ValueError(f"fake NCCL: rank {rank} got unique id {uid}, not rank 0's")
        return _FakeComm(self, size, rank)

    def pointer(self, array: Any) -> Any:
        return array

    def new_stream(self) -> _Done:
        return _Done()

    def current_stream(self) -> _Done:
        return _Done()

    def new_event(self) -> _Done:
        return _Done()
