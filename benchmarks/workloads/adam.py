"""Workload 5: one Adam step over 200 small parameter tensors (per-parameter overhead).

100 tensors of shape (64,) and 100 of shape (16, 16), with fixed gradients; the timed call is
``optimizer.step()`` alone (lr 1e-3, PyTorch's default betas and eps, no weight decay). The
check compares the parameter updates ``p - p0`` after three steps from the same state.
PyTorch runs its default implementation (on the CPU: the per-tensor loop, not foreach).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..harness import Context, Impl, Row, Target, timed_row
from .common import floor_sync, kedja_sync, to_host, torch_or_reason, torch_sync

LR, BETA1, BETA2, EPS = 1e-3, 0.9, 0.999, 1e-8
CHECK_STEPS = 3


def adam_data(ctx: Context) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = ctx.rng()
    shapes = [(64,)] * 100 + [(16, 16)] * 100
    params = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    return params, grads


def _updates(now: list[np.ndarray], start: list[np.ndarray]) -> dict[str, np.ndarray]:
    return {f"p{i}": a - b for i, (a, b) in enumerate(zip(now, start))}


def kedja_adam(ctx: Context, device: str | None = None) -> Impl:
    import autograd as ag
    import nn
    import optim

    device = device or ctx.kedja_device
    p0, g0 = adam_data(ctx)
    params = [nn.Parameter(ag.tensor(p, device=device)) for p in p0]
    for p, g in zip(params, g0):
        p.grad = ag.tensor(g, device=device)
    opt = optim.Adam(params, lr=LR, betas=(BETA1, BETA2), eps=EPS)

    def check() -> dict[str, np.ndarray]:
        for _ in range(CHECK_STEPS):
            opt.step()
        return _updates([p.numpy() for p in params], p0)

    return Impl(step=opt.step, check=check, sync=kedja_sync(ctx))


def torch_adam(ctx: Context) -> Impl | str:
    torch = torch_or_reason(ctx)
    if isinstance(torch, str):
        return torch
    p0, g0 = adam_data(ctx)
    params = [torch.nn.Parameter(torch.from_numpy(p.copy()).to(ctx.torch_device)) for p in p0]
    for p, g in zip(params, g0):
        p.grad = torch.from_numpy(g.copy()).to(ctx.torch_device)
    opt = torch.optim.Adam(params, lr=LR, betas=(BETA1, BETA2), eps=EPS)

    def check() -> dict[str, np.ndarray]:
        for _ in range(CHECK_STEPS):
            opt.step()
        return _updates([p.detach().cpu().numpy() for p in params], p0)

    return Impl(step=opt.step, check=check, sync=torch_sync(ctx))


class FloorAdam:
    """Adam written out per parameter, in place, as one would by hand."""

    def __init__(self, xp: Any, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        self.xp = xp
        self.params = [xp.array(p) for p in params]  # copies: updated in place
        self.grads = [xp.asarray(g) for g in grads]
        self.m = [xp.zeros_like(p) for p in self.params]
        self.v = [xp.zeros_like(p) for p in self.params]
        self.t = 0

    def step(self) -> None:
        xp = self.xp
        self.t += 1
        c1 = 1 - BETA1**self.t
        c2_sqrt = math.sqrt(1 - BETA2**self.t)
        for p, g, m, v in zip(self.params, self.grads, self.m, self.v):
            m *= BETA1
            m += (1 - BETA1) * g
            v *= BETA2
            v += (1 - BETA2) * (g * g)
            denom = xp.sqrt(v)
            denom /= c2_sqrt
            denom += EPS
            p -= (LR / c1) * m / denom


def floor_adam(ctx: Context, xp: Any = None) -> Impl:
    p0, g0 = adam_data(ctx)
    floor = FloorAdam(xp if xp is not None else ctx.floor_xp(), p0, g0)

    def check() -> dict[str, np.ndarray]:
        for _ in range(CHECK_STEPS):
            floor.step()
        return _updates([to_host(p) for p in floor.params], p0)

    return Impl(step=floor.step, check=check, sync=floor_sync(ctx) if xp is None else None)


def rows(ctx: Context) -> list[Row]:
    impls = {"kedja": lambda: kedja_adam(ctx), "torch": lambda: torch_adam(ctx),
             "numpy": lambda: floor_adam(ctx)}
    return [timed_row(
        "adam_200", "Adam step over 200 small params (100x(64,), 100x(16,16))", "ms/step", 1e3,
        impls, ctx, target=Target("torch", 1.0),
    )]
