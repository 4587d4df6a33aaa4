"""Learning-rate schedulers (PyTorch's ``torch.optim.lr_scheduler``, same names and values).

A scheduler rewrites ``group["lr"]`` of its optimizer's parameter groups each time its
``step()`` is called (usually once per epoch, after ``optimizer.step()``). The schedulers that
multiply the current lr (StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR,
ConstantLR) compose when several drive one optimizer (``ChainedScheduler``); ``SequentialLR``
switches from one to the next at milestones. Everything here is host-side Python arithmetic.

    >>> opt = optim.SGD(model.parameters(), lr=0.1)
    >>> sched = optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    >>> for epoch in range(100):
    ...     train_one_epoch(model, opt)
    ...     sched.step()
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from .lr_base import LambdaLR, LRScheduler, check_int, check_real

# The policies live in their own file (this one would pass 600 lines); importing them here keeps
# ``optim.lr_scheduler.OneCycleLR`` and friends where PyTorch has them.
from .lr_policies import ChainedScheduler, OneCycleLR, ReduceLROnPlateau, SequentialLR
from .optimizer import Optimizer

__all__ = [
    "LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
    "ExponentialLR", "CosineAnnealingLR", "OneCycleLR", "ReduceLROnPlateau",
    "ChainedScheduler", "SequentialLR", "MultiplicativeLR", "PolynomialLR",
    "CosineAnnealingWarmRestarts", "CyclicLR",
]


class StepLR(LRScheduler):
    """Multiplies the lr by `gamma` every `step_size` epochs: ``initial_lr * gamma ** (epoch //
    step_size)``."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self) -> None:
        check_int("step_size", self.step_size, 1)
        check_real("gamma", self.gamma)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size)
                for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiplies the lr by `gamma` at each milestone epoch: ``initial_lr * gamma ** (number of
    milestones <= epoch)``; a milestone listed twice applies twice."""

    def __init__(self, optimizer: Optimizer, milestones: Sequence[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones = milestones
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self) -> None:
        # a Counter of epochs; from a checkpoint's JSON, a dict keyed by the epochs as strings
        milestones = self.milestones
        if isinstance(milestones, Mapping):
            pairs = [(_epoch(k), n) for k, n in milestones.items()]
        elif isinstance(milestones, (list, tuple)):
            pairs = [(_epoch(k), 1) for k in milestones]
        else:
            raise ValueError(f"milestones must be a list of epochs, got "
                             f"{type(milestones).__name__}")
        for epoch, count in pairs:
            check_int("milestones", epoch, 0)
            check_int(f"the count of milestone {epoch}", count, 1)
        self.milestones = Counter(dict(pairs)) if isinstance(milestones, Mapping) else \
            Counter(epoch for epoch, _ in pairs)
        check_real("gamma", self.gamma)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self._lrs()
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [lr * factor for lr in self._lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        milestones = sorted(self.milestones.elements())
        return [base * self.gamma ** bisect_right(milestones, self.last_epoch)
                for base in self.base_lrs]


def _epoch(value: Any) -> Any:
    """A milestone epoch: an int, or an int written as a string (a JSON object's key)."""
    if isinstance(value, str) and value.isdigit() and len(value) < 20:
        return int(value)
    return value


class ConstantLR(LRScheduler):
    """lr = initial_lr * `factor` for the first `total_iters` epochs, then initial_lr."""

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self) -> None:
        # factor 0 would divide by zero when the constant phase ends
        check_real("factor", self.factor, lambda v: 0 < v <= 1, "in (0, 1]")
        check_int("total_iters", self.total_iters, 0)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._lrs()]
        if self.last_epoch != self.total_iters:
            return self._lrs()
        return [lr * (1.0 / self.factor) for lr in self._lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        on = self.last_epoch >= self.total_iters
        return [base * (self.factor + on * (1 - self.factor)) for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Linear warm-up: the factor goes from `start_factor` to `end_factor` over `total_iters`
    epochs, ``initial_lr * (start + (end - start) * min(epoch, total_iters) / total_iters)``."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1) -> None:
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self) -> None:
        check_real("start_factor", self.start_factor, lambda v: 0 < v <= 1, "in (0, 1]")
        check_real("end_factor", self.end_factor, lambda v: 0 <= v <= 1, "in [0, 1]")
        check_int("total_iters", self.total_iters, 1)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._lrs()]
        if self.last_epoch > self.total_iters:
            return self._lrs()
        delta = self.end_factor - self.start_factor
        # ratio of this epoch's factor to the last one, so that it chains with others
        ratio = 1.0 + delta / (self.total_iters * self.start_factor
                               + (self.last_epoch - 1) * delta)
        return [lr * ratio for lr in self._lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        frac = min(self.total_iters, self.last_epoch) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * frac
        return [base * factor for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiplies the lr by `gamma` every epoch: ``initial_lr * gamma ** epoch``."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self) -> None:
        check_real("gamma", self.gamma)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from initial_lr to `eta_min` over `T_max` epochs (SGDR without restarts):
    ``eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``.

    Past `T_max` the lr rises again along the same cosine. Computed recursively from the
    current lr (PyTorch's form), so it chains with other schedulers.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,  # noqa: N803
                 last_epoch: int = -1) -> None:
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self) -> None:
        check_real("T_max", self.T_max, lambda v: v > 0, "positive")
        check_real("eta_min", self.eta_min, lambda v: v >= 0, "a finite number >= 0")

    def get_lr(self) -> list[float]:
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min  # noqa: N806
        if t == 0:
            return self._lrs()
        if self._step_count == 1 and t > 0:  # resumed at epoch t: closed form
            return [eta_min + (base - eta_min) * (1 + math.cos(t * math.pi / T)) / 2
                    for base in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:  # at the bottom, where the ratio below is 0 / 0
            return [lr + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for lr, base in zip(self._lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - eta_min) + eta_min for lr in self._lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min  # noqa: N806
        return [eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / T)) / 2
                for base in self.base_lrs]


from .lr_cycles import (  # noqa: E402
    CosineAnnealingWarmRestarts,
    CyclicLR,
    MultiplicativeLR,
    PolynomialLR,
)
