"""Worker processes of a `DataLoader` with ``num_workers > 0``.

Each worker is a process with two one-way pipes of its own: tasks come in (a batch's indices, or
"the next batch" of an `IterableDataset`), results go out. A worker reads its samples, collates
them with the host as the device, and sends the batch with every Tensor replaced by its host
array (`collate.pack`); the main process turns them into Tensors on the loader's device. Tasks
are dealt to the workers in turn and their results yielded in task order, so the batches and
their order do not depend on which worker is faster.

Failure is reported, never waited for: a worker that raises sends the exception's type and its
traceback, which the main process raises with the worker's traceback in the message; a worker
that dies (killed, ``os._exit``) closes its result pipe, or is found dead when no result comes,
and the loader raises naming it and its exit code. Only the worker holds the write end of its
result pipe (the main process closes its copy before it starts the next worker), so a worker
killed while writing leaves an end of file, not a half message to wait on.
"""

from __future__ import annotations

import itertools
import multiprocessing
import multiprocessing.connection as mpc
import os
import pickle
import random
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import backends

from .collate import default_collate, default_convert, pack, unpack

__all__ = ["WorkerInfo", "get_worker_info"]

#: How often (seconds) a waiting main process checks that the workers live, and a waiting
#: worker that its parent does.
POLL_INTERVAL = 0.2


@dataclass(frozen=True)
class WorkerInfo:
    """What `get_worker_info()` tells code running in a worker process.

    Attributes:
        id: this worker's number, ``0 .. num_workers - 1``.
        num_workers: how many workers the loader runs.
        seed: this worker's seed (the loader's base seed of the epoch plus `id`): Python's
            `random`, NumPy's global generator and the engine's generators (``ag.manual_seed``)
            were seeded with it before ``worker_init_fn`` ran.
        dataset: the worker's copy of the data set.
    """

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """The `WorkerInfo` of this DataLoader worker process, or None in the main process.

    An `IterableDataset` reads it in ``__iter__`` to give each worker its own share of the stream.
    """
    return _worker_info


# -- messages -----------------------------------------------------------------------------------
class _Reset:
    """Start a new epoch: an iterable data set's stream begins again."""


class _Exhausted:
    """The worker's stream is used up for this epoch (iterable data sets)."""

    def __reduce__(self) -> str:
        return "_EXHAUSTED"  # unpickles as the one instance, so `is` works after transit


_EXHAUSTED = _Exhausted()


class WorkerError:
    """An exception raised in a worker, carried to the main process as its type and text."""

    def __init__(self, worker_id: int, where: str) -> None:
        exc = sys.exc_info()[1]
        self.type_name = type(exc).__name__
        self.type: type | None = type(exc)
        try:
            pickle.dumps(self.type)
        except Exception:  # a class the main process could not import: raise RuntimeError
            self.type = None
        self.text = (f"Caught {self.type_name} {where} in DataLoader worker process {worker_id}."
                     f"\nOriginal Traceback (most recent call last):\n"
                     + "".join(traceback.format_exception(exc)[1:]))

    def reraise(self) -> None:
        """Raises the worker's exception type (RuntimeError where it cannot be rebuilt from a
        message) with the worker's traceback as its message."""
        exc_type = self.type
        if exc_type is KeyError:  # KeyError's str() would show the message as a quoted key
            raise RuntimeError(self.text)
        try:
            error = exc_type(self.text) if exc_type is not None else None
        except Exception:
            error = None
        if not isinstance(error, BaseException):
            raise RuntimeError(self.text)
        raise error


# -- the worker process ---------------------------------------------------------------------------
@dataclass
class FetchSpec:
    """How a worker turns a task into a batch (fixed for the pool's life)."""

    iterable: bool
    auto_collation: bool  # batch_size is not None
    batch_size: int | None
    drop_last: bool
    collate_fn: Callable | None  # None: default_collate (default_convert without batching)


def _fetch(dataset: Any, spec: FetchSpec, task: Any, stream: list) -> Any:
    """The batch of one task. `stream` holds the worker's iterator of an iterable data set."""
    if spec.iterable:
        if stream[0] is None:
            stream[0] = iter(dataset)
        if not spec.auto_collation:
            try:
                item = next(stream[0])
            except StopIteration:
                return _EXHAUSTED
            return spec.collate_fn(item) if spec.collate_fn else default_convert(item, "cpu")
        samples = list(itertools.islice(stream[0], spec.batch_size))
        if not samples or (spec.drop_last and len(samples) < spec.batch_size):
            return _EXHAUSTED
    elif not spec.auto_collation:
        item = dataset[task]
        return spec.collate_fn(item) if spec.collate_fn else default_convert(item, "cpu")
    else:
        samples = [dataset[i] for i in task]
    return spec.collate_fn(samples) if spec.collate_fn else default_collate(samples, "cpu")


def _worker_loop(dataset: Any, spec: FetchSpec, tasks: Any, results: Any, worker_id: int,
                 num_workers: int, seed: int, init_fn: Callable | None, parent: int) -> None:
    """The body of a worker process: answer every task until told to stop."""
    global _worker_info
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    backends.set_default("cpu")  # workers read and collate on the host, never on a device
    random.seed(seed)
    backends.host().xp.random.seed(seed % 2**32)
    backends.seed_all(seed)
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    init_error = None
    if init_fn is not None:
        try:
            init_fn(worker_id)
        except Exception:
            init_error = WorkerError(worker_id, "in worker_init_fn")
    stream: list = [None]
    exhausted = False
    while True:
        if not tasks.poll(POLL_INTERVAL * 5):
            if os.getppid() != parent:  # the main process is gone: nobody will read
                return
            continue
        try:
            message = tasks.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        if isinstance(message, _Reset):
            stream[0], exhausted = None, False
            continue
        task_id, task = message
        if init_error is not None:
            result: Any = init_error
        elif exhausted:
            result = _EXHAUSTED
        else:
            try:
                result = pack(_fetch(dataset, spec, task, stream))
            except Exception:
                result = WorkerError(worker_id, "while reading a batch")
            exhausted = result is _EXHAUSTED
        try:
            results.send((task_id, result))
        except (BrokenPipeError, OSError):
            return
        except Exception:  # the batch does not pickle: say so instead
            try:
                raise TypeError("the batch could not be sent to the main process (it must "
                                "pickle)") from sys.exc_info()[1]
            except TypeError:
                results.send((task_id, WorkerError(worker_id, "while sending a batch")))


# -- the main process's side ----------------------------------------------------------------------
class WorkerPool:
    """`num_workers` processes reading one data set, started at construction."""

    def __init__(self, dataset: Any, spec: FetchSpec, num_workers: int, base_seed: int,
                 init_fn: Callable | None, context: Any) -> None:
        ctx = multiprocessing.get_context(context) if isinstance(context, (str, type(None))) \
            else context
        self.workers: list = []
        self.tasks: list = []
        self.results: list = []
        self.closed = False
        self.iterable = spec.iterable
        try:
            for i in range(num_workers):
                task_read, task_write = ctx.Pipe(duplex=False)
                result_read, result_write = ctx.Pipe(duplex=False)
                process = ctx.Process(
                    target=_worker_loop, name=f"kedja-data-worker-{i}", daemon=True,
                    args=(dataset, spec, task_read, result_write, i, num_workers,
                          base_seed + i, init_fn, os.getpid()),
                )
                process.start()
                # the worker's ends close here, before the next worker is forked: only the
                # worker holds them, so its death reads as an end of file on our side
                task_read.close()
                result_write.close()
                self.workers.append(process)
                self.tasks.append(task_write)
                self.results.append(result_read)
        except BaseException:
            self.shutdown()
            raise

    def __len__(self) -> int:
        return len(self.workers)

    def send(self, worker: int, message: Any) -> None:
        try:
            self.tasks[worker].send(message)
        except (BrokenPipeError, OSError):
            raise RuntimeError(self._death(worker)) from None

    def reset(self) -> None:
        """A new epoch for every worker (their iterable streams restart)."""
        for i in range(len(self.workers)):
            self.send(i, _Reset())

    def receive(self, timeout: float) -> tuple[int, Any]:
        """The next ``(task_id, result)`` of any worker. Raises RuntimeError if a worker died or
        `timeout` seconds (0: no limit) pass without one."""
        deadline = time.monotonic() + timeout if timeout > 0 else None
        while True:
            wait = POLL_INTERVAL if deadline is None else max(
                0.0, min(POLL_INTERVAL, deadline - time.monotonic()))
            for conn in mpc.wait(self.results, timeout=wait):
                worker = self.results.index(conn)
                try:
                    return conn.recv()
                except (EOFError, OSError):
                    raise RuntimeError(self._death(worker)) from None
            for i, process in enumerate(self.workers):
                if not process.is_alive():
                    raise RuntimeError(self._death(i))
            if deadline is not None and time.monotonic() >= deadline:
                raise RuntimeError(f"DataLoader timed out after {timeout} seconds waiting for "
                                   "a batch from its workers")

    def _death(self, worker: int) -> str:
        process = self.workers[worker]
        process.join(timeout=1.0)
        code = process.exitcode
        if code is None:
            how = "closed its pipe unexpectedly"
        elif code < 0:
            try:
                how = f"was killed by signal {signal.Signals(-code).name}"
            except ValueError:
                how = f"was killed by signal {-code}"
        else:
            how = f"exited unexpectedly with exit code {code}"
        self.shutdown()
        return (f"DataLoader worker {worker} (pid {process.pid}) {how} while the loader waited "
                "for its batches (if the system ran out of memory, use fewer workers or smaller "
                "batches)")

    def shutdown(self) -> None:
        """Stops every worker (asks, then terminates those that do not stop) and closes the
        pipes. Safe to call twice."""
        if self.closed:
            return
        self.closed = True
        for conn in self.tasks:
            try:
                conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        deadline = time.monotonic() + 2.0
        for process in self.workers:
            process.join(timeout=max(0.0, deadline - time.monotonic()))
        for process in self.workers:
            if process.is_alive():
                process.terminate()
                process.join(timeout=1.0)
        for conn in self.tasks + self.results:
            conn.close()


def run_epoch(pool: WorkerPool, tasks: Iterator[Any] | None, backend: Any, pin_memory: bool,
              prefetch_factor: int, timeout: float) -> Iterator[Any]:
    """Yields one epoch's batches from `pool`, in task order.

    Args:
        tasks: the batches' indices (map-style data sets), or None: every task asks a worker
            for its stream's next batch until all streams are used up.
    """
    n = len(pool)
    turn = itertools.cycle(range(n))
    active = [True] * n
    pending: dict[int, list] = {}  # task id -> [worker] or [worker, result]
    sent = received = 0
    done = False

    def put() -> None:
        nonlocal sent, done
        if done:
            return
        for _ in range(n):
            worker = next(turn)
            if active[worker]:
                break
        else:
            done = True
            return
        if tasks is None:
            task = None
        else:
            try:
                task = next(tasks)
            except StopIteration:
                done = True
                return
        pool.send(worker, (sent, task))
        pending[sent] = [worker]
        sent += 1

    for _ in range(prefetch_factor * n):
        put()
    while received < sent:
        entry = pending[received]
        if len(entry) == 1:
            task_id, result = pool.receive(timeout)
            if result is _EXHAUSTED:
                active[pending[task_id][0]] = False
            pending[task_id].append(result)
            continue
        del pending[received]
        received += 1
        result = entry[1]
        put()
        if result is _EXHAUSTED:
            continue
        if isinstance(result, WorkerError):
            pool.shutdown()
            result.reraise()
        yield unpack(result, backend, pin_memory)
