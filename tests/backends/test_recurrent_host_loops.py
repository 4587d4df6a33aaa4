"""The LSTM cell's host C loops (backends/csrc/recurrent.c) against their NumPy bodies
(backends/kernels/recurrent.py): the gradient gives the same bits, the forward (fast_math.h's
sigmoid and tanh against NumPy's exp and tanh) agrees to the bound docs/kernels.md states, and
no input Python can give crashes the loops."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backends
from backends import native
from backends.kernels import recurrent

HOST = backends.get("cpu")
C = native.host_kernels
pytestmark = pytest.mark.skipif(C is None, reason="the host C loops are not running (not built, "
                                "stale, or KEDJA_PURE_PYTHON)")

#: The stated bound (docs/kernels.md), in epsilons of the dtype relative to max(1, |value|):
#: the NumPy body's g gate (2 sigmoid(2x) - 1) and its float32 exp are the larger part.
CELL_EPS = 8


def _numpy_body(fn, *args):
    saved = recurrent.host_kernels
    recurrent.host_kernels = None
    try:
        with np.errstate(all="ignore"):
            fn(HOST, *args)
    finally:
        recurrent.host_kernels = saved


@st.composite
def cells(draw):
    """(n, 4H) pre-activation halves and an (n, H) cell state, in one float dtype, of many
    scales (saturated gates, tiny ones near tanh's cancellation)."""
    dtype = draw(st.sampled_from(["float32", "float64"]))
    n, hidden = draw(st.integers(0, 5)), draw(st.integers(0, 9))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([1e-3, 0.5, 3.0, 40.0]))
    rng = np.random.default_rng(seed)
    xg = (rng.standard_normal((n, 4 * hidden)) * scale).astype(dtype)
    hg = (rng.standard_normal((n, 4 * hidden)) * scale).astype(dtype)
    c = (rng.standard_normal((n, hidden)) * scale).astype(dtype)
    return xg, hg, c


def _forward(xg, hg, c, body):
    n, hidden = c.shape
    out = {k: np.zeros((n, w * hidden), c.dtype) for k, w in
           (("c", 1), ("h", 1), ("gates", 4), ("tc", 1))}
    args = (xg, hg, c, out["c"], out["h"], out["gates"], out["tc"])
    if body:
        _numpy_body(recurrent.lstm_cell, *args)
    else:
        recurrent.lstm_cell(HOST, *args)
    return out


@settings(max_examples=60, deadline=None)
@given(cells())
def test_the_forward_agrees_with_the_numpy_body(case) -> None:
    xg, hg, c = case
    got, want = _forward(xg, hg, c, False), _forward(xg, hg, c, True)
    eps = np.finfo(c.dtype).eps
    for key in got:
        a, b = got[key].astype(np.float64), want[key].astype(np.float64)
        assert (np.abs(a - b) <= CELL_EPS * eps * np.maximum(1.0, np.abs(b))).all(), key


@settings(max_examples=60, deadline=None)
@given(cells(), st.booleans(), st.booleans())
def test_the_gradient_is_the_numpy_bodys_bits(case, two, in_place) -> None:
    xg, hg, c = case
    n, hidden = c.shape
    fwd = _forward(xg, hg, c, True)
    rng = np.random.default_rng(n * 31 + hidden)
    gh, gh2, gc = (rng.standard_normal((n, hidden)).astype(c.dtype) for _ in range(3))
    results = []
    for body in (False, True):
        gc_in = gc.copy()
        gc_out = gc_in if in_place else np.zeros_like(gc)
        grads = np.zeros((n, 4 * hidden), c.dtype)
        args = (gh, gh2 if two else None, gc_in, gc_out, fwd["gates"], fwd["tc"], c, grads)
        if body:
            _numpy_body(recurrent.lstm_cell_grad, *args)
        else:
            recurrent.lstm_cell_grad(HOST, *args)
        results.append((grads, gc_out))
    for a, b in zip(results[0], results[1]):
        np.testing.assert_array_equal(a, b)


def test_specials_propagate_like_the_numpy_body() -> None:
    """NaN gates stay NaN; +-inf pre-activations saturate the gates (to within exp's cap)."""
    xg = np.array([[np.nan, 0, 0, 0, np.inf, -np.inf, np.inf, -np.inf]], np.float32)
    hg = np.zeros_like(xg)
    c = np.zeros((1, 2), np.float32)
    got, want = _forward(xg, hg, c, False), _forward(xg, hg, c, True)
    np.testing.assert_array_equal(np.isnan(got["gates"]), np.isnan(want["gates"]))
    np.testing.assert_allclose(got["gates"], want["gates"], atol=1e-30)
    np.testing.assert_array_equal(np.isnan(got["h"]), np.isnan(want["h"]))


def _bad_inputs():
    """Operands the loops must refuse (answer False, write nothing) rather than read wrongly."""
    good = [np.zeros((2, 8), np.float32), np.zeros((2, 8), np.float32),
            np.zeros((2, 2), np.float32), np.zeros((2, 2), np.float32),
            np.zeros((2, 2), np.float32), np.zeros((2, 8), np.float32),
            np.zeros((2, 2), np.float32)]
    for k in range(7):
        for bad in (np.zeros((2, 8) if k in (0, 1, 5) else (2, 2), np.float64),
                    np.zeros((3, 8) if k in (0, 1, 5) else (3, 2), np.float32),
                    np.zeros((2, 9), np.float32), np.zeros((2, 16), np.float32)[:, ::2],
                    np.zeros(16, np.float32), np.zeros((2, 8), np.int32), b"bytes" * 13,
                    "text", None):
            args = list(good)
            args[k] = bad
            yield args
    ro = np.zeros((2, 2), np.float32)
    ro.flags.writeable = False
    yield good[:3] + [ro] + good[4:]
    raw = np.zeros(2 * 8 * 4 + 1, np.uint8)[1:].view(np.float32).reshape(2, 8)  # misaligned
    yield [raw] + good[1:]


def test_unsuitable_operands_answer_false_and_write_nothing() -> None:
    for args in _bad_inputs():
        before = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        assert C.lstm_cell(*args) is False
        for a, b in zip(args, before):
            if isinstance(a, np.ndarray):
                np.testing.assert_array_equal(a, b)
        grad_args = [args[4], None, args[2], args[3], args[5], args[6], args[2], args[0]]
        assert C.lstm_cell_grad(*grad_args) in (False, True)  # never a crash
    with pytest.raises(TypeError):
        C.lstm_cell(np.zeros((1, 4), np.float32))
    with pytest.raises(TypeError):
        C.lstm_cell_grad()
