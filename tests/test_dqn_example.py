"""examples/dqn_cartpole.py runs: a few hundred steps learn (finite losses, changed weights) and
two runs with one seed are identical. The full run and its bar are in docs/training.md."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("gymnasium")

REPO = Path(__file__).resolve().parents[1]


def _example():
    spec = importlib.util.spec_from_file_location("dqn_cartpole",
                                                  REPO / "examples" / "dqn_cartpole.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ARGS = ["--steps", "400", "--learning-starts", "100", "--batch-size", "16", "--hidden", "16",
        "--target-every", "50", "--check-every", "200", "--check-episodes", "1",
        "--eval-episodes", "2", "--quiet"]


@pytest.mark.parametrize("extra", [[], ["--double"]])
def test_a_short_run_trains(extra):
    example = _example()
    first = example.main(ARGS + extra)
    assert first["parameters_changed"]
    assert first["losses"] and all(math.isfinite(v) for v in first["losses"])
    assert len(first["eval_returns"]) == 2 and first["steps"] == 400
    assert len(first["checks"]) == 2
    second = example.main(ARGS + extra)
    assert first["losses"] == second["losses"]
    assert first["eval_returns"] == second["eval_returns"]


def test_epsilon_schedule():
    example = _example()
    assert example.epsilon_at(0, 1.0, 0.02, 100) == 1.0
    assert example.epsilon_at(50, 1.0, 0.02, 100) == pytest.approx(0.51)
    assert example.epsilon_at(10_000, 1.0, 0.02, 100) == 0.02


def test_replay_buffer_wraps_around():
    example = _example()
    buf = example.ReplayBuffer(4, 2, seed=0)
    for i in range(6):
        buf.add(np.full(2, i), i % 2, float(i), np.full(2, i + 1), i == 5)
    assert buf.size == 4 and buf.pos == 2
    assert sorted(buf.rewards.tolist()) == [2.0, 3.0, 4.0, 5.0]
    s, a, r, s2, done = buf.sample(8, "cpu")
    assert s.shape == (8, 2) and a.dtype == np.int64
    np.testing.assert_array_equal(s2.numpy(), s.numpy() + 1)
    np.testing.assert_array_equal(done.numpy(), (r.numpy() == 5.0).astype(np.float32))
