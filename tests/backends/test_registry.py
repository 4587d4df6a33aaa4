"""The backend registry, device strings, and the contract every backend keeps."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import backends
from tests.conftest import REPO


def test_cpu_aliases_are_one_backend():
    assert backends.get("cpu") is backends.get("numpy") is backends.get("np") is backends.host()
    assert backends.get("cpu:0") is backends.host()
    assert backends.host().device == "cpu" and not backends.host().is_device


def test_fake_device_is_gettable_but_not_available():
    fake = backends.get("fake")
    assert fake is backends.get("fake:0") and fake is backends.get("FAKE")
    assert fake.device == "fake:0" and fake.name == "fake" and fake.is_device
    assert backends.get("fake:1") is not fake and backends.get("fake:1").device == "fake:1"
    names = backends.available()
    assert "numpy" in names and "fake" not in names
    assert backends.get(fake) is fake


@pytest.mark.parametrize("name, expected", [
    ("cpu", "cpu"), ("numpy", "cpu"), ("fake", "fake:0"), ("fake:2", "fake:2"),
    ("cuda", "cuda:0"), ("cupy", "cuda:0"), ("gpu:1", "cuda:1"), (" CUDA:3 ", "cuda:3"),
])
def test_canonical_device(name, expected):
    assert backends.canonical_device(name) == expected


@pytest.mark.parametrize("name, error", [
    ("tpu", ValueError), ("cpu:1", ValueError), ("fake:x", ValueError), ("", ValueError),
    (0, TypeError), (None, TypeError),
])
def test_canonical_device_errors(name, error):
    with pytest.raises(error):
        backends.canonical_device(name)


def test_unknown_device_error_lists_known_ones():
    with pytest.raises(ValueError, match="known: cpu, numpy"):
        backends.get("tpu:0")


def _default_in_subprocess(value: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "KEDJA_DEVICE"}
    if value is not None:
        env["KEDJA_DEVICE"] = value
    code = "import backends; print(backends.default().device)"
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("value, device", [(None, "cpu"), ("fake", "fake:0"), ("numpy", "cpu"),
                                           ("fake:1", "fake:1")])
def test_kedja_device_picks_the_default(value, device):
    result = _default_in_subprocess(value)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == device


def test_kedja_device_unknown_fails_loudly():
    result = _default_in_subprocess("tpu")
    assert result.returncode != 0 and "unknown device" in result.stderr


def test_cuda_unavailable_fails_cleanly():
    if "cupy" in backends.available():
        pytest.skip("a GPU answers here")
    with pytest.raises((ImportError, RuntimeError)):
        backends.get("cuda:0")


def test_backend_of_array():
    fake0, fake1 = backends.get("fake:0"), backends.get("fake:1")
    assert backends.backend_of_array(np.ones(2)) is backends.host()
    assert backends.backend_of_array(fake0.asarray([1.0])) is fake0
    assert backends.backend_of_array(fake1.asarray([1.0])) is fake1
    assert backends.backend_of_array([1.0]) is None and backends.backend_of_array(2.0) is None


# -- the contract, on every backend -----------------------------------------------------------
def test_round_trip_and_ownership(backend):
    host = np.arange(6, dtype=np.float32).reshape(2, 3)
    a = backend.asarray(host)
    assert backend.owns(a) and backend.is_array(a) and type(a) is backend.array_type
    assert a.shape == (2, 3) and a.dtype == np.float32
    assert backend.asarray(a) is a
    assert backend.asarray(host, dtype="float64").dtype == np.float64
    np.testing.assert_array_equal(backend.to_numpy(a), host)
    assert type(backend.to_numpy(a)) is np.ndarray


def test_scatter_add(backend):
    target = backend.xp.zeros((3, 2), dtype="float32")
    backend.scatter_add(target, backend.asarray([0, 2, 0]), backend.asarray(np.ones((3, 2))))
    np.testing.assert_array_equal(backend.to_numpy(target), [[2, 2], [0, 0], [1, 1]])


def test_seeded_draws(backend):
    backend.seed(123)
    first = [backend.to_numpy(backend.normal(0.0, 1.0, (4,), "float32")),
             backend.to_numpy(backend.integers(0, 10, (4,))),
             backend.to_numpy(backend.permutation(5))]
    backend.seed(123)
    again = [backend.to_numpy(backend.normal(0.0, 1.0, (4,), "float32")),
             backend.to_numpy(backend.integers(0, 10, (4,))),
             backend.to_numpy(backend.permutation(5))]
    for f, g in zip(first, again):
        np.testing.assert_array_equal(f, g)
    assert first[0].dtype == np.float32 and first[1].dtype == np.int64
    assert first[2].dtype == np.int64


def test_seed_all_reaches_every_backend(backend):
    backends.seed_all(5)
    try:
        a = backend.to_numpy(backend.uniform(0.0, 1.0, (3,), "float64"))
        backends.seed_all(5)
        b = backend.to_numpy(backend.uniform(0.0, 1.0, (3,), "float64"))
        np.testing.assert_array_equal(a, b)
    finally:
        backends.seed_all(None)


def test_dlpack_round_trip(backend):
    a = backend.asarray(np.arange(4, dtype=np.float32))
    assert backends.from_dlpack(a) is not None
    b = backends.from_dlpack(a)
    assert backend.owns(b)
    b[0] = 42.0  # shares memory with a
    assert backend.to_numpy(a)[0] == 42.0
    assert backend.dlpack_device(a)[1] == getattr(backend, "index", 0)


def test_host_from_dlpack_shares_memory():
    host = np.arange(3.0)
    shared = backends.from_dlpack(host)
    shared[0] = -1.0
    assert host[0] == -1.0
    assert backends.from_dlpack(host, device="cpu") is not None


def test_memory_helpers_do_not_fail(backend):
    assert isinstance(backend.memory_info(), dict)
    backend.free_cached_memory()
    with backend.device_scope():
        backend.synchronize()


def _fake_cupy(monkeypatch, count):
    """Installs stand-in `cupy` / `cupyx` modules whose runtime reports `count` devices (or
    raises like CuPy without a driver when `count` is an exception)."""
    import types

    def get_device_count():
        if isinstance(count, Exception):
            raise count
        return count

    cupy = types.ModuleType("cupy")
    cupy.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(
        getDeviceCount=get_device_count))
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "cupyx", types.ModuleType("cupyx"))


def test_cupy_without_driver_fails_fast_and_is_not_available(monkeypatch):
    _fake_cupy(monkeypatch, RuntimeError("cudaErrorInsufficientDriver"))
    with pytest.raises(RuntimeError, match="no usable CUDA driver"):
        backends.get("cuda:0")
    assert "cupy" not in backends.available()


def test_cupy_missing_device_index(monkeypatch):
    _fake_cupy(monkeypatch, 1)
    with pytest.raises(RuntimeError, match=r"cuda:3: no such device \(1 CUDA device"):
        backends.get("cuda:3")
