"""Data sets and batching: `Dataset`, `TensorDataset`, `Subset`, `DataLoader`, splits.

    >>> from nn.data import TensorDataset, DataLoader, train_val_split
    >>> data = TensorDataset(images, labels)              # Tensors or host arrays
    >>> train, val = train_val_split(data, val_fraction=0.2, seed=0)
    >>> for x, y in DataLoader(train, batch_size=64, shuffle=True, seed=0, device="cuda"):
    ...     ...                                             # x, y are Tensors on cuda

A `TensorDataset` (and a `Subset` of one) is batched on a fast path: the arrays are moved to the
target device once, and each batch is one fancy-indexing op per array on that device, with no
Python loop over samples. Other data sets are read sample by sample and collated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import backends
from autograd.tensor import Tensor

from . import arguments

__all__ = [
    "Dataset", "TensorDataset", "Subset", "DataLoader", "random_split", "train_val_split",
    "default_collate",
]


class Dataset:
    """A map-style data set: ``len(ds)`` samples, ``ds[i]`` the i-th one (a tuple, usually)."""

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError


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
    """The samples ``dataset[i] for i in indices`` (a view: nothing is copied)."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = backends.host().xp.asarray(indices, dtype="int64").reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            raise IndexError(f"Subset: indices out of range for a data set of {n} samples")

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    def __getitem__(self, index: int) -> Any:
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


def _fast(dataset: Dataset) -> bool:
    if isinstance(dataset, Subset):
        return dataset.batchable
    return hasattr(dataset, "get_batch")


def default_collate(samples: list, backend: backends.Backend) -> Any:
    """Stacks a list of samples into a batch on `backend`, keeping the samples' structure.

    Tuples/lists and dicts are collated field by field; Tensors and arrays are stacked along a
    new first axis (on their own backend, then moved); Python numbers become a 1-d array
    (int64 for ints, float32 for floats).
    """
    return _collate(samples, backend, "")


def _collate(samples: list, backend: backends.Backend, where: str) -> Any:
    """`default_collate` of the field `where` ("" for the samples themselves, else a path such
    as "[0]" or "['image']", for errors) of every sample."""
    first = samples[0]
    _check_alike(samples, where)
    if isinstance(first, (tuple, list)):
        return type(first)(_collate(list(f), backend, f"{where}[{i}]")
                           for i, f in enumerate(zip(*samples)))
    if isinstance(first, dict):
        return {k: _collate([s[k] for s in samples], backend, f"{where}[{k!r}]") for k in first}
    try:
        if isinstance(first, Tensor):
            source = first.backend
            stacked = source.xp.stack([s.array for s in samples])
        elif isinstance(first, (bool, int, float)):
            source = backends.host()
            dtype = "int64" if isinstance(first, int) and not isinstance(first, bool) else None
            dtype = dtype or ("bool" if isinstance(first, bool) else "float32")
            stacked = source.xp.asarray(samples, dtype=dtype)
        else:
            source = backends.backend_of_array(first) or backends.host()
            stacked = source.xp.stack([source.asarray(s) for s in samples])
    except (TypeError, ValueError) as e:
        shapes = sorted({str(tuple(getattr(s, "shape", ()))) for s in samples})
        raise type(e)(
            f"default_collate: cannot stack the samples' {_field(where)} into a batch (shapes "
            f"{', '.join(shapes)}): {e}; pad them to one shape or pass a collate_fn"
        ) from None
    if source is not backend:
        stacked = backend.asarray(source.to_numpy(stacked))
    return Tensor._make(stacked, backend)


def _field(where: str) -> str:
    return f"field {where}" if where else "values"


def _kind(sample: Any) -> str:
    """The structure a sample has, for comparing samples (tuple/list, dict or a leaf)."""
    if isinstance(sample, (tuple, list)):
        return f"{type(sample).__name__} of {len(sample)}"
    if isinstance(sample, dict):
        return f"dict with keys {sorted(map(str, sample))}"
    if isinstance(sample, (Tensor, bool, int, float)) or hasattr(sample, "shape"):
        return "value"
    return type(sample).__name__


def _check_alike(samples: list, where: str) -> None:
    """Every sample must have the first one's structure (same tuple length, same dict keys)."""
    first = samples[0]
    if isinstance(first, dict):
        keys = set(first)
        bad = next((i for i, s in enumerate(samples) if not isinstance(s, dict)
                    or set(s) != keys), None)
    elif isinstance(first, (tuple, list)):
        bad = next((i for i, s in enumerate(samples) if not isinstance(s, (tuple, list))
                    or len(s) != len(first)), None)
    else:
        bad = next((i for i, s in enumerate(samples) if isinstance(s, (tuple, list, dict))),
                   None)
    if bad is not None:
        raise ValueError(
            f"default_collate: the samples of a batch differ in structure"
            f"{' at their field ' + where if where else ''}: sample 0 is a {_kind(first)}, "
            f"sample {bad} a "
            f"{_kind(samples[bad])}; every sample must have the same fields (or pass a "
            "collate_fn that handles them)"
        )


class DataLoader:
    """Iterates over a data set in batches of Tensors on a device.

    Args:
        dataset: a `Dataset` (any object with ``len`` and integer indexing works).
        batch_size: samples per batch.
        shuffle: draw a new random order every epoch.
        drop_last: leave out the last, smaller batch.
        seed: seed of the loader's own generator. The order of epoch `e` depends only on
            ``(seed, e)``, so a run is reproducible and can resume at any epoch
            (`set_epoch`). None draws a seed once from the engine's generator, so
            ``ag.manual_seed`` makes the shuffling reproducible too.
        device: where batches go (default: the default backend at iteration time).
        collate_fn: ``collate_fn(samples) -> batch`` for the per-sample path; using it turns
            the fast path off.

    Iterating starts a new epoch (the epoch counter advances when an iteration starts).
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        device: Any = None,
        collate_fn: Callable[[list], Any] | None = None,
    ) -> None:
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: dataset must support len() and integer indexing (a "
                            f"Dataset), got {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = arguments.size("DataLoader", "batch_size", batch_size, minimum=1)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = _engine_seed() if seed is None else _seed("DataLoader", seed)
        if device is not None:
            backends.get(device)  # an unknown or unavailable device fails here, not mid-epoch
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {collate_fn!r}")
        self.device = device
        self.collate_fn = collate_fn
        self.epoch = 0

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    @property
    def backend(self) -> backends.Backend:
        return backends.get(self.device)

    def set_epoch(self, epoch: int) -> None:
        """Makes the next iteration epoch `epoch` (its shuffle order is fixed by seed and epoch)."""
        self.epoch = arguments.size("DataLoader.set_epoch", "epoch", epoch)

    def order(self, epoch: int | None = None) -> Any:
        """The sample order (a host int64 array) of `epoch` (default: the next one)."""
        xp = backends.host().xp
        n = len(self.dataset)
        if not self.shuffle:
            return xp.arange(n, dtype="int64")
        epoch = self.epoch if epoch is None else epoch
        return xp.random.default_rng([self.seed, epoch]).permutation(n).astype("int64")

    def state_dict(self) -> dict:
        """``{"seed", "epoch"}``: all that fixes the order of the coming epochs."""
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        """Restores ``{"seed", "epoch"}`` from `state_dict` (both checked before either is set)."""
        if not isinstance(state, dict) or not {"seed", "epoch"} <= set(state):
            raise ValueError(f"DataLoader.load_state_dict: expected a dict with 'seed' and "
                             f"'epoch', got {state!r}")
        seed = _seed("DataLoader.load_state_dict", state["seed"])
        self.epoch = arguments.size("DataLoader.load_state_dict", "epoch", state["epoch"])
        self.seed = seed

    def __iter__(self) -> Iterator[Any]:
        order = self.order()
        self.epoch += 1
        backend = self.backend
        n, bs = len(order), self.batch_size
        stop = n - n % bs if self.drop_last else n
        if self.collate_fn is None and _fast(self.dataset):
            # One transfer of the order per epoch; each batch is then a slice of it on the device.
            order = backend.asarray(order)
            for start in range(0, stop, bs):
                yield self.dataset.get_batch(order[start:start + bs], backend)
            return
        for start in range(0, stop, bs):
            samples = [self.dataset[int(i)] for i in order[start:start + bs]]
            if self.collate_fn is not None:
                yield self.collate_fn(samples)
            else:
                yield default_collate(samples, backend)

    def __repr__(self) -> str:
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, device={self.backend.device})")


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """Integer lengths from counts, or from fractions summing to 1 (remainders go first-come)."""
    if all(isinstance(v, int) and not isinstance(v, bool) for v in lengths):
        if sum(lengths) != n or min(lengths) < 0:
            raise ValueError(
                f"random_split: lengths {list(lengths)} do not add up to the data set's {n}"
            )
        return list(lengths)
    fractions = [float(v) for v in lengths]
    if min(fractions) < 0 or not math.isclose(sum(fractions), 1.0, abs_tol=1e-6):
        raise ValueError(f"random_split: fractions {fractions} must be >= 0 and sum to 1")
    counts = [int(math.floor(n * f)) for f in fractions]
    for i in range(n - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


def random_split(dataset: Dataset, lengths: Sequence[float], seed: int | None = None) -> list:
    """Splits `dataset` into non-overlapping random `Subset` views.

    Args:
        lengths: sample counts adding up to ``len(dataset)``, or fractions adding up to 1.
        seed: seed of the shuffle (None: drawn from the engine's generator, which
            ``ag.manual_seed`` seeds).

    Returns:
        One `Subset` per length, in order.
    """
    n = len(dataset)
    counts = _split_lengths(n, lengths)
    seed = _engine_seed() if seed is None else _seed("random_split", seed)
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
