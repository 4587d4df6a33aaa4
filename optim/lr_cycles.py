"""More of PyTorch's learning-rate schedulers: `MultiplicativeLR`, `PolynomialLR`,
`CosineAnnealingWarmRestarts` and `CyclicLR` (re-exported by `optim.lr_scheduler`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from .lr_base import (
    LambdaLR,
    LRScheduler,
    _check_optimizer,
    check_choice,
    check_int,
    check_real,
)
from .optimizer import Optimizer

__all__ = ["MultiplicativeLR", "PolynomialLR", "CosineAnnealingWarmRestarts", "CyclicLR"]


class MultiplicativeLR(LambdaLR):
    """Multiplies the lr by ``lr_lambda(epoch)`` at every step after the first:
    ``lr_epoch = lr_(epoch-1) * lr_lambda(epoch)``.

    Args:
        lr_lambda: a function of the epoch index, or one per parameter group.

    ``state_dict`` saves what `LambdaLR`'s does (not plain functions or lambdas).
    """

    def __init__(self, optimizer: Optimizer,
                 lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        _check_optimizer("MultiplicativeLR", optimizer)
        super().__init__(optimizer, lr_lambda, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch > 0:
            return [lr * fn(self.last_epoch) for fn, lr in zip(self.lr_lambdas, self._lrs())]
        return self._lrs()


class PolynomialLR(LRScheduler):
    """Decays the lr polynomially to 0 over `total_iters` steps:
    ``initial_lr * (1 - min(epoch, total_iters) / total_iters) ** power``."""

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1) -> None:
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self) -> None:
        check_int("total_iters", self.total_iters, 1)
        check_real("power", self.power)

    def get_lr(self) -> list[float]:
        t, n = self.last_epoch, self.total_iters
        if t == 0 or t > n:
            return self._lrs()
        # the ratio of this step's closed form to the last one's (chainable form)
        factor = ((1.0 - t / n) / (1.0 - (t - 1) / n)) ** self.power
        return [lr * factor for lr in self._lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        frac = min(self.total_iters, self.last_epoch) / self.total_iters
        return [base * (1.0 - frac) ** self.power for base in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing from ``initial_lr`` to `eta_min` over a period that restarts:
    ``eta_min + (initial_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2``, where `T_cur` counts
    the steps since the last restart and the period `T_i` starts at `T_0` and is multiplied by
    `T_mult` at each restart.

    ``step(epoch)`` accepts a fractional epoch (e.g. ``epoch + i / iters_per_epoch`` after
    batch i), as in PyTorch.
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1,  # noqa: N803
                 eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self) -> None:
        check_int("T_0", self.T_0, 1)
        check_int("T_i", self.T_i, 1)
        check_int("T_mult", self.T_mult, 1)
        check_real("eta_min", self.eta_min)
        check_real("T_cur", self.T_cur, lambda v: v >= -1, "a number >= -1")

    def get_lr(self) -> list[float]:
        cos = (1.0 + math.cos(math.pi * self.T_cur / self.T_i)) / 2.0
        return [self.eta_min + (base - self.eta_min) * cos for base in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Advances one step, or jumps to `epoch` (a number >= 0, may be fractional)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur - self.T_i
                self.T_i *= self.T_mult
        else:
            self._checked("CosineAnnealingWarmRestarts.step",
                          lambda: check_real("epoch", epoch, lambda v: v >= 0, "a number >= 0"))
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    # the restart n with T_0 (T_mult**n - 1) / (T_mult - 1) <= epoch
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult**n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        self._step_count = getattr(self, "_step_count", 0) + 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = self._lrs()


class CyclicLR(LRScheduler):
    """The cyclical learning-rate policy: the lr goes from `base_lr` up to `max_lr` over
    `step_size_up` steps and back over `step_size_down`; momentum (or Adam's beta1) cycles the
    opposite way between `max_momentum` and `base_momentum`. Step it after every batch.

    Args:
        base_lr, max_lr: the cycle's bounds (a float or one per group).
        step_size_up: steps of the rising half.
        step_size_down: steps of the falling half (default: `step_size_up`).
        mode: ``"triangular"`` (constant amplitude), ``"triangular2"`` (halved each cycle) or
            ``"exp_range"`` (scaled by ``gamma ** step``).
        gamma: the base of ``"exp_range"``.
        scale_fn: a function of the cycle (or step: `scale_mode`) giving the amplitude's scale in
            [0, 1]; overrides `mode`. Not saved by ``state_dict`` (pass it again).
        scale_mode: ``"cycle"`` or ``"iterations"``: what `scale_fn` is a function of.
        cycle_momentum, base_momentum, max_momentum: as for `OneCycleLR`.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        base_lr: float | Sequence[float],
        max_lr: float | Sequence[float],
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | None = None,
        scale_mode: str = "cycle",
        cycle_momentum: bool = True,
        base_momentum: float | Sequence[float] = 0.8,
        max_momentum: float | Sequence[float] = 0.9,
        last_epoch: int = -1,
    ) -> None:
        _check_optimizer("CyclicLR", optimizer)
        self.optimizer = optimizer
        self._checked("CyclicLR", lambda: (
            check_int("step_size_up", step_size_up, 1),
            step_size_down is None or check_int("step_size_down", step_size_down, 1)))
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode if scale_fn is not None else (
            "iterations" if mode == "exp_range" else "cycle")
        self.cycle_momentum = cycle_momentum
        self.use_beta1 = "betas" in optimizer.defaults
        self._checked("CyclicLR", self._check_hyperparameters)
        n = len(optimizer.param_groups)
        base_lrs = _per_group("base_lr", base_lr, n)
        self.max_lrs = _per_group("max_lr", max_lr, n)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        if cycle_momentum:
            bottoms = _per_group("base_momentum", base_momentum, n)
            tops = _per_group("max_momentum", max_momentum, n)
            if last_epoch == -1:
                for top, group in zip(tops, optimizer.param_groups):
                    self._set_momentum(group, top)
            self.base_momentums, self.max_momentums = bottoms, tops
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _check_hyperparameters(self) -> None:
        check_real("total_size", self.total_size, lambda v: v >= 2, "a number >= 2")
        check_real("step_ratio", self.step_ratio, lambda v: 0 < v < 1, "in (0, 1)")
        check_choice("mode", self.mode, ("triangular", "triangular2", "exp_range"))
        check_choice("scale_mode", self.scale_mode, ("cycle", "iterations"))
        check_real("gamma", self.gamma)
        if not isinstance(self.cycle_momentum, bool):
            raise ValueError(f"cycle_momentum must be True or False, got "
                             f"{self.cycle_momentum!r}")
        defaults = self.optimizer.defaults
        if self.cycle_momentum and "momentum" not in defaults and "betas" not in defaults:
            raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` "
                             "option enabled")

    def _set_momentum(self, group: dict, value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def scale_fn(self, x: float) -> float:
        """The amplitude's scale at cycle (or step) `x`."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1.0 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        cycle = math.floor(1 + t / self.total_size)
        x = 1.0 + t / self.total_size - cycle  # position in the cycle, [0, 1)
        if x <= self.step_ratio:
            height = x / self.step_ratio
        else:
            height = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else t)
        lrs = [base + (top - base) * height * scale
               for base, top in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, bottom, top in zip(self.optimizer.param_groups, self.base_momentums,
                                          self.max_momentums):
                self._set_momentum(group, top - (top - bottom) * height * scale)
        return lrs

    def state_dict(self) -> dict:
        state = super().state_dict()
        state.pop("_scale_fn_custom", None)
        return state


def _per_group(name: str, value: Any, n: int) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"expected {n} values for {name} (one per group), got {len(value)}")
        return list(value)
    return [value] * n
