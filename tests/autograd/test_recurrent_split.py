"""The recurrent sequence op's two-core split (autograd/ops/rnn_plan.splits): an equal-length
batch runs as two halves of the batch, each over the whole time loop, forward and backward;
outputs, final states and every gradient agree with the loop run whole (to GEMM rounding: a
GEMM over half the rows may round its last bit differently)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import backends
from autograd.ops import rnn_plan
from autograd.ops.rnn_sequence import recurrence
from backends import host_threads


@pytest.fixture
def forced_split(monkeypatch):
    """Splits on any machine and at any size (a stand-in for OpenBLAS's per-thread setter)."""
    monkeypatch.setattr(host_threads, "_ready", True)
    monkeypatch.setattr(host_threads, "_setter", lambda n: 1)
    monkeypatch.setattr(host_threads, "_worker", None)
    monkeypatch.setattr(host_threads, "blas_spins", lambda: False)
    return monkeypatch


def _run(mode, sizes, batch, proj, reverse, seed=0):
    gates = rnn_plan.GATES[mode]
    hidden, width = 5, 3 if proj else 5
    rng = np.random.default_rng(seed)
    leaf = lambda *shape: ag.tensor(rng.standard_normal(shape), requires_grad=True)  # noqa: E731
    xproj = leaf(sum(sizes), gates * hidden)
    h0, w_hh = leaf(batch, width), leaf(gates * hidden, width)
    c0 = leaf(batch, hidden) if mode == "LSTM" else None
    b_hh = leaf(gates * hidden) if mode == "GRU" else None
    w_hr = leaf(width, hidden) if proj else None
    ys, hn, cn = recurrence(xproj, h0, c0, w_hh, b_hh, w_hr, mode=mode, batch_sizes=sizes,
                            batch=batch, reverse=reverse)
    loss = (ys * ys).sum() + (hn * hn.sin()).sum() + (0 if cn is None else (cn * cn).sum())
    loss.backward()
    leaves = [t for t in (xproj, h0, c0, w_hh, b_hh, w_hr) if t is not None]
    return [ys.numpy(), hn.numpy()] + [t.grad.numpy() for t in leaves]


@pytest.mark.parametrize("mode,proj", [("LSTM", False), ("LSTM", True), ("GRU", False),
                                       ("RNN_TANH", False), ("RNN_RELU", False)])
@pytest.mark.parametrize("reverse", [False, True])
def test_the_split_loop_agrees_with_the_whole_loop(forced_split, mode, proj, reverse) -> None:
    sizes, batch = (6, 6, 6, 6), 6
    forced_split.setattr(rnn_plan, "SPLIT_WORK", 1 << 60)
    whole = _run(mode, sizes, batch, proj, reverse)
    assert not rnn_plan.splits(backends.get("numpy"), sizes, batch, 1)
    forced_split.setattr(rnn_plan, "SPLIT_WORK", 0)
    assert rnn_plan.splits(backends.get("numpy"), sizes, batch, 1)
    calls = []
    real = host_threads.halves
    forced_split.setattr("autograd.ops.rnn_sequence.halves",
                         lambda *a: calls.append("fwd") or real(*a))
    forced_split.setattr("autograd.ops.rnn_sequence_grad.halves",
                         lambda *a: calls.append("bwd") or real(*a))
    split = _run(mode, sizes, batch, proj, reverse)
    assert calls == ["fwd", "bwd"]
    for a, b in zip(split, whole):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_uneven_lengths_small_batches_and_spinning_blas_threads_run_whole(monkeypatch) -> None:
    host = backends.get("numpy")
    monkeypatch.setattr(host_threads, "blas_spins", lambda: True)
    assert not rnn_plan.splits(host, (32,) * 4, 32, 1 << 30)  # OpenBLAS runs 2+ threads
    monkeypatch.setattr(host_threads, "blas_spins", lambda: False)
    assert not rnn_plan.splits(host, (6, 6, 4), 6, 1 << 30)  # a sequence ends early
    assert not rnn_plan.splits(host, (3, 3), 3, 1 << 30)  # fewer than 4 sequences
    assert not rnn_plan.splits(host, (), 0, 1 << 30)
    assert not rnn_plan.splits(host, (32,) * 4, 32, 64)  # too little work per step
    assert not rnn_plan.splits(backends.get("fake"), (32,) * 4, 32, 1 << 30)
