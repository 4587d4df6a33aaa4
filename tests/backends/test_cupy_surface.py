"""The fake device offers exactly CuPy's API (backends/cupy_surface.json, generated from the
installed CuPy by ``python -m backends.cupy_surface``): what CuPy lacks fails in CI."""

from __future__ import annotations

import numpy as np
import pytest

import backends
from backends import cupy_surface
from backends.fake_array import _METHODS


@pytest.fixture
def fake():
    return backends.get("fake")


@pytest.mark.parametrize("name", ["block", "insert", "geomspace", "vecdot", "unstack"])
def test_numpy_functions_cupy_lacks_are_missing(fake, name) -> None:
    assert hasattr(np, name)
    with pytest.raises(AttributeError, match=f"xp.{name}: CuPy .* has no such function"):
        getattr(fake.xp, name)


def test_keywords_cupy_lacks_are_refused(fake) -> None:
    a = fake.xp.ones(3)
    with pytest.raises(TypeError, match=r"CuPy's zeros takes no keyword\(s\) \['like'\]"):
        fake.xp.zeros(3, like=a)
    with pytest.raises(TypeError, match=r"CuPy's ndarray.argsort takes no keyword"):
        a.argsort(stable=True)
    fake.xp.argsort(a, axis=-1)  # CuPy's keywords pass
    a.sum(axis=0, keepdims=True)


def test_the_fake_arrays_methods_are_cupys() -> None:
    methods = cupy_surface.load()["methods"]
    assert set(_METHODS) <= set(methods)


def test_the_committed_surface_matches_the_installed_cupy() -> None:
    pytest.importorskip("cupy")
    fresh = cupy_surface.generate()
    committed = cupy_surface.load()
    if fresh["cupy_version"] != committed["cupy_version"]:
        pytest.skip(f"CuPy {fresh['cupy_version']} installed, the list is of "
                    f"{committed['cupy_version']}: regenerate with python -m backends.cupy_surface")
    assert fresh == committed
