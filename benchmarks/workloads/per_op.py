"""Workload 1: per-op overhead, a chain of elementwise ops on tiny tensors, forward + backward.

The chain cycles ``h = h * w``, ``h = h + w``, ``h = tanh(h)`` on shape-(4,) float32 tensors
(`x` and `w` both require grad), then ``h.sum()`` and backward. On tensors this small the array
work is nothing: the time is the engine's per-op bookkeeping (forward dispatch, graph node,
backward rule, gradient accumulation). Reported in microseconds per op (the step / n_ops).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..harness import ColumnSpec, Context, Impl, Row, Target, timed_row
from .common import floor_sync, kedja_sync, to_host, torch_or_reason, torch_sync

SIZE = 4
N_OPS = 100  # the chain's length in the suite (then a sum); times are per chain op


def chain_inputs(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    rng = ctx.rng()
    x = rng.uniform(0.5, 1.0, SIZE).astype(np.float32)
    w = rng.uniform(0.5, 1.0, SIZE).astype(np.float32)
    return x, w


def operator_chain(x: Any, w: Any, n_ops: int) -> Any:
    """The chain's forward written with operators (kedja and PyTorch tensors alike), from
    cleared gradients; returns the loss ``h.sum()``."""
    x.grad = None
    w.grad = None
    h = x
    for i in range(n_ops):
        k = i % 3
        if k == 0:
            h = h * w
        elif k == 1:
            h = h + w
        else:
            h = h.tanh()
    return h.sum()


def _host(t: Any) -> np.ndarray:
    return t.detach().cpu().numpy()  # a kedja or PyTorch tensor, on any device


def _engine_chain(x: Any, w: Any, n_ops: int, split: bool, sync: Any) -> Impl:
    """An engine's column; with `split`, `prepare` runs the forward and `step` only the
    backward."""
    state: dict[str, Any] = {}

    def prepare() -> None:
        state["loss"] = operator_chain(x, w, n_ops)

    def backward() -> None:
        state.pop("loss").backward()

    def step() -> None:
        operator_chain(x, w, n_ops).backward()

    def check() -> dict[str, np.ndarray]:
        step()
        return {"x": _host(x.grad), "w": _host(w.grad)}

    if split:
        return Impl(step=backward, prepare=prepare, check=check, sync=sync)
    return Impl(step=step, check=check, sync=sync)


def kedja_chain(ctx: Context, n_ops: int, split: bool = False) -> Impl:
    import autograd as ag

    x0, w0 = chain_inputs(ctx)
    x = ag.tensor(x0, device=ctx.kedja_device, requires_grad=True)
    w = ag.tensor(w0, device=ctx.kedja_device, requires_grad=True)
    return _engine_chain(x, w, n_ops, split, kedja_sync(ctx))


def torch_chain(ctx: Context, n_ops: int, split: bool = False) -> Impl | str:
    torch = torch_or_reason(ctx)
    if isinstance(torch, str):
        return torch
    x0, w0 = chain_inputs(ctx)
    x = torch.tensor(x0, device=ctx.torch_device, requires_grad=True)
    w = torch.tensor(w0, device=ctx.torch_device, requires_grad=True)
    return _engine_chain(x, w, n_ops, split, torch_sync(ctx))


def floor_forward(xp: Any, x: Any, w: Any, n_ops: int) -> tuple[Any, list]:
    """The chain's forward, keeping what backward needs: mul's input, tanh's output."""
    saved = []
    h = x
    for i in range(n_ops):
        k = i % 3
        if k == 0:
            saved.append(h)
            h = h * w
        elif k == 1:
            h = h + w
        else:
            h = xp.tanh(h)
            saved.append(h)
    return h, saved


def floor_backward(xp: Any, h: Any, saved: list, w: Any, n_ops: int) -> tuple[Any, Any]:
    """d sum(h) / d(x, w), walking the chain backwards."""
    g = xp.ones_like(h)
    gw = xp.zeros_like(w)
    for i in reversed(range(n_ops)):
        k = i % 3
        if k == 2:
            y = saved.pop()
            g = g * (1 - y * y)
        elif k == 1:
            gw += g
        else:
            gw += g * saved.pop()
            g = g * w
    return g, gw


def floor_chain(ctx: Context, n_ops: int, split: bool = False) -> Impl:
    xp = ctx.floor_xp()
    x0, w0 = chain_inputs(ctx)
    x, w = xp.asarray(x0), xp.asarray(w0)
    state: dict[str, Any] = {}

    def prepare() -> None:
        state["fwd"] = floor_forward(xp, x, w, n_ops)

    def backward() -> Any:
        h, saved = state.pop("fwd")
        return floor_backward(xp, h, saved, w, n_ops)

    def step() -> Any:
        h, saved = floor_forward(xp, x, w, n_ops)
        h.sum()  # the loss, as the other columns compute it
        return floor_backward(xp, h, saved, w, n_ops)

    def check() -> dict[str, np.ndarray]:
        gx, gw = step()
        return {"x": to_host(gx), "w": to_host(gw)}

    sync = floor_sync(ctx)
    if split:
        return Impl(step=backward, prepare=prepare, check=check, sync=sync)
    return Impl(step=step, check=check, sync=sync)


def chain_impls(ctx: Context, n_ops: int, split: bool = False) -> dict[str, ColumnSpec]:
    return {
        "kedja": lambda: kedja_chain(ctx, n_ops, split),
        "torch": lambda: torch_chain(ctx, n_ops, split),
        "numpy": lambda: floor_chain(ctx, n_ops, split),
    }


def rows(ctx: Context) -> list[Row]:
    n_ops = N_OPS
    return [timed_row(
        "per_op", f"per-op overhead: {n_ops}-op chain (mul, add, tanh) on ({SIZE},), fwd+bwd",
        "us/op", 1e6 / n_ops, chain_impls(ctx, n_ops), ctx, target=Target("torch", 0.6),
    )]
