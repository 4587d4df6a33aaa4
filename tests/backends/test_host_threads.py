"""Two host threads for batched ops (backends.host_threads): same results as one call."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import backends
from autograd.ops.conv import conv2d
from backends import host_threads


@pytest.fixture
def split_on_and_off(monkeypatch):
    """Yields a function running a callable with the split forced on, then off."""
    if not host_threads.enabled():
        pytest.skip("no second core or no per-thread OpenBLAS setter: nothing is split")

    def both(fn):
        out = []
        for on in (True, False):
            monkeypatch.setattr(host_threads, "_ready", on)
            out.append(fn())
        return out

    return both


def test_halves_cover_the_range_once_and_nested_calls_run_whole(split_on_and_off) -> None:
    host = backends.get("numpy")

    def run():
        seen = []

        def fn(a, b):
            seen.append((a, b))
            host_threads.halves(host, lambda c, d: seen.append(("inner", c, d)), 4)

        host_threads.halves(host, fn, 7)
        return sorted(seen, key=str)

    on, off = split_on_and_off(run)
    assert off == [("inner", 0, 4), (0, 7)]
    assert sorted(p for p in on if p[0] != "inner") == [(0, 3), (3, 7)]
    assert [p for p in on if p[0] == "inner"] == [("inner", 0, 4)] * 2


def test_halves_is_one_call_on_a_device() -> None:
    class Device:
        is_device = True

    calls = []
    host_threads.halves(Device(), lambda a, b: calls.append((a, b)), 10)
    assert calls == [(0, 10)]


def test_conv_gradients_agree_with_and_without_the_split(split_on_and_off, monkeypatch) -> None:
    # The forward, the weight gradient and the input gradient all split (the GEMM loops from
    # any size here; the input gradient is over its 1 MiB). Agree to float32 rounding, not bit
    # for bit: a GEMM's rows need not round the same for another row count or BLAS thread
    # count (OpenBLAS's Haswell kernels on Zen 5 differ in the last bit at M = 6400 vs 12800).
    from autograd.ops import conv_gemm

    monkeypatch.setattr(conv_gemm, "_SPLIT_BYTES", 0)
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((32, 8, 20, 20)).astype(np.float32)
    w0 = rng.standard_normal((24, 8, 3, 3)).astype(np.float32)
    b0 = rng.standard_normal(24).astype(np.float32)
    g0 = rng.standard_normal((32, 24, 20, 20)).astype(np.float32)

    def step():
        x = ag.tensor(x0, requires_grad=True)
        w = ag.tensor(w0, requires_grad=True)
        b = ag.tensor(b0, requires_grad=True)
        y = conv2d(x, w, b, padding=1)
        y.backward(ag.tensor(g0))
        return [y.numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()]

    on, off = split_on_and_off(step)
    for a, b in zip(on, off):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * float(np.abs(b).max()))


def test_relu_and_block_pool_are_bit_identical_with_and_without_the_split(
        split_on_and_off) -> None:
    from autograd.ops.pooling import max_pool2d

    rng = np.random.default_rng(1)
    x0 = rng.standard_normal((8, 16, 64, 64)).astype(np.float32)  # 2 MiB: over SPLIT_BYTES
    g0 = rng.standard_normal((8, 16, 32, 32)).astype(np.float32)

    def step():
        x = ag.tensor(x0, requires_grad=True)
        y = max_pool2d(x.relu(), 2)
        y.backward(ag.tensor(g0))
        return [y.numpy(), x.grad.numpy()]

    on, off = split_on_and_off(step)
    for a, b in zip(on, off):
        np.testing.assert_array_equal(a, b)


def test_an_error_in_the_worker_half_reaches_the_caller() -> None:
    if not host_threads.enabled():
        pytest.skip("no second core or no per-thread OpenBLAS setter: nothing is split")
    host = backends.get("numpy")

    def fn(a, b):
        if a > 0:
            raise ValueError("upper half")

    with pytest.raises(ValueError, match="upper half"):
        host_threads.halves(host, fn, 4)
    seen = []  # and the worker still serves the next split
    host_threads.halves(host, lambda a, b: seen.append((a, b)), 4)
    assert sorted(seen) == [(0, 2), (2, 4)]


@pytest.fixture
def forced_split(monkeypatch):
    """`halves` splitting on any machine: a fresh worker and a stand-in for OpenBLAS's
    per-thread setter (the split's logic does not depend on BLAS)."""
    monkeypatch.setattr(host_threads, "_ready", True)
    monkeypatch.setattr(host_threads, "_setter", lambda n: 1)
    monkeypatch.setattr(host_threads, "_worker", None)
    return backends.get("numpy")


def test_a_failed_split_leaves_no_error_for_the_next_call(forced_split) -> None:
    # Both halves fail: the caller's error propagates, and the worker's must not stay behind
    # to be raised by the next, good call.
    def both_fail(a, b):
        raise ValueError(f"half {a}")

    with pytest.raises(ValueError, match="half 0"):
        host_threads.halves(forced_split, both_fail, 4)
    seen = []
    host_threads.halves(forced_split, lambda a, b: seen.append((a, b)), 4)
    assert sorted(seen) == [(0, 2), (2, 4)]

    # Only the worker's half fails: its error reaches the caller once.
    def upper_fails(a, b):
        if a > 0:
            raise KeyError("upper")

    with pytest.raises(KeyError, match="upper"):
        host_threads.halves(forced_split, upper_fails, 4)
    host_threads.halves(forced_split, lambda a, b: None, 4)


def test_a_split_leaves_the_blas_thread_count_as_it_found_it() -> None:
    # scipy-openblas's "local" count is process-wide: a worker setting it at start-up, or the
    # caller restoring it before the worker finished, left the process at one BLAS thread after
    # the first split, so a program's first run computed other bits than its later runs.
    if not host_threads.enabled():
        pytest.skip("no second core or no per-thread OpenBLAS setter: nothing is split")

    def current() -> int:
        count = host_threads._setter(1)
        host_threads._setter(count)
        return count

    host_threads._worker = None  # a fresh worker thread: its start-up is part of the check
    before = current()
    counts = []
    host_threads.halves(backends.get("numpy"), lambda a, b: counts.append(current()), 8)
    assert counts == [1, 1]  # both halves ran with one BLAS thread each
    assert current() == before
