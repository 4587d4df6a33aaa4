"""`DistributedSampler`: each rank's share of a data set's indices, PyTorch's protocol."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import backends

from .. import arguments
from .process_group import get_rank, get_world_size

__all__ = ["DistributedSampler"]


class DistributedSampler:
    """Yields the sample indices of this rank: every ``num_replicas``-th index of an order that
    all ranks compute alike (shuffled by ``(seed, epoch)`` when `shuffle`).

    The order is padded by repeating its start so that every rank gets ``num_samples`` indices
    (``ceil(len / num_replicas)``), or, with `drop_last`, cut to a multiple of the number of
    ranks. Call ``set_epoch(epoch)`` before each epoch (``fit`` does it through the loader) for a
    new shuffle each epoch.

        >>> sampler = DistributedSampler(ds, num_replicas=2, rank=0, shuffle=False)
        >>> list(sampler)[:3]           # indices 0, 2, 4, ... of rank 0

    Args:
        dataset: anything with ``len()``.
        num_replicas, rank: default: the process group's world size and rank.
        shuffle: shuffle the order every epoch.
        seed: the shuffle's seed; the same on all ranks.
        drop_last: drop the tail instead of padding.
    """

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if not hasattr(dataset, "__len__"):
            raise TypeError(f"DistributedSampler: dataset must have a length, got "
                            f"{type(dataset).__name__}")
        name = "DistributedSampler"
        self.num_replicas = (get_world_size() if num_replicas is None
                             else arguments.size(name, "num_replicas", num_replicas, minimum=1))
        self.rank = get_rank() if rank is None else arguments.size(name, "rank", rank)
        if self.rank >= self.num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {self.rank}, rank should be in "
                             f"the interval [0, {self.num_replicas - 1}]")
        self.dataset = dataset
        self.shuffle = bool(shuffle)
        self.seed = arguments.size(name, "seed", seed)
        self.drop_last = bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if drop_last and n % self.num_replicas:
            self.num_samples = n // self.num_replicas
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Makes the next iteration use the order of `epoch` (the same on every rank)."""
        self.epoch = arguments.size("DistributedSampler.set_epoch", "epoch", epoch)

    def indices(self) -> Any:
        """This rank's indices for the current epoch (a host int64 array)."""
        xp = backends.host().xp
        n = len(self.dataset)
        if self.shuffle:
            order = xp.random.default_rng([self.seed, self.epoch]).permutation(n)
        else:
            order = xp.arange(n)
        if self.total_size > n:  # pad by repeating the order from its start
            reps = math.ceil((self.total_size - n) / max(n, 1))
            order = xp.concatenate([order, *([order] * reps)])
        order = order[:self.total_size].astype("int64")
        return order[self.rank:self.total_size:self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def __repr__(self) -> str:
        return (f"DistributedSampler({len(self.dataset)} samples, rank {self.rank} of "
                f"{self.num_replicas}, shuffle={self.shuffle}, seed={self.seed}, "
                f"drop_last={self.drop_last})")
