"""What the README says about the two builds, held true: which results are the same bits with
and without the C extensions, and by how much the rest differ (docs/kernels.md, "Host C loops").

- The C core and the pure-Python core: the same bits (a training run compared across processes).
- The host C loops: the same bits as their NumPy bodies, except two, which differ by rounding:
  the float32 softmax cross-entropy (exp, log and sums in double) by at most 8 float32 epsilons
  relative to max(1, |value|) (the loss) or to the sample's gradient scale (the gradient), and a
  convolution's input gradient (one wide GEMM instead of one per kernel offset) by at most the
  GEMMs' rounding bound; and GELU's tanh form (its exp is fast_math.h's, not NumPy's): s within
  4 epsilons relative plus 2 smallest normals, y = x s and the gradient accordingly; and the
  float32 layer norm (row statistics in double against BLAS's float32 GEMVs) by the float32
  rounding of sums of n (a row) or R (a column) terms; and the attention's float32 softmax
  (exp from fast_math.h, the row sum in double) by (S + 4) epsilons relative plus 2 smallest
  normals.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import backends
from autograd.ops import attention as attention_ops
from autograd.ops.conv import conv2d
from backends import native
from backends.kernels import activations, attention, normalization, softmax, windows

HOST = backends.get("cpu")
KERNELS_RUN = native.host_kernels is not None
needs_kernels = pytest.mark.skipif(not KERNELS_RUN, reason="the host C loops are not running "
                                   "(not built, stale, or KEDJA_PURE_PYTHON)")

#: The stated bound (docs/kernels.md): float32 cross-entropy, C loop against NumPy body, in
#: float32 epsilons (2**-23) relative to max(1, |value|) or to the gradient's scale. Measured at
#: most 3.5 over 6000 drawn cases; NumPy's own float32 exp and log differ by CPU and version.
XENT_EPS = 8


def _without(module, fn):
    """fn() with `module`'s C loops switched off (its NumPy bodies run)."""
    saved = module.host_kernels
    module.host_kernels = None
    try:
        with np.errstate(all="ignore"):
            return fn()
    finally:
        module.host_kernels = saved


@st.composite
def logits(draw, dtype):
    """(N, C) logits of many scales, with ties, a dominant class and specials, and targets."""
    n, c = draw(st.integers(1, 40)), draw(st.sampled_from([1, 2, 3, 10, 100, 1000]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([1e-3, 1.0, 5.0, 30.0, 300.0, 1e4]))
    x = (rng.standard_normal((n, c)) * scale).astype(dtype)
    if draw(st.booleans()):
        x[0] = x[0, 0]  # a row of ties
    if n > 1 and draw(st.booleans()):
        x[1, rng.integers(c)] += 40.0  # one class dominates: log-sum-exp near 0
    if n > 2 and draw(st.booleans()):
        x[2, rng.integers(c)] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    scale_kind = draw(st.sampled_from(["mean", "per-sample", "weighted"]))
    if scale_kind == "mean":  # a reduced loss: gy / N for every sample
        g = np.asarray(1.0 / n, dtype)
    elif scale_kind == "per-sample":  # reduction="none": gy per sample
        g = rng.standard_normal((n, 1)).astype(dtype)
    else:  # class weights: gy w[y] / sum w[y]
        g = (rng.random((n, 1)) / n).astype(dtype)
    return x, rng.integers(0, c, n), g


def _cross_entropy(x, target, g):
    shift, log_total, nll = softmax.softmax_xent_nll(HOST, x, target)
    gx = softmax.softmax_xent_grad(HOST, x, shift, log_total, target[:, None], g, g)
    return shift, log_total, nll, gx


def _epsilons(a, b, unit):
    """|a - b| in float32 epsilons relative to `unit`; equal values (and NaN, NaN) count 0."""
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    eps = float(np.finfo(np.float32).eps)
    return np.where(same, 0.0, np.abs(a.astype(np.float64) - b) / (eps * unit.astype(np.float64)))


@needs_kernels
@given(logits(np.float32))
def test_float32_cross_entropy_agrees_to_8_epsilons(case) -> None:
    x, target, g = case
    c_loop = _cross_entropy(x, target, g)
    numpy_body = _without(softmax, lambda: _cross_entropy(x, target, g))
    for got, want in zip(c_loop, numpy_body):
        assert got.dtype == want.dtype == np.float32 and got.shape == want.shape
        assert np.array_equal(np.isfinite(got), np.isfinite(want))
    np.testing.assert_array_equal(c_loop[0], numpy_body[0])  # the shift is the row maximum
    for got, want in zip(c_loop[1:3], numpy_body[1:3]):  # log_total, the per-sample loss
        unit = np.maximum(np.float32(1), np.abs(want.astype(np.float32)))
        with np.errstate(invalid="ignore"):
            unit = np.where(np.isfinite(unit), unit, 1)
            assert np.nanmax(_epsilons(got, want, unit)) <= XENT_EPS
    with np.errstate(invalid="ignore"):
        worst = _epsilons(c_loop[3], numpy_body[3], np.abs(np.broadcast_to(g, c_loop[3].shape)))
        assert np.nanmax(np.where(np.isfinite(numpy_body[3]), worst, 0)) <= XENT_EPS


@needs_kernels
@given(logits(np.float64))
def test_float64_cross_entropy_is_the_same_bits(case) -> None:
    x, target, g = case
    with np.errstate(invalid="ignore"):  # rows holding inf
        c_build = _cross_entropy(x, target, g)
    numpy_only = _without(softmax, lambda: _cross_entropy(x, target, g))
    for got, want in zip(c_build, numpy_only):
        np.testing.assert_array_equal(got, want)


@st.composite
def conv_cases(draw):
    """A float32/float64 convolution with its input, weight and upstream gradient."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    n, c, c_out = draw(st.integers(1, 4)), draw(st.integers(1, 8)), draw(st.integers(1, 24))
    k, stride, pad = draw(st.sampled_from([1, 2, 3])), draw(st.integers(1, 2)), draw(
        st.integers(0, 1))
    size = draw(st.integers(k, 9))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((n, c, size, size)).astype(dtype)
    w = rng.standard_normal((c_out, c, k, k)).astype(dtype)
    out = (size + 2 * pad - k) // stride + 1
    gy = rng.standard_normal((n, c_out, out, out)).astype(dtype)
    return x, w, gy, stride, pad


def _conv_grads(x, w, gy, stride, pad):
    xt = ag.tensor(x, requires_grad=True)
    wt = ag.tensor(w, requires_grad=True)
    bt = ag.zeros(w.shape[0], dtype=x.dtype, requires_grad=True)
    conv2d(xt, wt, bt, stride=stride, padding=pad).backward(ag.tensor(gy))
    return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


@needs_kernels
@given(conv_cases())
def test_the_convolution_input_gradient_differs_only_by_gemm_rounding(case) -> None:
    x, w, gy, stride, pad = case
    gx, gw, gb = _conv_grads(x, w, gy, stride, pad)
    gx_np, gw_np, gb_np = _without(windows, lambda: _conv_grads(x, w, gy, stride, pad))
    np.testing.assert_array_equal(gw, gw_np)  # the weight and bias gradients: the same bits
    np.testing.assert_array_equal(gb, gb_np)
    # The stated bound: (C_out + kh kw) eps times the same sums over absolute values.
    magnitude = _conv_grads(x.astype(np.float64), np.abs(w).astype(np.float64),
                            np.abs(gy).astype(np.float64), stride, pad)[0]
    c_out, _, kh, kw = w.shape
    bound = (c_out + kh * kw) * np.finfo(x.dtype).eps * magnitude
    assert (np.abs(gx.astype(np.float64) - gx_np) <= bound).all()


#: The stated bound (docs/kernels.md) for GELU's tanh form, C loop against NumPy body, in
#: epsilons of the dtype: |s_C - s_NumPy| <= 4 eps |s_NumPy| + 2 tiny (tiny: the smallest normal
#: number; s = 1 / (1 + exp(-2u)) below it is 0 or subnormal in both). Measured at most 2.3
#: (float32) and 2.1 (float64) over two million points in [-30, 30].
GELU_EPS = 4


@st.composite
def gelu_inputs(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([1e-3, 1.0, 3.0, 10.0, 30.0]))
    x = (rng.standard_normal(draw(st.integers(1, 3000))) * scale).astype(dtype)
    x[: draw(st.integers(0, 3))] = draw(st.sampled_from([np.nan, np.inf, -np.inf, -0.0]))
    return x, rng.standard_normal(x.shape).astype(dtype)


def _gelu(x, gy):
    y, s = activations.gelu(HOST, x, "tanh", keep=True)
    return s, y, activations.gelu_grad(HOST, x, gy, "tanh", s=s)


@needs_kernels
@settings(max_examples=40)
@given(gelu_inputs())
def test_gelu_tanh_agrees_to_4_epsilons(case) -> None:
    x, gy = case
    with np.errstate(all="ignore"):
        s, y, gx = _gelu(x, gy)
    s0, y0, gx0 = _without(activations, lambda: _gelu(x, gy))
    for got, want in ((s, s0), (y, y0), (gx, gx0)):
        assert got.dtype == want.dtype == x.dtype
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    eps, tiny = float(np.finfo(x.dtype).eps), float(np.finfo(x.dtype).tiny)
    x64, s64 = x.astype(np.float64), s0.astype(np.float64)
    with np.errstate(all="ignore"):
        err_s = np.abs(s - s64)
        err_y = np.abs(y - y0.astype(np.float64))
        err_gx = np.abs(gx - gx0.astype(np.float64))
        # the gradient s (1 + x (1 - s) 2u'): an error in s reaches it times 1 + |x| 2u'
        slope = 1 + np.abs(x64) * (2 * np.sqrt(2 / np.pi) * (1 + 3 * 0.044715 * x64 * x64))
        finite = np.isfinite(x64) & np.isfinite(gy)
        assert (err_s <= GELU_EPS * eps * s64 + 2 * tiny)[finite].all()
        assert (err_y <= GELU_EPS * eps * np.abs(y0) + 2 * tiny * np.abs(x64))[finite].all()
        bound = 2 * GELU_EPS * np.abs(gy) * slope * (eps * s64 + 2 * tiny)
        assert (err_gx <= bound)[finite].all()
    np.testing.assert_array_equal(y[~np.isfinite(x64)], y0[~np.isfinite(x64)])


@st.composite
def layer_norm_rows(draw):
    """Float32 rows (R, n) of many scales and offsets (a large offset against a small spread
    makes the NumPy body's centring inexact), weight, bias, eps and an upstream gradient."""
    rows, n = draw(st.integers(1, 200)), draw(st.sampled_from([1, 2, 7, 8, 9, 128, 1000]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    spread, offset = draw(st.sampled_from([1e-3, 1.0, 100.0])), draw(
        st.sampled_from([0.0, 1.0, 1e3]))
    x = rng.standard_normal((rows, n)) * spread + offset * rng.standard_normal((rows, 1))
    w, b = rng.standard_normal(n), rng.standard_normal(n)
    gy = rng.standard_normal((rows, n)) * draw(st.sampled_from([1e-3, 1.0, 100.0]))
    eps = draw(st.sampled_from([1e-5, 1e-12, 0.1]))
    return (*(a.astype(np.float32) for a in (x, w, b, gy)), eps)


@needs_kernels
@settings(max_examples=30)
@given(layer_norm_rows())
def test_float32_layer_norm_agrees_to_the_rounding_of_its_sums(case) -> None:
    # The stated bounds (docs/kernels.md), with eps the float32 epsilon, per row: cond =
    # rstd max|x| (how much an error in the mean moves xhat), rel = 1 + n eps cond^2 (how much
    # it moves the variance); the NumPy body's sums of n terms are good to n eps.
    x, w, b, gy, eps_ln = case
    rows, n = x.shape
    host = backends.get("cpu")
    y, xhat, rstd = normalization.layer_norm_rows(host, x, w, b, eps_ln)
    y0, xhat0, rstd0 = _without(normalization,
                                lambda: normalization.layer_norm_rows(host, x, w, b, eps_ln))
    eps = float(np.finfo(np.float32).eps)
    r = rstd0.astype(np.float64)
    cond = r * np.abs(x).max(axis=1, keepdims=True)
    rel = 1 + n * eps * cond * cond
    sums = (4 + n) * eps
    assert (np.abs(rstd - r) <= 4 * eps * r * rel).all()
    assert (np.abs(xhat - xhat0.astype(np.float64)) <= sums * (np.abs(xhat0) * rel + cond)).all()
    assert (np.abs(y - y0.astype(np.float64))
            <= sums * (np.abs(w) * (np.abs(xhat0) * rel + cond)) + 4 * eps * np.abs(y0)).all()
    # the gradients from the same saved xhat and rstd (the NumPy body's)
    grads = normalization.layer_norm_rows_grad(host, gy, xhat0, w, rstd0, True, True, True)
    grads0 = _without(normalization, lambda: normalization.layer_norm_rows_grad(
        host, gy, xhat0, w, rstd0, True, True, True))
    g, h = np.abs(gy.astype(np.float64) * w), np.abs(xhat0.astype(np.float64))
    scale = r * (g + g.mean(axis=1, keepdims=True) + h * (g * h).mean(axis=1, keepdims=True))
    assert (np.abs(grads[0] - grads0[0].astype(np.float64)) <= sums * scale).all()
    by_column = (4 + rows) * eps
    assert (np.abs(grads[1] - grads0[1].astype(np.float64))
            <= by_column * np.abs(gy.astype(np.float64) * xhat0).sum(axis=0)).all()
    assert (np.abs(grads[2] - grads0[2].astype(np.float64))
            <= by_column * np.abs(gy.astype(np.float64)).sum(axis=0)).all()


@st.composite
def attention_scores(draw):
    """Float32 scores (N, H, L, S) of many scales, with NaN and inf here and there."""
    length = draw(st.integers(1, 70))
    cols = draw(st.sampled_from([length, length + 3, max(1, length - 2), 1, 100]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    s = rng.standard_normal((2, 3, length, cols)) * draw(st.sampled_from([0.1, 1.0, 10.0, 100.0]))
    s = s.astype(np.float32)
    for _ in range(draw(st.integers(0, 3))):
        s.reshape(-1)[rng.integers(s.size)] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    return s, draw(st.booleans())


@needs_kernels
@settings(max_examples=40)
@given(attention_scores())
def test_float32_attention_softmax_agrees_to_its_sums_rounding(case) -> None:
    # The stated bound (docs/kernels.md): (S + 4) eps p + 2 tiny; NaN, inf and masked zeros
    # where the NumPy body puts them.
    s, causal = case
    cols = s.shape[-1]
    got = s.copy()
    assert attention.softmax_rows(HOST, got, causal)
    bias = attention_ops._causal_bias(HOST, np, s.shape[-2], cols, s.dtype) if causal else None
    with np.errstate(all="ignore"):
        want = attention_ops._softmax(np, s.copy(), bias, cols)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    if causal:  # masked keys: exactly 0 in both, unless their row is NaN
        rows, cols_ = np.indices(s.shape[-2:])
        masked = np.broadcast_to(cols_ > rows, s.shape) & ~np.isnan(want)
        assert (got[masked] == 0).all() and (want[masked] == 0).all()
    eps, tiny = float(np.finfo(np.float32).eps), float(np.finfo(np.float32).tiny)
    finite = np.isfinite(want)
    err = np.abs(got.astype(np.float64) - want)
    assert (err <= (cols + 4) * eps * np.abs(want) + 2 * tiny)[finite].all()


# A short training run through every path the C code takes: convolutions, BatchNorm, ReLU then
# block max pooling, dropout, a linear layer, cross-entropy, AdamW and SGD with momentum. The
# two C loops that round differently are switched off where asked (argv[2] == "exact").
_TRAINING = r"""
import sys
import numpy as np
import autograd as ag, nn, optim
from autograd import _native
from backends import kernels, native
from backends.kernels import softmax
if sys.argv[2] == "exact":
    softmax._host_rows = lambda *args: False   # the float32 cross-entropy's C loop
    kernels.c_loops = lambda *args: False      # the convolution's wide-GEMM input gradient
ag.manual_seed(0)
from nn.datasets import load_digits
images, labels = load_digits()
x, y = ag.tensor(images[:96].reshape(-1, 1, 8, 8)), ag.tensor(labels[:96])
model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                      nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Dropout(0.2), nn.Linear(16 * 4 * 4, 10))
for opt in (optim.AdamW(model.parameters(), lr=1e-2),
            optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)):
    for step in range(4):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x[step * 24:(step + 1) * 24]),
                                    y[step * 24:(step + 1) * 24]).backward()
        opt.step()
np.savez(sys.argv[1], native=_native.native(), kernels=native.host_kernels is not None,
         **{k: v.numpy() for k, v in model.state_dict().items()})
"""


def _train(path: Path, pure: bool, exact: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "KEDJA_PURE_PYTHON"}
    env["OPENBLAS_NUM_THREADS"] = "1"
    if pure:
        env["KEDJA_PURE_PYTHON"] = "1"
    subprocess.run([sys.executable, "-c", _TRAINING, str(path), "exact" if exact else "all"],
                   env=env, check=True, capture_output=True, timeout=300)
    with np.load(path) as saved:
        return dict(saved)


@pytest.mark.skipif(importlib.util.find_spec("autograd._ccore") is None
                    or importlib.util.find_spec("backends._host_kernels") is None,
                    reason="the C extensions were not built (no compiler at install time)")
def test_the_c_build_trains_to_the_same_bits_but_for_the_two_stated_loops(tmp_path) -> None:
    c_build = _train(tmp_path / "c.npz", pure=False, exact=True)
    pure = _train(tmp_path / "pure.npz", pure=True, exact=False)
    assert c_build.pop("native") and c_build.pop("kernels"), "the C build did not load"
    assert not pure.pop("native") and not pure.pop("kernels")
    assert c_build.keys() == pure.keys()
    for name in c_build:
        np.testing.assert_array_equal(c_build[name], pure[name], err_msg=name)
