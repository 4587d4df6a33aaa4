"""The host C loops (backends/_host_kernels.c) against the NumPy bodies they follow: the same
bits, on hypothesis-drawn shapes and values with ties, signed zeros, NaN and inf."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import backends
from backends import native
from backends.kernels import pooling

pytestmark = pytest.mark.skipif(native.host_kernels is None,
                                reason="the host kernels were not built (or KEDJA_PURE_PYTHON)")

HOST = backends.get("cpu")


@st.composite
def block_cases(draw):
    n, oh, ow, c = (draw(st.integers(0, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3)),
                    draw(st.integers(1, 5)))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    # few distinct values: ties are common; the specials land anywhere
    values = st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.5, np.nan, np.inf, -np.inf])
    shape = (n, oh * kh, ow * kw, c)
    x = np.array(draw(st.lists(values, min_size=int(np.prod(shape)),
                               max_size=int(np.prod(shape)))), dtype=dtype).reshape(shape)
    return x.reshape(n, oh, kh, ow, kw, c), draw(st.sampled_from([np.uint8, np.int32]))


def _both(fn):
    """fn() with the C loop, then with the NumPy body."""
    c = fn()
    saved = pooling.host_kernels
    pooling.host_kernels = None
    try:
        return c, fn()
    finally:
        pooling.host_kernels = saved


@given(block_cases())
def test_block_max_matches_the_numpy_body(case) -> None:
    blocks, index_dtype = case
    shape = blocks[:, :, 0, :, 0, :].shape

    def run():
        out = []
        for relu in (False, True):
            best = np.empty(shape, blocks.dtype)
            index = np.empty(shape, index_dtype)
            pooling.block_max(HOST, blocks, best, index, relu)
            plain = np.empty(shape, blocks.dtype)
            pooling.block_max(HOST, blocks, plain, None, relu)
            out += [best, index, plain]
        return out

    for c, numpy_body in zip(*_both(run)):
        np.testing.assert_array_equal(c, numpy_body)  # NaN where NaN, values equal (0 == -0)


@given(block_cases())
def test_block_scatter_matches_the_numpy_body(case) -> None:
    blocks, index_dtype = case
    n, oh, kh, ow, kw, c = blocks.shape
    rng = np.random.default_rng(0)
    index = rng.integers(0, kh * kw, (n, oh, ow, c)).astype(index_dtype)
    g = blocks[:, :, 0, :, 0, :]  # specials too; not contiguous: the C path takes a copy

    gate = blocks[:, :, -1, :, -1, :]  # relu's output stand-in: its sign decides

    def run():
        outs = []
        for gated in (None, gate):
            out = np.empty(blocks.shape, blocks.dtype)
            pooling.block_scatter(HOST, g, index, out, gated)
            outs.append(out)
        return outs

    for c_out, n_out in zip(*_both(run)):
        np.testing.assert_array_equal(c_out, n_out)
        assert np.signbit(c_out).tolist() == np.signbit(n_out).tolist()


def test_the_c_loops_refuse_what_they_do_not_take() -> None:
    k = native.host_kernels
    blocks = np.zeros((1, 2, 2, 2, 2, 3), np.float32)
    with pytest.raises(TypeError, match="float32 or float64"):
        k.block_max(blocks.astype(np.int64), np.zeros((1, 2, 2, 3), np.int64), None, False)
    with pytest.raises(ValueError, match="do not match"):
        k.block_max(blocks, np.zeros((1, 2, 3, 3), np.float32), None, False)
    strided = np.zeros((1, 2, 2, 2, 2, 6), np.float32)[..., ::2]  # channel stride 8 bytes
    with pytest.raises(ValueError, match="contiguous"):
        k.block_max(strided, np.zeros((1, 2, 2, 3), np.float32), None, False)
