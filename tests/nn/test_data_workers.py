"""DataLoader with worker processes: same batches as one process, seeded and reproducible,
failures surfaced (a worker's exception with its traceback, a dead worker without a hang)."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from nn.data import DataLoader, Dataset, IterableDataset, get_worker_info


class Numbers(Dataset):
    """Sample i: (float32 i, i); raises at `fail_at`, exits the process at `die_at`."""

    def __init__(self, n=13, fail_at=None, die_at=None, sleep=0.0):
        self.n, self.fail_at, self.die_at, self.sleep = n, fail_at, die_at, sleep

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise_for_sample(i)
        if i == self.die_at:
            os._exit(3)
        if self.sleep:
            time.sleep(self.sleep)
        return np.float32(i), i


def raise_for_sample(i):
    raise ValueError(f"sample {i} is corrupt")


class Noisy(Dataset):
    """Sample i: a draw of NumPy's global generator (seeded per worker) and the worker's pid."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return np.random.random(), info.id if info else -1, os.getpid()


class Stream(IterableDataset):
    """0..n-1, split between the workers by get_worker_info (each takes every k-th)."""

    def __init__(self, n=10):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))

    def __len__(self):
        return self.n


def _labels(loader):
    return [b[1].numpy().tolist() for b in loader]


@pytest.mark.parametrize("kw", [dict(), dict(shuffle=True, seed=3), dict(drop_last=True),
                                dict(batch_size=None)])
def test_workers_give_the_batches_of_one_process_in_order(kw):
    kw = {"batch_size": 4, **kw}
    one = DataLoader(Numbers(), **kw)
    two = DataLoader(Numbers(), num_workers=2, **kw)
    if kw["batch_size"] is None:  # samples are yielded unbatched: (float32, int) as given
        assert [s[1] for s in two] == [s[1] for s in one] == list(range(13))
        return
    for _ in range(2):  # two epochs: a shuffled order changes and stays equal between the two
        a, b = _labels(one), _labels(two)
        assert a == b
    batch = next(iter(two))
    assert batch[0].dtype == np.float32 and batch[1].dtype == np.int64


def test_shuffled_epochs_are_reproducible_from_the_seed():
    runs = [_labels(DataLoader(Numbers(), batch_size=5, shuffle=True, seed=7, num_workers=2))
            for _ in range(2)]
    assert runs[0] == runs[1]
    loader = DataLoader(Numbers(), batch_size=5, shuffle=True, seed=7, num_workers=2)
    first, second = _labels(loader), _labels(loader)
    assert first != second and sorted(sum(first, [])) == list(range(13))


def test_workers_are_seeded_reproducibly_and_apart():
    def draws():
        out = list(DataLoader(Noisy(), batch_size=2, num_workers=2, seed=11))
        return np.concatenate([b[0].numpy() for b in out]), sum((b[1].numpy().tolist()
                                                                 for b in out), [])

    (a, ids), (b, _) = draws(), draws()
    np.testing.assert_array_equal(a, b)  # same seed: same random draws in the workers
    assert ids == [0, 0, 1, 1, 0, 0, 1, 1]  # batches dealt to the workers in turn
    assert a[0] != a[2]  # the two workers' generators differ


def test_worker_init_fn_and_worker_info():
    assert get_worker_info() is None

    def init(worker_id):
        info = get_worker_info()
        assert info.id == worker_id and info.num_workers == 3
        np.random.seed(100 + worker_id)

    out = list(DataLoader(Noisy(), batch_size=1, num_workers=3, worker_init_fn=init))
    first = [float(b[0].numpy()[0]) for b in out[:3]]
    assert first == [float(np.random.RandomState(100 + w).random_sample()) for w in range(3)]


def test_a_worker_exception_is_raised_with_its_traceback():
    loader = DataLoader(Numbers(fail_at=6), batch_size=2, num_workers=2)
    with pytest.raises(ValueError) as info:
        list(loader)
    text = str(info.value)
    assert "DataLoader worker process" in text and "sample 6 is corrupt" in text
    assert "raise_for_sample" in text  # the worker's own frames


def test_a_dead_worker_raises_instead_of_hanging():
    loader = DataLoader(Numbers(die_at=5), batch_size=2, num_workers=2)
    with pytest.raises(RuntimeError, match=r"worker \d .*exit code 3"):
        list(loader)


def test_timeout():
    loader = DataLoader(Numbers(n=4, sleep=2.0), batch_size=2, num_workers=1, timeout=0.2)
    with pytest.raises(RuntimeError, match="timed out"):
        list(loader)


def test_persistent_workers_live_across_epochs():
    loader = DataLoader(Noisy(), batch_size=4, num_workers=2, persistent_workers=True,
                        prefetch_factor=1)
    pids = [sorted(set(sum((b[2].numpy().tolist() for b in loader), []))) for _ in range(2)]
    assert pids[0] == pids[1] and len(pids[0]) == 2
    fresh = DataLoader(Noisy(), batch_size=4, num_workers=2)
    again = [sorted(set(sum((b[2].numpy().tolist() for b in fresh), []))) for _ in range(2)]
    assert again[0] != again[1]


def test_iterable_dataset_split_between_workers():
    assert [b.numpy().tolist() for b in DataLoader(Stream(), batch_size=4)] == \
        [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    # as PyTorch: each worker batches its own share, the loader takes them in turn
    assert [b.numpy().tolist() for b in DataLoader(Stream(), batch_size=4, num_workers=2)] == \
        [[0, 2, 4, 6], [1, 3, 5, 7], [8], [9]]
    assert [b.numpy().tolist() for b in DataLoader(Stream(), batch_size=4, num_workers=2,
                                                   drop_last=True)] == [[0, 2, 4, 6], [1, 3, 5, 7]]


def test_custom_collate_fn_runs_in_the_worker():
    def collate(samples):
        return {"sum": sum(s[1] for s in samples), "pid": os.getpid()}

    out = list(DataLoader(Numbers(n=6), batch_size=3, num_workers=1, collate_fn=collate))
    assert [b["sum"] for b in out] == [3, 12]
    assert out[0]["pid"] != os.getpid()


def test_sampler_and_batch_sampler_reach_the_workers():
    sampler = [12, 0, 5, 5]
    loader = DataLoader(Numbers(), batch_size=3, sampler=sampler, num_workers=2)
    assert _labels(loader) == [[12, 0, 5], [5]]
    loader = DataLoader(Numbers(), batch_sampler=[[1, 2], [11], [3, 4, 5]], num_workers=2)
    assert _labels(loader) == [[1, 2], [11], [3, 4, 5]]
