"""The fused recurrent-cell kernels of backends/kernels/recurrent.py against the cell equations
written plainly in float64 NumPy, on every backend, in float32 and float64 (the CUDA bodies
are compiled by test_kernels.py's NVRTC test where CuPy is installed)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from backends.kernels import recurrent

DTYPES = ["float32", "float64"]
TOL = {"float32": dict(rtol=1e-5, atol=3e-7), "float64": dict(rtol=1e-12, atol=1e-14)}
N, H = 3, 4


def _rand(shape, seed, dtype, scale=2.0):
    return (np.random.default_rng(seed).uniform(-scale, scale, shape)).astype(dtype)


def _dev(backend, a):
    return backend.asarray(np.array(a))


def _host(backend, a):
    return backend.to_numpy(a).astype(np.float64)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _lstm(xg, hg, c):
    pre = (xg + hg).astype(np.float64)
    i, f, g, o = _sigmoid(pre[:, :H]), _sigmoid(pre[:, H:2 * H]), np.tanh(pre[:, 2 * H:3 * H]), \
        _sigmoid(pre[:, 3 * H:])
    c2 = f * c + i * g
    return i, f, g, o, c2, o * np.tanh(c2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("in_place", [False, True])
def test_lstm_cell(backend, dtype, in_place):
    xg, hg, c = _rand((N, 4 * H), 0, dtype), _rand((N, 4 * H), 1, dtype), _rand((N, H), 2, dtype)
    c_in = _dev(backend, c)
    c_out = c_in if in_place else _dev(backend, np.zeros_like(c))
    h_out, tc = _dev(backend, np.zeros_like(c)), _dev(backend, np.zeros_like(c))
    gates = _dev(backend, np.zeros((N, 4 * H), dtype))
    recurrent.lstm_cell(backend, _dev(backend, xg), _dev(backend, hg), c_in, c_out, h_out, gates,
                        tc)
    i, f, g, o, c2, h2 = _lstm(xg, hg, c.astype(np.float64))
    np.testing.assert_allclose(_host(backend, gates), np.concatenate([i, f, g, o], 1),
                               **TOL[dtype])
    np.testing.assert_allclose(_host(backend, c_out), c2, **TOL[dtype])
    np.testing.assert_allclose(_host(backend, tc), np.tanh(c2), **TOL[dtype])
    np.testing.assert_allclose(_host(backend, h_out), h2, **TOL[dtype])
    assert backend.to_numpy(h_out).dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("two", [False, True])
def test_lstm_cell_grad(backend, dtype, two):
    xg, hg, c = _rand((N, 4 * H), 0, dtype), _rand((N, 4 * H), 1, dtype), _rand((N, H), 2, dtype)
    gh, gh2, gc = _rand((N, H), 3, dtype), _rand((N, H), 4, dtype), _rand((N, H), 5, dtype)
    i, f, g, o, c2, _ = _lstm(xg, hg, c.astype(np.float64))
    gates = np.concatenate([i, f, g, o], 1).astype(dtype)
    tc = np.tanh(c2).astype(dtype)
    gc_io = _dev(backend, gc)
    grads = _dev(backend, np.zeros((N, 4 * H), dtype))
    recurrent.lstm_cell_grad(backend, _dev(backend, gh), _dev(backend, gh2) if two else None,
                             gc_io, gc_io, _dev(backend, gates), _dev(backend, tc),
                             _dev(backend, c), grads)
    dh = gh.astype(np.float64) + (gh2 if two else 0)
    i, f, g, o, t = (a.astype(dtype).astype(np.float64) for a in (i, f, g, o, np.tanh(c2)))
    dc = dh * o * (1 - t * t) + gc
    want = np.concatenate([dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g),
                           dh * t * o * (1 - o)], 1)
    np.testing.assert_allclose(_host(backend, grads), want, **TOL[dtype])
    np.testing.assert_allclose(_host(backend, gc_io), dc * f, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [False, True])
def test_gru_cell_and_grad(backend, dtype, bias):
    xg, hg, h = _rand((N, 3 * H), 0, dtype), _rand((N, 3 * H), 1, dtype), _rand((N, H), 2, dtype)
    b = _rand((3 * H,), 3, dtype)
    out, acts = _dev(backend, np.zeros_like(h)), _dev(backend, np.zeros((N, 4 * H), dtype))
    recurrent.gru_cell(backend, _dev(backend, xg), _dev(backend, hg),
                       _dev(backend, b) if bias else None, _dev(backend, h), out, acts)
    hg64 = hg.astype(np.float64) + (b if bias else 0)
    r = _sigmoid(xg[:, :H] + hg64[:, :H])
    z = _sigmoid(xg[:, H:2 * H] + hg64[:, H:2 * H])
    n = np.tanh(xg[:, 2 * H:] + r * hg64[:, 2 * H:])
    np.testing.assert_allclose(_host(backend, out), (1 - z) * n + z * h, **TOL[dtype])
    np.testing.assert_allclose(_host(backend, acts),
                               np.concatenate([r, z, n, hg64[:, 2 * H:]], 1), **TOL[dtype])
    grads = [_rand((N, H), 10 + k, dtype) for k in range(3)]
    for count in (1, 3):
        g_h = _dev(backend, np.zeros_like(h))
        gx = _dev(backend, np.zeros((N, 3 * H), dtype))
        ghh = _dev(backend, np.zeros((N, 3 * H), dtype))
        recurrent.gru_cell_grad(backend, tuple(_dev(backend, g) for g in grads[:count]), acts,
                                _dev(backend, h), g_h, gx, ghh)
        dh = sum(g.astype(np.float64) for g in grads[:count])
        r_, z_, n_, hn = np.split(_host(backend, acts), 4, axis=1)
        dn = dh * (1 - z_) * (1 - n_ * n_)
        dr = dn * hn * r_ * (1 - r_)
        dz = dh * (h - n_) * z_ * (1 - z_)
        np.testing.assert_allclose(_host(backend, gx), np.concatenate([dr, dz, dn], 1),
                                   **TOL[dtype])
        np.testing.assert_allclose(_host(backend, ghh), np.concatenate([dr, dz, dn * r_], 1),
                                   **TOL[dtype])
        np.testing.assert_allclose(_host(backend, g_h), dh * z_, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_and_grad(backend, dtype, nonlinearity):
    xg, hg = _rand((N, H), 0, dtype), _rand((N, H), 1, dtype)
    xg[0, 0] = -hg[0, 0]  # exactly 0 before relu: relu'(0) = 0
    out = _dev(backend, np.zeros_like(xg))
    recurrent.rnn_cell(backend, _dev(backend, xg), _dev(backend, hg), out, nonlinearity)
    pre = xg.astype(np.float64) + hg
    want = np.tanh(pre) if nonlinearity == "tanh" else np.maximum(pre, 0)
    np.testing.assert_allclose(_host(backend, out), want, **TOL[dtype])
    gh, gh2 = _rand((N, H), 2, dtype), _rand((N, H), 3, dtype)
    g = _dev(backend, np.zeros_like(xg))
    recurrent.rnn_cell_grad(backend, _dev(backend, gh), _dev(backend, gh2), out, g, nonlinearity)
    y = _host(backend, out)
    slope = 1 - y * y if nonlinearity == "tanh" else (y > 0)
    np.testing.assert_allclose(_host(backend, g), (gh.astype(np.float64) + gh2) * slope,
                               **TOL[dtype])
    if nonlinearity == "relu":
        assert _host(backend, g)[0, 0] == 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_saturated_gates_stay_finite_and_quiet(backend, dtype):
    """Pre-activations of +-1e4: the capped exponent never overflows (no warning, no inf)."""
    xg = np.full((1, 4 * H), 1e4, dtype)
    xg[:, ::2] = -1e4
    hg = np.zeros_like(xg)
    c = np.zeros((1, H), dtype)
    out = [_dev(backend, np.zeros_like(c)) for _ in range(3)]
    gates = _dev(backend, np.zeros_like(xg))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        recurrent.lstm_cell(backend, _dev(backend, xg), _dev(backend, hg), _dev(backend, c),
                            out[0], out[1], gates, out[2])
    got = _host(backend, gates)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, np.where(xg > 0, 1.0, np.where(
        np.arange(4 * H) // H == 2, -1.0, 0.0)), atol=1e-30)
