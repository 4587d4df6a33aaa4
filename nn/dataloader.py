"""`DataLoader`: batches of a data set as Tensors on a device, in one process or several.

    >>> loader = DataLoader(dataset, batch_size=64, shuffle=True, num_workers=2, seed=0,
    ...                     device="cuda")
    >>> for x, y in loader:          # x, y are Tensors on cuda
    ...     ...

PyTorch's arguments and semantics (sampler, batch_sampler, collate_fn, drop_last, num_workers,
worker_init_fn, persistent_workers, prefetch_factor, pin_memory, timeout, generator,
multiprocessing_context), plus kedja's `seed` (the shuffling and worker seeds: the order of epoch
`e` depends only on ``(seed, e)``, so a run resumes exactly) and `device`.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import backends

from . import arguments
from .collate import default_collate, default_convert, pack, unpack
from .data_workers import FetchSpec, WorkerPool, run_epoch
from .dataset_types import IterableDataset, Subset
from .samplers import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader"]


def _fast(dataset: Any) -> bool:
    """Whether `dataset` has array storage that batches by one indexing op (`get_batch`)."""
    if isinstance(dataset, Subset):
        return dataset.batchable
    return hasattr(dataset, "get_batch")


def _seed_of(owner: str, seed: Any) -> int:
    return arguments.size(owner, "seed", seed)


def _engine_seed() -> int:
    """A seed drawn from the host backend's generator (the one ``ag.manual_seed`` seeds)."""
    return int(backends.host().integers(0, 2**62, ()))


class DataLoader:
    """Iterates over a data set in batches of Tensors on a device.

    Args:
        dataset: a map-style data set (``len`` and integer indexing: a `Dataset`) or an
            `IterableDataset`.
        batch_size: samples per batch; None turns batching off (each sample is yielded as
            ``default_convert`` leaves it, or as `collate_fn` makes it).
        shuffle: draw a new random order every epoch (a `RandomSampler` seeded by `seed`).
        sampler: the order of the sample indices (a `Sampler` or any iterable of indices);
            excludes `shuffle`.
        batch_sampler: yields lists of indices, one per batch; excludes `batch_size`,
            `shuffle`, `sampler` and `drop_last`.
        num_workers: worker processes reading and collating the samples (0: the main process
            does). Workers pay off where ``__getitem__`` does real work; a `TensorDataset` is
            always batched in the main process by one indexing op per array (there is no
            per-sample work to share).
        collate_fn: ``collate_fn(samples) -> batch``; default: `default_collate` onto `device`.
            In a worker it runs there, and the Tensors of what it returns arrive on `device`.
        pin_memory: copy worker batches to a GPU device through page-locked host memory (no
            effect on the CPU).
        drop_last: leave out the last, smaller batch.
        timeout: seconds to wait for a worker's batch before raising (0: no limit).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker, after seeding.
        multiprocessing_context: ``"fork"``, ``"spawn"``, ``"forkserver"`` or a context (default:
            Python's default start method). With spawn the data set, collate_fn and
            worker_init_fn must pickle.
        generator: the shuffling seed (an int) or a NumPy Generator, as for the samplers.
        prefetch_factor: batches each worker reads ahead (default 2; needs workers).
        persistent_workers: keep the workers between epochs (they start once; needs workers).
        seed: kedja's name for an int `generator`. The shuffle order of epoch `e` and the
            workers' seeds depend only on ``(seed, e)``; None draws a seed once from the
            engine's generator, so ``ag.manual_seed`` makes a run reproducible.
        device: where batches go (default: the default backend at iteration time).

    Iterating starts a new epoch (the epoch counter advances when an iteration starts).
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Iterable | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Any = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        seed: int | None = None,
        device: Any = None,
    ) -> None:
        name = "DataLoader"
        self.iterable = isinstance(dataset, IterableDataset)
        if self.iterable:
            if not hasattr(dataset, "__iter__"):
                raise TypeError(f"{name}: an IterableDataset must define __iter__")
        elif not hasattr(dataset, "__getitem__"):
            raise TypeError(f"{name}: dataset must support len() and integer indexing (a "
                            f"Dataset) or iteration (an IterableDataset), got "
                            f"{type(dataset).__name__}")
        elif sampler is None and batch_sampler is None and not hasattr(dataset, "__len__"):
            raise TypeError(f"{name}: dataset must support len() and integer indexing (a "
                            f"Dataset), got {type(dataset).__name__}")
        self.dataset = dataset
        self.num_workers = arguments.size(name, "num_workers", num_workers)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0:
            raise ValueError(f"{name}: timeout option should be non-negative, got {timeout!r}")
        self.timeout = float(timeout)
        if self.num_workers == 0:
            if prefetch_factor is not None:
                raise ValueError(f"{name}: prefetch_factor option could only be specified in "
                                 "multiprocessing; let num_workers > 0 to enable "
                                 "multiprocessing, otherwise set prefetch_factor to None")
            if persistent_workers:
                raise ValueError(f"{name}: persistent_workers option needs num_workers > 0")
            if multiprocessing_context is not None:
                raise ValueError(f"{name}: multiprocessing_context can only be used with "
                                 "multi-process loading (num_workers > 0), but got "
                                 "num_workers=0")
        elif prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None:
            prefetch_factor = arguments.size(name, "prefetch_factor", prefetch_factor, minimum=1)
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = bool(persistent_workers)
        self.multiprocessing_context = multiprocessing_context
        for arg, value in (("collate_fn", collate_fn), ("worker_init_fn", worker_init_fn)):
            if value is not None and not callable(value):
                raise TypeError(f"{name}: {arg} must be callable, got {value!r}")
        self.collate_fn = collate_fn
        self.worker_init_fn = worker_init_fn
        self.pin_memory = bool(pin_memory)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)

        if self.iterable:
            if shuffle:
                raise ValueError(f"{name} with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle!r}")
            if sampler is not None:
                raise ValueError(f"{name} with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler!r}")
            if batch_sampler is not None:
                raise ValueError(f"{name} with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler!r}")
        if sampler is not None and shuffle:
            raise ValueError(f"{name}: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(f"{name}: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size = None
        elif batch_size is None:
            if drop_last:
                raise ValueError(f"{name}: batch_size=None option disables auto-batching and is "
                                 "mutually exclusive with drop_last")
        else:
            batch_size = arguments.size(name, "batch_size", batch_size, minimum=1)
        self.batch_size = batch_size

        if seed is not None and generator is not None:
            raise TypeError(f"{name}: give generator or seed, not both")
        if seed is not None:
            generator = seed
        self.generator = None
        if generator is None:
            self.seed: int | None = _engine_seed()
        elif hasattr(generator, "integers") and hasattr(generator, "permutation"):
            self.seed, self.generator = None, generator
        else:
            self.seed = _seed_of(name, generator)
        if device is not None:
            backends.get(device)  # an unknown or unavailable device fails here, not mid-epoch
        self.device = device
        self.epoch = 0

        # The samplers PyTorch builds; those made here follow the loader's seed and epoch.
        self._own_sampler = sampler is None and not self.iterable
        if self.iterable:
            sampler = None
        elif sampler is None:
            sampler = (RandomSampler(dataset, generator=self.generator or 0) if self.shuffle
                       else SequentialSampler(dataset))
        self._own_batch_sampler = batch_sampler is None and batch_size is not None \
            and not self.iterable
        if self._own_batch_sampler:
            batch_sampler = BatchSampler(sampler, batch_size, self.drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._pool: WorkerPool | None = None
        self._pool_busy = False
        self._finalizer: Any = None

    # -- lengths and epochs -----------------------------------------------------------------------
    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or (self.iterable and self.batch_size is not None)

    def __len__(self) -> int:
        if self.iterable:
            n = len(self.dataset)  # TypeError where the stream has no length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    @property
    def backend(self) -> backends.Backend:
        return backends.get(self.device)

    def set_epoch(self, epoch: int) -> None:
        """Makes the next iteration epoch `epoch` (its shuffle order is fixed by seed and epoch);
        a sampler of your own that has ``set_epoch`` (a `RandomSampler`, a distributed sampler)
        gets it too."""
        self.epoch = arguments.size("DataLoader.set_epoch", "epoch", epoch)
        for s in self._user_samplers():
            if hasattr(s, "set_epoch"):
                s.set_epoch(epoch)

    def _user_samplers(self) -> list:
        out = []
        if not self._own_sampler and self.sampler is not None:
            out.append(self.sampler)
        if not self._own_batch_sampler and self.batch_sampler is not None:
            out.append(self.batch_sampler)
            inner = getattr(self.batch_sampler, "sampler", None)
            if inner is not None and inner is not self.sampler:
                out.append(inner)
        return out

    def order(self, epoch: int | None = None) -> Any:
        """The sample order (a host int64 array) of `epoch` (default: the next one) where the
        loader made its own sampler (`shuffle`, or neither sampler nor batch_sampler given)."""
        if not self._own_sampler:
            raise TypeError("DataLoader.order: the order comes from the sampler you gave; "
                            "iterate the sampler instead")
        return self._own_order(self.epoch if epoch is None else epoch)

    def _own_order(self, epoch: int) -> Any:
        sampler = self.sampler
        if isinstance(sampler, RandomSampler) and sampler._rng is None:
            sampler.seed = self.seed
            sampler.set_epoch(epoch)
        return sampler._draw()

    def state_dict(self) -> dict:
        """``{"seed", "epoch"}``, plus ``"sampler"`` where a sampler of your own has a
        ``state_dict``: all that fixes the order of the coming epochs."""
        state: dict = {"seed": self.seed, "epoch": self.epoch}
        for s in self._user_samplers()[:1]:
            if hasattr(s, "state_dict"):
                state["sampler"] = s.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restores `state_dict` (all checked before any is set)."""
        owner = "DataLoader.load_state_dict"
        if not isinstance(state, dict) or not {"seed", "epoch"} <= set(state):
            raise ValueError(f"{owner}: expected a dict with 'seed' and 'epoch', got {state!r}")
        seed = None if state["seed"] is None and self.seed is None else \
            _seed_of(owner, state["seed"])
        epoch = arguments.size(owner, "epoch", state["epoch"])
        if "sampler" in state:
            users = [s for s in self._user_samplers()[:1] if hasattr(s, "load_state_dict")]
            if not users:
                raise ValueError(f"{owner}: the state has a sampler's state, but this loader's "
                                 "sampler cannot load one")
            users[0].load_state_dict(state["sampler"])
        self.epoch, self.seed = epoch, seed

    # -- iteration -------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Any]:
        epoch = self.epoch
        self.epoch += 1
        backend = self.backend
        if self._auto_collation and self.collate_fn is None and not self.iterable \
                and _fast(self.dataset):
            yield from self._fast_batches(epoch, backend)
        elif self.num_workers == 0:
            yield from self._single_process(epoch, backend)
        else:
            yield from self._multi_process(epoch, backend)

    def _index_batches(self, epoch: int) -> Iterator[Any]:
        """This epoch's batches of indices (host int64 arrays or lists)."""
        if self._own_batch_sampler:
            if self._own_sampler:
                order = self._own_order(epoch)
                n, bs = len(order), self.batch_size
                stop = n - n % bs if self.drop_last else n
                return (order[i:i + bs] for i in range(0, stop, bs))
            return self.batch_sampler.batches()
        return iter(self.batch_sampler)

    def _fast_batches(self, epoch: int, backend: Any) -> Iterator[Any]:
        if self._own_batch_sampler and self._own_sampler:
            # One transfer of the order per epoch; each batch is then a slice of it on the device.
            order = backend.asarray(self._own_order(epoch))
            n, bs = len(order), self.batch_size
            stop = n - n % bs if self.drop_last else n
            for start in range(0, stop, bs):
                yield list(self.dataset.get_batch(order[start:start + bs], backend))
            return
        xp = backends.host().xp
        for indices in self._index_batches(epoch):
            indices = backend.asarray(xp.asarray(indices, dtype="int64"))
            yield list(self.dataset.get_batch(indices, backend))

    def _collate(self, samples: Any, backend: Any) -> Any:
        if self.collate_fn is not None:
            return self.collate_fn(samples)
        if not self._auto_collation:
            return default_convert(samples, backend)
        if self.pin_memory and backend.is_device:
            return unpack(pack(default_collate(samples, backends.host())), backend, True)
        return default_collate(samples, backend)

    def _single_process(self, epoch: int, backend: Any) -> Iterator[Any]:
        dataset = self.dataset
        if self.iterable:
            stream = iter(dataset)
            if not self._auto_collation:
                for item in stream:
                    yield self._collate(item, backend)
                return
            while True:
                samples = []
                for item in stream:
                    samples.append(item)
                    if len(samples) == self.batch_size:
                        break
                if not samples or (self.drop_last and len(samples) < self.batch_size):
                    return
                yield self._collate(samples, backend)
                if len(samples) < self.batch_size:
                    return
        if not self._auto_collation:
            for i in self.sampler:
                yield self._collate(dataset[i], backend)
            return
        for indices in self._index_batches(epoch):
            yield self._collate([dataset[int(i)] for i in indices], backend)

    # -- worker processes -----------------------------------------------------------------------
    def _base_seed(self, epoch: int) -> int:
        """The workers' base seed of `epoch` (worker i gets base + i, as in PyTorch)."""
        if self.generator is not None:
            return int(self.generator.integers(0, 2**62))
        rng = backends.host().xp.random.default_rng([self.seed, epoch, 0x5EED])
        return int(rng.integers(0, 2**62))

    def _new_pool(self, epoch: int) -> WorkerPool:
        spec = FetchSpec(iterable=self.iterable, auto_collation=self._auto_collation,
                         batch_size=self.batch_size, drop_last=self.drop_last,
                         collate_fn=self.collate_fn)
        return WorkerPool(self.dataset, spec, self.num_workers, self._base_seed(epoch),
                          self.worker_init_fn, self.multiprocessing_context)

    def _multi_process(self, epoch: int, backend: Any) -> Iterator[Any]:
        persistent = self.persistent_workers and not self._pool_busy
        if persistent and self._pool is not None and not self._pool.closed:
            pool = self._pool
            if self.iterable:
                pool.reset()
        else:
            pool = self._new_pool(epoch)
            if persistent:
                self._pool = pool
                self._finalizer = weakref.finalize(self, pool.shutdown)
        if persistent:
            self._pool_busy = True
        if self.iterable:
            tasks = None
        elif self._auto_collation:
            tasks = (b.tolist() if hasattr(b, "tolist") else b for b in self._index_batches(epoch))
        else:
            tasks = iter(self.sampler)
        finished = False
        try:
            yield from run_epoch(pool, tasks, backend, self.pin_memory, self.prefetch_factor,
                                 self.timeout)
            finished = True
        finally:
            if persistent:
                self._pool_busy = False
            if not persistent or not finished:
                # an epoch left early leaves batches in flight: start afresh next time
                pool.shutdown()

    def __repr__(self) -> str:
        try:
            size: Any = len(self.dataset)
        except TypeError:
            size = "?"
        return (f"DataLoader({type(self.dataset).__name__} of {size}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, num_workers={self.num_workers}, "
                f"device={self.backend.device})")
