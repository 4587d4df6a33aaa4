"""nn.utils.rnn: pad_sequence, pack_padded_sequence, pad_packed_sequence, pack_sequence and
their inverses, with PyTorch's semantics (enforce_sorted, batch_first, total_length), values
written out by hand, gradients, and no device synchronisation."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from autograd.gradcheck import gradcheck, gradgradcheck
from nn.utils.rnn import (
    PackedSequence,
    invert_permutation,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)


def _seqs(backend, lengths=(3, 1, 2), features=2):
    """Sequences whose entries name themselves: value 100 b + 10 t + f."""
    return [ag.tensor([[100.0 * b + 10 * t + f for f in range(features)] for t in range(n)],
                      dtype="float64", device=backend) for b, n in enumerate(lengths)]


def test_pad_sequence(backend):
    seqs = _seqs(backend)
    padded = pad_sequence(seqs, padding_value=-1.0)
    assert padded.shape == (3, 3, 2)
    p = padded.numpy()
    assert p[2, 0, 1] == 21 and p[0, 1, 0] == 100 and p[1, 2, 1] == 211
    assert (p[1:, 1] == -1).all() and (p[2, 2] == -1).all()
    np.testing.assert_array_equal(pad_sequence(seqs, batch_first=True).numpy(),
                                  pad_sequence(seqs).numpy().transpose(1, 0, 2))
    left = pad_sequence(seqs, padding_side="left").numpy()
    assert left[2, 1, 0] == 100 and (left[:2, 1] == 0).all() and left[1, 2, 0] == 200


def test_pack_padded_sequence_layout(backend):
    padded = pad_sequence(_seqs(backend, (3, 2, 2)))
    packed = pack_padded_sequence(padded, [3, 2, 2])
    assert isinstance(packed, PackedSequence) and packed.sorted_indices is None
    np.testing.assert_array_equal(packed.batch_sizes.numpy(), [3, 3, 1])
    assert packed.batch_sizes.dtype == np.int64 and packed.batch_sizes.device == "cpu"
    np.testing.assert_array_equal(packed.data.numpy()[:, 0],
                                  [0, 100, 200, 10, 110, 210, 20])
    assert packed.data.device == backend.device


def test_unsorted_lengths(backend):
    seqs = _seqs(backend, (1, 3, 2))
    packed = pack_sequence(seqs, enforce_sorted=False)
    np.testing.assert_array_equal(packed.sorted_indices.numpy(), [1, 2, 0])
    np.testing.assert_array_equal(packed.unsorted_indices.numpy(), [2, 0, 1])
    np.testing.assert_array_equal(packed.batch_sizes.numpy(), [3, 2, 1])
    np.testing.assert_array_equal(packed.data.numpy()[:, 0], [100, 200, 0, 110, 210, 120])
    padded, lengths = pad_packed_sequence(packed, batch_first=True)
    np.testing.assert_array_equal(lengths.numpy(), [1, 3, 2])
    np.testing.assert_array_equal(padded.numpy(), pad_sequence(seqs, batch_first=True).numpy())
    for got, want in zip(unpack_sequence(packed), seqs):
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_enforce_sorted_refuses_unsorted_lengths(backend):
    padded = pad_sequence(_seqs(backend, (1, 3)))
    with pytest.raises(ValueError, match="must be sorted in decreasing order when "
                                         "`enforce_sorted` is True"):
        pack_padded_sequence(padded, [1, 3])
    with pytest.raises(ValueError, match="must be sorted"):
        pack_sequence(_seqs(backend, (1, 3)))


def test_length_errors(backend):
    padded = pad_sequence(_seqs(backend, (3, 2)))
    with pytest.raises(ValueError, match="has to be greater than 0"):
        pack_padded_sequence(padded, [3, 0])
    with pytest.raises(ValueError, match="len\\(lengths\\) to be equal to the batch size, but "
                                         "got 3 \\(batch_size=2\\)"):
        pack_padded_sequence(padded, [3, 2, 1])
    with pytest.raises(ValueError, match="a length of 4 exceeds the 3 time steps"):
        pack_padded_sequence(padded, [4, 2])
    with pytest.raises(ValueError, match="empty list of sequences"):
        pad_sequence([])
    with pytest.raises(ValueError, match="same trailing axes"):
        pad_sequence([ag.zeros(2, 3), ag.zeros(2, 4)])


def test_total_length(backend):
    packed = pack_sequence(_seqs(backend, (3, 1)))
    padded, lengths = pad_packed_sequence(packed, total_length=5, padding_value=7.0)
    assert padded.shape == (5, 2, 2)
    assert (padded.numpy()[3:] == 7).all() and (padded.numpy()[1:, 1] == 7).all()
    with pytest.raises(ValueError, match="total_length=2 and max sequence length being 3"):
        pad_packed_sequence(packed, total_length=2)


def test_lengths_from_a_host_tensor_and_not_from_a_device():
    x = ag.zeros(3, 2, 1)
    packed = pack_padded_sequence(x, ag.tensor([3, 2]))
    np.testing.assert_array_equal(packed.batch_sizes.numpy(), [2, 2, 1])
    with pytest.raises(RuntimeError, match="expected a 1-D host \\(cpu\\) int64 tensor"):
        pack_padded_sequence(x.to("fake"), ag.tensor([3, 2], device="fake"))


def test_round_trips(backend):
    seqs = _seqs(backend, (2, 4, 1, 3))
    padded = pad_sequence(seqs, batch_first=True)
    lengths = [2, 4, 1, 3]
    packed = pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False)
    again, got = pad_packed_sequence(packed, batch_first=True)
    np.testing.assert_array_equal(again.numpy(), padded.numpy())
    np.testing.assert_array_equal(got.numpy(), lengths)
    for a, b in zip(unpad_sequence(padded, lengths, batch_first=True), seqs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_packing_is_differentiable(backend):
    lengths = [3, 1, 2]
    x = ag.tensor(np.random.default_rng(0).standard_normal((3, 3, 2)), device=backend,
                  requires_grad=True)

    def round_trip(x):
        packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
        return pad_packed_sequence(PackedSequence(packed.data * packed.data, *packed[1:]))[0]

    assert gradcheck(round_trip, (x,))
    assert gradgradcheck(round_trip, (x,))
    parts = [ag.tensor(np.ones((n, 2)), device=backend, requires_grad=True) for n in lengths]
    pad_sequence(parts, padding_value=5.0).sum().backward()
    for p in parts:
        np.testing.assert_array_equal(p.grad.numpy(), 1.0)


def test_packed_sequence_moves_and_casts(backend):
    packed = pack_sequence(_seqs("cpu", (2, 1)), enforce_sorted=False)
    moved = packed.to(backend).float()
    assert moved.data.device == backend.device and moved.data.dtype == np.float32
    assert moved.batch_sizes.device == "cpu" and moved.sizes() == [2, 1]
    assert moved.double().data.dtype == np.float64
    inverse = invert_permutation(ag.tensor([2, 0, 1], device="cpu"))
    np.testing.assert_array_equal(inverse.numpy(), [1, 2, 0])
    assert invert_permutation(None) is None


def test_no_device_synchronisation():
    import backends

    fake = backends.get("fake")
    seqs = [ag.randn(n, 3, device=fake) for n in (4, 2, 3)]
    fake.reset_sync_count()
    with fake.expect_no_sync():
        packed = pack_sequence(seqs, enforce_sorted=False)
        padded, lengths = pad_packed_sequence(packed, batch_first=True, total_length=6)
        pad_sequence(seqs)
    assert padded.shape == (3, 6, 3) and lengths.device == "cpu"


def test_clipping_is_where_pytorch_code_looks_for_it():
    import nn
    import optim

    assert nn.utils.clip_grad_norm_ is optim.clip.clip_grad_norm_
    assert nn.utils.clip_grad_value_ is optim.clip.clip_grad_value_
