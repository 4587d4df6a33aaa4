"""Shared fixtures: every test that takes `backend` runs once per available backend."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import backends

# The backend fixture holds no per-example state, so sharing it across examples is safe.
_SUPPRESSED = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.function_scoped_fixture,
]

# CI: fixed, derandomised examples so a run is reproducible; dev: hypothesis' usual search.
settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=25,
    deadline=None,
    suppress_health_check=_SUPPRESSED,
    print_blob=True,
)
settings.register_profile(
    "dev",
    max_examples=25,
    deadline=None,
    suppress_health_check=_SUPPRESSED,
)
settings.register_profile(
    "slow",
    max_examples=300,
    deadline=None,
    suppress_health_check=_SUPPRESSED,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
# Under the derandomized profile, hypothesis 6.170 nests one settings object per run of a @given
# test function, and `settings.database` walks that chain recursively: the op table's ~1,100
# parametrized runs of one function pass Python's default limit of 1,000 frames (RecursionError
# from hypothesis' own code). A higher limit keeps every case running.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))

REPO = Path(__file__).resolve().parent.parent


def _backend_names() -> list[str]:
    """numpy always, the strict fake device where it exists, cupy where a GPU works."""
    names = ["cpu"]
    try:
        backends.get("fake")
        names.append("fake")
    except Exception:  # noqa: BLE001 - the fake device lands with the GPU issue
        pass
    if "cupy" in backends.available():
        names.append("cuda")
    only = os.environ.get("KEDJA_TEST_BACKENDS")
    if only:
        asked = [n.strip() for n in only.split(",") if n.strip()]
        missing = [n for n in asked if n not in names]
        if missing:
            # Asked for explicitly: a backend that cannot start fails the run, never skips it.
            why = backends.unavailable().get("cupy", "") if "cuda" in missing else ""
            raise pytest.UsageError(
                f"KEDJA_TEST_BACKENDS={only}: backend(s) {missing} cannot start on this machine"
                + (f" ({why})" if why else "") + f"; available: {names}"
            )
        names = [n for n in names if n in asked]
    return names


BACKENDS = _backend_names()


def has_bfloat16() -> bool:
    """Whether the host has a bfloat16 dtype (ml_dtypes installed)."""
    try:
        backends.dtype_of("bfloat16")
    except TypeError:
        return False
    return True


@contextlib.contextmanager
def default_backend(name: str):
    """Backend `name`, made the default while the block runs (creation functions land on it)."""
    b = backends.get(name)
    previous = backends.default()
    backends.set_default(b)
    try:
        yield b
    finally:
        backends.set_default(previous)


@pytest.fixture(params=BACKENDS)
def backend(request):
    """The backend under test; also made the default so creation functions land on it."""
    with default_backend(request.param) as b:
        yield b


def pytest_report_header(config: pytest.Config) -> str:
    from autograd import _native
    from backends import native

    core = "C (autograd._ccore)" if _native.native() else "pure Python"
    kernels = "C (backends._host_kernels)" if native.host_kernels is not None else "NumPy"
    forced = " (KEDJA_PURE_PYTHON set)" if native.pure_python() else ""
    return f"kedja core: {core}; host kernels: {kernels}{forced}"
