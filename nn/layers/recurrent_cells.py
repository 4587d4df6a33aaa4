"""Recurrent cells: one step of an RNN, LSTM or GRU (RNNCell, LSTMCell, GRUCell).

PyTorch's names and shapes (``weight_ih`` (G, input_size), ``weight_hh`` (G, hidden_size),
``bias_ih``, ``bias_hh`` (G,), G = 1, 4 or 3 times hidden_size) and initialisation. A step is
two `linear` GEMMs and one fused cell op (`autograd.ops.rnn_cells`). Inputs are (N,
input_size) or unbatched (input_size,); a missing state is zeros.
"""

from __future__ import annotations

import math
from typing import Any

from autograd.creation import empty, zeros
from autograd.ops import linalg as _linalg
from autograd.ops.layout import expand_dims, squeeze
from autograd.ops.rnn_cells import gru_cell, lstm_cell, rnn_cell
from autograd.tensor import Tensor

from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


class RNNCellBase(Module):
    """Parameters and checks the three cells share (`num_chunks` gate blocks)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        for what, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name}: {what} must be a non-negative int, got {value!r}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gates = num_chunks * hidden_size
        self.weight_ih = Parameter(empty(gates, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(empty(gates, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(empty(gates, dtype=dtype, device=device))
            self.bias_hh = Parameter(empty(gates, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draws every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            text += f", nonlinearity={nonlinearity}"
        return text

    def _batch(self, input: Tensor) -> tuple[Tensor, bool]:  # noqa: A002
        """`input` as (N, input_size) and whether it came batched; checked."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor input, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got "
                               f"{input.shape[-1]}, expected {self.input_size}")
        if input.dtype != self.weight_ih.dtype:
            raise TypeError(f"{name}: input dtype {input.dtype} does not match the parameters' "
                            f"dtype {self.weight_ih.dtype}")
        batched = input.ndim == 2
        return (input if batched else expand_dims(input, 0)), batched

    def _state(self, state: Any, x: Tensor, batched: bool, label: str) -> Tensor:
        """A state (N, hidden_size) for the batch `x` (zeros when None); checked."""
        name = type(self).__name__
        if state is None:
            return zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.backend)
        if not isinstance(state, Tensor):
            raise TypeError(f"{name}: {label} should be a Tensor, got {type(state).__name__}")
        if state.ndim != (2 if batched else 1):
            raise ValueError(f"{name}: Expected {label} to be {'2D' if batched else '1D'} for "
                             f"{'batched' if batched else 'unbatched'} input, got "
                             f"{state.ndim}D instead")
        state = state if batched else expand_dims(state, 0)
        if tuple(state.shape) != (x.shape[0], self.hidden_size):
            raise RuntimeError(f"{name}: {label} of shape {tuple(state.shape)} does not fit "
                               f"input batch {x.shape[0]} and hidden_size {self.hidden_size}")
        return state

    def _gates(self, x: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        return (_linalg.linear(x, self.weight_ih, self.bias_ih),
                _linalg.linear(h, self.weight_hh, self.bias_hh))


class RNNCell(RNNCellBase):
    """One Elman step: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or relu).

        >>> cell = nn.RNNCell(10, 20)
        >>> h = cell(ag.randn(3, 10))          # (3, 20); h = cell(x, h) for the next step
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: Any = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, batched = self._batch(input)
        h = self._state(hx, x, batched, "hx")
        out = rnn_cell(*self._gates(x, h), nonlinearity=self.nonlinearity)
        return out if batched else squeeze(out, 0)


class LSTMCell(RNNCellBase):
    """One LSTM step (gate order i, f, g, o): ``(h', c')`` from ``(x, (h, c))``.

        >>> cell = nn.LSTMCell(10, 20)
        >>> h, c = cell(ag.randn(3, 10))       # zeros for the missing (h, c)
        >>> h, c = cell(ag.randn(3, 10), (h, c))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple:  # noqa: A002
        x, batched = self._batch(input)
        if hx is None:
            hx = (None, None)
        elif not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"LSTMCell: hx should be a tuple (h, c), got {type(hx).__name__}")
        h = self._state(hx[0], x, batched, "hx[0]")
        c = self._state(hx[1], x, batched, "hx[1]")
        hc = lstm_cell(*self._gates(x, h), c)
        h_new, c_new = hc[0], hc[1]
        if not batched:
            return squeeze(h_new, 0), squeeze(c_new, 0)
        return h_new, c_new


class GRUCell(RNNCellBase):
    """One GRU step (gate order r, z, n): ``h' = (1 - z) n + z h``.

        >>> cell = nn.GRUCell(10, 20)
        >>> h = cell(ag.randn(3, 10))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, batched = self._batch(input)
        h = self._state(hx, x, batched, "hx")
        out = gru_cell(*self._gates(x, h), h)
        return out if batched else squeeze(out, 0)
