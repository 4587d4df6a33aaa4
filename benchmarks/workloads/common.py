"""Helpers the workloads share: column availability, device sync, weight copies."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..harness import Context


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
