"""`DistributedDataParallel`: data-parallel training with bucketed, overlapped gradient averaging.

How backward overlaps communication. In each forward with gradients, when the wrapped module
reads a trainable parameter, it gets instead the output of an identity op (`_GradReady`) on it,
made at that moment. The engine sums all contributions to that output before running the op's
backward, and runs ops newest first, so that backward runs as soon as the parameter's gradient
is complete (the moment PyTorch's AccumulateGrad hook fires). It copies the gradient
into its bucket's flat buffer; when a bucket is full its all-reduce is started (buckets always
in index order, so every rank issues the same collectives in the same order) and the rest of
backward runs while it travels. The op returns no gradient for the parameter: when the last
parameter is ready, DDP waits for the buckets, divides by the world size and sets every
``.grad`` (plus what it held before, so accumulating without zero_grad works as usual).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

from autograd.function import Function
from autograd.grad_mode import is_grad_enabled
from autograd.tensor import Tensor
from backends.device_scope import scoped

from ..module import Module
from .errors import DistributedError
from .process_group import group

__all__ = ["DistributedDataParallel"]


class _GradReady(Function):
    """Identity whose backward tells DDP that a parameter's gradient is complete."""

    raw_backward = True

    def forward(self, x):
        return x

    def backward(self, gy):
        if not self.sync:
            return gy  # no_sync(): the engine accumulates the local gradient as usual
        self.ddp._ready(self.index, gy)
        return None


class _Marking(dict):
    """A module's parameter table during DDP's forward: reading a trainable parameter gives
    its `_GradReady` marker instead (iteration and ``.items()`` still give the parameters)."""

    def __init__(self, original: dict, mark: Any) -> None:
        super().__init__(original)
        self.original = original
        self._mark = mark

    def __getitem__(self, name: str) -> Any:
        return self._mark(dict.__getitem__(self, name))

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self else default


#: Runs a method with the model's device current: its raw array work (flattening, copying
#: back, bucket buffers) runs on the current device (cuda:N, fake:N).
_on_own_device = scoped(lambda self, *args, **kwargs: self._device_backend)


class _Bucket:
    """A group of same-dtype parameters whose gradients are all-reduced as one flat array."""

    def __init__(self, indices: list[int], params: list[Tensor]) -> None:
        self.indices = indices
        self.offsets: list[int] = []
        total = 0
        for i in indices:
            self.offsets.append(total)
            total += params[i].size
        self.size = total
        self.dtype = params[indices[0]].dtype
        self.backend = params[indices[0]].backend
        self.buffer: Any = None
        self.missing = 0
        self.work: Any = None


class DistributedDataParallel(Module):
    """Wraps `module` for data-parallel training over the process group.

    At construction it checks that all ranks hold the same parameter and buffer names, shapes
    and dtypes, and copies rank 0's values to every rank. During backward, gradients are
    averaged over ranks in buckets of about `bucket_cap_mb` MiB, each started as soon as its
    gradients are ready. Train as usual: ``loss = loss_fn(ddp(x), y); loss.backward();
    opt.step()`` with ``opt`` over ``ddp.parameters()``.

    Args:
        module: the model (already on this rank's device).
        bucket_cap_mb: bucket size; smaller buckets start communicating earlier.
        find_unused_parameters: after each forward, find the parameters the output does not
            depend on and count them as ready (zero gradient), so backward completes.
        broadcast_buffers: copy rank 0's buffers (BatchNorm running statistics) to all ranks
            at the start of each forward (or use SyncBatchNorm).
        device_ids, output_device: accepted for PyTorch compatibility (one device per rank).

    Double backward (``create_graph=True``) through DDP's averaging is not supported.
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 broadcast_buffers: bool = True, bucket_cap_mb: float = 25.0,
                 find_unused_parameters: bool = False, **_ignored: Any) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected an nn.Module, got "
                            f"{type(module).__name__}")
        if not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be > 0, got "
                             f"{bucket_cap_mb}")
        self.module = module
        object.__setattr__(self, "process_group", group())
        object.__setattr__(self, "broadcast_buffers", bool(broadcast_buffers))
        object.__setattr__(self, "find_unused_parameters", bool(find_unused_parameters))
        object.__setattr__(self, "bucket_cap_mb", float(bucket_cap_mb))
        object.__setattr__(self, "require_backward_grad_sync", True)
        first = next(iter(module.parameters()), None)
        object.__setattr__(self, "_device_backend", None if first is None else first.backend)
        self._check_same_model()
        self._sync_module_state()
        params = [p for p in module.parameters() if p.requires_grad]
        object.__setattr__(self, "_params", params)
        object.__setattr__(self, "_buckets", self._make_buckets(params))
        where = {}
        for b, bucket in enumerate(self._buckets):
            for i, off in zip(bucket.indices, bucket.offsets):
                where[i] = (b, off)
        object.__setattr__(self, "_where", where)
        object.__setattr__(self, "_index", {id(p): i for i, p in enumerate(params)})
        object.__setattr__(self, "_fired", set())
        object.__setattr__(self, "_next_bucket", 0)
        object.__setattr__(self, "_expect_backward", False)
        #: Host seconds backward spent blocked on all-reduces (the communication that the rest
        #: of backward did not hide), summed over iterations; benchmarks read it.
        object.__setattr__(self, "comm_wait_seconds", 0.0)

    # -- construction ----------------------------------------------------------------------
    @_on_own_device
    def _check_same_model(self) -> None:
        """All ranks must hold the same parameters and buffers (names, shapes, dtypes)."""
        g = self.process_group
        mine = [[kind, name, list(t.shape), str(t.dtype)]
                for kind, items in (("parameter", self.module.named_parameters()),
                                    ("buffer", self.module.named_buffers()))
                for name, t in items]
        gathered = [json.loads(b) for b in g.host.all_gather_bytes(json.dumps(mine).encode())]
        reference = gathered[0]
        for rank, theirs in enumerate(gathered[1:], start=1):
            if theirs == reference:
                continue
            for a, b in zip(reference, theirs):
                if a != b:
                    raise DistributedError(
                        f"DistributedDataParallel: ranks disagree on the model: rank 0 has "
                        f"{a[0]} {a[1]!r} of shape {tuple(a[2])} ({a[3]}), rank {rank} has "
                        f"{b[0]} {b[1]!r} of shape {tuple(b[2])} ({b[3]}); every rank must "
                        "build the same model")
            raise DistributedError(
                f"DistributedDataParallel: ranks disagree on the model: rank 0 has "
                f"{len(reference)} parameters and buffers, rank {rank} has {len(theirs)}")

    @_on_own_device
    def _sync_module_state(self) -> None:
        """Copies rank 0's parameters and buffers to every rank."""
        if self.process_group.world_size == 1:
            return
        tensors = [p for p in self.module.parameters()]
        tensors += [b for _, b in self.module.named_buffers()]
        self._broadcast_coalesced(tensors)

    def _broadcast_coalesced(self, tensors: list[Tensor]) -> None:
        """Broadcasts tensors from rank 0, one flat array per (device, dtype)."""
        groups: dict[tuple, list[Tensor]] = {}
        for t in tensors:
            groups.setdefault((t.backend.device, str(t.dtype)), []).append(t)
        g = self.process_group
        for ts in groups.values():
            xp = ts[0].xp
            flat = xp.concatenate([t.array.reshape(-1) for t in ts])
            g.communicator(ts[0].backend).broadcast(flat, 0).wait()
            start = 0
            for t in ts:
                t.array[...] = flat[start:start + t.size].reshape(t.shape)
                t._version[0] += 1
                start += t.size

    def _make_buckets(self, params: list[Tensor]) -> list[_Bucket]:
        """Buckets in reverse parameter order (roughly the order backward produces them)."""
        cap = self.bucket_cap_mb * 2**20
        buckets: list[_Bucket] = []
        open_: dict[tuple, tuple[list[int], int]] = {}
        for i in reversed(range(len(params))):
            p = params[i]
            key = (p.backend.device, str(p.dtype))
            indices, nbytes = open_.get(key, ([], 0))
            indices.append(i)
            nbytes += p.size * p.array.itemsize
            if nbytes >= cap:
                buckets.append(_Bucket(indices, params))
                open_.pop(key, None)
            else:
                open_[key] = (indices, nbytes)
        buckets.extend(_Bucket(indices, params) for indices, _ in open_.values())
        return buckets

    # -- forward -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Within it, backward accumulates gradients locally without communicating; the first
        backward after it averages the accumulated gradients."""
        old = self.require_backward_grad_sync
        object.__setattr__(self, "require_backward_grad_sync", False)
        try:
            yield
        finally:
            object.__setattr__(self, "require_backward_grad_sync", old)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        self._check_previous_backward()
        g = self.process_group
        if self.broadcast_buffers and g.world_size > 1:
            buffers = [b for _, b in self.module.named_buffers()]
            if buffers:
                self._broadcast_coalesced(buffers)
        if not (is_grad_enabled() and self._params):
            return self.module(*args, **kwargs)
        sync = self.require_backward_grad_sync
        self._start_iteration()
        marked: dict[int, Tensor] = {}
        index = self._index

        def mark(p: Any) -> Any:
            # Made when forward first reads the parameter, just before the op that uses it:
            # the engine runs ops newest first, so the marker's backward then runs right
            # after its consumers', not at the end of backward.
            i = index.get(id(p))
            if i is None:
                return p
            m = marked.get(i)
            if m is None:
                m = marked[i] = _GradReady.apply(p, ddp=self, index=i, sync=sync)
            return m

        modules = [m for m in self.module.modules() if m._parameters]
        try:
            for m in modules:
                m.__dict__["_parameters"] = _Marking(m.__dict__["_parameters"], mark)
            out = self.module(*args, **kwargs)
        finally:
            for m in modules:
                table = m.__dict__["_parameters"]
                if isinstance(table, _Marking):
                    m.__dict__["_parameters"] = table.original
        if sync:
            object.__setattr__(self, "_expect_backward", True)
            if self.find_unused_parameters:
                used = _reached_nodes(out)
                for i in range(len(self._params)):
                    if i not in marked or marked[i].grad_fn not in used:
                        self._ready(i, None)
        return out

    def _start_iteration(self) -> None:
        self._fired.clear()
        object.__setattr__(self, "_next_bucket", 0)
        for b in self._buckets:
            b.missing = len(b.indices)
            b.buffer = None
            b.work = None

    def _check_previous_backward(self) -> None:
        """A backward that reduced some buckets but not all means a parameter got no gradient."""
        if not self._expect_backward:
            return
        object.__setattr__(self, "_expect_backward", False)
        if not self._fired or len(self._fired) == len(self._params):
            return  # no backward at all (e.g. a forward only), or a complete one
        names = {id(p): n for n, p in self.module.named_parameters()}
        missing = [names.get(id(p), "?") for i, p in enumerate(self._params)
                   if i not in self._fired]
        more = ", ..." if len(missing) > 5 else ""
        raise DistributedError(
            f"DistributedDataParallel: the last backward produced no gradient for "
            f"{len(missing)} parameter(s) ({', '.join(missing[:5])}{more}); "
            "they were not used to compute the loss. Pass find_unused_parameters=True, or use "
            "every parameter in forward")

    # -- backward: buckets -------------------------------------------------------------------
    @_on_own_device
    def _ready(self, index: int, g: Any) -> None:
        """Parameter `index`'s gradient `g` (a raw array, None for unused) is complete."""
        if index in self._fired:
            raise DistributedError(
                "DistributedDataParallel: a parameter received its gradient twice in one "
                "backward (the model was run twice before backward, or backward was called "
                "twice); run one forward per backward, or accumulate under no_sync()")
        self._fired.add(index)
        p = self._params[index]
        b, off = self._where[index]
        bucket = self._buckets[b]
        if bucket.buffer is None:
            bucket.buffer = p.xp.zeros(bucket.size, dtype=bucket.dtype)
        if isinstance(g, Tensor):
            g = g.array
        view = bucket.buffer[off:off + p.size]
        if g is not None:
            view[...] = g.reshape(-1)
        if p.grad is not None:  # accumulated earlier (no_sync, or no zero_grad)
            view += p.grad.array.reshape(-1)
        bucket.missing -= 1
        comm = self.process_group.communicator(bucket.backend)
        while (self._next_bucket < len(self._buckets)
               and self._buckets[self._next_bucket].missing == 0):
            nb = self._buckets[self._next_bucket]
            if nb.buffer is None:
                nb.buffer = p.xp.zeros(nb.size, dtype=nb.dtype)
            nb.work = comm.all_reduce(nb.buffer, "sum")
            object.__setattr__(self, "_next_bucket", self._next_bucket + 1)
        for started in self._buckets[:self._next_bucket]:
            started.work.is_completed()  # drives MPI's progress while backward goes on
        if self._next_bucket == len(self._buckets):
            self._finish()

    @_on_own_device
    def _finish(self) -> None:
        """Waits for every bucket, averages, and sets the parameters' ``.grad``."""
        world = self.process_group.world_size
        start = time.perf_counter()
        for bucket in self._buckets:
            bucket.work.wait()
        object.__setattr__(self, "comm_wait_seconds",
                           self.comm_wait_seconds + time.perf_counter() - start)
        for bucket in self._buckets:
            buf = bucket.buffer
            if world > 1:
                buf /= world
            for i, off in zip(bucket.indices, bucket.offsets):
                p = self._params[i]
                p.grad = Tensor._make(buf[off:off + p.size].reshape(p.shape), p.backend)
            bucket.buffer = None  # the next iteration gets fresh memory (grads are views)
            bucket.work = None

    # -- state -------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return (f"world_size={self.process_group.world_size}, buckets={len(self._buckets)}, "
                f"bucket_cap_mb={self.bucket_cap_mb:g}, "
                f"find_unused_parameters={self.find_unused_parameters}")


def _reached_nodes(out: Any) -> set:
    """The graph nodes reachable from the tensors in `out` (an iterative walk)."""
    stack = []
    todo = [out]
    while todo:
        o = todo.pop()
        if isinstance(o, Tensor):
            if o.grad_fn is not None:
                stack.append(o.grad_fn)
        elif isinstance(o, (list, tuple)):
            todo.extend(o)
        elif isinstance(o, dict):
            todo.extend(o.values())
    seen: set = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for edge in node.next_edges:
            if edge is not None and not isinstance(edge, Tensor):
                stack.append(edge)
    return seen
