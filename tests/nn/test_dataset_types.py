"""Data set types and splits (ConcatDataset, ChainDataset, Subset, random_split) and the
DataLoader's `sampler=` / `batch_sampler=` protocol (what a DistributedSampler plugs into)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from nn.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)


class Range(Dataset):
    def __init__(self, start, stop):
        self.values = list(range(start, stop))

    def __len__(self):
        return len(self.values)

    def __getitem__(self, i):
        return self.values[i]


class Stream(IterableDataset):
    def __init__(self, values):
        self.values = values

    def __iter__(self):
        return iter(self.values)


def test_concat_dataset():
    ds = ConcatDataset([Range(0, 3), Range(10, 12), Range(20, 24)])
    assert len(ds) == 9 and ds.cumulative_sizes == [3, 5, 9]
    assert [ds[i] for i in range(9)] == [0, 1, 2, 10, 11, 20, 21, 22, 23]
    assert ds[-1] == 23 and ds[-9] == 0
    with pytest.raises(IndexError):
        ds[9]
    with pytest.raises(IndexError):
        ds[-10]
    assert [ds2[i] for ds2 in [Range(0, 2) + Range(5, 6)] for i in range(3)] == [0, 1, 5]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])
    with pytest.raises(TypeError, match="ChainDataset"):
        ConcatDataset([Range(0, 2), Stream([1])])


def test_chain_dataset_and_loading_it():
    ds = Stream([1, 2]) + Stream([3, 4, 5])
    assert isinstance(ds, ChainDataset) and list(ds) == [1, 2, 3, 4, 5]
    assert [b.numpy().tolist() for b in DataLoader(ds, batch_size=2)] == [[1, 2], [3, 4], [5]]
    with pytest.raises(TypeError, match="ConcatDataset"):
        ChainDataset([Range(0, 1)])


@pytest.mark.parametrize("fractions, counts", [
    ([0.5, 0.5], [5, 5]),
    ([0.3, 0.3, 0.4], [3, 3, 4]),
    ([0.33, 0.33, 0.34], [4, 3, 3]),  # floor gives 3, 3, 3; the one left goes to the first
    ([1.0, 0.0], [10, 0]),
])
def test_random_split_with_fractions(fractions, counts):
    parts = random_split(Range(0, 10), fractions, generator=0)
    assert [len(p) for p in parts] == counts
    seen = sorted(v for p in parts for v in (p[i] for i in range(len(p))))
    assert seen == list(range(10))


def test_random_split_is_reproducible_and_takes_a_numpy_generator():
    a = random_split(Range(0, 20), [15, 5], generator=4)
    b = random_split(Range(0, 20), [15, 5], generator=4)
    assert list(a[1].indices) == list(b[1].indices)
    c = random_split(Range(0, 20), [0.75, 0.25], generator=np.random.default_rng(4))
    assert len(c[0]) == 15
    ag.manual_seed(1)
    d = random_split(Range(0, 20), [10, 10])
    ag.manual_seed(1)
    e = random_split(Range(0, 20), [10, 10])
    assert list(d[0].indices) == list(e[0].indices)
    for bad in ([0.5, 0.6], [11, 10], [-0.5, 1.5]):
        with pytest.raises(ValueError):
            random_split(Range(0, 20), bad)


def test_subset_of_a_subset_keeps_the_fast_path():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    inner = Subset(TensorDataset(x, np.arange(10)), [9, 7, 5, 3, 1])
    outer = Subset(inner, [4, 0])
    assert outer[1][1].item() == 9
    (xb, yb), = list(DataLoader(outer, batch_size=2))
    assert yb.numpy().tolist() == [1, 9]


class EpochSampler:
    """A sampler as a distributed one is: __iter__, __len__, set_epoch; this process's share of
    a permutation fixed by (seed, epoch)."""

    def __init__(self, n, rank, world, seed=0):
        self.n, self.rank, self.world, self.seed, self.epoch = n, rank, world, seed, 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __iter__(self):
        perm = np.random.default_rng([self.seed, self.epoch]).permutation(self.n)
        return iter(perm[self.rank::self.world].tolist())

    def __len__(self):
        return len(range(self.rank, self.n, self.world))


def test_a_distributed_style_sampler_plugs_into_sampler():
    ds = Range(0, 10)
    loaders = [DataLoader(ds, batch_size=2, sampler=EpochSampler(10, r, 2)) for r in (0, 1)]
    assert [len(lo) for lo in loaders] == [3, 3]
    for epoch in range(2):
        for lo in loaders:
            lo.set_epoch(epoch)  # forwarded to the sampler, as DistributedSampler needs
        shares = [sum((b.numpy().tolist() for b in lo), []) for lo in loaders]
        assert sorted(shares[0] + shares[1]) == list(range(10))
        assert shares[0] == list(iter(loaders[0].sampler))
        if epoch == 0:
            first = shares
    assert first != shares  # a new permutation in the next epoch
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, sampler=EpochSampler(10, 0, 2), shuffle=True)


def test_batch_sampler_argument():
    ds = Range(0, 10)
    batches = BatchSampler(EpochSampler(10, 0, 1), batch_size=4, drop_last=True)
    loader = DataLoader(ds, batch_sampler=batches)
    out = [b.numpy().tolist() for b in loader]
    assert [len(b) for b in out] == [4, 4] and len(loader) == 2
    loader.set_epoch(3)  # reaches the sampler inside the batch sampler
    assert batches.sampler.epoch == 3
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, batch_sampler=batches, batch_size=4)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, batch_sampler=batches, drop_last=True)


def test_a_stream_without_a_length():
    stream = Stream([1, 2, 3])
    with pytest.raises(TypeError, match="no len"):
        len(stream)
    loader = DataLoader(stream, batch_size=2)
    with pytest.raises(TypeError):
        len(loader)
    assert "of ?" in repr(loader)
    assert [b.numpy().tolist() for b in loader] == [[1, 2], [3]]
