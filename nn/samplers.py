"""Samplers: the order in which a `DataLoader` reads a map-style data set (PyTorch's classes).

A sampler yields sample indices; a batch sampler yields lists of them. The random samplers draw
from their own generator, so a loader's order never depends on what else draws random numbers:

- ``generator=None`` (the default): a seed is drawn once, at construction, from the engine's
  generator (so ``ag.manual_seed`` fixes it), and epoch `e` draws from ``(seed, e)``;
- ``generator=<int>``: that seed, the same way;
- ``generator=<numpy.random.Generator>``: every iteration draws from it (its state advances).

With a seed, iterating advances the sampler's epoch; ``set_epoch(e)`` picks epoch `e` (a
resumed run replays the same orders) and ``state_dict()`` holds ``{"seed", "epoch"}``.

    >>> sampler = RandomSampler(dataset, generator=0)
    >>> batches = BatchSampler(sampler, batch_size=32, drop_last=False)
    >>> loader = DataLoader(dataset, batch_sampler=batches)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any

import backends
from autograd.tensor import Tensor

from . import arguments

__all__ = [
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
    "WeightedRandomSampler", "BatchSampler",
]


class Sampler:
    """Base class of samplers: ``__iter__`` yields indices (or batches of them); ``__len__``,
    where defined, says how many."""

    def __init__(self, data_source: Any = None) -> None:
        pass

    def __iter__(self) -> Iterator:
        raise NotImplementedError


def _host_xp() -> Any:
    return backends.host().xp


def _engine_seed() -> int:
    """A seed drawn from the host backend's generator (the one ``ag.manual_seed`` seeds)."""
    return int(backends.host().integers(0, 2**62, ()))


def _flag(owner: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: {name} should be a boolean value, but got {name}={value!r}")
    return value


class _Seeded(Sampler):
    """A sampler drawing from a seed and an epoch counter, or from a NumPy generator."""

    def _init_generator(self, owner: str, generator: Any) -> None:
        self._rng = None
        if generator is None:
            self.seed = _engine_seed()
        elif hasattr(generator, "integers") and hasattr(generator, "permutation"):
            self.seed, self._rng = None, generator  # a NumPy Generator: stateful draws
        else:
            self.seed = arguments.size(owner, "generator (a seed)", generator)
        self.epoch = 0

    def _generator(self) -> Any:
        """The generator of this iteration (advances the epoch of a seeded sampler)."""
        if self._rng is not None:
            return self._rng
        rng = _host_xp().random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        return rng

    def set_epoch(self, epoch: int) -> None:
        """Makes the next iteration epoch `epoch` (its order is fixed by seed and epoch)."""
        self.epoch = arguments.size(f"{type(self).__name__}.set_epoch", "epoch", epoch)

    def state_dict(self) -> dict:
        """``{"seed", "epoch"}``, all that fixes the coming orders (None seed: a NumPy
        generator, whose state is not saved)."""
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        """Restores `state_dict` (both values checked before either is set)."""
        owner = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, dict) or not {"seed", "epoch"} <= set(state):
            raise ValueError(f"{owner}: expected a dict with 'seed' and 'epoch', got {state!r}")
        if state["seed"] is None or self.seed is None:
            raise ValueError(f"{owner}: a sampler drawing from a NumPy generator has no seed to "
                             "restore; pass an int generator (a seed) to make it resumable")
        seed = arguments.size(owner, "seed", state["seed"])
        self.epoch = arguments.size(owner, "epoch", state["epoch"])
        self.seed = seed


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``, in order."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def _draw(self) -> Any:
        """This iteration's indices as a host int64 array."""
        return _host_xp().arange(len(self.data_source), dtype="int64")

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(_Seeded):
    """A random order of the samples: a new permutation every epoch, or draws with replacement.

    Args:
        data_source: the data set (only its length is used).
        replacement: draw `num_samples` indices independently (repeats possible).
        num_samples: how many indices an iteration yields (default: ``len(data_source)``);
            without replacement, more than the data set's length chains permutations.
        generator: None, a seed, or a NumPy Generator (see the module docstring).
    """

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator: Any = None) -> None:
        self.data_source = data_source
        self.replacement = _flag("RandomSampler", "replacement", replacement)
        if num_samples is not None and (not arguments._is_int(num_samples) or num_samples <= 0):
            raise ValueError("RandomSampler: num_samples should be a positive integer value, "
                             f"but got num_samples={num_samples!r}")
        self._num_samples = num_samples
        self._init_generator("RandomSampler", generator)

    @property
    def num_samples(self) -> int:
        """Indices per iteration (the data set's length unless given)."""
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def _draw(self) -> Any:
        """This iteration's indices as a host int64 array (advances the epoch)."""
        n, count = len(self.data_source), self.num_samples
        rng = self._generator()
        if self.replacement:
            if n == 0:
                raise ValueError("RandomSampler: cannot draw with replacement from an empty "
                                 "data set")
            return rng.integers(0, n, count, dtype="int64")
        xp = _host_xp()
        if n == 0:
            return xp.zeros(0, dtype="int64")
        parts = [rng.permutation(n) for _ in range(count // n)]
        if count % n:
            parts.append(rng.permutation(n)[:count % n])
        out = parts[0] if len(parts) == 1 else xp.concatenate(parts)
        return out.astype("int64", copy=False)

    def __iter__(self) -> Iterator[int]:
        return iter(self._draw().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(_Seeded):
    """The given indices in a new random order each epoch (e.g. a validation split's).

    Args:
        indices: the indices to draw from (a sequence of ints).
        generator: None, a seed, or a NumPy Generator.
    """

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        self.indices = _int_array("SubsetRandomSampler", "indices", indices)
        self._init_generator("SubsetRandomSampler", generator)

    def _draw(self) -> Any:
        """This iteration's indices as a host int64 array (advances the epoch)."""
        return self.indices[self._generator().permutation(len(self.indices))]

    def __iter__(self) -> Iterator[int]:
        return iter(self._draw().tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(_Seeded):
    """Indices ``0 .. len(weights) - 1`` drawn with probabilities proportional to `weights`.

    Args:
        weights: non-negative weights, one per sample (a sequence, array or 1-d Tensor); they
            need not sum to 1.
        num_samples: indices per iteration.
        replacement: draw with replacement (the default); without it, each index at most once
            (then `num_samples` may not exceed the number of positive weights).
        generator: None, a seed, or a NumPy Generator.
    """

    def __init__(self, weights: Any, num_samples: int, replacement: bool = True,
                 generator: Any = None) -> None:
        owner = "WeightedRandomSampler"
        if not arguments._is_int(num_samples) or num_samples <= 0:
            raise ValueError(f"{owner}: num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples!r}")
        self.replacement = _flag(owner, "replacement", replacement)
        if isinstance(weights, Tensor):
            weights = weights.numpy()
        xp = _host_xp()
        try:
            w = xp.asarray(weights, dtype="float64")
        except (TypeError, ValueError):
            raise TypeError(f"{owner}: weights must be a sequence of numbers, got "
                            f"{type(weights).__name__}") from None
        if w.ndim != 1:
            raise ValueError(f"{owner}: weights should be a 1d sequence but given weights have "
                             f"shape {tuple(w.shape)}")
        if not bool(xp.isfinite(w).all()) or bool((w < 0).any()):
            raise ValueError(f"{owner}: weights must be finite and non-negative")
        positive = int((w > 0).sum())
        if positive == 0:
            raise ValueError(f"{owner}: the weights sum to zero: nothing to draw")
        if not replacement and num_samples > positive:
            raise ValueError(
                f"{owner}: cannot draw {num_samples} samples without replacement from "
                f"{positive} samples of positive weight"
            )
        self.weights = w
        self.num_samples = int(num_samples)
        self._init_generator(owner, generator)

    def _draw(self) -> Any:
        """This iteration's indices as a host int64 array (advances the epoch)."""
        rng = self._generator()
        p = self.weights / self.weights.sum()
        if self.replacement:
            # inverse-CDF draws: one uniform each, searched in the cumulative weights
            cdf = p.cumsum()
            u = rng.random(self.num_samples) * cdf[-1]
            out = cdf.searchsorted(u, side="right")
            return _host_xp().minimum(out, len(p) - 1).astype("int64")
        # without replacement: the k smallest exponential "arrival times" E_i / w_i (the
        # first k to arrive are k weighted draws without replacement)
        with _host_xp().errstate(divide="ignore"):
            keys = rng.exponential(size=len(p)) / p
        return _host_xp().argsort(keys, kind="stable")[:self.num_samples].astype("int64")

    def __iter__(self) -> Iterator[int]:
        return iter(self._draw().tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of `batch_size` (PyTorch's class).

    Args:
        sampler: any iterable of indices (a Sampler, a range, a list).
        batch_size: indices per batch.
        drop_last: leave out the last batch if it is smaller than `batch_size`.

        >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not arguments._is_int(batch_size) or batch_size <= 0:
            raise ValueError("BatchSampler: batch_size should be a positive integer value, but "
                             f"got batch_size={batch_size!r}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = _flag("BatchSampler", "drop_last", drop_last)

    def batches(self) -> Iterator[Any]:
        """The batches as host int64 arrays (from one vectorised draw where the sampler is one
        of kedja's)."""
        if type(self.sampler).__iter__ in _DRAWS_WHOLE:  # not overridden by a subclass
            order = self.sampler._draw()
            n, bs = len(order), self.batch_size
            stop = n - n % bs if self.drop_last else n
            for start in range(0, stop, bs):
                yield order[start:start + bs]
            return
        xp = _host_xp()
        for batch in self:
            yield xp.asarray(batch, dtype="int64")

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)


#: The samplers' own __iter__s, which iterate `_draw()`: BatchSampler may slice that instead.
_DRAWS_WHOLE = {SequentialSampler.__iter__, RandomSampler.__iter__, SubsetRandomSampler.__iter__,
                WeightedRandomSampler.__iter__}


def _int_array(owner: str, name: str, values: Any) -> Any:
    """`values` as a 1-d host int64 array."""
    if isinstance(values, Tensor):
        values = values.numpy()
    xp = _host_xp()
    array = xp.asarray(values)
    if array.size == 0:
        return xp.zeros(0, dtype="int64")
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise TypeError(f"{owner}: {name} must be a 1-d sequence of ints, got dtype "
                        f"{array.dtype} and shape {tuple(array.shape)}")
    return array.astype("int64")
