"""The benchmark suite must keep running: a quick pass, checked for agreement, never for speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def test_quick_benchmark_run_completes_and_all_columns_agree(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--no-torch", "--out", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    # Exit status 1 means a column computed different gradients (or a workload crashed).
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "latest.json").read_text())
    assert (tmp_path / "latest.md").read_text().startswith("# kedja benchmarks")
    assert report  # the suite wrote its machine-readable results


def test_bare_engine_yardstick_agrees_with_kedja() -> None:
    from benchmarks.bare_engine import gradients

    grads = gradients()
    for got, want in zip(grads["bare engine"], grads["kedja"]):
        np.testing.assert_allclose(got, want, rtol=1e-5)
