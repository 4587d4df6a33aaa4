"""examples/gan_digits.py in a few steps: finite losses, a generator that moved, the
learning-rate decay, the PNGs and the evaluation's numbers (the full run's bar is measured in
the README, not here)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent.parent


def _load_example():
    spec = importlib.util.spec_from_file_location("gan_digits",
                                                  REPO / "examples" / "gan_digits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gan_digits_short_run(tmp_path):
    example = _load_example()
    out = example.main(["--steps", "3", "--batch-size", "16", "--width", "8",
                        "--classifier-epochs", "1", "--samples", "64", "--quiet",
                        "--out", str(tmp_path)])
    assert len(out["loss_g"]) == len(out["loss_d"]) == 3
    assert all(math.isfinite(v) for v in out["loss_g"] + out["loss_d"])
    moved = [not np.array_equal(p.numpy(), out["initial_generator"][name])
             for name, p in out["generator"].named_parameters()]
    assert all(moved)
    # the learning rates hold for int(0.5 * 3) = 1 step, then fall linearly to 0 at the end
    assert [opt.param_groups[0]["lr"] for opt in out["optimizers"]] == [0.0, 0.0]
    assert out["digits"].shape == (64, 1, 8, 8)
    assert 0.0 <= out["confident_share"] <= 1.0 and sum(out["class_counts"]) <= 64
    for path in out["paths"]:
        assert path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
