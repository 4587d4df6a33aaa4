"""A GPU install works or says why: the real error is surfaced, and a test run that asks for
the cuda backend fails (never skips) where it cannot start."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

import autograd as ag
import backends

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def broken_cuda(monkeypatch):
    def factory(index):
        raise RuntimeError(f"cuda:{index}: CuPy found the device but cannot use it: "
                           "CUDARuntimeError: libcurand.so.10 not found")

    monkeypatch.setitem(backends._factories, "cuda", factory)
    monkeypatch.delitem(backends._instances, "cuda:0", raising=False)
    yield


def test_available_and_unavailable_say_why(broken_cuda) -> None:
    assert backends.available() == ["numpy"]
    assert "libcurand" in backends.unavailable()["cupy"]


def test_show_config_names_the_reason(broken_cuda) -> None:
    out = io.StringIO()
    info = ag.show_config(file=out)
    assert "libcurand" in info["unavailable"]["cupy"]
    assert "cupy unavailable: RuntimeError" in out.getvalue()


def test_asking_for_a_backend_that_cannot_start_fails_the_run() -> None:
    if "cupy" in backends.available():
        pytest.skip("a GPU works here")
    env = {**os.environ, "KEDJA_TEST_BACKENDS": "cuda"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--co", "tests/backends/test_registry.py"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode != 0
    assert "cannot start on this machine" in run.stdout + run.stderr


def test_the_gpu_extra_installs_the_cuda_libraries() -> None:
    text = (REPO / "pyproject.toml").read_text()
    assert 'gpu = ["cupy-cuda12x[ctk]' in text
