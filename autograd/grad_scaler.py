"""`GradScaler`: dynamic loss scaling for float16 training, with the found-inf flag on the device.

A float16 gradient underflows to zero below 6e-8; multiplying the loss by a large scale S
lifts the gradients into range, and `unscale_` divides them by S again before the optimizer
sees them. A gradient with an inf or NaN means S was too large: that step is skipped and S
shrinks (``backoff_factor``); after ``growth_interval`` clean steps S grows (``growth_factor``).

The scale, the growth tracker and each optimizer's found-inf flag are 0-d arrays on the
gradients' backend, and `unscale_` and `update` are array ops on them: neither reads anything
back to the host. On a device backend `step` does not read the flag either (see `step`).
"""

from __future__ import annotations

from typing import Any

import backends

from .tensor import Tensor

__all__ = ["GradScaler"]

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"
_F32 = backends.dtype_of("float32")


class GradScaler:
    """Dynamic loss scaling (PyTorch's ``torch.amp.GradScaler``).

    Args:
        device: the device type the scaler is for ("cuda", "cpu"); informational: the scale
            lives where the first scaled output lives.
        init_scale: the starting scale.
        growth_factor: the scale is multiplied by this after `growth_interval` clean steps.
        backoff_factor: the scale is multiplied by this after a step with inf/NaN gradients.
        growth_interval: clean steps between growths.
        enabled: False makes every method a pass-through (`step` calls ``optimizer.step()``).
        sync_free: how `step` skips on a device backend: True (the default there) applies the
            step and undoes it on the device where the flag is set, reading nothing back;
            False reads the flag (one host sync per step, as PyTorch does). The host backend
            always reads it (nothing to synchronise).

        >>> scaler = ag.GradScaler()
        >>> with ag.autocast("cuda"):
        ...     loss = loss_fn(model(x), y)
        >>> scaler.scale(loss).backward()
        >>> scaler.step(opt)      # unscales, skips on inf/NaN
        >>> scaler.update()       # adapts the scale
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True, *,
                 sync_free: bool | None = None) -> None:
        if not growth_factor > 1.0:
            raise ValueError(f"GradScaler: growth_factor must be > 1, got {growth_factor}")
        if not 0.0 < backoff_factor < 1.0:
            raise ValueError(f"GradScaler: backoff_factor must be in (0, 1), got "
                             f"{backoff_factor}")
        if not isinstance(growth_interval, int) or growth_interval < 1:
            raise ValueError(f"GradScaler: growth_interval must be a positive int, got "
                             f"{growth_interval!r}")
        if not init_scale > 0:
            raise ValueError(f"GradScaler: init_scale must be positive, got {init_scale}")
        self._device = str(device)
        self._enabled = bool(enabled)
        self._init_scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = growth_interval
        self._init_growth_tracker = 0
        self._sync_free = sync_free
        self._backend: Any = None
        self._scale: Any = None  # 0-d float32 array, created with the first scaled output
        self._growth_tracker: Any = None  # 0-d int32 array
        self._per_optimizer: dict[int, dict] = {}

    # -- scaling ------------------------------------------------------------------------------
    def _lazy_init(self, backend: Any) -> None:
        self._backend = backend
        xp = backend.xp
        with backend.device_scope():
            self._scale = xp.full((), self._init_scale, dtype=_F32)
            self._growth_tracker = xp.full((), self._init_growth_tracker, dtype="int32")

    def scale(self, outputs: Any) -> Any:
        """`outputs` (a Tensor or nested lists/tuples of them) multiplied by the scale; a
        float16/bfloat16 output is scaled in float32 (PyTorch keeps its dtype, and overflows
        more easily)."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            if self._scale is None:
                self._lazy_init(outputs._backend)
            scale = Tensor._make(self._scale, self._backend)
            if outputs._backend is not self._backend:
                scale = scale.to(outputs.device)
            if outputs.dtype.name in ("float16", "bfloat16"):
                # The product in float32: 65536 x a float16 loss would overflow float16.
                outputs = outputs.astype(_F32)
            return outputs * scale.astype(outputs.dtype)
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        raise TypeError(f"GradScaler.scale: expected a Tensor or a list/tuple of Tensors, got "
                        f"{type(outputs).__name__}")

    def _state(self, optimizer: Any) -> dict:
        state = self._per_optimizer.get(id(optimizer))
        if state is None or state["optimizer"] is not optimizer:
            state = {"optimizer": optimizer, "stage": _READY, "found_inf": {}}
            self._per_optimizer[id(optimizer)] = state
        return state

    def unscale_(self, optimizer: Any) -> None:
        """Divides `optimizer`'s gradients by the scale in place and records (on the device)
        whether any is inf or NaN. Call it before clipping gradients; `step` calls it if
        you did not."""
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["stage"] == _UNSCALED:
            raise RuntimeError("GradScaler.unscale_: already called on this optimizer since the "
                               "last update()")
        if state["stage"] == _STEPPED:
            raise RuntimeError("GradScaler.unscale_: called after step(); call update() first")
        if self._scale is None:
            raise RuntimeError("GradScaler.unscale_: no scaled output yet; call "
                               "scaler.scale(loss).backward() first")
        found: dict = {}
        inverse: dict = {}
        for group in optimizer.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if g.dtype.name == "float16":
                    raise ValueError(
                        f"GradScaler.unscale_: a parameter of shape {tuple(p.shape)} has float16 "
                        "gradients; keep the parameters (and so their gradients) in float32 and "
                        "let autocast cast them"
                    )
                backend = g._backend
                xp = backend.xp
                with backend.device_scope():
                    if backend not in inverse:
                        scale = self._scale if backend is self._backend else Tensor._make(
                            self._scale, self._backend).to(backend.device).array
                        inverse[backend] = (1.0 / scale.astype("float64")).astype(_F32)
                    gd = g.array
                    gd *= inverse[backend].astype(gd.dtype)
                    bad = xp.logical_not(xp.isfinite(gd).all())
                    found[backend] = bad if backend not in found else xp.logical_or(
                        found[backend], bad)
                g._version[0] += 1
        state["found_inf"] = found
        state["stage"] = _UNSCALED

    # -- stepping -----------------------------------------------------------------------------
    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """Unscales (if not done yet) and runs ``optimizer.step(*args, **kwargs)`` unless a
        gradient is inf or NaN; returns what the step returns (None when skipped on the host).

        On a device backend (with ``sync_free``) the step runs and is undone on the device
        where the flag is set: parameters and array state come back exactly (state created by
        the step comes back zero), but Python-number state such as Adam's ``step`` counter
        still advances, since changing it would need the flag on the host.
        """
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs or args:
            raise RuntimeError("GradScaler.step: closures are not supported (PyTorch's rule): "
                               "compute the loss, scale it and call backward() before step()")
        state = self._state(optimizer)
        if state["stage"] == _STEPPED:
            raise RuntimeError("GradScaler.step: already called on this optimizer since the "
                               "last update()")
        if state["stage"] == _READY:
            self.unscale_(optimizer)
        found = state["found_inf"]
        state["stage"] = _STEPPED
        on_device = any(b.is_device for b in found)
        if not found:
            return optimizer.step()
        if on_device and self._sync_free is not False:
            return _guarded_step(optimizer, found)
        if any(bool(b.to_numpy(flag)) for b, flag in found.items()):
            return None
        return optimizer.step()

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Adapts the scale for the next iteration (array ops only), or sets `new_scale`."""
        if not self._enabled or self._scale is None:
            return
        backend, xp = self._backend, self._backend.xp
        with backend.device_scope():
            if new_scale is not None:
                value = new_scale.array if isinstance(new_scale, Tensor) else new_scale
                xp.copyto(self._scale, xp.asarray(value, dtype=_F32))
            else:
                flags = [_moved(b, f, backend) for s in self._per_optimizer.values()
                         for b, f in s["found_inf"].items()]
                if not flags:
                    raise RuntimeError("GradScaler.update: no inf checks were recorded; call "
                                       "step() (or unscale_()) on an optimizer first")
                found = flags[0]
                for flag in flags[1:]:
                    found = xp.logical_or(found, flag)
                self._update_scale(xp, found)
        self._per_optimizer = {}

    def _update_scale(self, xp: Any, found: Any) -> None:
        # PyTorch's rule, as array ops: back off and reset on inf; else count, and grow (if
        # the grown scale is finite) when the count reaches growth_interval.
        tracker = xp.where(found, 0, self._growth_tracker + 1).astype("int32")
        grown = self._scale * _F32.type(self._growth_factor)
        grow = xp.logical_and(tracker >= self._growth_interval, xp.isfinite(grown))
        scale = xp.where(found, self._scale * _F32.type(self._backoff_factor),
                         xp.where(grow, grown, self._scale))
        tracker = xp.where(tracker >= self._growth_interval, 0, tracker)
        xp.copyto(self._scale, scale.astype(_F32))
        xp.copyto(self._growth_tracker, tracker.astype("int32"))

    # -- queries and state ------------------------------------------------------------------
    def get_scale(self) -> float:
        """The current scale as a Python float (reads it back from the device)."""
        if not self._enabled:
            return 1.0
        if self._scale is None:
            return self._init_scale
        return float(self._backend.to_numpy(self._scale))

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = int(new_interval)

    def _get_growth_tracker(self) -> int:
        if self._growth_tracker is None:
            return self._init_growth_tracker
        return int(self._backend.to_numpy(self._growth_tracker))

    def is_enabled(self) -> bool:
        return self._enabled

    def state_dict(self) -> dict:
        """PyTorch's keys: scale, growth_factor, backoff_factor, growth_interval,
        _growth_tracker (empty when disabled)."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restores what `state_dict` returned (from kedja or PyTorch)."""
        if not self._enabled:
            return
        if not state_dict:
            raise RuntimeError("GradScaler.load_state_dict: the state_dict is empty: it was "
                               "saved from a disabled GradScaler")
        missing = {"scale", "growth_factor", "backoff_factor", "growth_interval",
                   "_growth_tracker"} - set(state_dict)
        if missing:
            raise KeyError(f"GradScaler.load_state_dict: missing keys {sorted(missing)}")
        self._init_scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._init_growth_tracker = int(state_dict["_growth_tracker"])
        if self._scale is not None:
            self._lazy_init(self._backend)

    def __repr__(self) -> str:
        return (f"GradScaler(init_scale={self._init_scale}, growth_factor={self._growth_factor}, "
                f"backoff_factor={self._backoff_factor}, "
                f"growth_interval={self._growth_interval}, enabled={self._enabled})")


def _moved(backend: Any, flag: Any, target: Any) -> Any:
    """A found-inf flag on `target`'s device (a device-to-device copy, no host read)."""
    if backend is target:
        return flag
    return Tensor._make(flag, backend).to(target.device).array


def _any_flag(found: dict, backend: Any) -> Any:
    """Whether any backend's found-inf flag is set, as a flag on `backend`."""
    xp = backend.xp
    flag = None
    for other, f in found.items():
        f = _moved(other, f, backend)
        flag = f if flag is None else xp.logical_or(flag, f)
    return flag


def _guarded_step(optimizer: Any, found: dict) -> Any:
    """``optimizer.step()``, undone on the device where the found-inf flag is set."""
    saved = []
    for group in optimizer.param_groups:
        for p in group["params"]:
            if p.grad is None:
                continue
            backend = p._backend
            with backend.device_scope():
                state = optimizer.state.get(p, {})
                arrays = {k: v.array.copy() for k, v in state.items() if isinstance(v, Tensor)}
                saved.append((p, p.array.copy(), arrays))
    result = optimizer.step()
    flags: dict = {}
    for p, old, arrays in saved:
        backend = p._backend
        xp = backend.xp
        if backend not in flags:
            flags[backend] = _any_flag(found, backend)
        flag = flags[backend]
        with backend.device_scope():
            xp.copyto(p.array, old, where=flag)
            for key, value in optimizer.state.get(p, {}).items():
                if not isinstance(value, Tensor):
                    continue
                before = arrays.get(key)
                if before is None:  # created by this step: as if it never ran
                    before = xp.zeros_like(value.array)
                xp.copyto(value.array, before, where=flag)
    return result
