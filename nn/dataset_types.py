"""Data sets: `Dataset`, `IterableDataset`, `TensorDataset`, `Subset`, `ConcatDataset`,
`ChainDataset`, and the splits `random_split` and `train_val_split` (PyTorch's classes).

A `TensorDataset` (and a `Subset` of one) has array storage (`get_batch`): a `DataLoader` batches
it with one fancy-indexing op per array on the target device, no Python loop over samples.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import backends
from autograd.tensor import Tensor

from . import arguments

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "ChainDataset",
    "random_split", "train_val_split",
]


class Dataset:
    """A map-style data set: ``len(ds)`` samples, ``ds[i]`` the i-th one (a tuple, usually).

    ``a + b`` is ``ConcatDataset([a, b])``.
    """

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: ``iter(ds)`` yields them (records read from files, generated data).

    A `DataLoader` with workers iterates a copy of the data set in every worker; to split the
    stream among them rather than repeat it, read ``nn.data.get_worker_info()`` in
    ``__iter__`` (None in the main process):

        >>> class Range(IterableDataset):
        ...     def __init__(self, n):
        ...         self.n = n
        ...     def __iter__(self):
        ...         info = get_worker_info()
        ...         start, step = (0, 1) if info is None else (info.id, info.num_workers)
        ...         return iter(range(start, self.n, step))

    ``a + b`` is ``ChainDataset([a, b])``.
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError

    def __len__(self) -> int:
        # TypeError (not NotImplementedError): what len() of an object without a length raises,
        # and what list(), the DataLoader's len() and length hints expect
        raise TypeError(f"{type(self).__name__}: a stream has no len() unless it defines one")

    def __add__(self, other: Dataset) -> ChainDataset:  # type: ignore[override]
        return ChainDataset([self, other])


def _as_array(value: Any) -> tuple[Any, backends.Backend]:
    """(array, backend) of a Tensor, a backend array or anything NumPy can read (host)."""
    if isinstance(value, Tensor):
        return value.array, value.backend
    backend = backends.backend_of_array(value) or backends.host()
    return backend.asarray(value), backend


class TensorDataset(Dataset):
    """Samples are the rows of equally long arrays: ``ds[i] == (a[i], b[i], ...)``.

    Args:
        *tensors: Tensors or arrays (host NumPy arrays, device arrays); their first dimension
            is the sample axis and must be the same for all.
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        pairs = [_as_array(t) for t in tensors]
        lengths = []
        for array, _ in pairs:
            if array.ndim == 0:
                raise ValueError("TensorDataset: a 0-d tensor has no sample axis")
            lengths.append(array.shape[0])
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: tensors differ in their first dimension: {lengths}")
        self.arrays = tuple(a for a, _ in pairs)
        self.backends = tuple(b for _, b in pairs)
        self._on_device: dict[str, tuple] = {}

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        """The stored arrays as Tensors (sharing memory)."""
        return tuple(Tensor._make(a, b) for a, b in zip(self.arrays, self.backends))

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __getitem__(self, index: int) -> tuple:
        return tuple(Tensor._make(a[index], b) for a, b in zip(self.arrays, self.backends))

    def arrays_on(self, backend: backends.Backend) -> tuple:
        """The arrays on `backend`, copied there once and cached (host arrays go via asarray)."""
        cached = self._on_device.get(backend.device)
        if cached is None:
            cached = tuple(
                a if b is backend else backend.asarray(b.to_numpy(a))
                for a, b in zip(self.arrays, self.backends)
            )
            self._on_device[backend.device] = cached
        return cached

    def get_batch(self, indices: Any, backend: backends.Backend) -> tuple:
        """Rows `indices` (an int array on `backend`) of every array, as Tensors on `backend`."""
        return tuple(Tensor._make(a[indices], backend) for a in self.arrays_on(backend))


class Subset(Dataset):
    """The samples ``dataset[i] for i in indices`` (a view: nothing is copied).

    `indices` is kept as a host int64 array (PyTorch keeps the sequence given).
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        if isinstance(dataset, IterableDataset):
            raise TypeError("Subset: an IterableDataset has no indices to select; take items "
                            "from its stream instead")
        self.dataset = dataset
        if isinstance(indices, Tensor):
            indices = indices.numpy()
        self.indices = backends.host().xp.asarray(indices, dtype="int64").reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            raise IndexError(f"Subset: indices out of range for a data set of {n} samples")

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, (list, tuple)):
            return [self.dataset[int(self.indices[i])] for i in index]
        return self.dataset[int(self.indices[index])]

    def _root(self) -> tuple[Dataset, Any]:
        """The innermost data set and these indices mapped into it (nested subsets fold)."""
        dataset, indices = self.dataset, self.indices
        while isinstance(dataset, Subset):
            indices = dataset.indices[indices]
            dataset = dataset.dataset
        return dataset, indices

    def arrays_on(self, backend: backends.Backend) -> tuple:
        dataset, indices = self._root()
        if not hasattr(dataset, "arrays_on"):
            raise TypeError(f"{type(dataset).__name__} has no array storage")
        return tuple(a[backend.asarray(indices)] for a in dataset.arrays_on(backend))

    def get_batch(self, indices: Any, backend: backends.Backend) -> tuple:
        dataset, mine = self._root()
        key = backend.device
        cache = self.__dict__.setdefault("_device_indices", {})
        if key not in cache:
            cache[key] = backend.asarray(mine)
        return dataset.get_batch(cache[key][indices], backend)

    @property
    def batchable(self) -> bool:
        return hasattr(self._root()[0], "get_batch")


class ConcatDataset(Dataset):
    """Several map-style data sets one after another: ``len`` is the sum of theirs.

    Attributes:
        datasets: the parts, in order.
        cumulative_sizes: the running totals of their lengths.
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for i, d in enumerate(self.datasets):
            if isinstance(d, IterableDataset):
                raise TypeError(f"ConcatDataset: part {i} is an IterableDataset, which has no "
                                "indices; chain streams with ChainDataset")
            if not hasattr(d, "__len__") or not hasattr(d, "__getitem__"):
                raise TypeError(f"ConcatDataset: part {i} ({type(d).__name__}) needs len() and "
                                "integer indexing")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        i = int(index)
        if i < 0:
            if -i > n:
                raise IndexError(f"ConcatDataset: index {index} out of range for {n} samples")
            i += n
        if i >= n:
            raise IndexError(f"ConcatDataset: index {index} out of range for {n} samples")
        part = bisect.bisect_right(self.cumulative_sizes, i)
        offset = i - (self.cumulative_sizes[part - 1] if part else 0)
        return self.datasets[part][offset]


class ChainDataset(IterableDataset):
    """Several iterable data sets streamed one after another."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        for i, d in enumerate(self.datasets):
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset: part {i} ({type(d).__name__}) is not an "
                                "IterableDataset; concatenate map-style data sets with "
                                "ConcatDataset")

    def __iter__(self) -> Iterator[Any]:
        for d in self.datasets:
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)  # type: ignore[arg-type]


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """Integer lengths from counts, or from fractions summing to 1 (remainders go first-come)."""
    if all(isinstance(v, int) and not isinstance(v, bool) for v in lengths):
        if sum(lengths) != n or min(lengths) < 0:
            raise ValueError(
                f"random_split: lengths {list(lengths)} do not add up to the data set's {n}"
            )
        return list(lengths)
    fractions = [float(v) for v in lengths]
    if min(fractions) < 0 or max(fractions) > 1 or not math.isclose(sum(fractions), 1.0,
                                                                      abs_tol=1e-6):
        raise ValueError(f"random_split: fractions {fractions} must each be in [0, 1] and sum "
                         "to 1")
    counts = [int(math.floor(n * f)) for f in fractions]
    for i in range(n - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


def random_split(dataset: Dataset, lengths: Sequence[float], generator: Any = None, *,
                 seed: int | None = None) -> list:
    """Splits `dataset` into non-overlapping random `Subset` views.

    Args:
        lengths: sample counts adding up to ``len(dataset)``, or fractions adding up to 1
            (``floor(f * n)`` each, the remaining samples dealt one by one to the first parts,
            as PyTorch does).
        generator: the shuffle's seed (an int) or a NumPy Generator; None draws a seed from the
            engine's generator, which ``ag.manual_seed`` seeds.
        seed: the same as an int `generator` (kedja's earlier spelling).

    Returns:
        One `Subset` per length, in order.

        >>> train, val, test = random_split(dataset, [0.8, 0.1, 0.1], generator=0)
    """
    n = len(dataset)
    counts = _split_lengths(n, lengths)
    if seed is not None:
        if generator is not None:
            raise TypeError("random_split: give generator or seed, not both")
        generator = seed
    if generator is not None and hasattr(generator, "permutation"):
        perm = generator.permutation(n)
    else:
        seed = _engine_seed() if generator is None else _seed("random_split", generator)
        perm = backends.host().xp.random.default_rng(seed).permutation(n)
    out, start = [], 0
    for c in counts:
        out.append(Subset(dataset, perm[start:start + c]))
        start += c
    return out


def train_val_split(dataset: Dataset, val_fraction: float = 0.2,
                    seed: int | None = 0) -> tuple[Subset, Subset]:
    """``(train, val)`` views with ``round(val_fraction * len(dataset))`` validation samples."""
    if not 0.0 <= val_fraction <= 1.0:
        raise ValueError(f"train_val_split: val_fraction must be in [0, 1], got {val_fraction}")
    n = len(dataset)
    n_val = int(round(val_fraction * n))
    train, val = random_split(dataset, [n - n_val, n_val], seed=seed)
    return train, val


def _seed(owner: str, seed: Any) -> int:
    """A shuffling seed: a non-negative int (NumPy's generators take no negative seeds)."""
    return arguments.size(owner, "seed", seed)


def _engine_seed() -> int:
    """A seed drawn from the host backend's generator (the one ``ag.manual_seed`` seeds)."""
    return int(backends.host().integers(0, 2**62, ()))
