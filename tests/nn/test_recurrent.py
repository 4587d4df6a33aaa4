"""nn.RNN, nn.LSTM, nn.GRU and the cells: shapes, states, bidirectional, batch_first, dropout
in train and eval, projections, packed sequences, parameter names and init, errors; on every
backend (the `backend` fixture). PyTorch's own numbers are checked in test_rnn_torch.py."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import autograd as ag
import nn
from autograd.gradcheck import gradcheck
from nn.utils.rnn import pack_padded_sequence, pack_sequence, pad_packed_sequence

from . import functional_call, module_fn

MODES = ["RNN", "LSTM", "GRU"]


def _make(mode, *args, **kwargs):
    return getattr(nn, mode)(*args, **kwargs).to(dtype="float64")


def _x(shape, seed=0, backend=None):
    rng = np.random.default_rng(seed)
    return ag.tensor(rng.standard_normal(shape), device=backend)


def _h(out, mode):
    return out[1][0] if mode == "LSTM" else out[1]


# -- shapes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("layers,bidirectional,batch_first",
                         [(1, False, False), (2, True, False), (3, False, True), (2, True, True)])
def test_output_and_state_shapes(backend, mode, layers, bidirectional, batch_first):
    m = _make(mode, 3, 5, num_layers=layers, bidirectional=bidirectional,
              batch_first=batch_first).to(backend)
    d = 2 if bidirectional else 1
    x = _x((2, 4, 3) if batch_first else (4, 2, 3), backend=backend)
    out = m(x)
    assert out[0].shape == ((2, 4, d * 5) if batch_first else (4, 2, d * 5))
    assert _h(out, mode).shape == (layers * d, 2, 5)  # states are never batch-first
    if mode == "LSTM":
        assert out[1][1].shape == (layers * d, 2, 5)
    assert out[0].device == backend.device


def test_lstm_projection_shapes(backend):
    m = _make("LSTM", 3, 6, proj_size=2, num_layers=2, bidirectional=True).to(backend)
    out, (h, c) = m(_x((5, 4, 3), backend=backend))
    assert out.shape == (5, 4, 4) and h.shape == (4, 4, 2) and c.shape == (4, 4, 6)
    assert m.weight_hr_l0.shape == (2, 6) and m.weight_hh_l1_reverse.shape == (24, 2)
    assert m.weight_ih_l1.shape == (24, 4)


@pytest.mark.parametrize("mode", MODES)
def test_unbatched_input_is_a_batch_of_one(backend, mode):
    m = _make(mode, 3, 4, num_layers=2, bidirectional=True).to(backend)
    x = _x((5, 3), backend=backend)
    out = m(x)
    batched = m(x.reshape(5, 1, 3))
    assert out[0].shape == (5, 8) and _h(out, mode).shape == (4, 4)
    np.testing.assert_allclose(out[0].numpy(), batched[0].numpy()[:, 0], rtol=1e-12)
    np.testing.assert_allclose(_h(out, mode).numpy(), _h(batched, mode).numpy()[:, 0],
                               rtol=1e-12)


def test_zero_length_sequence_keeps_the_initial_state(backend):
    m = _make("LSTM", 3, 4).to(backend)
    h0, c0 = _x((1, 2, 4), 1, backend), _x((1, 2, 4), 2, backend)
    out, (h, c) = m(ag.zeros(0, 2, 3, dtype="float64", device=backend), (h0, c0))
    assert out.shape == (0, 2, 4)
    np.testing.assert_array_equal(h.numpy(), h0.numpy())
    np.testing.assert_array_equal(c.numpy(), c0.numpy())


# -- states -----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_missing_state_is_zeros(backend, mode):
    m = _make(mode, 3, 4, num_layers=2).to(backend)
    x = _x((4, 2, 3), backend=backend)
    zeros = ag.zeros(2, 2, 4, dtype="float64", device=backend)
    given = m(x, (zeros, zeros) if mode == "LSTM" else zeros)
    np.testing.assert_array_equal(m(x)[0].numpy(), given[0].numpy())


@pytest.mark.parametrize("mode", MODES)
def test_state_carries_across_calls(backend, mode):
    """Two halves of a sequence with the state handed on give the whole run's results."""
    m = _make(mode, 3, 4, num_layers=2).to(backend)
    x = _x((6, 2, 3), backend=backend)
    whole = m(x)
    first = m(x[:3])
    second = m(x[3:], first[1])
    np.testing.assert_allclose(second[0].numpy(), whole[0].numpy()[3:], rtol=1e-12)
    np.testing.assert_allclose(_h(second, mode).numpy(), _h(whole, mode).numpy(), rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_reverse_direction_is_the_forward_cell_on_the_flipped_sequence(backend, mode):
    bi = _make(mode, 3, 4, bidirectional=True).to(backend)
    uni = _make(mode, 3, 4).to(backend)
    uni.load_state_dict({k.replace("_reverse", ""): v for k, v in bi.state_dict().items()
                         if k.endswith("_reverse")})
    x = _x((5, 2, 3), backend=backend)
    out = bi(x)
    back = uni(ag.flip(x, axis=0))
    np.testing.assert_allclose(out[0].numpy()[:, :, 4:], back[0].numpy()[::-1], rtol=1e-12)
    np.testing.assert_allclose(_h(out, mode).numpy()[1], _h(back, mode).numpy()[0], rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_batch_first_is_the_transposed_time_major_run(backend, mode):
    tm = _make(mode, 3, 4, num_layers=2, bidirectional=True).to(backend)
    bf = _make(mode, 3, 4, num_layers=2, bidirectional=True, batch_first=True).to(backend)
    bf.load_state_dict(tm.state_dict())
    x = _x((5, 2, 3), backend=backend)
    a, b = tm(x), bf(ag.swapaxes(x, 0, 1))
    np.testing.assert_allclose(b[0].numpy(), a[0].numpy().transpose(1, 0, 2), rtol=1e-12)
    np.testing.assert_allclose(_h(b, mode).numpy(), _h(a, mode).numpy(), rtol=1e-12)


# -- dropout ----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_dropout_between_layers_in_training_only(backend, mode):
    ag.manual_seed(0)
    m = _make(mode, 3, 8, num_layers=2, dropout=0.5).to(backend)
    plain = _make(mode, 3, 8, num_layers=2).to(backend)
    plain.load_state_dict(m.state_dict())
    x = _x((4, 3, 3), backend=backend)
    m.train()
    a, b = m(x)[0].numpy(), m(x)[0].numpy()
    assert not np.allclose(a, b)                      # a fresh mask per call
    assert not np.allclose(a, plain(x)[0].numpy())
    m.eval()
    np.testing.assert_array_equal(m(x)[0].numpy(), plain(x)[0].numpy())  # eval: no dropout


def test_dropout_one_cuts_the_layers_apart(backend):
    """p = 1 zeroes the first layer's output: the second layer sees zeros whatever x is."""
    m = _make("LSTM", 3, 4, num_layers=2, dropout=1.0).to(backend).train()
    a = m(_x((4, 2, 3), 1, backend))[0].numpy()
    b = m(_x((4, 2, 3), 2, backend))[0].numpy()
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_dropout_on_one_layer_warns_as_pytorch():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.LSTM(3, 4, num_layers=2, dropout=0.2)


# -- packed sequences -------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_never_reaches_the_final_state(backend, mode, bidirectional):
    """Each sequence of a packed batch ends where it would alone, whatever pads it."""
    m = _make(mode, 3, 4, num_layers=2, bidirectional=bidirectional).to(backend)
    lengths = [2, 5, 1, 4]
    padded = _x((5, 4, 3), backend=backend)
    noise = _x((5, 4, 3), 9, backend)
    mask = np.arange(5)[:, None, None] < np.array(lengths)[None, :, None]
    dirty = ag.where(ag.tensor(mask, device=backend), padded, noise)
    out = m(pack_padded_sequence(dirty, lengths, enforce_sorted=False))
    unpacked, got_lengths = pad_packed_sequence(out[0])
    np.testing.assert_array_equal(got_lengths.numpy(), lengths)
    h = _h(out, mode).numpy()
    for b, n in enumerate(lengths):
        alone = m(padded[:n, b:b + 1])
        np.testing.assert_allclose(h[:, b], _h(alone, mode).numpy()[:, 0], rtol=1e-11,
                                   atol=1e-13)
        np.testing.assert_allclose(unpacked.numpy()[:n, b], alone[0].numpy()[:, 0],
                                   rtol=1e-11, atol=1e-13)
        assert not unpacked.numpy()[n:, b].any()          # the padding reads zero


def test_packed_input_keeps_the_batch_order_of_states(backend):
    m = _make("LSTM", 3, 4).to(backend)
    seqs = [_x((n, 3), n, backend) for n in (2, 4, 3)]
    h0 = _x((1, 3, 4), 7, backend)
    c0 = _x((1, 3, 4), 8, backend)
    out, (h, c) = m(pack_sequence(seqs, enforce_sorted=False), (h0, c0))
    for b, s in enumerate(seqs):
        _, (hb, cb) = m(s.reshape(s.shape[0], 1, 3), (h0[:, b:b + 1], c0[:, b:b + 1]))
        np.testing.assert_allclose(h.numpy()[:, b], hb.numpy()[:, 0], rtol=1e-12)
        np.testing.assert_allclose(c.numpy()[:, b], cb.numpy()[:, 0], rtol=1e-12)


def test_packed_batch_first_matches_time_major(backend):
    tm = _make("GRU", 3, 4, bidirectional=True).to(backend)
    bf = _make("GRU", 3, 4, bidirectional=True, batch_first=True).to(backend)
    bf.load_state_dict(tm.state_dict())
    x = _x((5, 3, 3), backend=backend)
    lengths = [5, 3, 2]
    a, _ = pad_packed_sequence(tm(pack_padded_sequence(x, lengths))[0])
    b, _ = pad_packed_sequence(bf(pack_padded_sequence(ag.swapaxes(x, 0, 1), lengths,
                                                       batch_first=True))[0], batch_first=True)
    np.testing.assert_allclose(b.numpy(), a.numpy().transpose(1, 0, 2), rtol=1e-12)


def test_gradients_through_a_packed_batch(backend):
    """gradcheck of a packed, bidirectional, two-layer LSTM w.r.t. the padded input and every
    parameter; the padding gets a zero gradient."""
    m = nn.LSTM(2, 2, num_layers=2, bidirectional=True).to(backend, dtype="float64")
    names = [n for n, _ in m.named_parameters()]
    params = [ag.tensor(p.numpy(), requires_grad=True, device=backend)
              for p in m.parameters()]
    lengths = [3, 1, 2]

    def run(x, *ps):
        packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
        out, (h, c) = functional_call(m, dict(zip(names, ps)), packed)
        padded, _ = pad_packed_sequence(out)
        return padded.sum() + (h * h).sum() + c.sum()

    x = _x((3, 3, 2), backend=backend).requires_grad_()
    assert gradcheck(run, (x, *params))
    run(x, *params).backward()
    assert not x.grad.numpy()[1:, 1].any() and not x.grad.numpy()[2:, 2].any()


# -- parameters -------------------------------------------------------------------------------
def test_parameter_names_and_order_are_pytorchs():
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2)
    expected = []
    for layer in range(2):
        for suffix in ("", "_reverse"):
            expected += [f"{base}_l{layer}{suffix}" for base in
                         ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")]
    assert list(m.state_dict()) == expected
    assert [n for n, _ in m.named_parameters()] == expected
    assert [[p.shape for p in group] for group in m.all_weights][3] == [
        (16, 4), (16, 2), (16,), (16,), (2, 4)]
    assert list(nn.GRU(3, 4, bias=False).state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    assert list(nn.LSTMCell(3, 4).state_dict()) == ["weight_ih", "weight_hh", "bias_ih",
                                                    "bias_hh"]


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU, nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_init_is_uniform_within_one_over_sqrt_hidden(cls):
    ag.manual_seed(3)
    m = cls(10, 64)
    bound = 1 / math.sqrt(64)
    values = np.concatenate([p.numpy().ravel() for p in m.parameters()])
    assert values.min() >= -bound and values.max() <= bound
    assert values.min() < -0.9 * bound and values.max() > 0.9 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.01 * bound   # U(-b, b) std = b/sqrt 3


def test_repr_lists_non_defaults():
    assert repr(nn.LSTM(3, 4)) == "LSTM(3, 4)"
    assert repr(nn.GRU(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.5,
                       bidirectional=True)) == (
        "GRU(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.5, "
        "bidirectional=True)")
    assert repr(nn.LSTM(3, 4, proj_size=2)) == "LSTM(3, 4, proj_size=2)"
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu")) == "RNNCell(3, 4, nonlinearity=relu)"


def test_gradcheck_of_the_layers_in_float64(backend):
    for m in (nn.RNN(2, 2, num_layers=2, nonlinearity="relu", bidirectional=True),
              nn.GRU(2, 2, batch_first=True, bias=False),
              nn.LSTM(2, 3, proj_size=2, bidirectional=True)):
        m.to(backend, dtype="float64")
        names = [n for n, _ in m.named_parameters()]
        params = [ag.tensor(p.numpy(), requires_grad=True, device=backend)
                  for p in m.parameters()]
        x = _x((2, 3, 2), backend=backend).requires_grad_()
        f = module_fn(m, names)
        assert gradcheck(lambda *a, f=f: f(*a)[0], (x, *params))


# -- cells ------------------------------------------------------------------------------------
def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_cells_against_their_equations(backend):
    rng = np.random.default_rng(1)
    x, h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    t = [ag.tensor(a, device=backend) for a in (x, h, c)]
    lstm = nn.LSTMCell(3, 4).to(backend, dtype="float64")
    w = {k: v.numpy() for k, v in lstm.state_dict().items()}
    pre = x @ w["weight_ih"].T + w["bias_ih"] + h @ w["weight_hh"].T + w["bias_hh"]
    i, f, g, o = np.split(pre, 4, axis=1)
    c2 = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    h2, c2_got = lstm(t[0], (t[1], t[2]))
    np.testing.assert_allclose(c2_got.numpy(), c2, rtol=1e-12)
    np.testing.assert_allclose(h2.numpy(), _sigmoid(o) * np.tanh(c2), rtol=1e-12)

    gru = nn.GRUCell(3, 4).to(backend, dtype="float64")
    w = {k: v.numpy() for k, v in gru.state_dict().items()}
    gi, gh = x @ w["weight_ih"].T + w["bias_ih"], h @ w["weight_hh"].T + w["bias_hh"]
    r = _sigmoid(gi[:, :4] + gh[:, :4])
    z = _sigmoid(gi[:, 4:8] + gh[:, 4:8])
    n = np.tanh(gi[:, 8:] + r * gh[:, 8:])
    np.testing.assert_allclose(gru(t[0], t[1]).numpy(), (1 - z) * n + z * h, rtol=1e-12)

    for nonlinearity, act in (("tanh", np.tanh), ("relu", lambda v: np.maximum(v, 0))):
        rnn = nn.RNNCell(3, 4, nonlinearity=nonlinearity).to(backend, dtype="float64")
        w = {k: v.numpy() for k, v in rnn.state_dict().items()}
        want = act(x @ w["weight_ih"].T + w["bias_ih"] + h @ w["weight_hh"].T + w["bias_hh"])
        np.testing.assert_allclose(rnn(t[0], t[1]).numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("cls", [nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_cells_unbatched_and_zero_state(backend, cls):
    cell = cls(3, 4).to(backend, dtype="float64")
    x = _x((3,), backend=backend)
    out = cell(x)
    batched = cell(x.reshape(1, 3))
    zeros = ag.zeros(1, 4, dtype="float64", device=backend)
    given = cell(x.reshape(1, 3), (zeros, zeros) if cls is nn.LSTMCell else zeros)
    if cls is nn.LSTMCell:
        assert out[0].shape == (4,) and out[1].shape == (4,)
        np.testing.assert_allclose(out[0].numpy(), batched[0].numpy()[0], rtol=1e-12)
        np.testing.assert_array_equal(batched[1].numpy(), given[1].numpy())
    else:
        assert out.shape == (4,)
        np.testing.assert_allclose(out.numpy(), batched.numpy()[0], rtol=1e-12)
        np.testing.assert_array_equal(batched.numpy(), given.numpy())


@pytest.mark.parametrize("cls", [nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_cell_gradcheck(backend, cls):
    cell = cls(2, 3).to(backend, dtype="float64")
    names = [n for n, _ in cell.named_parameters()]
    params = [ag.tensor(p.numpy(), requires_grad=True, device=backend) for p in cell.parameters()]
    x = _x((2, 2), backend=backend).requires_grad_()
    h = _x((2, 3), 5, backend).requires_grad_()

    def call(x, h, *ps):
        args = (x, (h, h * 0.5)) if cls is nn.LSTMCell else (x, h)
        out = functional_call(cell, dict(zip(names, ps)), *args)
        return out[0] + 2 * out[1] if cls is nn.LSTMCell else out

    assert gradcheck(call, (x, h, *params))


# -- errors -----------------------------------------------------------------------------------
def test_errors_name_the_layer_and_the_shapes(backend):
    m = nn.LSTM(3, 4, num_layers=2).to(backend)
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. "
                                           "Expected 3, got 5"):
        m(ag.zeros(2, 1, 5, device=backend))
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D, got 4D"):
        m(ag.zeros(2, 1, 1, 3, device=backend))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(2, 1, 4\), got "
                                           r"\(1, 1, 4\)"):
        m(ag.zeros(2, 1, 3, device=backend), (ag.zeros(1, 1, 4, device=backend),
                                              ag.zeros(2, 1, 4, device=backend)))
    with pytest.raises(RuntimeError, match="for batched 3-D input, hidden\\[0\\] should also "
                                           "be 3-D but got 2-D"):
        m(ag.zeros(2, 1, 3, device=backend), (ag.zeros(2, 4, device=backend),
                                              ag.zeros(2, 4, device=backend)))
    with pytest.raises(TypeError, match="input dtype float64 does not match the parameters' "
                                        "dtype float32"):
        m(ag.zeros(2, 1, 3, dtype="float64", device=backend))
    with pytest.raises(TypeError, match="input and hidden tensors are not the same dtype: input "
                                        "float32, hidden\\[1\\] float64"):
        m(ag.zeros(2, 1, 3, device=backend), (ag.zeros(2, 1, 4, device=backend),
                                              ag.zeros(2, 1, 4, dtype="float64",
                                                       device=backend)))
    with pytest.raises(TypeError, match="hx should be a tuple"):
        m(ag.zeros(2, 1, 3, device=backend), ag.zeros(2, 1, 4, device=backend))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 2, 4\), got"):
        nn.GRU(3, 4).to(backend)(ag.zeros(2, 2, 3, device=backend),
                                 ag.zeros(1, 3, 4, device=backend))


def test_constructor_errors_are_pytorchs():
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="proj_size should be a positive integer or zero"):
        nn.LSTM(3, 4, proj_size=-1)
    with pytest.raises(ValueError, match="dropout should be a number in range \\[0, 1\\]"):
        nn.GRU(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.RNN(3, 0)
    with pytest.raises(ValueError, match="num_layers must be greater than zero"):
        nn.RNN(3, 4, num_layers=0)
    with pytest.raises(TypeError, match="hidden_size should be of type int"):
        nn.GRU(3, 4.0)
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="Unknown nonlinearity: gelu"):
        nn.RNNCell(3, 4, nonlinearity="gelu")


def test_cell_errors(backend):
    cell = nn.GRUCell(3, 4).to(backend)
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 2, "
                                           "expected 3"):
        cell(ag.zeros(1, 2, device=backend))
    with pytest.raises(ValueError, match="Expected input to be 1D or 2D, got 3D"):
        cell(ag.zeros(1, 1, 3, device=backend))
    with pytest.raises(RuntimeError, match=r"hx of shape \(2, 4\) does not fit input batch 1"):
        cell(ag.zeros(1, 3, device=backend), ag.zeros(2, 4, device=backend))
