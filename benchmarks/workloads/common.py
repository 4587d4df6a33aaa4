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
    return _training_impl(model, opt, loss_fn, params, x, y, names, kedja_sync(ctx))


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
    return _training_impl(model, opt, loss_fn, params, x, y, names, torch_sync(ctx))


def _training_impl(model: Any, opt: Any, loss_fn: Any, params: list, x: Any, y: Any,
                   names: tuple, sync: Any) -> Impl:
    """The SGD training step and its gradient check, the same code for kedja and PyTorch
    (they share the API it uses)."""

    def forward_backward() -> Any:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss

    def step() -> None:
        forward_backward()
        opt.step()

    def check() -> dict[str, np.ndarray]:
        loss = forward_backward()
        out = {name: p.grad.detach().cpu().numpy() for name, p in zip(names, params)}
        out["loss"] = loss.detach().cpu().numpy()
        opt.zero_grad()
        return out

    return Impl(step=step, check=check, sync=sync)


class FloorModel:
    """A hand-written NumPy model: its weights (copied, updated in place by `step`) and batch.

    Subclasses write `forward_backward() -> (loss, grads)` by hand: no engine, the floor.
    """

    def __init__(self, xp: Any, weights: list[np.ndarray], x: np.ndarray, y: np.ndarray,
                 lr: float) -> None:
        self.xp = xp
        self.params = [xp.array(w) for w in weights]  # copies: updated in place
        self.x = xp.asarray(x)
        self.y = xp.asarray(y)
        self.rows = xp.arange(x.shape[0])
        self.lr = lr

    def forward_backward(self) -> tuple[Any, list]:
        raise NotImplementedError

    def step(self) -> None:
        _, grads = self.forward_backward()
        for p, g in zip(self.params, grads):
            p -= self.lr * g

    def softmax_xent(self, z: Any) -> tuple[Any, Any]:
        """Mean softmax cross-entropy of logits `z` (overwritten) and dL/dz = (p - onehot) / n."""
        xp, y, rows = self.xp, self.y, self.rows
        z -= z.max(axis=1, keepdims=True)
        e = xp.exp(z)
        s = e.sum(axis=1, keepdims=True)
        loss = (xp.log(s)[:, 0] - z[rows, y]).mean()
        g = e / s
        g[rows, y] -= 1
        g /= z.shape[0]
        return loss, g


def floor_impl(ctx: Context, floor: FloorModel, names: tuple, own_xp: bool) -> Impl:
    """The floor's step and gradient check (synchronised like the engine columns unless it
    runs on a namespace the caller supplied)."""

    def check() -> dict[str, np.ndarray]:
        loss, grads = floor.forward_backward()
        out = {name: to_host(g) for name, g in zip(names, grads)}
        out["loss"] = to_host(loss)
        return out

    return Impl(step=floor.step, check=check, sync=floor_sync(ctx) if own_xp else None)
