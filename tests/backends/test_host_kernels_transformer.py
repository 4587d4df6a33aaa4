"""The Transformer's host C loops (GELU's tanh form in backends/csrc/activations.c, the layer
norm in normalization.c, the embedding's scatter-add in indexing.c, the attention's softmax in
attention.c) against the NumPy bodies
they follow: GELU's gradient given the kept s and the scatter-add give the same bits, and every
array the loops cannot take (strided, misaligned, mixed
dtypes, float64 for the layer norm, read-only outputs) is declined, with nothing written, and
takes the NumPy body. How far the rest may differ (GELU's exp is not NumPy's, the layer norm's
statistics are in double) is tests/backends/test_results_agree.py's."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backends
from backends import native
from backends.kernels import activations, attention, indexing, normalization

pytestmark = pytest.mark.skipif(native.host_kernels is None,
                                reason="the host kernels were not built (or KEDJA_PURE_PYTHON)")

HOST = backends.get("cpu")
SPECIALS = [0.0, -0.0, np.nan, np.inf, -np.inf, -10.1, -12.0, 1e20, -1e20, 1e-30]


@st.composite
def gelu_cases(draw):
    """x (many scales, with specials), an upstream gradient and a kept s, float32/float64."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    shape = draw(st.sampled_from([(), (0,), (7,), (3, 5), (2, 3, 33)]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = (rng.standard_normal(shape) * draw(st.sampled_from([0.1, 1.0, 4.0, 30.0]))).astype(dtype)
    gy = rng.standard_normal(shape).astype(dtype)
    if x.size:
        flat = x.reshape(-1)
        for _ in range(draw(st.integers(0, 3))):
            flat[rng.integers(flat.size)] = draw(st.sampled_from(SPECIALS))
        gy.reshape(-1)[0] = draw(st.sampled_from([1.0, np.nan, np.inf, -0.0]))
    return x, gy


def _numpy_body(fn):
    saved = activations.host_kernels
    activations.host_kernels = None
    try:
        with np.errstate(all="ignore"):
            return fn()
    finally:
        activations.host_kernels = saved


@settings(max_examples=60)
@given(gelu_cases())
def test_gelu_tanh_grad_is_the_numpy_body_given_s(case) -> None:
    # Each step rounded as NumPy's passes round it: the same bits, NaN, inf and -0 included.
    x, gy = case
    with np.errstate(all="ignore"):
        s = activations.gelu(HOST, x, "tanh", keep=True)[1]
        got = activations.gelu_grad(HOST, x, gy, "tanh", s=s)
    want = _numpy_body(lambda: activations.gelu_grad(HOST, x, gy, "tanh", s=s))
    np.testing.assert_array_equal(got, want)
    assert np.signbit(got).tolist() == np.signbit(want).tolist()


def _misaligned(a):
    raw = np.zeros(a.nbytes + 1, np.uint8)[1:]
    out = raw.view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


def test_gelu_tanh_loops_decline_what_they_cannot_loop_over() -> None:
    kernels = native.host_kernels
    one = np.linspace(-3, 3, 8, dtype=np.float32)
    read_only = np.zeros(8, np.float32)
    read_only.flags.writeable = False
    # misaligned, strided, mixed dtypes, float16, two shapes of one size, not an array, and
    # a read-only output
    for x, y in [(_misaligned(one), None), (np.ones(16, np.float32)[::2], None),
                 (one.astype(np.float64), None), (one.astype(np.float16), np.float16),
                 (one.reshape(2, 4), None), (1.0, None), (one, read_only)]:
        if not isinstance(y, np.ndarray):
            y = np.full(8, 7.0, y or np.float32)
        s = np.full(8, 7.0, y.dtype)
        before = y.copy()
        assert kernels.gelu_tanh(x, y, s) is False
        assert kernels.gelu_tanh_grad(x, one, one, y) is False
        assert (s == 7.0).all() and np.array_equal(y, before)
    with pytest.raises(TypeError):
        kernels.gelu_tanh(one, one)
    # the dispatchers give the NumPy body's result for what the loops decline
    gy = np.linspace(1, 2, 8, dtype=np.float32)
    for x in (_misaligned(one), np.repeat(one, 2)[::2]):
        want_y, want_s = _numpy_body(functools.partial(activations.gelu, HOST, x, "tanh", True))
        got_y, got_s = activations.gelu(HOST, x, "tanh", keep=True)
        np.testing.assert_array_equal(got_s, want_s)
        np.testing.assert_array_equal(got_y, want_y)
        grad = functools.partial(activations.gelu_grad, HOST, x, gy, "tanh", got_s)
        np.testing.assert_array_equal(grad(), _numpy_body(grad))


def test_layer_norm_loops_decline_what_they_cannot_loop_over() -> None:
    kernels = native.host_kernels
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 8)).astype(np.float32)
    w, b = np.ones(8, np.float32), np.zeros(8, np.float32)
    read_only = np.zeros((4, 8), np.float32)
    read_only.flags.writeable = False

    def outs():
        return np.full((4, 8), 7.0, np.float32), np.full((4, 8), 7.0, np.float32), np.full(
            (4, 1), 7.0, np.float32)

    # float64, misaligned, strided, a 1-D x, a weight of another size or dtype, not an array
    for args in [(x.astype(np.float64), None, None), (_misaligned(x), w, b),
                 (np.repeat(x, 2, axis=1)[:, ::2], w, b), (x.reshape(-1), w, b),
                 (x, np.ones(7, np.float32), b), (x, w, b.astype(np.float64)), (x, w, 1.0)]:
        y, xhat, rstd = outs()
        assert kernels.layer_norm(*args, 1e-5, y, xhat, rstd) is False
        assert (y == 7).all() and (xhat == 7).all() and (rstd == 7).all()
        if args[0] is x and args[1] is w:
            continue  # the gradient takes no bias
        gx = np.full((4, 8), 7.0, np.float32)
        assert kernels.layer_norm_grad(args[0], x, args[1], rstd, gx, None, None) is False
        assert (gx == 7).all()
    y, xhat, rstd = outs()
    assert kernels.layer_norm(x, w, b, 1e-5, read_only, xhat, rstd) is False
    assert kernels.layer_norm_grad(x, x, w, rstd, read_only, None, None) is False
    assert kernels.layer_norm_grad(x, x, w, rstd[:3], None, np.empty(8, np.float32),
                                   None) is False
    with pytest.raises(TypeError):
        kernels.layer_norm(x, w, b, "eps", y, xhat, rstd)
    with pytest.raises(TypeError):
        kernels.layer_norm_grad(x, x, w, rstd, y)


@settings(max_examples=20)
@given(st.sampled_from([np.float64, np.float32]), st.integers(0, 2**32 - 1))
def test_layer_norm_dispatchers_match_the_numpy_body(dtype, seed) -> None:
    # Float64 (and any layout the loops decline) takes the NumPy body: the same bits.
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((5, 9)).astype(dtype)
    w, b = rng.standard_normal(9).astype(dtype), rng.standard_normal(9).astype(dtype)
    gy = rng.standard_normal((5, 9)).astype(dtype)
    for bad in ([(lambda a: a)] if dtype == np.float64 else
                [_misaligned, lambda a: np.repeat(a, 2, axis=1)[:, ::2]]):
        def run(bad=bad):
            y, xhat, rstd = normalization.layer_norm_rows(HOST, bad(x), w, b, 1e-5)
            return (y, xhat, rstd, *normalization.layer_norm_rows_grad(
                HOST, bad(gy), xhat, w, rstd, True, True, True))
        for got, want in zip(run(), _numpy_body_of(normalization, run)):
            np.testing.assert_array_equal(got, want)


def _numpy_body_of(module, fn):
    saved = module.host_kernels
    module.host_kernels = None
    try:
        return fn()
    finally:
        module.host_kernels = saved


@st.composite
def scatter_cases(draw):
    """A zero target (V, ...), int indices with repeats and negatives, and values with
    specials: float32/float64."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rows = draw(st.integers(1, 6))
    trailing = draw(st.sampled_from([(1,), (5,), (2, 3), (33,)]))
    index_shape = draw(st.sampled_from([(0,), (7,), (3, 4), (2, 2, 3)]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    index = rng.integers(-rows, rows, index_shape).astype(draw(st.sampled_from(
        [np.int64, np.int32])))
    values = rng.standard_normal(index_shape + trailing).astype(dtype)
    values.reshape(-1)[: draw(st.integers(0, 3))] = draw(st.sampled_from(
        [np.nan, np.inf, -0.0, 1e30]))
    return np.zeros((rows, *trailing), dtype), index, values


@settings(max_examples=40)
@given(scatter_cases())
def test_scatter_add_rows_is_np_add_at(case) -> None:
    target, index, values = case
    got = target.copy()
    assert indexing.scatter_add_rows(HOST, got, index, values)
    want = target.copy()
    np.add.at(want, index, values)
    np.testing.assert_array_equal(got, want)
    assert np.signbit(got).tolist() == np.signbit(want).tolist()


def test_scatter_add_rows_declines_what_it_cannot_loop_over() -> None:
    kernels = native.host_kernels
    target = np.zeros((3, 4), np.float32)
    values = np.ones((2, 4), np.float32)
    index = np.array([0, 2])
    read_only = np.zeros((3, 4), np.float32)
    read_only.flags.writeable = False
    for args in [(target, np.array([0, 3]), values), (target, np.array([-4, 0]), values),
                 (target, index.astype(np.int32), values), (target, index, values[:, ::2]),
                 (target, index, values.astype(np.float64)), (read_only, index, values),
                 (target, index, np.ones((3, 4), np.float32)), (np.zeros(3, np.float32),
                                                                 index, np.ones(2, np.int64)),
                 (target, index, 1.0), (_misaligned(target), index, values)]:
        before = args[0].copy()
        assert kernels.scatter_add_rows(*args) is False
        np.testing.assert_array_equal(args[0], before)
    with pytest.raises(TypeError):
        kernels.scatter_add_rows(target, index)
    # the dispatcher declines values of another shape (np.add.at would broadcast them)
    assert not indexing.scatter_add_rows(HOST, target, index, np.ones((1, 4), np.float32))


def test_softmax_rows_declines_what_it_cannot_loop_over() -> None:
    kernels = native.host_kernels
    s = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    read_only = s.copy()
    read_only.flags.writeable = False
    for scores in (s.astype(np.float64), s[:, :, ::2], s[0, 0], np.zeros((2, 0), np.float32),
                   np.zeros((0, 3), np.float32), read_only, _misaligned(s), 1.0):
        before = np.array(scores, copy=True)
        assert kernels.softmax_rows(scores, True) is False
        np.testing.assert_array_equal(scores, before)
    with pytest.raises(TypeError):
        kernels.softmax_rows(s)
    # the dispatcher: float64 declines, float32 runs (rows sum to 1)
    assert not attention.softmax_rows(HOST, s.astype(np.float64), False)
    assert attention.softmax_rows(HOST, s, False)
    np.testing.assert_allclose(s.sum(axis=-1), 1, rtol=1e-6)
