"""The process group: `init` / `destroy_process_group`, rank, world size, device, timeout.

``init()`` reads the rank and world size from the MPI launcher (``mpiexec -n N python
train.py``), picks this rank's device (``cuda:<local rank>`` for CUDA, the CPU otherwise), makes
it the default backend, and installs the fault handler: an uncaught exception on any rank
prints its traceback (prefixed with the rank) and aborts the whole job, so the other ranks end
at once instead of waiting in a collective. Without a launcher it makes a one-process group, so
the same script runs with plain ``python train.py``.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import backends

from .errors import DistributedError

__all__ = [
    "ProcessGroup", "init", "init_process_group", "destroy_process_group", "is_initialized",
    "get_rank", "get_world_size", "get_local_rank", "is_main_process", "group", "launched",
    "DEFAULT_TIMEOUT",
]

#: Seconds a collective may wait for the other ranks before raising (KEDJA_DIST_TIMEOUT).
DEFAULT_TIMEOUT = 300.0

# Environment variables the MPI launchers set: MPICH's Hydra, Open MPI, PMIx-based ones.
_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS")
_LOCAL_RANK_VARS = ("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK", "PMIX_LOCAL_RANK")

_group: ProcessGroup | None = None


def launched() -> bool:
    """Whether this process was started by an MPI launcher (mpiexec/mpirun)."""
    return any(v in os.environ for v in _SIZE_VARS)


class LocalCommunicator:
    """The one-process group's collectives: every rank's data is this rank's."""

    rank, size = 0, 1

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    def _done(self, what: str) -> Any:
        from .mpi_communicator import Work

        return Work([], what, self.timeout)

    def all_reduce(self, array: Any, op: str = "sum") -> Any:
        return self._done("all_reduce")

    def broadcast(self, array: Any, src: int) -> Any:
        return self._done("broadcast")

    def all_gather(self, send: Any, recv: Any) -> Any:
        recv[...] = send.reshape(recv.shape)
        return self._done("all_gather")

    def reduce_scatter(self, send: Any, recv: Any, op: str = "sum") -> Any:
        recv[...] = send.reshape(recv.shape)
        return self._done("reduce_scatter")

    def barrier(self) -> Any:
        return self._done("barrier")

    def all_gather_bytes(self, payload: bytes) -> list[bytes]:
        return [payload]

    def abort(self, code: int = 1) -> None:
        os._exit(code)


class ProcessGroup:
    """All ranks of the job: `rank`, `world_size`, `local_rank`, `device` (this rank's backend),
    `backend` ("mpi", "nccl" or "local"), `timeout`, and the communicators: `host` for host
    arrays and metadata, `comm` for arrays of this rank's device."""

    def __init__(self, host: Any, comm: Any, kind: str, device: backends.Backend,
                 local_rank: int, timeout: float) -> None:
        self.host = host
        self.comm = comm
        self.backend = kind
        self.device = device
        self.rank = host.rank
        self.world_size = host.size
        self.local_rank = local_rank
        self.timeout = timeout
        self.previous_default = device  # the default backend before init; destroy restores it

    def communicator(self, backend: backends.Backend) -> Any:
        """The communicator for arrays of `backend` (host arrays always go over MPI)."""
        if backend is self.device:
            return self.comm
        if backend is backends.host():
            return self.host
        raise DistributedError(
            f"nn.parallel: this rank's device is {self.device.device}, got a tensor on "
            f"{backend.device}; collectives take tensors on the rank's device or the CPU"
        )

    def __repr__(self) -> str:
        return (f"ProcessGroup(backend={self.backend!r}, rank={self.rank}, "
                f"world_size={self.world_size}, device={self.device.device}, "
                f"timeout={self.timeout:g})")


def _timeout(timeout: float | None) -> float:
    if timeout is None:
        timeout = float(os.environ.get("KEDJA_DIST_TIMEOUT", DEFAULT_TIMEOUT))
    timeout = float(timeout)
    if not timeout > 0:
        raise DistributedError(f"nn.parallel.init: timeout must be > 0 seconds, got {timeout}")
    return timeout


def _local_rank(comm: Any, mpi: Any) -> int:
    for var in _LOCAL_RANK_VARS:
        if var in os.environ:
            return int(os.environ[var])
    node = comm.Split_type(mpi.COMM_TYPE_SHARED)  # the ranks sharing this machine
    rank = node.Get_rank()
    node.Free()
    return rank


def _device(device: Any, local_rank: int) -> backends.Backend:
    """This rank's backend: a device kind without an index gets the local rank as its index."""
    if isinstance(device, backends.Backend):
        return device
    name = device if device is not None else backends.default().device
    kind, _, index = str(name).partition(":")
    if kind in ("cuda", "cupy", "gpu", "fake") and device is not None and not index:
        name = f"{kind}:{local_rank}"
    elif kind in ("cuda", "fake") and device is None:
        name = f"{kind}:{local_rank}"  # the default device kind, one device per rank
    return backends.get(name)


def init(backend: str | None = None, timeout: float | None = None,
         device: Any = None) -> ProcessGroup:
    """Joins the process group of this job and returns it.

    Args:
        backend: ``"mpi"`` (host arrays), ``"nccl"`` (CUDA arrays through ``cupy.cuda.nccl``;
            the fake device runs the same code over MPI), or None: NCCL for a CUDA or fake
            device, MPI otherwise.
        timeout: seconds any collective may wait for the others before raising
            `DistributedTimeoutError` (default ``KEDJA_DIST_TIMEOUT`` or 300).
        device: this rank's device: ``"cpu"``, ``"cuda"`` (becomes ``cuda:<local rank>``),
            ``"cuda:1"``, ...; default: the default backend's kind. It becomes the default
            backend.

    Without an MPI launcher (plain ``python train.py``) the group has one process.
    """
    global _group
    if _group is not None:
        raise DistributedError(f"nn.parallel.init: already initialised ({_group}); call "
                               "destroy_process_group() first")
    timeout = _timeout(timeout)
    if not launched():
        host: Any = LocalCommunicator(timeout)
        local_rank = 0
    else:
        from .mpi_communicator import MpiCommunicator, load_mpi

        mpi = load_mpi()
        host = MpiCommunicator(mpi.COMM_WORLD.Dup(), timeout)
        local_rank = _local_rank(mpi.COMM_WORLD, mpi)
    dev = _device(device, local_rank)
    kind = backend or ("mpi" if dev is backends.host() else "nccl")
    if kind not in ("mpi", "nccl"):
        raise DistributedError(f"nn.parallel.init: backend must be 'mpi' or 'nccl', got {kind!r}")
    if kind == "mpi" and dev is not backends.host():
        raise DistributedError(
            f"nn.parallel.init: the MPI backend moves host arrays only; device {dev.device} "
            "needs backend='nccl'")
    if kind == "nccl" and dev is backends.host():
        raise DistributedError("nn.parallel.init: the NCCL backend moves CUDA arrays; pass "
                               "device='cuda' (each rank takes cuda:<local rank>) or use 'mpi'")
    if host.size == 1:
        comm, kind = host, "local"
    elif kind == "mpi":
        comm = host
    else:
        from .nccl_communicator import NcclCommunicator

        comm = NcclCommunicator(host, dev)
    previous_default = backends.default()
    backends.set_default(dev)
    _group = ProcessGroup(host, comm, kind, dev, local_rank, timeout)
    _group.previous_default = previous_default
    if host.size > 1:
        _install_fault_handler()
    return _group


def init_process_group(backend: str | None = None, timeout: float | None = None,
                       device: Any = None) -> ProcessGroup:
    """PyTorch's name for `init`."""
    return init(backend=backend, timeout=timeout, device=device)


def destroy_process_group() -> None:
    """Leaves the process group (after a barrier, so no rank is still using it) and restores
    the default backend that `init` replaced."""
    global _group
    if _group is None:
        return
    group, _group = _group, None
    backends.set_default(group.previous_default)
    if group.world_size > 1:
        group.host.barrier().wait()
        close = getattr(group.comm, "close", None)
        if close is not None:
            close()
        group.host.comm.Free()
    if sys.excepthook is _abort_on_error:
        sys.excepthook = _previous_hook


def is_initialized() -> bool:
    """Whether `init` has been called (and not undone)."""
    return _group is not None


def group() -> ProcessGroup:
    """The current process group; a clear error before `init`."""
    if _group is None:
        raise DistributedError("nn.parallel: no process group; call nn.parallel.init() first "
                               "(and launch with mpiexec -n N python train.py)")
    return _group


def get_rank() -> int:
    """This process's rank (0 .. world_size - 1); 0 without a process group."""
    return _group.rank if _group is not None else 0


def get_world_size() -> int:
    """The number of processes; 1 without a process group."""
    return _group.world_size if _group is not None else 1


def get_local_rank() -> int:
    """This process's rank among those on its machine (its GPU index)."""
    return _group.local_rank if _group is not None else 0


def is_main_process() -> bool:
    """True on rank 0 (and without a process group): the rank that prints and saves."""
    return get_rank() == 0


_previous_hook = sys.excepthook


def _abort_on_error(kind: type, error: BaseException, tb: Any) -> None:
    """An uncaught exception on one rank: print it with the rank, then end every rank."""
    rank = get_rank()
    text = "".join(traceback.format_exception(kind, error, tb))
    sys.stderr.write(f"[rank {rank}] {text}[rank {rank}] aborting all ranks: "
                     f"{kind.__name__}: {error}\n")
    sys.stderr.flush()
    sys.stdout.flush()
    if _group is not None:
        _group.host.abort(1)
    _previous_hook(kind, error, tb)


def _install_fault_handler() -> None:
    global _previous_hook
    if sys.excepthook is not _abort_on_error:
        _previous_hook = sys.excepthook
        sys.excepthook = _abort_on_error
