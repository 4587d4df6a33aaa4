"""`ag.show_config()`: says which core and host kernels run and why, with versions, BLAS,
backends, devices and defaults; prints it and returns the same as a dict."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import autograd as ag
import backends
from autograd import _native
from backends import native

_PROGRAM = "import json, autograd as ag, io; print(json.dumps(ag.show_config(file=io.StringIO())))"


def _config_in_subprocess(**env_vars: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEDJA_")}
    env.update(env_vars)
    done = subprocess.run([sys.executable, "-c", _PROGRAM], env=env, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)


def test_show_config_prints_what_it_returns() -> None:
    out = io.StringIO()
    info = ag.show_config(file=out)
    text = out.getvalue()
    assert info["numpy"] == np.__version__ and f"NumPy         {np.__version__}" in text
    assert info["python"].endswith(sys.version.split()[0]) and info["python"] in text
    assert info["kedja"] and info["kedja"] in text
    assert info["core"]["running"] == ("C" if _native.native() else "pure Python")
    assert f"core          {info['core']['running']} (" in text
    kernels = info["host_kernels"]
    assert kernels["running"] == ("C" if native.host_kernels is not None else "NumPy")
    assert info["backends"] == backends.available() and "cpu" in info["devices"]
    assert info["default_device"] == backends.default().device
    assert info["default_dtype"] == "float32"
    json.dumps(info)  # plain data, for bug reports and programs


def test_the_default_device_is_the_current_one() -> None:
    previous = backends.default()
    backends.set_default("fake")
    try:
        assert ag.show_config(file=io.StringIO())["default_device"] == "fake:0"
    finally:
        backends.set_default(previous)


def test_the_c_build_names_its_kernels_and_what_rounds_differently() -> None:
    info = ag.show_config(file=io.StringIO())
    kernels = info["host_kernels"]
    if kernels["running"] == "C":
        assert {"softmax_xent", "col2im_add", "adam", "sgd"} <= set(kernels["kernels"])
        assert "cross-entropy" in kernels["differs"]
    else:
        assert kernels["kernels"] == [] and kernels["differs"] is None


def test_kedja_pure_python_is_given_as_the_reason() -> None:
    info = _config_in_subprocess(KEDJA_PURE_PYTHON="1")
    assert info["core"] == {"running": "pure Python", "why": "KEDJA_PURE_PYTHON is set"}
    assert info["host_kernels"]["running"] == "NumPy"
    assert "KEDJA_PURE_PYTHON is set" in info["host_kernels"]["why"]
    assert info["environment"] == {"KEDJA_PURE_PYTHON": "1"}


def test_a_stale_build_and_a_missing_one_are_told_apart(monkeypatch) -> None:
    monkeypatch.delenv("KEDJA_PURE_PYTHON", raising=False)
    monkeypatch.setattr(native, "reasons", {})
    assert native.load("autograd._no_such_extension", _native.SOURCES, _native.ABI) is None
    assert native.reasons["autograd._no_such_extension"].startswith("not built")
    if importlib.util.find_spec("autograd._ccore") is None:
        return  # no compiler here: nothing built that could be stale
    monkeypatch.setattr(native, "source_hash", lambda sources: "0" * 16)
    with pytest.warns(RuntimeWarning, match="rebuild"):
        assert native.load("autograd._ccore", _native.SOURCES, _native.ABI) is None
    assert native.reasons["autograd._ccore"].startswith("stale build")


def test_blas_is_reported_when_numpy_says() -> None:
    blas = ag.show_config(file=io.StringIO())["blas"]
    assert blas is None or (blas["name"] and blas["version"])
