"""Op-table rows for the recurrent ops: the fused cells (first and second order) and the
sequence op `Recurrence` (first order here; its second order is checked in
tests/nn/test_recurrent_ops.py, where a few fixed configurations keep it affordable).

The NumPy references are written independently of the ops: one sequence at a time, step by
step, with the textbook gate formulas.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from autograd.ops.rnn_cells import gru_cell, lstm_cell, rnn_cell
from autograd.ops.rnn_sequence import Recurrence

from .op_table import OpCase


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# -- cells -----------------------------------------------------------------------------------
def ref_lstm_cell(xg, hg, c):
    hidden = c.shape[-1]
    pre = xg + hg
    i, f = _sigmoid(pre[:, :hidden]), _sigmoid(pre[:, hidden:2 * hidden])
    g, o = np.tanh(pre[:, 2 * hidden:3 * hidden]), _sigmoid(pre[:, 3 * hidden:])
    c_new = f * c + i * g
    return np.stack([o * np.tanh(c_new), c_new])


def ref_gru_cell(xg, hg, h):
    hidden = h.shape[-1]
    r = _sigmoid(xg[:, :hidden] + hg[:, :hidden])
    z = _sigmoid(xg[:, hidden:2 * hidden] + hg[:, hidden:2 * hidden])
    n = np.tanh(xg[:, 2 * hidden:] + r * hg[:, 2 * hidden:])
    return (1 - z) * n + z * h


def ref_rnn_cell(xg, hg, nonlinearity="tanh"):
    pre = xg + hg
    return np.tanh(pre) if nonlinearity == "tanh" else np.maximum(pre, 0.0)


@st.composite
def cell_shapes(draw, gates: int, state: bool = True):
    n, hidden = draw(st.integers(0, 3)), draw(st.integers(1, 2))
    shapes = ((n, gates * hidden), (n, gates * hidden))
    return (*shapes, (n, hidden)) if state else shapes


def relu_cell_inputs(rng, shapes):
    """xg, hg with their sum kept 0.05 away from relu's kink at 0."""
    xg = rng.uniform(-2, 2, shapes[0])
    hg = rng.uniform(-2, 2, shapes[1])
    pre = xg + hg
    hg = np.where(np.abs(pre) < 0.05, hg + np.where(pre >= 0, 0.05, -0.05), hg)
    return [xg, hg]


# -- the sequence op -------------------------------------------------------------------------
def ref_sequence(xproj, h0, c0, w_hh, b_hh=None, w_hr=None, *, mode, batch_sizes, batch,
                 reverse=False):
    """Each sequence on its own: its rows of the packed data, its steps in order."""
    starts = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]]).astype(int)
    ys = np.zeros((xproj.shape[0], w_hh.shape[1]))
    h_n, c_n = h0.copy(), (c0.copy() if c0 is not None else None)
    for b in range(batch):
        length = sum(1 for n in batch_sizes if n > b)
        h = h0[b]
        c = c0[b] if c0 is not None else None
        for t in (range(length - 1, -1, -1) if reverse else range(length)):
            row = starts[t] + b
            xg, hg = xproj[row][None], (h @ w_hh.T)[None]
            if mode == "LSTM":
                h_full, c = ref_lstm_cell(xg, hg, c[None])[:, 0]
                h = h_full @ w_hr.T if w_hr is not None else h_full
            elif mode == "GRU":
                h = ref_gru_cell(xg, hg + (b_hh if b_hh is not None else 0), h[None])[0]
            else:
                h = ref_rnn_cell(xg, hg, "tanh" if mode == "RNN_TANH" else "relu")[0]
            ys[row] = h
        h_n[b] = h
        if c_n is not None:
            c_n[b] = c
    parts = [ys.ravel(), h_n.ravel()] + ([c_n.ravel()] if mode == "LSTM" else [])
    return np.concatenate(parts)


@st.composite
def sequence_shapes(draw, mode: str, proj: bool = False, gru_bias: bool = False):
    """Input shapes, then (as a last entry) the batch sizes: a packed batch of 1..3
    sequences of 0..3 steps, hidden 1..2 (a projection 1 when `proj`)."""
    gates = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}[mode]
    batch, hidden = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    lengths = sorted(draw(st.lists(st.integers(1, 3), min_size=batch, max_size=batch)),
                     reverse=True)
    if draw(st.booleans()):
        lengths = [draw(st.integers(0, 3))] * batch  # a padded batch (maybe no steps)
    sizes = tuple(sum(1 for n in lengths if n > t) for t in range(max(lengths)))
    width = 1 if proj else hidden
    if proj:
        hidden = 2
    shapes = [(sum(sizes), gates * hidden), (batch, width)]
    if mode == "LSTM":
        shapes.append((batch, hidden))
    shapes.append((gates * hidden, width))
    if gru_bias:
        shapes.append((gates * hidden,))
    if proj:
        shapes.append((width, hidden))
    return (*shapes, ("sizes", sizes, batch))


def sequence_inputs(rng, shapes):
    return [rng.uniform(-1.5, 1.5, s) for s in shapes[:-1]]


def sequence_params(shapes):
    _, sizes, batch = shapes[-1]
    return st.fixed_dictionaries({"batch_sizes": st.just(sizes), "batch": st.just(batch),
                                  "reverse": st.booleans()})


def _sequence(mode: str, proj: bool = False, gru_bias: bool = False):
    """`Recurrence` as an op-table call: the inputs the row draws, None for the others."""

    def call(xproj, h0, *rest, **params):
        rest = list(rest)
        c0 = rest.pop(0) if mode == "LSTM" else None
        w_hh = rest.pop(0)
        b_hh = rest.pop(0) if gru_bias else None
        w_hr = rest.pop(0) if proj else None
        return Recurrence.apply(xproj, h0, c0, w_hh, b_hh, w_hr, mode=mode, **params)

    def ref(xproj, h0, *rest, **params):
        rest = list(rest)
        c0 = rest.pop(0) if mode == "LSTM" else None
        w_hh = rest.pop(0)
        b_hh = rest.pop(0) if gru_bias else None
        w_hr = rest.pop(0) if proj else None
        return ref_sequence(xproj, h0, c0, w_hh, b_hh, w_hr, mode=mode, **params)

    return call, ref


def _sequence_case(name: str, mode: str, proj: bool = False, gru_bias: bool = False) -> OpCase:
    call, ref = _sequence(mode, proj, gru_bias)
    return OpCase(name, call, ref, shapes=sequence_shapes(mode, proj, gru_bias),
                  params=sequence_params, make_inputs=sequence_inputs, second_order=False)


CASES = [
    OpCase("lstm_cell", lstm_cell, ref_lstm_cell, shapes=cell_shapes(4)),
    OpCase("gru_cell", gru_cell, ref_gru_cell, shapes=cell_shapes(3)),
    OpCase("rnn_cell_tanh", rnn_cell, ref_rnn_cell, shapes=cell_shapes(1, state=False)),
    OpCase("rnn_cell_relu", lambda xg, hg: rnn_cell(xg, hg, "relu"),
           lambda xg, hg: ref_rnn_cell(xg, hg, "relu"), shapes=cell_shapes(1, state=False),
           make_inputs=relu_cell_inputs),
    _sequence_case("lstm_sequence", "LSTM"),
    _sequence_case("lstm_sequence_proj", "LSTM", proj=True),
    _sequence_case("gru_sequence", "GRU", gru_bias=True),
    _sequence_case("gru_sequence_no_bias", "GRU"),
    _sequence_case("rnn_tanh_sequence", "RNN_TANH"),
    _sequence_case("rnn_relu_sequence", "RNN_RELU"),
]
