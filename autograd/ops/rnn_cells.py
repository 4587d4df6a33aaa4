"""Recurrent cells as single ops: one LSTM, GRU or Elman step after its matrix products.

Each op takes the gate pre-activations of the input (``xg = x @ W_ih.T + b_ih``) and of the
hidden state (``hg = h @ W_hh.T + b_hh``) and does the rest of the step, gates,
nonlinearities and state update, as one recorded op whose forward is one fused kernel
(`backends.kernels.recurrent`). Its first-order backward is the fused gradient kernel on raw
arrays; with ``create_graph=True`` the rule is the step written with basic tensor ops
(`lstm_cell_reference`, ...), differentiated by autograd itself, so grad-of-grad works.

`nn.LSTMCell`, `nn.GRUCell` and `nn.RNNCell` are two `linear` calls and one of these ops;
`nn.LSTM`, `nn.GRU` and `nn.RNN` run the same kernels over a whole sequence in one op
(`autograd.ops.rnn_sequence`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backends import kernels

from ..function import Function
from ..grad_mode import enable_grad
from ..tensor import Tensor
from .activation import relu, sigmoid
from .joining import stack
from .unary import clone, tanh

__all__ = ["lstm_cell", "gru_cell", "rnn_cell", "lstm_cell_reference", "gru_cell_reference",
           "rnn_cell_reference"]


def recorded_gradients(fn: Function, reference: Callable[..., Tensor], inputs: tuple,
                       gy: Tensor, **params: Any) -> tuple:
    """The first-order rule on the recorded (create_graph) path: `reference` (the op written
    with basic tensor ops) at the op's saved inputs, differentiated by autograd, recorded.

    Each input that needs a gradient goes through a fresh `clone` first: the nested backward
    captures the gradient there and never walks on into the outer graph the input came from.
    """
    from ..engine import run_backward  # the engine imports the op modules

    needs = fn.needs_input_grad
    aliases = [clone(x) if need else x for x, need in zip(inputs, needs)]
    wanted = [a for a, need in zip(aliases, needs) if need]
    with enable_grad():
        out = reference(*aliases, **params)
        if not out.requires_grad:  # no input that needs a gradient reaches the output
            return (None,) * len(needs)
        grads = iter(run_backward([out], [gy], create_graph=True, inputs=wanted,
                                  allow_unused=True))
    return tuple(next(grads) if need else None for need in needs)


def _check_gates(op: str, xg: Any, hg: Any, state: Any, gates: int) -> int:
    """The hidden size, after checking (n, gates*H) pre-activations against an (n, H) state."""
    shape = tuple(state.shape)
    if (xg.ndim != 2 or len(shape) != 2 or tuple(xg.shape) != tuple(hg.shape)
            or xg.shape != (shape[0], gates * shape[1])):
        raise ValueError(
            f"{op}: expected gate pre-activations xg and hg of shape (n, {gates} * hidden) and "
            f"a state of shape (n, hidden), got xg {tuple(xg.shape)}, hg {tuple(hg.shape)}, "
            f"state {shape}"
        )
    if not (xg.dtype == hg.dtype == state.dtype):
        raise TypeError(f"{op}: xg, hg and the state must share one dtype, got {xg.dtype}, "
                        f"{hg.dtype} and {state.dtype}")
    return shape[1]


# -- LSTM ----------------------------------------------------------------------------------------
def lstm_cell_reference(xg: Tensor, hg: Tensor, c: Tensor) -> Tensor:
    """`lstm_cell` composed of basic ops (the recorded rule and the tests' reference)."""
    hidden = c.shape[-1]
    pre = xg + hg
    i = sigmoid(pre[:, :hidden])
    f = sigmoid(pre[:, hidden:2 * hidden])
    g = tanh(pre[:, 2 * hidden:3 * hidden])
    o = sigmoid(pre[:, 3 * hidden:])
    c_new = f * c + i * g
    return stack([o * tanh(c_new), c_new])


class LSTMCell(Function):
    """One LSTM step: ``(h', c')`` stacked as (2, n, H) from gate pre-activations (i, f, g, o
    blocks of (n, 4H)) and the cell state ``c``::

        i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of (xg + hg)
        c' = f c + i g;   h' = o tanh(c')
    """

    raw_backward = True

    def forward(self, xg, hg, c):
        hidden = _check_gates("lstm_cell", xg, hg, c, 4)
        xp = self.xp
        out = xp.empty((2, *c.shape), dtype=c.dtype)
        gates = xp.empty((c.shape[0], 4 * hidden), dtype=c.dtype)
        tc = xp.empty(c.shape, dtype=c.dtype)
        kernels.recurrent.lstm_cell(self.backend, xg, hg, c, out[1], out[0], gates, tc)
        self.save_for_backward(xg, hg, c, gates, tc)
        return out

    def backward(self, gy):
        xg, hg, c, gates, tc = self.saved_tensors
        if isinstance(gy, Tensor):
            return recorded_gradients(self, lstm_cell_reference, (xg, hg, c), gy)
        grads = self.xp.empty(xg.shape, dtype=xg.dtype)
        gc = self.xp.empty(c.shape, dtype=c.dtype)
        kernels.recurrent.lstm_cell_grad(self.backend, gy[0], None, gy[1], gc, gates, tc, c,
                                         grads)
        need = self.needs_input_grad
        return (grads if need[0] else None, grads if need[1] else None,
                gc if need[2] else None)


def lstm_cell(xg: Tensor, hg: Tensor, c: Tensor) -> Tensor:
    """One fused LSTM step (see `LSTMCell`); returns ``stack([h', c'])`` of shape (2, n, H)."""
    return LSTMCell.apply(xg, hg, c)


# -- GRU -----------------------------------------------------------------------------------------
def gru_cell_reference(xg: Tensor, hg: Tensor, h: Tensor) -> Tensor:
    """`gru_cell` composed of basic ops."""
    hidden = h.shape[-1]
    r = sigmoid(xg[:, :hidden] + hg[:, :hidden])
    z = sigmoid(xg[:, hidden:2 * hidden] + hg[:, hidden:2 * hidden])
    n = tanh(xg[:, 2 * hidden:] + r * hg[:, 2 * hidden:])
    return (1.0 - z) * n + z * h


class GRUCell(Function):
    """One GRU step: ``h'`` from gate pre-activations (r, z, n blocks of (n, 3H); `hg` holds
    ``W_hh h + b_hh``) and the state ``h``::

        r = sigmoid(xg_r + hg_r);  z = sigmoid(xg_z + hg_z);  n = tanh(xg_n + r * hg_n)
        h' = (1 - z) n + z h
    """

    raw_backward = True

    def forward(self, xg, hg, h):
        hidden = _check_gates("gru_cell", xg, hg, h, 3)
        out = self.xp.empty(h.shape, dtype=h.dtype)
        acts = self.xp.empty((h.shape[0], 4 * hidden), dtype=h.dtype)
        kernels.recurrent.gru_cell(self.backend, xg, hg, None, h, out, acts)
        self.save_for_backward(xg, hg, h, acts)
        return out

    def backward(self, gy):
        xg, hg, h, acts = self.saved_tensors
        if isinstance(gy, Tensor):
            return recorded_gradients(self, gru_cell_reference, (xg, hg, h), gy)
        xp = self.xp
        gx = xp.empty(xg.shape, dtype=xg.dtype)
        ghh = xp.empty(hg.shape, dtype=hg.dtype)
        gh = xp.empty(h.shape, dtype=h.dtype)
        kernels.recurrent.gru_cell_grad(self.backend, (gy,), acts, h, gh, gx, ghh)
        need = self.needs_input_grad
        return (gx if need[0] else None, ghh if need[1] else None, gh if need[2] else None)


def gru_cell(xg: Tensor, hg: Tensor, h: Tensor) -> Tensor:
    """One fused GRU step (see `GRUCell`); returns ``h'`` of shape (n, H)."""
    return GRUCell.apply(xg, hg, h)


# -- Elman RNN -----------------------------------------------------------------------------------
def rnn_cell_reference(xg: Tensor, hg: Tensor, nonlinearity: str = "tanh") -> Tensor:
    """`rnn_cell` composed of basic ops."""
    return tanh(xg + hg) if nonlinearity == "tanh" else relu(xg + hg)


class RNNCell(Function):
    """One Elman step: ``h' = tanh(xg + hg)`` (or relu; relu'(0) = 0)."""

    raw_backward = True

    def forward(self, xg, hg):
        _check_gates("rnn_cell", xg, hg, hg, 1)
        out = self.xp.empty(xg.shape, dtype=xg.dtype)
        kernels.recurrent.rnn_cell(self.backend, xg, hg, out, self.nonlinearity)
        self.save_for_backward(xg, hg, out)
        return out

    def backward(self, gy):
        xg, hg, out = self.saved_tensors
        if isinstance(gy, Tensor):
            return recorded_gradients(self, rnn_cell_reference, (xg, hg), gy,
                                      nonlinearity=self.nonlinearity)
        g = self.xp.empty(out.shape, dtype=out.dtype)
        kernels.recurrent.rnn_cell_grad(self.backend, gy, None, out, g, self.nonlinearity)
        need = self.needs_input_grad
        return (g if need[0] else None, g if need[1] else None)


def rnn_cell(xg: Tensor, hg: Tensor, nonlinearity: str = "tanh") -> Tensor:
    """One fused Elman step (see `RNNCell`): ``tanh(xg + hg)`` or ``relu(xg + hg)``."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_cell: unknown nonlinearity {nonlinearity!r} (tanh or relu)")
    return RNNCell.apply(xg, hg, nonlinearity=nonlinearity)
