"""Workload 2: one MLP training step, 784-512-512-10, ReLU, softmax cross-entropy, SGD.

A step is zero_grad, forward, mean cross-entropy, backward and one plain SGD update (lr 0.01),
from the same initial weights and batch in every column. Two rows: batch 128, where the GEMMs
dominate and kedja should be within a few percent of the NumPy floor, and batch 32, where the
per-op overhead starts to show.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..harness import ColumnSpec, Context, Impl, Row, Target, timed_row
from .common import (
    FloorModel,
    floor_impl,
    kedja_training_impl,
    torch_or_reason,
    torch_training_impl,
    uniform_like_torch,
)

SIZES = (784, 512, 512, 10)
LR = 0.01
NAMES = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias")


def mlp_data(ctx: Context, batch: int) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Initial weights (PyTorch's default init), an input batch and its labels."""
    rng = ctx.rng()
    weights = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        weights.append(uniform_like_torch(rng, (fan_out, fan_in), fan_in))
        weights.append(uniform_like_torch(rng, (fan_out,), fan_in))
    x = rng.standard_normal((batch, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], batch).astype(np.int64)
    return weights, x, y


def kedja_mlp(ctx: Context, batch: int, device: str | None = None) -> Impl:
    import nn

    weights, x0, y0 = mlp_data(ctx, batch)
    model = nn.Sequential(
        nn.Linear(SIZES[0], SIZES[1]), nn.ReLU(),
        nn.Linear(SIZES[1], SIZES[2]), nn.ReLU(),
        nn.Linear(SIZES[2], SIZES[3]),
    )
    return kedja_training_impl(ctx, model, weights, x0, y0, NAMES, LR,
                               device or ctx.kedja_device)


def torch_mlp(ctx: Context, batch: int) -> Impl | str:
    torch = torch_or_reason(ctx)
    if isinstance(torch, str):
        return torch
    tnn = torch.nn
    weights, x0, y0 = mlp_data(ctx, batch)
    model = tnn.Sequential(
        tnn.Linear(SIZES[0], SIZES[1]), tnn.ReLU(),
        tnn.Linear(SIZES[1], SIZES[2]), tnn.ReLU(),
        tnn.Linear(SIZES[2], SIZES[3]),
    )
    return torch_training_impl(ctx, torch, model, weights, x0, y0, NAMES, LR)


class FloorMLP(FloorModel):
    """The same step by hand: three GEMM layers, ReLU masks, fused softmax-CE gradient."""

    def forward_backward(self) -> tuple[Any, list]:
        xp = self.xp
        w1, b1, w2, b2, w3, b3 = self.params
        x = self.x
        h1 = x @ w1.T
        h1 += b1
        xp.maximum(h1, 0, out=h1)
        h2 = h1 @ w2.T
        h2 += b2
        xp.maximum(h2, 0, out=h2)
        z = h2 @ w3.T
        z += b3
        loss, g = self.softmax_xent(z)
        gw3 = g.T @ h2
        gb3 = g.sum(axis=0)
        gh = g @ w3
        gh *= h2 > 0
        gw2 = gh.T @ h1
        gb2 = gh.sum(axis=0)
        gh = gh @ w2
        gh *= h1 > 0
        gw1 = gh.T @ x
        gb1 = gh.sum(axis=0)
        return loss, [gw1, gb1, gw2, gb2, gw3, gb3]


def floor_mlp(ctx: Context, batch: int, xp: Any = None) -> Impl:
    weights, x, y = mlp_data(ctx, batch)
    floor = FloorMLP(xp if xp is not None else ctx.floor_xp(), weights, x, y, LR)
    return floor_impl(ctx, floor, NAMES, own_xp=xp is None)


def mlp_impls(ctx: Context, batch: int) -> dict[str, ColumnSpec]:
    return {"kedja": lambda: kedja_mlp(ctx, batch), "torch": lambda: torch_mlp(ctx, batch),
            "numpy": lambda: floor_mlp(ctx, batch)}


def rows(ctx: Context) -> list[Row]:
    out = []
    for batch, bound in ((128, 1.05), (32, 1.15)):
        out.append(timed_row(
            f"mlp_b{batch}", f"MLP 784-512-512-10 train step, batch {batch}", "ms/step", 1e3,
            mlp_impls(ctx, batch), ctx, target=Target("numpy", bound),
        ))
    return out
