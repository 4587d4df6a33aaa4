"""The recurrent layers against PyTorch: state dicts written by PyTorch through safetensors load
into kedja and give PyTorch's outputs, final states and gradients.

The reference files in tests/nn/data/rnn/ are written by tests/nn/make_rnn_reference.py (which
needs PyTorch); these tests need neither PyTorch nor the safetensors package: the few lines
below read and write the safetensors format (an 8-byte header length, a JSON header, raw
little-endian data). Where PyTorch is installed, one more test compares live.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn
from nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

DATA = Path(__file__).resolve().parent / "data" / "rnn"
_DTYPES = {"F64": np.float64, "F32": np.float32, "I64": np.int64}

# case name -> (kedja class, keyword arguments); the same as make_rnn_reference.CASES
CASES = {
    "rnn_tanh_layers2_bidirectional": (
        nn.RNN, dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True)),
    "rnn_relu_batch_first_nobias": (
        nn.RNN, dict(input_size=3, hidden_size=4, nonlinearity="relu", bias=False,
                     batch_first=True)),
    "rnn_unbatched": (nn.RNN, dict(input_size=3, hidden_size=4)),
    "lstm_layers2_bidirectional_batch_first": (
        nn.LSTM, dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True,
                      batch_first=True)),
    "lstm_proj_layers2_bidirectional": (
        nn.LSTM, dict(input_size=3, hidden_size=5, proj_size=2, num_layers=2,
                      bidirectional=True)),
    "lstm_packed_layers2_bidirectional": (
        nn.LSTM, dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True)),
    "gru_layers2_bidirectional": (
        nn.GRU, dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True)),
    "gru_packed_batch_first_bidirectional": (
        nn.GRU, dict(input_size=3, hidden_size=4, bidirectional=True, batch_first=True)),
    "lstm_cell": (nn.LSTMCell, dict(input_size=3, hidden_size=4)),
    "gru_cell": (nn.GRUCell, dict(input_size=3, hidden_size=4)),
    "rnn_cell_relu": (nn.RNNCell, dict(input_size=3, hidden_size=4, nonlinearity="relu")),
}


def read_safetensors(path: Path) -> dict:
    """name -> host array, in the file's order (the safetensors format, read with NumPy)."""
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size])
    body = raw[8 + size:]
    out = {}
    for name, info in sorted(((k, v) for k, v in header.items() if k != "__metadata__"),
                             key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = info["data_offsets"]
        dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
        out[name] = np.frombuffer(body[begin:end], dtype=dtype).reshape(info["shape"])
    return out


def write_safetensors(path: Path, arrays: dict) -> None:
    """Writes host arrays as a safetensors file (what safetensors.numpy.save_file writes)."""
    names = {v: k for k, v in _DTYPES.items()}
    header, offset, chunks = {}, 0, []
    for name, a in arrays.items():
        data = np.ascontiguousarray(a, dtype=np.dtype(a.dtype).newbyteorder("<")).tobytes()
        header[name] = {"dtype": names[np.dtype(a.dtype).type], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(chunks))


@pytest.fixture(scope="module")
def refs() -> dict:
    with np.load(DATA / "references.npz") as f:
        return {k: f[k] for k in f.files}


def _case(refs: dict, name: str) -> dict:
    prefix = name + "/"
    return {k[len(prefix):]: v for k, v in refs.items() if k.startswith(prefix)}


def run_case(name: str, ref: dict, backend, dtype: str = "float64") -> dict:
    """Builds the kedja module with PyTorch's state dict and runs the reference's loss."""
    cls, kwargs = CASES[name]
    module = cls(**kwargs).to(backend, dtype=dtype)
    missing, unexpected = module.load_state_dict(read_safetensors(DATA / f"{name}.safetensors"))
    assert not missing and not unexpected
    cell = cls in (nn.LSTMCell, nn.GRUCell, nn.RNNCell)
    lstm = cls in (nn.LSTM, nn.LSTMCell)
    x = ag.tensor(ref["input"], dtype=dtype, device=backend, requires_grad=True)
    states = [ag.tensor(ref[k], dtype=dtype, device=backend, requires_grad=True)
              for k in ("h0", "c0") if k in ref]
    hx = (tuple(states) if lstm else states[0]) if states else None
    if "lengths" in ref:
        packed = pack_padded_sequence(x, ref["lengths"], batch_first=module.batch_first,
                                      enforce_sorted=False)
        out, state = module(packed, hx)
        steps = x.shape[1 if module.batch_first else 0]
        out, lengths = pad_packed_sequence(out, batch_first=module.batch_first,
                                           total_length=steps)
        np.testing.assert_array_equal(lengths.numpy(), ref["lengths"])
    elif cell:
        out = module(x, hx)
        state = out
    else:
        out, state = module(x, hx)
    results = {} if cell else {"output": out}
    if lstm:
        results.update(h_n=state[0], c_n=state[1])
    else:
        results["h_n"] = state
    loss = sum((value * ag.tensor(ref[f"w_{key}"], dtype=dtype, device=backend)).sum()
               for key, value in results.items())
    loss.backward()
    got = {key: value.numpy() for key, value in results.items()}
    got["grad/input"] = x.grad.numpy()
    for key, t in zip([k for k in ("h0", "c0") if k in ref], states):
        got[f"grad/{key}"] = t.grad.numpy()
    for pname, p in module.named_parameters():
        got[f"grad/{pname}"] = p.grad.numpy()
    return got


@pytest.mark.parametrize("name", list(CASES))
def test_pytorch_state_dict_gives_pytorch_results(name, refs, backend):
    ref = _case(refs, name)
    got = run_case(name, ref, backend)
    expected = {k: v for k, v in ref.items()
                if k in ("output", "h_n", "c_n") or k.startswith("grad/")}
    assert set(got) == set(expected)
    for key, want in expected.items():
        assert got[key].shape == want.shape, key
        np.testing.assert_allclose(got[key], want, rtol=1e-9, atol=1e-11, err_msg=key)


@pytest.mark.parametrize("name", ["lstm_proj_layers2_bidirectional", "gru_layers2_bidirectional",
                                  "lstm_packed_layers2_bidirectional"])
def test_pytorch_state_dict_in_float32(name, refs, backend):
    ref = _case(refs, name)
    got = run_case(name, ref, backend, dtype="float32")
    for key in ("output", "h_n", "c_n", "grad/input", "grad/weight_hh_l0"):
        if key in ref:
            assert got[key].dtype == np.float32
            np.testing.assert_allclose(got[key], ref[key], rtol=1e-4, atol=1e-5, err_msg=key)


@pytest.mark.parametrize("name", list(CASES))
def test_state_dict_round_trip_through_safetensors(name, tmp_path):
    """kedja writes back exactly what PyTorch wrote: the same names, shapes, dtypes and bytes,
    so the file loads into PyTorch as its own (safetensors sorts the names itself)."""
    cls, kwargs = CASES[name]
    module = cls(**kwargs).to(dtype="float64")
    torch_file = read_safetensors(DATA / f"{name}.safetensors")
    module.load_state_dict(torch_file)
    state = {k: v.numpy() for k, v in module.state_dict().items()}
    assert sorted(state) == sorted(torch_file)
    path = tmp_path / "kedja.safetensors"
    write_safetensors(path, state)
    back = read_safetensors(path)
    for key, want in torch_file.items():
        assert back[key].dtype == want.dtype and back[key].shape == want.shape
        assert back[key].tobytes() == want.tobytes(), key


def test_round_trip_with_the_safetensors_package(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    name = "lstm_proj_layers2_bidirectional"
    cls, kwargs = CASES[name]
    module = cls(**kwargs).to(dtype="float64")
    module.load_state_dict(st.load_file(str(DATA / f"{name}.safetensors")))
    path = tmp_path / "kedja.safetensors"
    st.save_file({k: v.numpy() for k, v in module.state_dict().items()}, str(path))
    again = cls(**kwargs).to(dtype="float64")
    again.load_state_dict(st.load_file(str(path)))
    for (k, a), (_, b) in zip(module.state_dict().items(), again.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)


def test_live_against_pytorch_when_installed():
    """A configuration drawn at random, against PyTorch itself (skipped without torch)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    for mode in ("LSTM", "GRU", "RNN"):
        kwargs = dict(input_size=int(rng.integers(1, 5)), hidden_size=int(rng.integers(2, 6)),
                      num_layers=int(rng.integers(1, 4)), bidirectional=bool(rng.integers(2)),
                      batch_first=bool(rng.integers(2)), bias=bool(rng.integers(2)))
        if mode == "LSTM":
            kwargs["proj_size"] = int(rng.integers(0, kwargs["hidden_size"]))
        theirs = getattr(torch.nn, mode)(**kwargs).double()
        ours = getattr(nn, mode)(**kwargs).to(dtype="float64")
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
        x = rng.standard_normal((3, 6, kwargs["input_size"]))
        out_t, _ = theirs(torch.tensor(x))
        out_k, _ = ours(ag.tensor(x))
        np.testing.assert_allclose(out_k.numpy(), out_t.detach().numpy(), rtol=1e-9,
                                   atol=1e-11, err_msg=str(kwargs))
