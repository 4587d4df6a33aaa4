"""A time loop's step GEMM (backends/kernels/step_gemm.py, backends/csrc/panel_gemm.c) against
NumPy's matmul, its reference: within the rounding of a float32 sum, on drawn sizes and
layouts; anything the C loop declines runs NumPy's matmul."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backends
from backends import native
from backends.kernels import step_gemm
from backends.kernels.step_gemm import StepGemm

HOST = backends.get("cpu")
EPS = float(np.finfo(np.float32).eps)


def _bound(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(K + 1) eps (|a| @ |b|): a float32 sum of K products, rounded once more at the end."""
    return (a.shape[1] + 1) * EPS * (np.abs(a).astype(np.float64) @ np.abs(b).astype(
        np.float64)) + 1e-30


@settings(max_examples=60, deadline=None)
@given(m=st.integers(0, 9), k=st.sampled_from([0, 1, 5, 24, 255, 256, 257, 600]),
       n=st.integers(0, 60), b_transposed=st.booleans(), a_strided=st.booleans(),
       seed=st.integers(0, 2**16))
def test_step_gemm_agrees_with_matmul(m, k, n, b_transposed, a_strided, seed) -> None:
    rng = np.random.default_rng(seed)
    b = (rng.standard_normal((n, k)).astype(np.float32).T if b_transposed
         else rng.standard_normal((k, n)).astype(np.float32))
    a = rng.standard_normal((2 * m, k)).astype(np.float32)[::2] if a_strided \
        else rng.standard_normal((m, k)).astype(np.float32)
    out = np.full((m, n), np.nan, np.float32)
    got = StepGemm(HOST, b)(a, out)
    assert got is out
    want = a.astype(np.float64) @ b.astype(np.float64)
    assert np.all(np.abs(out - want) <= _bound(a, b))
    np.testing.assert_allclose(out, a @ b, rtol=0, atol=2 * float(_bound(a, b).max(initial=0)))


def test_the_loop_runs_where_it_can_and_declines_the_rest() -> None:
    kernels = native.host_kernels
    if kernels is None:
        pytest.skip("the host kernels are not built")
    rng = np.random.default_rng(0)
    b = rng.standard_normal((256, 1024)).astype(np.float32)
    packed = np.empty(256 * 24 * 43, np.float32)
    kernels.pack_panels(b, packed)
    a = rng.standard_normal((16, 256)).astype(np.float32)
    out = np.empty((16, 1024), np.float32)
    ran = kernels.panel_matmul(a, packed, out)
    if ran:  # an AVX2/FMA CPU
        assert np.all(np.abs(out - a.astype(np.float64) @ b) <= _bound(a, b))
    # another dtype, a strided last axis: False, nothing written
    for args in ((a.astype(np.float64), packed, out),
                 (np.asfortranarray(a)[:, ::2], packed, out[:, :512])):
        mark = args[2].copy()
        assert kernels.panel_matmul(*args) is False
        np.testing.assert_array_equal(args[2], mark)
    big = np.zeros((16, 2048), np.float32)
    assert kernels.panel_matmul(big[:, :256], packed, big[:, 256:1280]) is False  # overlap
    with pytest.raises(ValueError, match="packed floats"):
        kernels.panel_matmul(a, packed[:-1], out)
    with pytest.raises(ValueError, match="packed must hold"):
        kernels.pack_panels(b, packed[:-1])
    with pytest.raises(TypeError, match="float32"):
        kernels.pack_panels(b.astype(np.float64), packed)


def test_declined_operands_run_numpy(monkeypatch) -> None:
    rng = np.random.default_rng(1)
    b = rng.standard_normal((40, 30)).astype(np.float32)
    a = rng.standard_normal((5, 40)).astype(np.float32)
    gemm = StepGemm(HOST, b)
    out = np.empty((5, 30), np.float64)  # a float64 output: the C loop declines
    gemm(a, out)
    np.testing.assert_array_equal(out, np.matmul(a, b, out=np.empty((5, 30), np.float64)))
    assert StepGemm(HOST, b, steps=1).packed is None  # one step: packing would not pay
    monkeypatch.setattr(step_gemm, "host_kernels", None)  # the pure-Python build
    plain = StepGemm(HOST, b)
    assert plain.packed is None
    np.testing.assert_array_equal(plain(a, np.empty((5, 30), np.float32)), a @ b)
