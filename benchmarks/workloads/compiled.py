"""Workload 10: the per-op chain and the MLP batch-32 step under ``ag.compile`` (issue 19 §4).

The same steps as workloads 1 and 2 (per_op.py, mlp.py), with kedja's column running
``ag.compile(step)``: the first call captures the step's array calls, every later call replays
them into the captured buffers (docs/compile.md). The PyTorch and NumPy-floor columns are those
rows' columns, so the ratios read directly against issue 19's targets: the chain <= 1.3x the
floor, the MLP batch-32 step <= 0.85x the floor. The gradient check runs the compiled step twice
from the initial state (a capture, then a replay) and compares the replay's gradients (and the
MLP's loss) with the floor's, as for every other column.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..harness import ColumnSpec, Context, Impl, Row, Target, timed_row
from . import mlp, per_op
from .common import kedja_sync, load_kedja

BATCH = 32


def kedja_compiled_chain(ctx: Context, n_ops: int) -> Impl:
    import autograd as ag

    x0, w0 = per_op.chain_inputs(ctx)
    x = ag.tensor(x0, device=ctx.kedja_device, requires_grad=True)
    w = ag.tensor(w0, device=ctx.kedja_device, requires_grad=True)

    @ag.compile
    def step() -> Any:
        loss = per_op.operator_chain(x, w, n_ops)
        loss.backward()
        return loss

    def check() -> dict[str, np.ndarray]:
        step()  # the capture
        step()  # a replay: its gradients are the ones checked
        return {"x": x.grad.numpy().copy(), "w": w.grad.numpy().copy()}

    return Impl(step=step, check=check, sync=kedja_sync(ctx))


def kedja_compiled_mlp(ctx: Context, batch: int) -> Impl:
    import autograd as ag
    import nn
    import optim

    weights, x0, y0 = mlp.mlp_data(ctx, batch)
    sizes = mlp.SIZES
    model = nn.Sequential(
        nn.Linear(sizes[0], sizes[1]), nn.ReLU(),
        nn.Linear(sizes[1], sizes[2]), nn.ReLU(),
        nn.Linear(sizes[2], sizes[3]),
    ).to(ctx.kedja_device)
    params = list(model.parameters())
    load_kedja(params, weights)
    opt = optim.SGD(params, lr=mlp.LR)
    loss_fn = nn.CrossEntropyLoss()
    x = ag.tensor(x0, device=ctx.kedja_device)
    y = ag.tensor(y0, device=ctx.kedja_device)

    @ag.compile
    def train_step(x: Any, y: Any) -> Any:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def check() -> dict[str, np.ndarray]:
        for _ in range(2):  # a capture, then a replay, each from the initial weights
            load_kedja(params, weights)
            loss = train_step(x, y)
        out = {name: p.grad.numpy().copy() for name, p in zip(mlp.NAMES, params)}
        out["loss"] = loss.numpy().copy()
        load_kedja(params, weights)  # in place: the capture's buffers stay the parameters'
        return out

    return Impl(step=lambda: train_step(x, y), check=check, sync=kedja_sync(ctx))


def _unsupported(ctx: Context) -> str | None:
    if ctx.kedja_device != "cpu":
        return f"ag.compile replays host NumPy steps (device {ctx.kedja_device})"
    return None


def chain_impls(ctx: Context, n_ops: int) -> dict[str, ColumnSpec]:
    impls = per_op.chain_impls(ctx, n_ops)
    why = _unsupported(ctx)
    impls["kedja"] = why if why else (lambda: kedja_compiled_chain(ctx, n_ops))
    return impls


def mlp_impls(ctx: Context, batch: int) -> dict[str, ColumnSpec]:
    impls = mlp.mlp_impls(ctx, batch)
    why = _unsupported(ctx)
    impls["kedja"] = why if why else (lambda: kedja_compiled_mlp(ctx, batch))
    return impls


def rows(ctx: Context) -> list[Row]:
    n_ops = per_op.N_OPS
    return [
        timed_row(
            "compiled_per_op", f"ag.compile: per-op chain ({n_ops} ops on ({per_op.SIZE},)), "
            "fwd+bwd", "us/op", 1e6 / n_ops, chain_impls(ctx, n_ops), ctx,
            target=Target("numpy", 1.3),
        ),
        timed_row(
            f"compiled_mlp_b{BATCH}", f"ag.compile: MLP 784-512-512-10 train step, batch {BATCH}",
            "ms/step", 1e3, mlp_impls(ctx, BATCH), ctx, target=Target("numpy", 0.85),
        ),
    ]
