"""The sequence op `Recurrence` and the fused cells beyond the op table: second order on fixed
configurations, the raw first-order rule against the recorded one, a graph that does not grow
with the sequence, one GEMM and one fused kernel per step, no host synchronisation in a
training step, in-place checks, inference without saved arrays."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import backends
import nn
import nn.functional as F
import optim
from autograd.gradcheck import gradgradcheck
from autograd.ops.rnn_sequence import Recurrence, sequence_reference
from backends.kernels import recurrent

# (mode, batch sizes, reverse, projection, GRU hidden bias)
CONFIGS = [
    ("LSTM", (2, 2, 1), True, False, False),
    ("LSTM", (2, 1), False, True, False),
    ("GRU", (2, 1, 1), True, False, True),
    ("RNN_TANH", (2, 2), False, False, False),
    ("RNN_RELU", (1, 1), True, False, False),
]


def _inputs(mode, sizes, proj, bias, backend, seed=0):
    rng = np.random.default_rng(seed)
    gates = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}[mode]
    hidden = 2
    width = 1 if proj else hidden
    batch = sizes[0]

    def t(*shape):
        return ag.tensor(rng.uniform(-1, 1, shape), device=backend, requires_grad=True)

    return dict(
        xproj=t(sum(sizes), gates * hidden), h0=t(batch, width),
        c0=t(batch, hidden) if mode == "LSTM" else None, w_hh=t(gates * hidden, width),
        b_hh=t(gates * hidden) if bias else None, w_hr=t(width, hidden) if proj else None)


def _apply(mode, sizes, reverse):
    def f(xproj, h0, c0, w_hh, b_hh, w_hr):
        return Recurrence.apply(xproj, h0, c0, w_hh, b_hh, w_hr, mode=mode, batch_sizes=sizes,
                                batch=sizes[0], reverse=reverse)
    return f


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}")
def test_second_order(backend, config):
    mode, sizes, reverse, proj, bias = config
    args = _inputs(mode, sizes, proj, bias, backend)
    assert gradgradcheck(_apply(mode, sizes, reverse), tuple(args.values()))


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}")
def test_raw_rule_matches_the_recorded_rule(backend, config):
    """The fused first-order backward and the create_graph rule (the reference loop
    differentiated by autograd) give the same gradients."""
    mode, sizes, reverse, proj, bias = config
    args = {k: v for k, v in _inputs(mode, sizes, proj, bias, backend, 1).items()}
    f = _apply(mode, sizes, reverse)
    inputs = [v for v in args.values() if v is not None]
    out = f(*args.values())
    seed = ag.tensor(np.random.default_rng(2).standard_normal(out.shape), device=backend)
    raw = ag.gradients([f(*args.values())], inputs, [seed])
    recorded = ag.gradients([f(*args.values())], inputs, [seed], create_graph=True)
    for a, b in zip(raw, recorded):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)
    reference = sequence_reference(*args.values(), mode=mode, batch_sizes=sizes,
                                   batch=sizes[0], reverse=reverse)
    np.testing.assert_allclose(out.numpy(), reference.numpy(), rtol=1e-12, atol=1e-14)


def _nodes(t):
    seen, stack = set(), [t.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or isinstance(node, ag.Tensor) or node in seen:
            continue
        seen.add(node)
        stack.extend(node.next_edges)
    return len(seen)


def test_the_graph_does_not_grow_with_the_sequence():
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    short = _nodes(m(ag.randn(2, 5, 3))[0].sum())
    long = _nodes(m(ag.randn(50, 5, 3))[0].sum())
    assert short == long < 40


class _Calls:
    """Counts calls of functions patched onto a module or object (restored afterwards)."""

    def __init__(self, monkeypatch, owner, names):
        self.counts = dict.fromkeys(names, 0)
        for name in names:
            fn = getattr(owner, name)
            monkeypatch.setattr(owner, name, self._wrap(name, fn))

    def _wrap(self, name, fn):
        def counted(*args, **kwargs):
            self.counts[name] += 1
            return fn(*args, **kwargs)
        return counted


@pytest.mark.parametrize("mode,kernel", [("LSTM", "lstm_cell"), ("GRU", "gru_cell"),
                                         ("RNN", "rnn_cell")])
def test_one_gemm_and_one_fused_kernel_per_step(monkeypatch, mode, kernel):
    fake = backends.get("fake")
    steps, layers = 7, 2
    m = getattr(nn, mode)(3, 4, num_layers=layers).to(fake)
    x = ag.randn(steps, 2, 3, device=fake)
    kernels = _Calls(monkeypatch, recurrent, [kernel, kernel + "_grad"])
    gemms = _Calls(monkeypatch, fake.xp, ["matmul"])
    out, _ = m(x)
    assert kernels.counts[kernel] == steps * layers
    # h @ W_hh.T per step, and per layer one GEMM for the whole input projection
    assert gemms.counts["matmul"] == steps * layers + layers
    loss = out.sum()
    before = gemms.counts["matmul"]
    loss.backward()
    assert kernels.counts[kernel + "_grad"] == steps * layers
    # g @ W_hh per step but the first (nothing needs the zero initial state's gradient), and
    # per layer but the first the input projection's input gradient (one GEMM over all
    # steps); the weight gradients are a few GEMMs over all steps (written with @, not counted)
    assert gemms.counts["matmul"] - before == (steps - 1) * layers + layers - 1


def test_training_step_never_synchronises():
    fake = backends.get("fake")
    model = nn.LSTM(3, 8, num_layers=2, dropout=0.1).to(fake)
    head = nn.Linear(8, 5).to(fake)
    opt = optim.SGD([*model.parameters(), *head.parameters()], lr=0.1)
    x = ag.randn(6, 4, 3, device=fake)
    y = ag.randint(0, 5, (24,), device=fake)
    lengths = [6, 5, 3, 1]
    for packed in (False, True):
        fake.reset_sync_count()
        with fake.expect_no_sync():
            opt.zero_grad()
            if packed:
                out, (h, c) = model(nn.utils.rnn.pack_padded_sequence(x, lengths))
                out, _ = nn.utils.rnn.pad_packed_sequence(out, total_length=6)
            else:
                out, (h, c) = model(x)
            loss = F.cross_entropy(head(out.reshape(24, 8)), y) + (h * h).mean() + c.mean()
            loss.backward()
            opt.step()
        assert fake.sync_count == 0


def test_modifying_the_output_in_place_is_caught():
    m = nn.GRU(3, 4)
    out, h = m(ag.randn(5, 2, 3))
    loss = (out * out).sum()
    with ag.no_grad():
        out += 1       # the op saved its output (a view of it): the GRU's gradient needs it
    with pytest.raises(RuntimeError, match="was modified in place"):
        loss.backward()


def test_inference_records_nothing(monkeypatch):
    m = nn.LSTM(3, 4, num_layers=2, proj_size=2, bidirectional=True)
    x = ag.randn(5, 2, 3)
    recorded, (h1, c1) = m(x)
    with ag.no_grad():
        plain, (h2, c2) = m(x)
    assert plain.grad_fn is None and not plain.requires_grad
    np.testing.assert_array_equal(plain.numpy(), recorded.numpy())
    np.testing.assert_array_equal(c2.numpy(), c1.numpy())


def test_second_order_through_a_layer(backend):
    """A gradient penalty: d/dW of |d loss / d x|^2 through nn.GRU, by autograd twice."""
    m = nn.GRU(2, 3, num_layers=2).to(backend, dtype="float64")
    x = ag.tensor(np.random.default_rng(0).standard_normal((3, 2, 2)), device=backend,
                  requires_grad=True)
    out, h = m(x)
    (gx,) = ag.gradients([(out * out).sum()], [x], create_graph=True)
    penalty = (gx * gx).sum()
    penalty.backward()
    assert all(p.grad is not None and np.isfinite(p.grad.numpy()).all()
               for p in m.parameters())
