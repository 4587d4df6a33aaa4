"""nn.data: TensorDataset, Subset, DataLoader (batching, shuffling, devices), splits."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import autograd as ag
from nn.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
    train_val_split,
)


def _no_sync(backend):
    return backend.expect_no_sync() if hasattr(backend, "expect_no_sync") else \
        contextlib.nullcontext()


def _data(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return x, y


class Squares(Dataset):
    """A per-sample data set (no array storage): sample i is (float i, int i*i)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return float(i), i * i


def test_tensor_dataset_indexing_and_lengths():
    x, y = _data()
    ds = TensorDataset(x, ag.tensor(y))
    assert len(ds) == 10
    a, b = ds[3]
    np.testing.assert_array_equal(a.numpy(), x[3])
    assert b.item() == 3
    with pytest.raises(ValueError, match="first dimension"):
        TensorDataset(x, y[:5])
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


@pytest.mark.parametrize("drop_last, sizes", [(False, [4, 4, 2]), (True, [4, 4])])
def test_batch_sizes_and_len(drop_last, sizes):
    x, y = _data()
    loader = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=drop_last)
    got = [len(xb) for xb, _ in loader]
    assert got == sizes
    assert len(loader) == len(sizes)


def test_no_shuffle_keeps_order_and_dtypes(backend):
    x, y = _data()
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(loader)
    xs = np.concatenate([b[0].numpy() for b in batches])
    ys = np.concatenate([b[1].numpy() for b in batches])
    np.testing.assert_array_equal(xs, x)
    np.testing.assert_array_equal(ys, y)
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64
    assert batches[0][0].device == backend.device  # the default device, set by the fixture


def test_shuffle_is_a_permutation_reproducible_and_new_each_epoch():
    x, y = _data(50)
    ds = TensorDataset(x, y)
    loader = DataLoader(ds, batch_size=8, shuffle=True, seed=3)
    first = np.concatenate([b[1].numpy() for b in loader])
    second = np.concatenate([b[1].numpy() for b in loader])
    assert sorted(first) == list(range(50)) and sorted(second) == list(range(50))
    assert not np.array_equal(first, second)
    again = DataLoader(ds, batch_size=8, shuffle=True, seed=3)
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in again]), first)
    again.set_epoch(1)  # resume at epoch 1: the same order as the second epoch above
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in again]), second)
    other = DataLoader(ds, batch_size=8, shuffle=True, seed=4)
    assert not np.array_equal(np.concatenate([b[1].numpy() for b in other]), first)
    state = loader.state_dict()
    assert state == {"seed": 3, "epoch": 2}


def test_batches_land_on_the_target_device_without_syncs(backend):
    x, y = _data(20)
    loader = DataLoader(TensorDataset(x, y), batch_size=6, shuffle=True, seed=0,
                        device=backend.device)
    list(loader)  # the first epoch copies the arrays to the device once
    with _no_sync(backend):
        batches = list(loader)
    for xb, yb in batches:
        assert xb.device == backend.device and yb.device == backend.device
    ys = np.concatenate([b[1].numpy() for b in batches])
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), x[ys])


def test_fast_path_never_reads_single_samples():
    class NoSingles(TensorDataset):
        def __getitem__(self, i):
            raise AssertionError("the fast path must index whole batches")

    x, y = _data(9)
    ds = NoSingles(x, y)
    assert sum(len(b[0]) for b in DataLoader(ds, batch_size=4, shuffle=True, seed=0)) == 9
    train, _ = random_split(ds, [6, 3], seed=0)
    assert sum(len(b[0]) for b in DataLoader(train, batch_size=4)) == 6


def test_subset_fast_path_matches_per_sample_path():
    x, y = _data(30)
    sub = Subset(Subset(TensorDataset(x, y), np.arange(5, 30)), [0, 2, 4, 20])
    fast = list(DataLoader(sub, batch_size=3))
    slow = list(DataLoader(sub, batch_size=3, collate_fn=lambda s: default_collate(
        s, fast[0][0].backend)))
    for (fx, fy), (sx, sy) in zip(fast, slow):
        np.testing.assert_array_equal(fx.numpy(), sx.numpy())
        np.testing.assert_array_equal(fy.numpy(), sy.numpy())
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in fast]), [5, 7, 9, 25])
    with pytest.raises(IndexError):
        Subset(TensorDataset(x, y), [30])


def test_per_sample_dataset_is_collated(backend):
    loader = DataLoader(Squares(5), batch_size=2, device=backend.device)
    batches = list(loader)
    assert [b[0].shape for b in batches] == [(2,), (2,), (1,)]
    xb, yb = batches[1]
    assert xb.dtype == np.float64 and yb.dtype == np.int64  # Python floats: float64, as PyTorch
    assert xb.device == backend.device
    np.testing.assert_array_equal(yb.numpy(), [4, 9])


def test_collate_dicts_and_custom_collate_fn(backend):
    class Dicts(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return {"x": ag.full((2,), float(i)), "label": i}

    batch = next(iter(DataLoader(Dicts(), batch_size=4)))
    assert batch["x"].shape == (4, 2) and batch["label"].tolist() == [0, 1, 2, 3]
    joined = next(iter(DataLoader(Squares(3), batch_size=3, collate_fn=lambda s: s)))
    assert joined == [(0.0, 0), (1.0, 1), (2.0, 4)]


def test_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(Squares(3), batch_size=0)


def test_random_split_views():
    ds = TensorDataset(*_data(20))
    a, b, c = random_split(ds, [10, 6, 4], seed=1)
    idx = np.concatenate([a.indices, b.indices, c.indices])
    assert sorted(idx) == list(range(20))
    a2, _, _ = random_split(ds, [10, 6, 4], seed=1)
    np.testing.assert_array_equal(a.indices, a2.indices)
    halves = random_split(ds, [0.5, 0.5], seed=1)
    assert [len(h) for h in halves] == [10, 10]
    thirds = random_split(ds, [1 / 3, 1 / 3, 1 / 3], seed=0)
    assert sum(len(t) for t in thirds) == 20
    with pytest.raises(ValueError, match="add up"):
        random_split(ds, [10, 5])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(ds, [0.5, 0.2])
    train, val = train_val_split(ds, 0.25, seed=0)
    assert (len(train), len(val)) == (15, 5)
    assert not set(train.indices) & set(val.indices)
    # Subset items come from the parent
    np.testing.assert_array_equal(val[0][0].numpy(), ds[int(val.indices[0])][0].numpy())


def test_manual_seed_fixes_the_shuffle_of_an_unseeded_loader() -> None:
    data = TensorDataset(ag.arange(20))

    def order() -> list:
        ag.manual_seed(7)
        loader = DataLoader(data, batch_size=20, shuffle=True)
        return next(iter(loader))[0].tolist()

    assert order() == order()
    ag.manual_seed(7)
    first = random_split(data, [10, 10])[0].indices
    ag.manual_seed(7)
    assert list(random_split(data, [10, 10])[0].indices) == list(first)
