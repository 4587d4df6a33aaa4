"""nn.samplers: the orders a DataLoader reads a map-style data set in."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from nn.data import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)


def test_sequential_sampler():
    s = SequentialSampler(range(5))
    assert list(s) == [0, 1, 2, 3, 4] and len(s) == 5
    assert list(SequentialSampler([])) == []


def test_random_sampler_is_a_new_permutation_each_epoch_fixed_by_seed_and_epoch():
    s = RandomSampler(range(30), generator=3)
    first, second = list(s), list(s)
    assert sorted(first) == list(range(30)) and sorted(second) == list(range(30))
    assert first != second
    assert s.state_dict() == {"seed": 3, "epoch": 2}
    again = RandomSampler(range(30), generator=3)
    assert list(again) == first
    again.set_epoch(1)
    assert list(again) == second
    other = RandomSampler(range(30), generator=4)
    assert list(other) != first
    resumed = RandomSampler(range(30), generator=0)
    resumed.load_state_dict({"seed": 3, "epoch": 1})
    assert list(resumed) == second
    assert all(type(i) is int for i in first)


def test_random_sampler_without_a_generator_follows_manual_seed():
    ag.manual_seed(5)
    a = list(RandomSampler(range(20)))
    ag.manual_seed(5)
    assert list(RandomSampler(range(20))) == a


def test_random_sampler_from_a_numpy_generator_draws_from_its_state():
    a = RandomSampler(range(10), generator=np.random.default_rng(0))
    b = RandomSampler(range(10), generator=np.random.default_rng(0))
    assert [list(a), list(a)] == [list(b), list(b)]
    assert a.state_dict()["seed"] is None
    with pytest.raises(ValueError, match="NumPy generator"):
        a.load_state_dict({"seed": 1, "epoch": 0})


def test_random_sampler_num_samples_and_replacement():
    s = RandomSampler(range(4), num_samples=10, generator=0)
    drawn = list(s)
    assert len(drawn) == 10 == len(s)
    # without replacement, more samples than the data set chain permutations
    assert sorted(drawn[:4]) == [0, 1, 2, 3] and sorted(drawn[4:8]) == [0, 1, 2, 3]
    assert len(set(drawn[8:])) == 2
    fewer = list(RandomSampler(range(10), num_samples=3, generator=0))
    assert len(fewer) == 3 and len(set(fewer)) == 3
    with_repeats = list(RandomSampler(range(3), replacement=True, num_samples=200, generator=1))
    assert len(with_repeats) == 200 and set(with_repeats) == {0, 1, 2}
    assert list(RandomSampler([], generator=0)) == []


@pytest.mark.parametrize("kw, exc, match", [
    (dict(replacement=1), TypeError, "replacement should be a boolean"),
    (dict(num_samples=0), ValueError, "num_samples should be a positive integer"),
    (dict(num_samples=2.5), ValueError, "num_samples should be a positive integer"),
    (dict(generator=-1), ValueError, "generator"),
    (dict(generator="seed"), TypeError, "generator"),
])
def test_random_sampler_errors(kw, exc, match):
    with pytest.raises(exc, match=match):
        RandomSampler(range(3), **kw)


def test_subset_random_sampler():
    s = SubsetRandomSampler([7, 3, 9, 11], generator=0)
    a, b = list(s), list(s)
    assert sorted(a) == sorted(b) == [3, 7, 9, 11] and len(s) == 4
    assert a != b or list(s) != a  # new orders as epochs go by
    assert list(SubsetRandomSampler([], generator=0)) == []
    with pytest.raises(TypeError, match="ints"):
        SubsetRandomSampler([0.5, 1.5])


def test_weighted_random_sampler_follows_the_weights():
    weights = [0.0, 1.0, 3.0, 6.0]
    s = WeightedRandomSampler(weights, num_samples=20_000, generator=0)
    counts = np.bincount(list(s), minlength=4) / 20_000
    assert counts[0] == 0
    np.testing.assert_allclose(counts[1:], [0.1, 0.3, 0.6], atol=0.02)
    assert len(s) == 20_000
    t = WeightedRandomSampler(ag.tensor(weights), num_samples=3, replacement=False, generator=1)
    drawn = list(t)
    assert len(set(drawn)) == 3 and 0 not in drawn


@pytest.mark.parametrize("args, kw, exc, match", [
    ([[1.0, 2.0], 0], {}, ValueError, "num_samples should be a positive integer"),
    ([[[1.0, 2.0]], 2], {}, ValueError, "1d sequence"),
    ([[1.0, -2.0], 2], {}, ValueError, "non-negative"),
    ([[1.0, float("nan")], 2], {}, ValueError, "finite"),
    ([[0.0, 0.0], 2], {}, ValueError, "sum to zero"),
    ([[1.0, 0.0, 1.0], 3], dict(replacement=False), ValueError, "without replacement"),
    ([[1.0], 1], dict(replacement="yes"), TypeError, "replacement should be a boolean"),
    ([["a", "b"], 1], {}, TypeError, "sequence of numbers"),
])
def test_weighted_random_sampler_errors(args, kw, exc, match):
    with pytest.raises(exc, match=match):
        WeightedRandomSampler(*args, **kw)


def test_batch_sampler():
    assert list(BatchSampler(SequentialSampler(range(5)), 2, False)) == [[0, 1], [2, 3], [4]]
    assert list(BatchSampler(range(5), 2, True)) == [[0, 1], [2, 3]]
    assert len(BatchSampler(range(5), 2, False)) == 3 and len(BatchSampler(range(5), 2, True)) == 2
    batches = [b.tolist() for b in BatchSampler(RandomSampler(range(7), generator=2), 3,
                                                 False).batches()]
    assert batches == list(BatchSampler(RandomSampler(range(7), generator=2), 3, False))
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(3), True, False)
    with pytest.raises(TypeError, match="drop_last should be a boolean"):
        BatchSampler(range(3), 2, None)


def test_batch_sampler_respects_a_subclass_iter():
    class Reversed(SequentialSampler):
        def __iter__(self):
            return iter(reversed(range(len(self.data_source))))

    b = BatchSampler(Reversed(range(5)), 2, False)
    assert [x.tolist() for x in b.batches()] == [[4, 3], [2, 1], [0]] == list(b)


def test_custom_sampler_subclass():
    class Evens(Sampler):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(0, self.n, 2))

        def __len__(self):
            return (self.n + 1) // 2

    assert list(BatchSampler(Evens(7), 3, False)) == [[0, 2, 4], [6]]
