"""Writes the PyTorch reference data that tests/nn/test_rnn_torch.py checks kedja against.

Needs PyTorch, NumPy and safetensors (not kedja's test dependencies: the committed files are
what the tests read). Regenerate with

    python tests/nn/make_rnn_reference.py        # in an environment with torch and safetensors

It writes, in tests/nn/data/rnn/, one ``<case>.safetensors`` per case holding the module's
``state_dict()`` exactly as ``safetensors.torch.save_file`` writes it, and ``references.npz``
with each case's inputs (``<case>/input``, ``/h0``, ``/c0``, ``/lengths``), the weights of a
random linear loss (``/w_output``, ``/w_h_n``, ``/w_c_n``), PyTorch's results (``/output``,
``/h_n``, ``/c_n``) and the loss's gradients (``/grad/input``, ``/grad/h0``, ``/grad/<param>``).
Everything is float64 and small (a few KiB).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

OUT = Path(__file__).resolve().parent / "data" / "rnn"

# name -> (constructor, keyword arguments, input shape, has h0, has c0, packed lengths or None)
CASES = {
    "rnn_tanh_layers2_bidirectional": (
        torch.nn.RNN, dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True),
        (5, 2, 3), True, False, None),
    "rnn_relu_batch_first_nobias": (
        torch.nn.RNN, dict(input_size=3, hidden_size=4, nonlinearity="relu", bias=False,
                           batch_first=True), (2, 5, 3), False, False, None),
    "rnn_unbatched": (
        torch.nn.RNN, dict(input_size=3, hidden_size=4), (5, 3), True, False, None),
    "lstm_layers2_bidirectional_batch_first": (
        torch.nn.LSTM, dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True,
                            batch_first=True), (2, 5, 3), True, True, None),
    "lstm_proj_layers2_bidirectional": (
        torch.nn.LSTM, dict(input_size=3, hidden_size=5, proj_size=2, num_layers=2,
                            bidirectional=True), (4, 3, 3), True, True, None),
    "lstm_packed_layers2_bidirectional": (
        torch.nn.LSTM, dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True),
        (6, 4, 3), True, True, [3, 6, 1, 4]),
    "gru_layers2_bidirectional": (
        torch.nn.GRU, dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True),
        (5, 2, 3), True, False, None),
    "gru_packed_batch_first_bidirectional": (
        torch.nn.GRU, dict(input_size=3, hidden_size=4, bidirectional=True, batch_first=True),
        (3, 5, 3), False, False, [2, 5, 3]),
    "lstm_cell": (torch.nn.LSTMCell, dict(input_size=3, hidden_size=4), (2, 3), True, True,
                  None),
    "gru_cell": (torch.nn.GRUCell, dict(input_size=3, hidden_size=4), (2, 3), True, False,
                 None),
    "rnn_cell_relu": (torch.nn.RNNCell, dict(input_size=3, hidden_size=4, nonlinearity="relu"),
                      (2, 3), True, False, None),
}


def _state_shape(module: torch.nn.Module, x: torch.Tensor, cell: bool, which: int) -> tuple:
    if cell:
        return (x.shape[0], module.hidden_size)
    layers = module.num_layers * (2 if module.bidirectional else 1)
    size = module.hidden_size if which == 1 else (getattr(module, "proj_size", 0)
                                                  or module.hidden_size)
    if x.ndim == 2:
        return (layers, size)
    batch = x.shape[0] if module.batch_first else x.shape[1]
    return (layers, batch, size)


def make_case(name: str, spec: tuple, rng: np.random.Generator) -> dict:
    cls, kwargs, shape, has_h0, has_c0, lengths = spec
    torch.manual_seed(int(rng.integers(1 << 31)))
    module = cls(**kwargs).double()
    cell = cls in (torch.nn.LSTMCell, torch.nn.GRUCell, torch.nn.RNNCell)
    lstm = cls in (torch.nn.LSTM, torch.nn.LSTMCell)
    arrays = {"input": rng.standard_normal(shape)}
    x = torch.tensor(arrays["input"], requires_grad=True)
    states = []
    for which, present in ((0, has_h0), (1, has_c0)):
        if present:
            arrays["h0" if which == 0 else "c0"] = rng.standard_normal(
                _state_shape(module, x, cell, which))
            states.append(torch.tensor(arrays["h0" if which == 0 else "c0"],
                                       requires_grad=True))
    hx = None
    if states:
        hx = tuple(states) if lstm else states[0]
    if lengths is not None:
        arrays["lengths"] = np.asarray(lengths, dtype=np.int64)
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            x, torch.tensor(lengths), batch_first=module.batch_first, enforce_sorted=False)
        out, state = module(packed, hx)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(
            out, batch_first=module.batch_first, total_length=x.shape[1 if module.batch_first
                                                                       else 0])
    elif cell:
        out = module(x, hx)
        out, state = (out[0], (out[0], out[1])) if lstm else (out, out)
    else:
        out, state = module(x, hx)
    results = {"output": out}
    if cell:
        if lstm:
            results = {"h_n": state[0], "c_n": state[1]}
        else:
            results = {"h_n": state}
    elif lstm:
        results.update(h_n=state[0], c_n=state[1])
    else:
        results["h_n"] = state
    loss = 0
    for key, value in results.items():
        w = rng.standard_normal(tuple(value.shape))
        arrays[f"w_{key}"] = w
        arrays[key] = value.detach().numpy()
        loss = loss + (value * torch.tensor(w)).sum()
    loss.backward()
    arrays["grad/input"] = x.grad.numpy()
    for key, t in zip([k for k in ("h0", "c0") if k in arrays], states):
        arrays[f"grad/{key}"] = t.grad.numpy()
    for pname, p in module.named_parameters():
        arrays[f"grad/{pname}"] = p.grad.numpy()
    OUT.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in module.state_dict().items()},
              str(OUT / f"{name}.safetensors"))
    return {f"{name}/{k}": np.asarray(v) for k, v in arrays.items()}


def main() -> None:
    rng = np.random.default_rng(15)
    everything: dict = {}
    for name, spec in CASES.items():
        everything.update(make_case(name, spec, rng))
    np.savez_compressed(OUT / "references.npz", **everything)
    print(f"wrote {len(CASES)} cases to {OUT} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
