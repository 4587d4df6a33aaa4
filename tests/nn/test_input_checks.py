"""Inputs that used to be accepted silently or fail late (issue 12 §5, §6): Embedding indices
out of range, DataLoader seeds, epochs and batches whose samples differ in structure."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from nn.data import DataLoader, TensorDataset, default_collate, random_split


# -- Embedding ------------------------------------------------------------------------------
@pytest.mark.parametrize("index", [[-1], [5], [0, 7, 2], [[1, 2], [-3, 0]]])
def test_embedding_index_out_of_range_raises_on_the_host(index):
    emb = nn.Embedding(5, 2)
    bad = next(i for i in np.ravel(index) if not 0 <= i < 5)
    with pytest.raises(IndexError, match=f"index {bad} is out of range for num_embeddings=5"):
        emb(ag.tensor(index))


def test_the_issue_example_no_longer_returns_the_last_row():
    with pytest.raises(IndexError, match="embedding: index -1"):
        nn.Embedding(5, 2)(ag.tensor([-1]))


def test_embedding_in_range_indices_and_empty_indices_work(backend):
    emb = nn.Embedding(5, 2, device=backend)
    index = ag.tensor([[0, 4], [2, 2]], device=backend)
    out = emb(index)
    np.testing.assert_array_equal(out.numpy(), emb.weight.numpy()[[[0, 4], [2, 2]]])
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[:, 0], [1, 0, 2, 0, 1])
    assert emb(ag.tensor(np.zeros(0, dtype=np.int64), device=backend)).shape == (0, 2)
    assert emb(ag.tensor([np.uint8(3)], device=backend)).shape == (1, 2)


def test_embedding_on_a_device_marks_bad_indices_with_nan_without_reading_back():
    # The strict fake device raises on any implicit read to the host, so passing proves the
    # check stays on the device; the rows of bad indices are NaN and get no gradient.
    emb = nn.Embedding(5, 2, device="fake")
    out = emb(ag.tensor([-1, 3, 5], device="fake"))
    values = out.numpy()
    assert np.isnan(values[0]).all() and np.isnan(values[2]).all()
    np.testing.assert_array_equal(values[1], emb.weight.numpy()[3])
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[:, 0], [0, 0, 0, 1, 0])


def test_embedding_padding_idx_still_gets_no_gradient(backend):
    emb = nn.Embedding(4, 3, padding_idx=-1, device=backend)
    assert emb.padding_idx == 3
    emb(ag.tensor([3, 1, 3], device=backend)).sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[:, 0], [0, 1, 0, 0])


def test_functional_embedding_checks_too():
    with pytest.raises(IndexError, match="num_embeddings=2"):
        F.embedding([2], [[1.0], [2.0]])
    with pytest.raises(ValueError, match="padding_idx 5 is out of range"):
        F.embedding([1], [[1.0], [2.0]], padding_idx=5)


# -- DataLoader -----------------------------------------------------------------------------
def _data(n=10):
    return TensorDataset(np.arange(n, dtype=np.float32).reshape(n, 1), np.arange(n))


@pytest.mark.parametrize("seed, error", [("abc", TypeError), (1.5, TypeError), (-1, ValueError),
                                         (True, TypeError)])
def test_a_bad_seed_fails_at_construction(seed, error):
    with pytest.raises(error, match=f"DataLoader: seed must be a non-negative int, got {seed!r}"):
        DataLoader(_data(), shuffle=True, seed=seed)


def test_numpy_integer_seeds_and_large_seeds_work():
    a = DataLoader(_data(), batch_size=5, shuffle=True, seed=np.int64(7))
    b = DataLoader(_data(), batch_size=5, shuffle=True, seed=7)
    np.testing.assert_array_equal(a.order(), b.order())
    assert len(list(DataLoader(_data(), shuffle=True, seed=2**80))) == 10


def test_set_epoch_and_load_state_dict_check_their_values():
    loader = DataLoader(_data(), shuffle=True, seed=0)
    with pytest.raises(ValueError, match="epoch must be a non-negative int, got -1"):
        loader.set_epoch(-1)
    with pytest.raises(TypeError, match="seed must be a non-negative int, got 'x'"):
        loader.load_state_dict({"seed": "x", "epoch": 0})
    with pytest.raises(ValueError, match="expected a dict with 'seed' and 'epoch'"):
        loader.load_state_dict({"seed": 1})
    assert loader.state_dict() == {"seed": 0, "epoch": 0}  # unchanged by the failed loads


@pytest.mark.parametrize("kwargs, error, fragment", [
    ({"batch_size": 0}, ValueError, "batch_size must be a positive int"),
    ({"batch_size": "8"}, TypeError, "batch_size must be a positive int"),
    ({"collate_fn": "stack"}, TypeError, "collate_fn must be callable"),
    ({"device": "nowhere"}, ValueError, "nowhere"),
])
def test_other_bad_loader_arguments_fail_at_construction(kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        DataLoader(_data(), **kwargs)


def test_a_dataset_without_len_is_refused():
    with pytest.raises(TypeError, match="DataLoader: dataset must support len"):
        DataLoader(iter(range(3)))


def test_random_split_checks_its_seed():
    with pytest.raises(ValueError, match="random_split: seed must be a non-negative int"):
        random_split(_data(), [5, 5], seed=-3)


class Samples:
    """A map-style data set over a list of samples."""

    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


@pytest.mark.parametrize("items, fragment", [
    ([{"a": 1.0}, {"b": 2.0}], "sample 0 is a dict with keys ['a'], sample 1 a dict with keys "
                               "['b']"),
    ([(1.0, 2.0), (1.0,)], "sample 0 is a tuple of 2, sample 1 a tuple of 1"),
    ([(1.0, 2), {"a": 1}], "sample 0 is a tuple of 2, sample 1 a dict"),
    ([{"x": [1.0, 2.0]}, {"x": [1.0]}], "at their field ['x']: sample 0 is a list of 2"),
])
def test_samples_of_different_structure_name_the_difference(items, fragment):
    with pytest.raises(ValueError, match="default_collate: the samples of a batch differ") as e:
        next(iter(DataLoader(Samples(items), batch_size=len(items))))
    assert fragment in str(e.value)


def test_samples_of_different_shapes_name_the_field_and_the_shapes():
    items = [{"image": np.zeros((2, 2)), "label": 1}, {"image": np.zeros((3, 2)), "label": 0}]
    with pytest.raises(ValueError, match=r"field \['image'\] into a batch \(shapes \(2, 2\), "
                                         r"\(3, 2\)\)"):
        next(iter(DataLoader(Samples(items), batch_size=2)))


def test_dict_samples_with_the_same_keys_in_another_order_collate(backend):
    batch = default_collate([{"a": 1.0, "b": 2}, {"b": 3, "a": 2.0}], backend)
    np.testing.assert_array_equal(batch["a"].numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(batch["b"].numpy(), [2, 3])
