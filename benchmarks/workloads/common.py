"""Helpers the workloads share: column availability, device sync, weight copies."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..harness import Context, Impl


def torch_or_reason(ctx: Context) -> Any:
    """The torch module ready for `ctx.device`, or a string saying why the column is n/a."""
    if ctx.torch is None:
        return "torch not installed"
    if ctx.device == "cuda" and not ctx.torch.cuda.is_available():
        return "torch has no CUDA device"
    return ctx.torch


def kedja_sync(ctx: Context) -> Any:
    """A callable waiting for kedja's device (None on the CPU, where ops are synchronous)."""
    if ctx.device != "cuda":
        return None
    import backends

    return backends.get(ctx.kedja_device).synchronize


def torch_sync(ctx: Context) -> Any:
    if ctx.device != "cuda":
        return None
    return ctx.torch.cuda.synchronize


def floor_sync(ctx: Context) -> Any:
    if ctx.device != "cuda":
        return None
    xp = ctx.floor_xp()
    return xp.cuda.runtime.deviceSynchronize


def to_host(a: Any) -> np.ndarray:
    """A host NumPy copy of a NumPy/CuPy/fake-device array (for checks only)."""
    if isinstance(a, np.ndarray):
        return a.copy()
    if hasattr(a, "get"):
        return np.asarray(a.get())
    return np.asarray(a)


def uniform_like_torch(rng: np.random.Generator, shape: tuple, fan_in: int) -> np.ndarray:
    """PyTorch's default layer init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as float32."""
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(np.float32)


def load_kedja(params: list, arrays: list[np.ndarray]) -> None:
    """Copies host arrays into kedja parameters, in order."""
    import autograd as ag

    if len(params) != len(arrays):
        raise ValueError(f"expected {len(arrays)} parameters, got {len(params)}")
    with ag.no_grad():
        for p, a in zip(params, arrays):
            if tuple(p.shape) != a.shape:
                raise ValueError(f"parameter of shape {p.shape} vs array of shape {a.shape}")
            p.copy_(ag.tensor(a, device=p.device))


def load_torch(torch: Any, params: list, arrays: list[np.ndarray]) -> None:
    if len(params) != len(arrays):
        raise ValueError(f"expected {len(arrays)} parameters, got {len(params)}")
    with torch.no_grad():
        for p, a in zip(params, arrays):
            p.copy_(torch.from_numpy(a))


def kedja_training_impl(ctx: Context, model: Any, weights: list, x0: np.ndarray, y0: np.ndarray,
                        names: tuple, lr: float, device: str) -> Impl:
    """A kedja classifier's SGD training step (zero_grad, cross-entropy, backward, step) and
    its gradient check, from the shared initial `weights` and batch (`x0`, `y0`)."""
    import autograd as ag
    import nn
    import optim

    model = model.to(device)
    params = list(model.parameters())
    load_kedja(params, weights)
    opt = optim.SGD(params, lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    x = ag.tensor(x0, device=device)
    y = ag.tensor(y0, device=device)

    def step() -> None:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    def check() -> dict[str, np.ndarray]:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        out = {name: p.grad.numpy() for name, p in zip(names, params)}
        out["loss"] = loss.numpy()
        opt.zero_grad()
        return out

    return Impl(step=step, check=check, sync=kedja_sync(ctx))


def torch_training_impl(ctx: Context, torch: Any, model: Any, weights: list, x0: np.ndarray,
                        y0: np.ndarray, names: tuple, lr: float) -> Impl:
    """The same training step and check in PyTorch, on ``ctx.torch_device``."""
    device = ctx.torch_device
    model = model.to(device)
    params = list(model.parameters())
    load_torch(torch, params, weights)
    opt = torch.optim.SGD(params, lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.from_numpy(x0).to(device)
    y = torch.from_numpy(y0).to(device)

    def step() -> None:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    def check() -> dict[str, np.ndarray]:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        out = {name: p.grad.cpu().numpy() for name, p in zip(names, params)}
        out["loss"] = loss.detach().cpu().numpy()
        opt.zero_grad()
        return out

    return Impl(step=step, check=check, sync=torch_sync(ctx))
