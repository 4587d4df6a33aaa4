"""Collectives on Tensors (PyTorch's ``torch.distributed`` names): all_reduce, broadcast,
all_gather, all_gather_into_tensor, reduce_scatter, reduce_scatter_tensor, barrier.

They work on tensors of this rank's device (NCCL for CUDA) or of the CPU (MPI), write their
result into the given tensors in place (outside autograd, bumping their version), and return
None, or a `Work` with ``async_op=True`` (``work.wait()``; on a GPU the wait only orders this
rank's stream after the collective, it does not block the host).
"""

from __future__ import annotations

from typing import Any

from autograd.tensor import Tensor
from backends.device_scope import call_scoped

from ..device_scope import scope_functions
from .errors import DistributedError
from .process_group import group

__all__ = [
    "ReduceOp", "all_reduce", "broadcast", "all_gather", "all_gather_into_tensor",
    "reduce_scatter", "reduce_scatter_tensor", "barrier", "all_gather_object_bytes",
]


class ReduceOp:
    """The reductions: ``SUM``, ``AVG`` (sum, then divided by the world size), ``MAX``, ``MIN``,
    ``PRODUCT``."""

    SUM = "sum"
    AVG = "avg"
    MAX = "max"
    MIN = "min"
    PRODUCT = "product"


_OPS = ("sum", "avg", "max", "min", "product")


class _Then:
    """A collective's Work with a step to run once it is done (copy back, divide), on the
    device of the tensors it writes (raw array operators run on the current device)."""

    def __init__(self, work: Any, then: Any, backend: Any = None) -> None:
        self._work = work
        self._then = then
        self._backend = backend

    def is_completed(self) -> bool:
        return self._work.is_completed()

    def wait(self) -> None:
        self._work.wait()
        if self._then is not None:
            then, self._then = self._then, None
            call_scoped(self._backend, then)


def _tensor(name: str, t: Any) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"nn.parallel.{name}: expected a Tensor, got {type(t).__name__}")
    return t


def _op(name: str, op: Any) -> str:
    op = str(op).lower().rsplit(".", 1)[-1]
    if op not in _OPS:
        raise DistributedError(f"nn.parallel.{name}: op must be one of ReduceOp.SUM, AVG, MAX, "
                               f"MIN, PRODUCT, got {op!r}")
    return op


def _buffer(t: Tensor) -> tuple[Any, bool]:
    """(contiguous array to communicate in, whether it is a copy to write back)."""
    a = t.array
    if a.flags.c_contiguous:
        return a, False
    return t.xp.ascontiguousarray(a), True


def _finish(work: Any, async_op: bool, then: Any, backend: Any = None) -> Any:
    w = _Then(work, then, backend)
    if async_op:
        return w
    w.wait()
    return None


def all_reduce(tensor: Tensor, op: str = ReduceOp.SUM, async_op: bool = False) -> Any:
    """Reduces `tensor` over all ranks, in place: every rank ends with the same result."""
    t = _tensor("all_reduce", tensor)
    op = _op("all_reduce", op)
    g = group()
    buf, copied = _buffer(t)
    work = g.communicator(t.backend).all_reduce(buf, "sum" if op == "avg" else op)

    def then() -> None:
        if op == "avg":
            t.xp.true_divide(buf, g.world_size, out=buf, casting="unsafe")
        if copied:
            t.array[...] = buf
        t._version[0] += 1

    return _finish(work, async_op, then, t.backend)


def broadcast(tensor: Tensor, src: int = 0, async_op: bool = False) -> Any:
    """Overwrites `tensor` on every rank with rank `src`'s, in place."""
    t = _tensor("broadcast", tensor)
    g = group()
    if not 0 <= src < g.world_size:
        raise DistributedError(f"nn.parallel.broadcast: src {src} is not a rank of a group of "
                               f"{g.world_size}")
    buf, copied = _buffer(t)
    work = g.communicator(t.backend).broadcast(buf, src)

    def then() -> None:
        if copied:
            t.array[...] = buf
        t._version[0] += 1

    return _finish(work, async_op, then, t.backend)


def all_gather_into_tensor(output: Tensor, input: Tensor,  # noqa: A002
                           async_op: bool = False) -> Any:
    """`output` (world_size * input's first dimension) gets every rank's `input`, in rank
    order, concatenated along dim 0."""
    out, inp = _tensor("all_gather_into_tensor", output), _tensor("all_gather_into_tensor", input)
    g = group()
    expected = (g.world_size * (inp.shape[0] if inp.ndim else 1), *inp.shape[1:])
    if out.shape != expected or out.dtype != inp.dtype or out.backend is not inp.backend:
        raise DistributedError(
            f"nn.parallel.all_gather_into_tensor: output must have shape {expected}, dtype "
            f"{inp.dtype} and device {inp.backend.device} for an input of shape {inp.shape} on "
            f"{g.world_size} ranks, got shape {out.shape}, {out.dtype} on {out.backend.device}")
    send, _ = _buffer(inp)
    recv, copied = _buffer(out)
    work = g.communicator(inp.backend).all_gather(send, recv)

    def then() -> None:
        if copied:
            out.array[...] = recv
        out._version[0] += 1

    return _finish(work, async_op, then, out.backend)


def all_gather(tensor_list: list, tensor: Tensor, async_op: bool = False) -> Any:
    """Fills ``tensor_list[r]`` with rank r's `tensor` (world_size tensors of its shape)."""
    t = _tensor("all_gather", tensor)
    g = group()
    if not isinstance(tensor_list, list) or len(tensor_list) != g.world_size:
        raise DistributedError(f"nn.parallel.all_gather: tensor_list must be a list of "
                               f"{g.world_size} tensors (one per rank), got {tensor_list!r}")
    for i, o in enumerate(tensor_list):
        _tensor("all_gather", o)
        if o.shape != t.shape or o.dtype != t.dtype:
            raise DistributedError(f"nn.parallel.all_gather: tensor_list[{i}] has shape "
                                   f"{o.shape} {o.dtype}, expected {t.shape} {t.dtype}")
    recv = t.xp.empty((g.world_size, *t.shape), dtype=t.dtype)
    send, _ = _buffer(t)
    work = g.communicator(t.backend).all_gather(send, recv)

    def then() -> None:
        for r, o in enumerate(tensor_list):
            o.array[...] = recv[r]
            o._version[0] += 1

    return _finish(work, async_op, then, t.backend)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op: str = ReduceOp.SUM,  # noqa: A002
                          async_op: bool = False) -> Any:
    """Reduces `input` over ranks and gives rank r block r of it (split along dim 0) in
    `output`."""
    out, inp = _tensor("reduce_scatter_tensor", output), _tensor("reduce_scatter_tensor", input)
    op = _op("reduce_scatter_tensor", op)
    g = group()
    if inp.ndim == 0 or inp.shape[0] != g.world_size * out.shape[0] \
            or inp.shape[1:] != out.shape[1:] or out.dtype != inp.dtype:
        raise DistributedError(
            f"nn.parallel.reduce_scatter_tensor: input of shape {inp.shape} must be "
            f"{g.world_size} blocks of the output's shape {out.shape} (dtype {out.dtype})")
    send, _ = _buffer(inp)
    recv, copied = _buffer(out)
    work = g.communicator(inp.backend).reduce_scatter(send, recv, "sum" if op == "avg" else op)

    def then() -> None:
        if op == "avg":
            out.xp.true_divide(recv, g.world_size, out=recv, casting="unsafe")
        if copied:
            out.array[...] = recv
        out._version[0] += 1

    return _finish(work, async_op, then, out.backend)


def reduce_scatter(output: Tensor, input_list: list, op: str = ReduceOp.SUM,
                   async_op: bool = False) -> Any:
    """Reduces ``input_list[r]`` over ranks into rank r's `output` (world_size tensors)."""
    out = _tensor("reduce_scatter", output)
    g = group()
    if not isinstance(input_list, list) or len(input_list) != g.world_size:
        raise DistributedError(f"nn.parallel.reduce_scatter: input_list must be a list of "
                               f"{g.world_size} tensors, got {input_list!r}")
    stacked = Tensor._make(out.xp.stack([_tensor("reduce_scatter", t).array
                                         for t in input_list]), out.backend)
    flat_out = Tensor._make(out.xp.empty((1, *out.shape), dtype=out.dtype), out.backend)
    work = reduce_scatter_tensor(flat_out, stacked, op, async_op=True)

    def then() -> None:
        out.array[...] = flat_out.array[0]
        out._version[0] += 1

    return _finish(work, async_op, then, out.backend)


def barrier(async_op: bool = False) -> Any:
    """Returns once every rank has called barrier (raises past the group's timeout)."""
    return _finish(group().host.barrier(), async_op, None)


def all_gather_object_bytes(payload: bytes) -> list[bytes]:
    """Every rank's `payload` in rank order (metadata; kedja never pickles)."""
    return group().host.all_gather_bytes(payload)


# The collectives' own raw array work (contiguous copies, receive buffers) runs on their tensors'
# device: on cuda:N (and fake:N) that device must be current.
scope_functions(globals(), [name for name in __all__ if name != "barrier"])
