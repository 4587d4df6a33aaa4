"""Backward from several threads at once into shared leaves: no gradient is lost.

Each thread builds its own graph from one shared leaf `W` and runs backward; the engine's
read-add-write of ``W.grad`` is atomic (engine.py's `_leaf_lock`), so the sum is exact, on
both cores, whichever path the accumulation takes (the raw first-order path, leaf hooks,
create_graph, retain_grad on a shared non-leaf).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import autograd as ag

THREADS = 4
STEPS = 500


def _run_threads(step) -> None:
    """Runs `step()` STEPS times on each of THREADS threads, all released at once."""
    start = threading.Barrier(THREADS)
    errors = []

    def worker() -> None:
        try:
            start.wait()
            for _ in range(STEPS):
                step()
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_four_threads_lose_no_gradient_in_a_shared_leaf() -> None:
    # Issue 12: (x @ W).sum().backward() 500 times on 4 threads left 982 (C core) or 1193.
    W = ag.zeros(64, 32, requires_grad=True)
    x = ag.ones(8, 64)

    _run_threads(lambda: (x @ W).sum().backward())
    np.testing.assert_array_equal(W.grad.numpy(), np.full((64, 32), 8.0 * THREADS * STEPS))


@pytest.mark.parametrize("path", ["hook", "create_graph"])
def test_the_slow_paths_lose_no_gradient_either(path) -> None:
    W = ag.zeros(16, 8, requires_grad=True)
    if path == "hook":
        W.register_hook(lambda g: g * 1)  # a leaf hook takes the general path
    x = ag.ones(2, 16)
    create = path == "create_graph"

    _run_threads(lambda: (x @ W).sum().backward(create_graph=create))
    np.testing.assert_array_equal(W.grad.numpy(), np.full((16, 8), 2.0 * THREADS * STEPS))


def test_a_shared_retained_non_leaf_loses_no_gradient() -> None:
    W = ag.zeros(16, 8, requires_grad=True)
    H = W * 1.0
    H.retain_grad()
    x = ag.ones(2, 16)

    _run_threads(lambda: (x @ H).sum().backward(retain_graph=True))
    expected = np.full((16, 8), 2.0 * THREADS * STEPS)
    np.testing.assert_array_equal(H.grad.numpy(), expected)
    np.testing.assert_array_equal(W.grad.numpy(), expected)
