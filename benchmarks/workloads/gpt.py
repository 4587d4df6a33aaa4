"""Workload 8: one GPT training step, kedja against PyTorch.

A character-level GPT: token and position embeddings, 4 pre-norm Transformer encoder layers
(4 heads, width 128, feed-forward 512, tanh-approximated GELU as in GPT-2, no dropout) under a
causal mask, a final LayerNorm and a linear head over a vocabulary of 96; context 64, batch 16.
A step is zero_grad, forward, mean cross-entropy over every position, backward and one AdamW
update (lr 3e-4). Both columns build the model from the same code (``nn.TransformerEncoder``
and friends share PyTorch's API and parameter names) and start from the same weights, moved
through the state_dict; their gradients are compared before any timing.

There is no hand-written NumPy floor for this model: the correctness check is kedja against
PyTorch (the ``max rel err`` cell), and the floor column is n/a. A second row counts kedja's
array operations (kernel launches on a GPU) per step on the strict fake device.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from typing import Any

import numpy as np

from ..harness import Context, Impl, Row, Target, max_rel_error, timed_row
from .common import kedja_sync, torch_or_reason, torch_sync

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VOCAB, WIDTH, HEADS, LAYERS, CONTEXT, BATCH = 96, 128, 4, 4, 64, 16
QUICK_BATCH = 4
LR = 3e-4


def gpt_class(nn: Any) -> type:
    """The GPT module class, written once against the API kedja's ``nn`` and ``torch.nn``
    share."""

    class GPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok = nn.Embedding(VOCAB, WIDTH)
            self.pos = nn.Embedding(CONTEXT, WIDTH)
            layer = nn.TransformerEncoderLayer(
                WIDTH, HEADS, 4 * WIDTH, dropout=0.0, activation=nn.GELU(approximate="tanh"),
                batch_first=True, norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(WIDTH)
            self.head = nn.Linear(WIDTH, VOCAB)
            self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(CONTEXT),
                                 persistent=False)

        def forward(self, idx: Any) -> Any:
            t = idx.shape[1]
            x = self.tok(idx) + self.pos.weight[:t]
            x = self.blocks(x, mask=self.mask[:t, :t], is_causal=True)
            return self.head(self.norm(x))

    return GPT


def initial_state(seed: int) -> dict[str, np.ndarray]:
    """A kedja model's initial weights, as host float32 arrays."""
    import autograd as ag
    import nn

    ag.manual_seed(seed)
    return {k: v.numpy().copy() for k, v in gpt_class(nn)().state_dict().items()}


def dump_initial_state(path: str, seed: int) -> None:
    np.savez(path, **initial_state(seed))


def _initial_state_elsewhere(seed: int) -> dict[str, np.ndarray]:
    """`initial_state` drawn in a fresh process: the PyTorch column's process must not import
    kedja (importing it changes the process: allocator settings, threads)."""
    with tempfile.TemporaryDirectory(prefix="kedja-gpt-") as tmp:
        path = os.path.join(tmp, "state.npz")
        code = ("from benchmarks.workloads.gpt import dump_initial_state; "
                f"dump_initial_state({path!r}, {seed})")
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
        with np.load(path) as f:
            return {k: f[k] for k in f.files}


def gpt_data(ctx: Context) -> tuple[dict, np.ndarray, np.ndarray]:
    """Initial weights (a kedja model's init, as host float32 arrays) and a batch of tokens."""
    state = (_initial_state_elsewhere(ctx.seed) if ctx.column == "torch"
             else initial_state(ctx.seed))
    rng = ctx.rng()
    batch = QUICK_BATCH if ctx.quick else BATCH
    x = rng.integers(0, VOCAB, (batch, CONTEXT)).astype(np.int64)
    y = rng.integers(0, VOCAB, (batch, CONTEXT)).astype(np.int64)
    return state, x, y


def _impl(model: Any, opt: Any, cross_entropy: Any, x: Any, y: Any, sync: Any) -> Impl:
    """The step and its check, the same code for kedja and PyTorch."""
    names = [n for n, _ in model.named_parameters()]
    params = [p for _, p in model.named_parameters()]

    def forward_backward() -> Any:
        opt.zero_grad()
        loss = cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1))
        loss.backward()
        return loss

    def step() -> None:
        forward_backward()
        opt.step()

    def check() -> dict[str, np.ndarray]:
        loss = forward_backward()
        out = {n: p.grad.detach().cpu().numpy() for n, p in zip(names, params)}
        out["loss"] = loss.detach().cpu().numpy()
        opt.zero_grad()
        return out

    return Impl(step=step, check=check, sync=sync)


def kedja_gpt(ctx: Context, device: Any = None) -> Impl:
    import autograd as ag
    import nn
    import nn.functional as F
    import optim

    state, x0, y0 = gpt_data(ctx)
    device = device or ctx.kedja_device
    model = gpt_class(nn)().to(device)
    model.load_state_dict(state)
    opt = optim.AdamW(model.parameters(), lr=LR)
    x, y = ag.tensor(x0, device=device), ag.tensor(y0, device=device)
    return _impl(model, opt, F.cross_entropy, x, y, kedja_sync(ctx))


def torch_gpt(ctx: Context) -> Impl | str:
    torch = torch_or_reason(ctx)
    if isinstance(torch, str):
        return torch
    state, x0, y0 = gpt_data(ctx)
    model = gpt_class(torch.nn)().to(ctx.torch_device)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    opt = torch.optim.AdamW(model.parameters(), lr=LR)
    x = torch.from_numpy(x0).to(ctx.torch_device)
    y = torch.from_numpy(y0).to(ctx.torch_device)
    return _impl(model, opt, torch.nn.functional.cross_entropy, x, y, torch_sync(ctx))


def _checked_against_torch(row: Row, impls: dict) -> Row:
    """Gradients of kedja against PyTorch's (from the same initial state), in the error cell."""
    if isinstance(impls.get("torch"), Impl):
        row.errors["kedja"] = max_rel_error(impls["kedja"].check(), impls["torch"].check())
        row.errors["torch"] = 0.0  # the reference
    row.notes["numpy"] = "no hand-written floor for this model; kedja's gradients are checked " \
                         "against PyTorch's (max rel err)"
    return row


def rows(ctx: Context) -> list[Row]:
    from .array_ops import count_step

    batch = QUICK_BATCH if ctx.quick else BATCH
    no_floor = "no hand-written floor for this model"
    title = (f"GPT train step ({LAYERS} layers, {HEADS} heads, width {WIDTH}, context "
             f"{CONTEXT}, vocab {VOCAB}), batch {batch}, AdamW")
    if ctx.column is not None:  # a child of the isolated runner: build only its own column
        impls: dict[str, Any] = {"kedja": lambda: kedja_gpt(ctx), "torch": lambda: torch_gpt(ctx),
                                 "numpy": no_floor}
        timed = timed_row(f"gpt_b{batch}", title, "ms/step", 1e3, impls, ctx,
                          target=Target("torch", 1.0))
        timed.notes["numpy"] = no_floor + "; kedja's gradients are checked against PyTorch's"
        return [timed] + ([_count_row(ctx, batch, count_step)] if ctx.column == "kedja" else [])
    impls = {"kedja": kedja_gpt(ctx), "torch": torch_gpt(ctx)}
    timed = timed_row(f"gpt_b{batch}", title, "ms/step", 1e3, impls, ctx,
                      target=Target("torch", 1.0))
    timed = _checked_against_torch(timed, impls)
    return [timed, _count_row(ctx, batch, count_step)]


def _count_row(ctx: Context, batch: int, count_step: Any) -> Row:
    from ..harness import COLUMNS, Stat

    row = Row(f"gpt_ops_b{batch}", f"array ops (kernels) per GPT train step, batch {batch}, "
              "fake device", "ops/step")
    row.notes["torch"] = "not countable (PyTorch does not run on the fake device)"
    row.notes["numpy"] = "no hand-written floor for this model"
    row.stats = {c: None for c in COLUMNS}
    try:
        import backends

        backend = backends.get("fake")
        counter = count_step(lambda b: kedja_gpt(ctx, device=b.device), backend)
    except Exception as e:  # noqa: BLE001 - report, do not abort the suite
        row.notes["kedja"] = f"failed on the fake device: {type(e).__name__}: {e}"
        return row
    row.stats["kedja"] = Stat.of([float(counter.total)])
    row.details["kedja"] = {"kernels": counter.total, "views": sum(counter.views.values()),
                            "kernels_by_name": dict(counter.kernels.most_common())}
    return row
