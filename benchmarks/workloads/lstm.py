"""Workload 8: one LSTM training step: 2 layers, sequence 64, batch 32, input 128, hidden 256.

The model is ``nn.LSTM(128, 256, num_layers=2)`` on a time-major (64, 32, 128) batch, then
``nn.Linear(256, 16)`` on every step's output, mean cross-entropy over the 64 x 32 labels, and
one plain SGD step (lr 0.01), from the same initial weights and batch in every column (PyTorch's
LSTM init). The NumPy floor writes the same step by hand: the input projection hoisted out of
the time loop as one GEMM, one GEMM and the gate arithmetic per step, the weight gradients as
GEMMs over all steps. ``--quick`` shrinks the shapes (sequence 8, batch 8, input 16, hidden
32) so the smoke run stays short.

Two more rows count array operations per training step on the strict fake device: as
`array_ops` counts them (every NumPy call of the fused kernels' NumPy bodies is one op), and
as a GPU would launch them (each fused recurrent-cell kernel one launch, its NumPy body
uncounted). Their details give the counts per time step and layer.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from ..harness import COLUMNS, Context, Impl, Row, Stat, Target, fill_ratios, timed_row
from .common import (
    FloorModel,
    floor_impl,
    kedja_training_impl,
    torch_or_reason,
    torch_training_impl,
    uniform_like_torch,
)

LR = 0.01
CLASSES = 16
LAYERS = 2


def sizes(ctx: Context) -> tuple[int, int, int, int]:
    """(steps, batch, input, hidden)."""
    return (8, 8, 16, 32) if ctx.quick else (64, 32, 128, 256)


def names() -> tuple[str, ...]:
    out = []
    for layer in range(LAYERS):
        out += [f"lstm.weight_ih_l{layer}", f"lstm.weight_hh_l{layer}", f"lstm.bias_ih_l{layer}",
                f"lstm.bias_hh_l{layer}"]
    return (*out, "fc.weight", "fc.bias")


def lstm_data(ctx: Context) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Initial weights (PyTorch's init: U(+-1/sqrt(hidden)) for the LSTM, Linear's for the
    head), a (T, B, I) input and (T * B,) labels."""
    steps, batch, inputs, hidden = sizes(ctx)
    rng = ctx.rng()
    weights = []
    for layer in range(LAYERS):
        fan = inputs if layer == 0 else hidden
        for shape in ((4 * hidden, fan), (4 * hidden, hidden), (4 * hidden,), (4 * hidden,)):
            weights.append(uniform_like_torch(rng, shape, hidden))
    weights.append(uniform_like_torch(rng, (CLASSES, hidden), hidden))
    weights.append(uniform_like_torch(rng, (CLASSES,), hidden))
    x = rng.standard_normal((steps, batch, inputs)).astype(np.float32)
    y = rng.integers(0, CLASSES, steps * batch).astype(np.int64)
    return weights, x, y


def _model(nn: Any, inputs: int, hidden: int) -> Any:
    """The same two-part model for kedja and PyTorch (they share this API)."""

    class Tagger(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(inputs, hidden, num_layers=LAYERS)
            self.fc = nn.Linear(hidden, CLASSES)

        def forward(self, x: Any) -> Any:
            out, _ = self.lstm(x)
            return self.fc(out.reshape(-1, hidden))

    return Tagger()


def kedja_lstm(ctx: Context, device: str | None = None) -> Impl:
    import nn

    weights, x0, y0 = lstm_data(ctx)
    _steps, _batch, inputs, hidden = sizes(ctx)
    return kedja_training_impl(ctx, _model(nn, inputs, hidden), weights, x0, y0, names(), LR,
                               device or ctx.kedja_device)


def torch_lstm(ctx: Context) -> Impl | str:
    torch = torch_or_reason(ctx)
    if isinstance(torch, str):
        return torch
    weights, x0, y0 = lstm_data(ctx)
    _steps, _batch, inputs, hidden = sizes(ctx)
    return torch_training_impl(ctx, torch, _model(torch.nn, inputs, hidden), weights, x0, y0,
                               names(), LR)


class FloorLSTM(FloorModel):
    """The same step by hand, time-major, gates in PyTorch's order (i, f, g, o)."""

    def __init__(self, xp: Any, weights: list, x: np.ndarray, y: np.ndarray, lr: float) -> None:
        super().__init__(xp, weights, x, y, lr)
        self.rows = xp.arange(y.shape[0])  # one label per step and sequence

    def _sigmoid(self, a: Any) -> Any:
        xp = self.xp
        return xp.tanh(a * 0.5) * 0.5 + 0.5  # stable: no exp to overflow

    def _layer_forward(self, x: Any, w_ih: Any, w_hh: Any, b: Any) -> tuple:
        xp = self.xp
        steps, batch = x.shape[:2]
        hidden = w_hh.shape[1]
        xg = (x.reshape(steps * batch, -1) @ w_ih.T + b).reshape(steps, batch, 4 * hidden)
        h = xp.zeros((batch, hidden), dtype=x.dtype)
        c = xp.zeros((batch, hidden), dtype=x.dtype)
        hs = xp.empty((steps, batch, hidden), dtype=x.dtype)
        cs = xp.empty((steps, batch, hidden), dtype=x.dtype)
        acts = xp.empty((steps, batch, 4 * hidden), dtype=x.dtype)
        for t in range(steps):
            g = xg[t] + h @ w_hh.T
            a = acts[t]
            a[:, :2 * hidden] = self._sigmoid(g[:, :2 * hidden])
            a[:, 2 * hidden:3 * hidden] = xp.tanh(g[:, 2 * hidden:3 * hidden])
            a[:, 3 * hidden:] = self._sigmoid(g[:, 3 * hidden:])
            c = a[:, hidden:2 * hidden] * c + a[:, :hidden] * a[:, 2 * hidden:3 * hidden]
            cs[t] = c
            h = a[:, 3 * hidden:] * xp.tanh(c)
            hs[t] = h
        return hs, cs, acts

    def _layer_backward(self, x: Any, w_ih: Any, w_hh: Any, hs: Any, cs: Any, acts: Any,
                        gh_seq: Any) -> tuple:
        xp = self.xp
        steps, batch, hidden = hs.shape
        grads = xp.empty((steps, batch, 4 * hidden), dtype=hs.dtype)
        dh_next = xp.zeros((batch, hidden), dtype=hs.dtype)
        dc_next = xp.zeros((batch, hidden), dtype=hs.dtype)
        for t in range(steps - 1, -1, -1):
            a = acts[t]
            i, f = a[:, :hidden], a[:, hidden:2 * hidden]
            g, o = a[:, 2 * hidden:3 * hidden], a[:, 3 * hidden:]
            tc = xp.tanh(cs[t])
            dh = gh_seq[t] + dh_next
            dc = dh * o * (1 - tc * tc) + dc_next
            c_prev = cs[t - 1] if t else xp.zeros_like(dc)
            d = grads[t]
            d[:, :hidden] = dc * g * i * (1 - i)
            d[:, hidden:2 * hidden] = dc * c_prev * f * (1 - f)
            d[:, 2 * hidden:3 * hidden] = dc * i * (1 - g * g)
            d[:, 3 * hidden:] = dh * tc * o * (1 - o)
            dc_next = dc * f
            dh_next = d @ w_hh
        rows = grads.reshape(steps * batch, 4 * hidden)
        g_w_hh = rows[batch:].T @ hs[:-1].reshape((steps - 1) * batch, hidden)
        g_w_ih = rows.T @ x.reshape(steps * batch, -1)
        g_b = rows.sum(axis=0)
        gx = (rows @ w_ih).reshape(x.shape)
        return gx, g_w_ih, g_w_hh, g_b

    def forward_backward(self) -> tuple[Any, list]:
        p = self.params
        x = self.x
        inputs, caches = [], []
        for layer in range(LAYERS):
            w_ih, w_hh, b_ih, b_hh = p[4 * layer:4 * layer + 4]
            inputs.append(x)
            caches.append(self._layer_forward(x, w_ih, w_hh, b_ih + b_hh))
            x = caches[-1][0]
        fc_w, fc_b = p[-2:]
        steps, batch, hidden = x.shape
        top = x.reshape(steps * batch, hidden)
        logits = top @ fc_w.T
        logits += fc_b
        loss, g = self.softmax_xent(logits)
        grads = [None] * len(p)
        grads[-2], grads[-1] = g.T @ top, g.sum(axis=0)
        gh = (g @ fc_w).reshape(steps, batch, hidden)
        for layer in range(LAYERS - 1, -1, -1):
            w_ih, w_hh = p[4 * layer], p[4 * layer + 1]
            gh, g_w_ih, g_w_hh, g_b = self._layer_backward(inputs[layer], w_ih, w_hh,
                                                            *caches[layer], gh)
            grads[4 * layer:4 * layer + 4] = [g_w_ih, g_w_hh, g_b, g_b]
        return loss, grads


def floor_lstm(ctx: Context, xp: Any = None) -> Impl:
    weights, x, y = lstm_data(ctx)
    floor = FloorLSTM(xp if xp is not None else ctx.floor_xp(), weights, x, y, LR)
    return floor_impl(ctx, floor, names(), own_xp=xp is None)


# -- array operations per step on the fake device ---------------------------------------------
def _fused_as_launches(counter: Any) -> Any:
    """Counts each fused recurrent kernel as one launch (its NumPy body uncounted): wraps the
    dispatchers of backends.kernels.recurrent while `counter` is active."""
    from backends.kernels import recurrent

    names_ = ("lstm_cell", "lstm_cell_grad", "gru_cell", "gru_cell_grad", "rnn_cell",
              "rnn_cell_grad")
    saved = {n: getattr(recurrent, n) for n in names_}

    def wrap(name: str, fn: Any) -> Any:
        def launch(*args: Any, **kwargs: Any) -> Any:
            if counter._depth:
                return fn(*args, **kwargs)
            counter._depth += 1
            try:
                return fn(*args, **kwargs)
            finally:
                counter._depth -= 1
                counter.kernels[f"kernels.recurrent.{name}"] += 1

        return launch

    for n, fn in saved.items():
        setattr(recurrent, n, wrap(n, fn))

    def restore() -> None:
        for n, fn in saved.items():
            setattr(recurrent, n, fn)

    return restore


def _count(build: Any, backend: Any, fused: bool) -> Any:
    from .array_ops import OpCounter

    counter = OpCounter()
    restore = _fused_as_launches(counter) if fused else None
    try:
        with counter.active(backend):
            impl = build(backend)
            impl.step()
            counter.reset()
            impl.step()
    finally:
        if restore is not None:
            restore()
    return counter


def ops_rows(ctx: Context) -> list[Row]:
    from .array_ops import _fake_backend

    steps = sizes(ctx)[0]
    out = []
    for name, title, fused in (
        ("lstm_ops", "array ops per LSTM train step (NumPy bodies), fake device", False),
        ("lstm_launches", "GPU launches per LSTM train step (fused cell = 1), fake device",
         True),
    ):
        row = Row(name, title, "ops/step")
        row.notes["torch"] = "not countable (PyTorch does not run on the fake device)"
        backend = _fake_backend()
        if isinstance(backend, str):
            row.notes["kedja"] = row.notes["numpy"] = backend
            row.stats = {c: None for c in COLUMNS}
            out.append(row)
            continue
        for column, build in (("kedja", lambda b: kedja_lstm(ctx, device=b.device)),
                              ("numpy", lambda b: floor_lstm(ctx, xp=b.xp))):
            try:
                counter = _count(build, backend, fused)
            except Exception as e:  # noqa: BLE001 - report, do not abort the suite
                row.notes[column] = f"failed on the fake device: {type(e).__name__}: {e}"
                row.stats[column] = None
                continue
            total = counter.total
            row.stats[column] = Stat.of([float(total)])
            by_name = Counter(counter.kernels)
            row.details[column] = {
                "kernels": total,
                "per_time_step_and_layer": total / (steps * LAYERS),
                "views": sum(counter.views.values()),
                "kernels_by_name": dict(by_name.most_common()),
            }
        row.stats.setdefault("torch", None)
        out.append(fill_ratios(row))
    return out


def rows(ctx: Context) -> list[Row]:
    steps, batch, inputs, hidden = sizes(ctx)
    impls = {"kedja": lambda: kedja_lstm(ctx), "torch": lambda: torch_lstm(ctx),
             "numpy": lambda: floor_lstm(ctx)}
    timed = timed_row(
        "lstm_train", f"LSTM train step, 2 layers, seq {steps}, batch {batch}, input {inputs}, "
        f"hidden {hidden}", "ms/step", 1e3, impls, ctx, target=Target("torch", 1.0),
    )
    # The counts run kedja on the fake device: in the kedja column's process only.
    return [timed, *(ops_rows(ctx) if ctx.column in (None, "kedja") else [])]
