"""The host C loops (backends/csrc/) against the NumPy bodies they follow: the same bits
(the softmax cross-entropy: agreement to float32 rounding, its exp and log being libm's), on
hypothesis-drawn shapes and values with ties, signed zeros, NaN and inf."""

from __future__ import annotations

import functools

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


def _both(fn, module=pooling):
    """fn() with the C loops, then with `module`'s NumPy bodies (its `host_kernels` unset)."""
    c = fn()
    saved = module.host_kernels
    module.host_kernels = None
    try:
        with np.errstate(invalid="ignore"):  # NaN cases: NumPy warns where C does not
            return c, fn()
    finally:
        module.host_kernels = saved


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


@st.composite
def window_cases(draw):
    from backends.kernels.windows import Window

    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    pads = [draw(st.integers(0, d * (k - 1))) for k, d in ((kh, dh), (kh, dh), (kw, dw),
                                                            (kw, dw))]
    n, c = draw(st.integers(0, 2)), draw(st.integers(1, 5))
    h = draw(st.integers(dh * (kh - 1) + 1, 7))
    wd = draw(st.integers(dw * (kw - 1) + 1, 7))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    w = Window(kh, kw, sh, sw, dh, dw, *pads)
    oh = (h + w.pt + w.pb - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + w.pl + w.pr - dw * (kw - 1) - 1) // sw + 1
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    # an NCHW array's channels-last view, as the convolution passes it
    image = rng.standard_normal((n, h, wd, c)).astype(dtype)
    return image, w, oh, ow


@given(window_cases())
def test_im2col_and_col2im_match_the_numpy_bodies(case) -> None:
    from backends.kernels import windows

    image, w, oh, ow = case
    rng = np.random.default_rng(1)
    cols = rng.standard_normal((image.shape[0] * oh * ow, w.kh * w.kw * image.shape[3]))
    cols = cols.astype(image.dtype)

    def run():
        gathered = windows.im2col(HOST, image, w, oh, ow)
        target = image.copy()
        windows.col2im_add(HOST, cols, target, w, oh, ow)
        return gathered, target

    for c_out, n_out in zip(*_both(run, windows)):
        np.testing.assert_array_equal(c_out, n_out)


@given(block_cases())
def test_relu_grad_matches_the_numpy_body(case) -> None:
    from backends.kernels import activations

    blocks, _ = case
    y = blocks[:, :, 0]  # (N, OH, OW, kw, C): ties, zeros, NaN, inf
    gy = np.flip(y, axis=-1).copy()
    # C order, and an NCHW-like view of channels-last memory (batch axis still first)
    layouts = [(y, gy), (y.transpose(0, 4, 1, 2, 3), gy.transpose(0, 4, 1, 2, 3)),
               (y[0, 0, 0, 0], gy[0, 0, 0, 0])] if y.size else [(y, gy)]

    for yy, gg in layouts:
        c_out, n_out = _both(functools.partial(activations.relu_grad, HOST, yy, gg), activations)
        np.testing.assert_array_equal(c_out, n_out)
        assert np.signbit(c_out).tolist() == np.signbit(n_out).tolist()


@given(block_cases())
def test_tanh_grad_matches_the_numpy_body(case) -> None:
    # Bit for bit: the C loop rounds y * y, 1 - it and the product as NumPy's passes do.
    from backends.kernels import activations

    blocks, _ = case
    y = np.tanh(blocks[:, :, 0])  # ties, zeros, NaN (from inf - inf: none here), +-1
    gy = np.flip(blocks[:, :, 0], axis=-1).copy()  # NaN and inf upstream gradients too
    # C order (the C loop), a transposed view and a strided slice (NumPy's passes)
    layouts = [(y, gy), (y.transpose(0, 4, 1, 2, 3), gy.transpose(0, 4, 1, 2, 3)),
               (y[..., ::2], gy[..., ::2])] if y.size else [(y, gy)]
    for yy, gg in layouts:
        c_out, n_out = _both(functools.partial(activations.tanh_grad, HOST, yy, gg), activations)
        np.testing.assert_array_equal(c_out, n_out)
        assert np.signbit(c_out).tolist() == np.signbit(n_out).tolist()


@st.composite
def _optimizer_arrays(draw, count):
    """`count` normal arrays of one drawn dtype and shape (0-d and empty too), the second a
    gradient with a special value (they must propagate alike), and the generator."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    shape = draw(st.sampled_from([(), (0,), (7,), (3, 5), (2, 3, 4)]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    arrays = [rng.standard_normal(shape).astype(dtype) for _ in range(count)]
    if arrays[0].size:
        arrays[1].reshape(-1)[0] = draw(st.sampled_from([0.0, -0.0, np.nan, np.inf, 1e-30]))
    return (*arrays, rng)


@st.composite
def sgd_cases(draw):
    """A parameter, gradient and momentum buffer, and SGD's hyperparameters (every branch)."""
    p, g, buf, _ = draw(_optimizer_arrays(3))
    hyper = dict(
        lr=draw(st.sampled_from([0.01, 0.1, 1, 3e-4])),
        momentum=draw(st.sampled_from([0, 0.9, 0.5])),
        dampening=draw(st.sampled_from([0, 0.1])),
        weight_decay=draw(st.sampled_from([0, 1e-4, 0.5])),
        nesterov=draw(st.booleans()),
        maximize=draw(st.booleans()),
    )
    if hyper["nesterov"]:
        hyper["dampening"] = 0
    first = draw(st.booleans())
    return p, g, None if first else buf, hyper


@given(sgd_cases())
def test_sgd_step_matches_the_numpy_body(case) -> None:
    from backends.kernels import optimizers

    p, g, buf, hyper = case

    def run():
        pp, bb = p.copy(), None if buf is None else buf.copy()
        new = optimizers.sgd_step(HOST, pp, g, bb, **hyper)
        return pp, new

    (c_p, c_buf), (n_p, n_buf) = _both(run, optimizers)
    np.testing.assert_array_equal(c_p, n_p)
    assert np.signbit(c_p).tolist() == np.signbit(n_p).tolist()
    if hyper["momentum"] == 0:
        assert c_buf is None and n_buf is None
    else:
        np.testing.assert_array_equal(c_buf, n_buf)


def test_sgd_takes_the_numpy_body_where_the_c_loop_cannot() -> None:
    from backends.kernels import optimizers

    p = np.ones((4, 6), np.float32)
    hyper = dict(momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False)
    assert optimizers._c_step(HOST, (p, p, None), (0.1, 0, 0, 0))
    strided = np.ones((4, 12), np.float32)[:, ::2]
    assert not optimizers._c_step(HOST, (strided, p, None), (0.1, 0, 0, 0))
    assert not optimizers._c_step(HOST, (p, p.astype(np.float64), None), (0.1, 0, 0, 0))
    # a NumPy float64 learning rate promotes float32 arithmetic in NumPy: not the C loop's
    assert not optimizers._c_step(HOST, (p, p, None), (np.float64(0.1), 0, 0, 0))
    g = np.full((4, 12), 2.0, np.float32)[:, ::2]
    optimizers.sgd_step(HOST, p, g, None, lr=0.25, **hyper)  # the NumPy body, same result
    np.testing.assert_array_equal(p, np.full((4, 6), 0.5, np.float32))
    k = native.host_kernels
    with pytest.raises(TypeError, match="float32 or float64"):
        k.sgd(p, p.astype(np.float64), None, 0.1, 1.0, 0.0, 0.0, 1.0, False, False)
    with pytest.raises(ValueError, match="one size"):
        k.sgd(p, p[:2].copy(), None, 0.1, 1.0, 0.0, 0.0, 1.0, False, False)


@st.composite
def logit_cases(draw):
    """Logits (N, C) with large, tied and special values, and class indices (some out of range
    when `bad`)."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    n, c = draw(st.integers(0, 6)), draw(st.integers(1, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = (rng.standard_normal((n, c)) * draw(st.sampled_from([1.0, 30.0, 1e4]))).astype(dtype)
    if n and draw(st.booleans()):
        x[0] = x[0, 0]  # a row of ties
    if n > 1 and draw(st.booleans()):
        x[1, draw(st.integers(0, c - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    target = rng.integers(0, c, n)
    if n and draw(st.booleans()):
        target[-1] = draw(st.sampled_from([-1, c, -100]))
    return x, target


def _close(c_out, n_out, dtype) -> None:
    """Agreement to a few units of the dtype's rounding (libm in double vs NumPy's exp/log)."""
    tol = 4 * np.finfo(dtype).eps
    np.testing.assert_allclose(c_out, n_out, rtol=tol, atol=tol)


@given(logit_cases())
def test_softmax_xent_matches_the_numpy_body(case) -> None:
    from backends.kernels import softmax

    x, target = case

    def run():
        rows = softmax.softmax_xent_nll(HOST, x, target)
        if rows is None:
            return None
        shift, log_total, nll = rows
        grads = []
        for scale, hot in ((np.ones((), x.dtype) * 0.25,) * 2,
                           (np.linspace(-1, 1, len(x)).astype(x.dtype)[:, None],
                            np.full((len(x), 1), 0.5, x.dtype))):
            grads.append(softmax.softmax_xent_grad(HOST, x, shift, log_total, target[:, None],
                                                   scale, hot))
        return [shift, log_total, nll, *grads]

    c_result, numpy_result = _both(run, softmax)
    in_range = bool(((target >= 0) & (target < x.shape[1])).all())
    assert (c_result is None) == (numpy_result is None) == (not in_range)
    if c_result is None:
        return
    with np.errstate(invalid="ignore"):
        for c_out, n_out in zip(c_result, numpy_result):
            assert c_out.shape == n_out.shape and c_out.dtype == n_out.dtype
            _close(c_out, n_out, x.dtype)


def test_softmax_xent_c_loops_refuse_what_they_do_not_take() -> None:
    k = native.host_kernels
    x = np.zeros((3, 4), np.float32)
    t = np.zeros(3, np.int64)
    out = [np.empty(3, np.float32) for _ in range(3)]
    with pytest.raises(TypeError, match="int64"):
        k.softmax_xent(x, t.astype(np.int32), *out)
    with pytest.raises(TypeError, match=r"\(N, C\)"):
        k.softmax_xent(x[:, :0].copy(), t, *out)
    with pytest.raises(ValueError, match="items"):
        k.softmax_xent(x, t[:2].copy(), *out)
    g = np.empty_like(x)
    one = np.ones((), np.float32)
    with pytest.raises(IndexError, match="out of"):
        k.softmax_xent_grad(x, np.array([0, 4, 1]), out[0], out[1], one, one, g)
    with pytest.raises(ValueError, match="one per row"):
        k.softmax_xent_grad(x, t, out[0], out[1], np.ones(2, np.float32), one, g)


@st.composite
def adam_cases(draw):
    """A parameter, gradient and moments, and Adam's/AdamW's hyperparameters (every branch)."""
    p, g, m, rng = draw(_optimizer_arrays(3))
    v, vmax = (rng.random(p.shape).astype(p.dtype) for _ in range(2))
    if p.size:
        vmax.reshape(-1)[-1] = draw(st.sampled_from([0.0, np.nan, 2.0]))
    hyper = dict(
        step=draw(st.integers(1, 50)), lr=draw(st.sampled_from([1e-3, 0.1, 1])),
        beta1=draw(st.sampled_from([0.9, 0.0, 0.5])),
        beta2=draw(st.sampled_from([0.999, 0.5])), eps=draw(st.sampled_from([1e-8, 1e-3])),
        weight_decay=draw(st.sampled_from([0, 1e-2])), decoupled=draw(st.booleans()),
        amsgrad=draw(st.booleans()), maximize=draw(st.booleans()),
    )
    return p, g, m, v, vmax, hyper


@given(adam_cases())
def test_adam_step_matches_the_numpy_body(case) -> None:
    from backends.kernels import optimizers

    p, g, m, v, vmax, hyper = case

    def run():
        arrays = [a.copy() for a in (p, m, v, vmax)]
        pp, mm, vv, mx = arrays
        optimizers.adam_step(HOST, pp, g, mm, vv, mx if hyper["amsgrad"] else None, **hyper)
        return arrays

    for c_out, n_out in zip(*_both(run, optimizers)):
        np.testing.assert_array_equal(c_out, n_out)
        assert np.signbit(c_out).tolist() == np.signbit(n_out).tolist()
