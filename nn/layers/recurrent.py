"""Recurrent layers: RNN (tanh or relu), LSTM (with optional projections) and GRU.

PyTorch's constructors, parameter names, shapes, gate order and initialisation, so that a
state_dict moves between the two (``weight_ih_l0``, ``weight_hh_l0_reverse``, ``bias_ih_l1``,
``weight_hr_l0`` ...). Each layer direction is two recorded ops: one GEMM for the input
projection of the whole sequence (`linear` on the packed rows), then one `Recurrence` op that
runs the time loop with one GEMM and one fused cell kernel per step
(`autograd.ops.rnn_sequence`). Inputs may be padded tensors (time-major, or batch-major with
``batch_first``), unbatched (T, input_size) tensors, or `nn.utils.rnn.PackedSequence`s.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

from autograd.creation import empty
from autograd.ops import linalg as _linalg
from autograd.ops.joining import concatenate, stack
from autograd.ops.layout import expand_dims, squeeze, swapaxes
from autograd.ops.rnn_sequence import GATES, recurrence
from autograd.tensor import Tensor

from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from ..utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU"]


class RNNBase(Module):
    """What RNN, LSTM and GRU share: parameters by layer and direction, and the forward.

    Args:
        mode: "RNN_TANH", "RNN_RELU", "LSTM" or "GRU".
        input_size: features of each input step.
        hidden_size: features of the hidden state.
        num_layers: stacked layers (each takes the previous one's output sequence).
        bias: whether the layers have ``bias_ih`` and ``bias_hh``.
        batch_first: inputs and outputs are (B, T, *) instead of (T, B, *) (not the states).
        dropout: dropout probability on each layer's output but the last's, in training.
        bidirectional: run each layer forwards and backwards and concatenate the outputs.
        proj_size: LSTM only: project the hidden state to this size (``weight_hr``).
        device / dtype: where and how the parameters are made.
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        if mode not in GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing "
                             f"the probability of an element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{name}: dropout option adds dropout after all but last recurrent layer, so "
                f"non-zero dropout expects num_layers greater than 1, but got dropout={dropout} "
                f"and num_layers={num_layers}", stacklevel=2)
        for what, value in (("input_size", input_size), ("hidden_size", hidden_size),
                            ("num_layers", num_layers), ("proj_size", proj_size)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name}: {what} should be of type int, got: "
                                f"{type(value).__name__}")
        if hidden_size <= 0:
            raise ValueError(f"{name}: hidden_size must be greater than zero, got {hidden_size}")
        if num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be greater than zero, got {num_layers}")
        if input_size < 0:
            raise ValueError(f"{name}: input_size must not be negative, got {input_size}")
        if proj_size < 0:
            raise ValueError(f"{name}: proj_size should be a positive integer or zero to "
                             "disable projections")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size has to be smaller than hidden_size "
                             f"({proj_size} >= {hidden_size})")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            for direction in range(self.num_directions):
                layer_input = input_size if layer == 0 else real_hidden * self.num_directions
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                names = []
                for base, shape in shapes:
                    self.register_parameter(
                        base + suffix, Parameter(empty(*shape, dtype=dtype, device=device)))
                    names.append(base + suffix)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def _flat_weights_names(self) -> list[str]:
        return [n for names in self._all_weights for n in names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters by layer and direction, each list in registration order."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """Does nothing: PyTorch packs the weights into one buffer for cuDNN here; kedja's
        kernels take the parameters as they are (kept so that PyTorch code runs as is)."""

    def reset_parameters(self) -> None:
        """Draws every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text

    # -- forward ------------------------------------------------------------------------------
    def _run(self, input: Any, hx: Any) -> tuple:  # noqa: A002
        """The shared forward: returns (output, h_n, c_n or None) shaped as PyTorch's."""
        name = type(self).__name__
        lstm = self.mode == "LSTM"
        width = self.proj_size or self.hidden_size
        layers = self.num_layers * self.num_directions
        packed = isinstance(input, PackedSequence)
        if packed:
            data = input.data
            sizes = tuple(input.sizes())
            batch = sizes[0] if sizes else 0
            steps, batched = len(sizes), True
            _check_data(name, data, 2, self.input_size)
        else:
            if not isinstance(input, Tensor):
                raise TypeError(f"{name}: expected a Tensor or a PackedSequence as input, got "
                                f"{type(input).__name__}")
            if input.ndim not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D "
                                 "instead")
            batched = input.ndim == 3
            x = input if batched else expand_dims(input, 1)
            if batched and self.batch_first:
                x = swapaxes(x, 0, 1)
            _check_data(name, x, 3, self.input_size)
            steps, batch = x.shape[0], x.shape[1]
            sizes = (batch,) * steps
            data = x.reshape(steps * batch, x.shape[2])
        self._check_dtype(data)
        h0, c0 = self._initial_states(name, hx, batched, layers, batch, width, lstm, data.dtype)
        if packed and input.sorted_indices is not None:
            order = input.sorted_indices.array
            h0 = None if h0 is None else h0[:, order]
            c0 = None if c0 is None else c0[:, order]
        hns, cns = [], []
        layer_input = data
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction
                ys, hn, cn = self._direction(layer_input, k, sizes, batch,
                                             None if h0 is None else h0[k],
                                             None if c0 is None else c0[k], direction == 1)
                outputs.append(ys)
                hns.append(hn)
                cns.append(cn)
            layer_input = outputs[0] if len(outputs) == 1 else concatenate(outputs, axis=1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        h_n = stack(hns)
        c_n = stack(cns) if lstm else None
        if packed:
            if input.unsorted_indices is not None:
                order = input.unsorted_indices.array
                h_n = h_n[:, order]
                c_n = None if c_n is None else c_n[:, order]
            output = PackedSequence(layer_input, input.batch_sizes, input.sorted_indices,
                                    input.unsorted_indices)
            return output, h_n, c_n
        output = layer_input.reshape(steps, batch, layer_input.shape[-1])
        if not batched:
            return squeeze(output, 1), squeeze(h_n, 1), (None if c_n is None else squeeze(c_n, 1))
        if self.batch_first:
            output = swapaxes(output, 0, 1)
        return output, h_n, c_n

    def _direction(self, x: Tensor, k: int, sizes: tuple, batch: int, h0: Any, c0: Any,
                   reverse: bool) -> tuple:
        """One layer direction: the projection GEMM, then the recurrence op."""
        names = self._all_weights[k]
        w_ih, w_hh = getattr(self, names[0]), getattr(self, names[1])
        b_ih = b_hh = w_hr = None
        if self.bias:
            b_ih, b_hh = getattr(self, names[2]), getattr(self, names[3])
        if self.proj_size:
            w_hr = getattr(self, names[-1])
        if self.mode == "GRU":
            xproj = _linalg.linear(x, w_ih, b_ih)          # b_hh stays inside: r * (W h + b)
        else:
            xproj = _linalg.linear(x, w_ih, None if b_ih is None else b_ih + b_hh)
            b_hh = None
        return recurrence(xproj, h0, c0, w_hh, b_hh, w_hr, mode=self.mode, batch_sizes=sizes,
                          batch=batch, reverse=reverse)

    def _check_dtype(self, data: Tensor) -> None:
        weight = getattr(self, self._all_weights[0][0])
        if data.dtype != weight.dtype:
            raise TypeError(
                f"{type(self).__name__}: input dtype {data.dtype} does not match the "
                f"parameters' dtype {weight.dtype}; cast one of them (e.g. "
                f"module.to(dtype={str(data.dtype)!r}))"
            )

    def _initial_states(self, name: str, hx: Any, batched: bool, layers: int, batch: int,
                        width: int, lstm: bool, dtype: Any) -> tuple:
        """(h0, c0) as (layers, batch, size) tensors, or None for zeros; checked."""
        if hx is None:
            return None, None
        if lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{name}: hx should be a tuple (h_0, c_0), got "
                                f"{type(hx).__name__}")
            states = list(hx)
            expected = [(layers, batch, width), (layers, batch, self.hidden_size)]
            labels = ["hidden[0]", "hidden[1]"]
        else:
            if not isinstance(hx, Tensor):
                raise TypeError(f"{name}: hx should be a Tensor, got {type(hx).__name__}")
            states = [hx]
            expected = [(layers, batch, width)]
            labels = ["hidden"]
        for i, state in enumerate(states):
            if not isinstance(state, Tensor):
                raise TypeError(f"{name}: {labels[i]} should be a Tensor, got "
                                f"{type(state).__name__}")
            want = 3 if batched else 2
            if state.ndim != want:
                raise RuntimeError(
                    f"{name}: for {'batched 3' if batched else 'unbatched 2'}-D input, "
                    f"{labels[i]} should also be {want}-D but got {state.ndim}-D tensor")
            if not batched:
                state = expand_dims(state, 1)
            if tuple(state.shape) != expected[i]:
                shape = expected[i] if batched else (expected[i][0], expected[i][2])
                got = state.shape if batched else (state.shape[0], state.shape[2])
                raise RuntimeError(f"{name}: Expected {labels[i]} size {shape}, got {got}")
            if state.dtype != dtype:
                raise TypeError(f"{name}: input and hidden tensors are not the same dtype: input "
                                f"{dtype}, {labels[i]} {state.dtype}")
            states[i] = state
        return states[0], (states[1] if lstm else None)


def _check_data(name: str, x: Tensor, ndim: int, input_size: int) -> None:
    if x.ndim != ndim or x.shape[-1] != input_size:
        raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                           f"{input_size}, got {x.shape[-1] if x.ndim else None}")


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or relu).

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)``. ``forward(input, hx=None)``
    returns ``(output, h_n)``: output (T, B, D * hidden_size) (B, T, ... with batch_first),
    h_n (D * num_layers, B, hidden_size), D = 2 if bidirectional else 1.

        >>> rnn = nn.RNN(10, 20, num_layers=2)
        >>> output, h_n = rnn(ag.randn(5, 3, 10))   # (5, 3, 20), (2, 3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)

    def forward(self, input: Any, hx: Tensor | None = None) -> tuple:  # noqa: A002
        output, h_n, _ = self._run(input, hx)
        return output, h_n


class LSTM(RNNBase):
    """Long short-term memory, PyTorch's equations and gate order (i, f, g, o)::

        i, f, o = sigmoid(...), g = tanh(...)   of x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
        c_t = f c_{t-1} + i g;   h_t = o tanh(c_t)   (then h_t W_hr^T with proj_size > 0)

    ``forward(input, hx=None)`` with ``hx = (h_0, c_0)`` returns ``(output, (h_n, c_n))``:
    output (T, B, D * H_out), h_n (D * num_layers, B, H_out), c_n (D * num_layers, B,
    hidden_size), H_out = proj_size or hidden_size.

        >>> lstm = nn.LSTM(10, 20, num_layers=2, batch_first=True)
        >>> output, (h_n, c_n) = lstm(ag.randn(3, 5, 10))   # (3, 5, 20), (2, 3, 20) twice
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)

    def forward(self, input: Any, hx: tuple | None = None) -> tuple:  # noqa: A002
        output, h_n, c_n = self._run(input, hx)
        return output, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit, PyTorch's equations and gate order (r, z, n)::

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr);  z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn));  h' = (1 - z) * n + z * h

    ``forward(input, hx=None)`` returns ``(output, h_n)`` shaped as `RNN`'s.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device: Any = None, dtype: Any = None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)

    def forward(self, input: Any, hx: Tensor | None = None) -> tuple:  # noqa: A002
        output, h_n, _ = self._run(input, hx)
        return output, h_n
