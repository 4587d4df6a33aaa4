"""Data loading (PyTorch's ``torch.utils.data``): data sets, samplers, collation and `DataLoader`.

    >>> from nn.data import TensorDataset, DataLoader, train_val_split
    >>> data = TensorDataset(images, labels)              # Tensors or host arrays
    >>> train, val = train_val_split(data, val_fraction=0.2, seed=0)
    >>> for x, y in DataLoader(train, batch_size=64, shuffle=True, seed=0, device="cuda"):
    ...     ...                                             # x, y are Tensors on cuda

A `TensorDataset` (and a `Subset` of one) is batched on a fast path: the arrays are moved to the
target device once, and each batch is one fancy-indexing op per array on that device, with no
Python loop over samples. Other data sets are read sample by sample and collated, in the main
process or, with ``num_workers > 0``, in worker processes.

The parts live in `nn.dataset_types` (data sets and splits), `nn.samplers`, `nn.collate`,
`nn.dataloader` and `nn.data_workers`; this module gathers them.
"""

from __future__ import annotations

from .collate import default_collate, default_convert
from .data_workers import WorkerInfo, get_worker_info
from .dataloader import DataLoader
from .dataset_types import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
    train_val_split,
)
from .samplers import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "ChainDataset",
    "random_split", "train_val_split", "default_collate", "default_convert", "DataLoader",
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
    "WeightedRandomSampler", "BatchSampler", "WorkerInfo", "get_worker_info",
]
