"""The schedulers that are more than one multiplicative factor: OneCycleLR, ReduceLROnPlateau,
and the composites ChainedScheduler and SequentialLR. Import them from ``optim.lr_scheduler``.
"""

from __future__ import annotations

import copy
import math
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .lr_base import (
    LRScheduler,
    _check_optimizer,
    check_choice,
    check_int,
    check_per_group,
    check_real,
)
from .optimizer import Optimizer
from .validation import brief, finite


def _per_group(name: str, optimizer: Optimizer, value: Any) -> list:
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"expected {n} values for {name} (one per group), got {len(value)}")
        return list(value)
    return [value] * n


class OneCycleLR(LRScheduler):
    """The 1cycle policy: the lr rises from ``max_lr / div_factor`` to `max_lr`, then anneals to
    ``initial_lr / final_div_factor``; momentum (or Adam's beta1) cycles the opposite way.

    Step it after every batch. Args as in PyTorch: `max_lr` (a float or one per group),
    `total_steps` or `epochs` and `steps_per_epoch`, `pct_start` (fraction of steps spent
    rising), `anneal_strategy` (``"cos"`` or ``"linear"``), `cycle_momentum`, `base_momentum`,
    `max_momentum`, `div_factor`, `final_div_factor`, `three_phase` (a symmetric rise and fall
    followed by the final annealing).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | Sequence[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | Sequence[float] = 0.85,
        max_momentum: float | Sequence[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        _check_optimizer("OneCycleLR", optimizer)
        if total_steps is not None:
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            self._checked("OneCycleLR", lambda: (check_int("epochs", epochs, 1),
                                                 check_int("steps_per_epoch", steps_per_epoch, 1)))
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("OneCycleLR: give either total_steps or (epochs and "
                             "steps_per_epoch)")
        self._checked("OneCycleLR", lambda: (
            check_int("total_steps", self.total_steps, 1),
            check_real("pct_start", pct_start, lambda v: 0 <= v <= 1, "in [0, 1]")))
        self.anneal_strategy = anneal_strategy
        n = self.total_steps
        if three_phase:
            self._phases = [
                (float(pct_start * n) - 1, "initial_lr", "max_lr", "max_momentum",
                 "base_momentum"),
                (float(2 * pct_start * n) - 2, "max_lr", "initial_lr", "base_momentum",
                 "max_momentum"),
                (n - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        else:
            self._phases = [
                (float(pct_start * n) - 1, "initial_lr", "max_lr", "max_momentum",
                 "base_momentum"),
                (n - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = "betas" in optimizer.defaults
        self.optimizer = optimizer
        self._checked("OneCycleLR", self._check_hyperparameters)  # before touching the groups
        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for top, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        if cycle_momentum:
            tops = _per_group("max_momentum", optimizer, max_momentum)
            bottoms = _per_group("base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for top, bottom, group in zip(tops, bottoms, optimizer.param_groups):
                    self._set_momentum(group, top)
                    group["max_momentum"] = top
                    group["base_momentum"] = bottom
        super().__init__(optimizer, last_epoch)

    _PHASE_KEYS = ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum")

    def _check_hyperparameters(self) -> None:
        check_int("total_steps", self.total_steps, 1)
        check_choice("anneal_strategy", self.anneal_strategy, ("cos", "linear"))
        if not isinstance(self.cycle_momentum, bool):
            raise ValueError(f"cycle_momentum must be True or False, got "
                             f"{self.cycle_momentum!r}")
        if self.cycle_momentum:
            defaults = self.optimizer.defaults
            if "momentum" not in defaults and "betas" not in defaults:
                raise ValueError("the optimizer must support momentum or beta1 when "
                                 "cycle_momentum is on")
            use_beta1 = getattr(self, "use_beta1", None)
            if use_beta1 is not ("betas" in defaults):
                raise ValueError(f"use_beta1 must say whether the optimizer has betas "
                                 f"({'betas' in defaults}), got {use_beta1!r}")
        phases = self._phases
        if not isinstance(phases, list) or len(phases) not in (2, 3):
            raise ValueError("_phases must be a list of 2 or 3 phases")
        for phase in phases:
            if not isinstance(phase, (list, tuple)) or len(phase) != 5 \
                    or not all(name in self._PHASE_KEYS for name in phase[1:]):
                raise ValueError(f"each of _phases must be (end step, and four of "
                                 f"{', '.join(self._PHASE_KEYS)}), got {phase!r}"[:200])
            check_real("a phase's end step", phase[0])

    def _set_momentum(self, group: dict, value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {step} times; the schedule has total_steps="
                f"{self.total_steps}"
            )
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, (end_step, lr0, lr1, m0, m1) in enumerate(self._phases):
                if step <= end_step or i == len(self._phases) - 1:
                    pct = (step - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(group[lr0], group[lr1], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[m0], group[m1], pct))
                    break
                start_step = end_step
        return lrs


class ReduceLROnPlateau(LRScheduler):
    """Reduces the lr by `factor` once a metric has stopped improving for `patience` epochs.

    Args:
        optimizer: the optimizer whose learning rates are reduced.
        mode: ``"min"`` (the metric should fall, e.g. a loss) or ``"max"`` (e.g. accuracy).
        factor: the lr is multiplied by this (< 1).
        patience: epochs without improvement tolerated before reducing.
        threshold: the least change that counts as an improvement.
        threshold_mode: ``"rel"`` (``best * (1 ∓ threshold)``) or ``"abs"`` (``best ∓
            threshold``).
        cooldown: epochs to wait after a reduction before counting bad epochs again.
        min_lr: a lower bound on the lr (a float or one per group).
        eps: reductions smaller than this are skipped.

    ``step(metric)`` takes the metric as a Python number. Passing a device tensor works but
    reads it back to the host (a synchronisation); pass ``loss.item()`` once per epoch instead.

        >>> sched = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=5)
        >>> sched.step(val_loss)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0,
        eps: float = 1e-8,
    ) -> None:
        _check_optimizer("ReduceLROnPlateau", optimizer)
        self.optimizer = optimizer
        self.factor = factor
        self.min_lrs = _per_group("min_lr", optimizer, min_lr)
        self.patience = patience
        self.cooldown = cooldown
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.eps = eps
        self._checked("ReduceLROnPlateau", self._check_hyperparameters)
        self.last_epoch = 0
        self._last_lr = self._lrs()
        self._reset()

    def _check_hyperparameters(self) -> None:
        check_real("factor", self.factor, lambda v: 0 <= v < 1.0, "< 1.0 (and >= 0)")
        check_choice("mode", self.mode, ("min", "max"))
        check_choice("threshold_mode", self.threshold_mode, ("rel", "abs"))
        check_per_group("min_lrs", self.min_lrs, len(self.optimizer.param_groups))
        check_int("patience", self.patience, 0)
        check_int("cooldown", self.cooldown, 0)
        check_real("threshold", self.threshold, lambda v: v >= 0, "a finite number >= 0")
        check_real("eps", self.eps, lambda v: v >= 0, "a finite number >= 0")

    def _check_progress(self) -> None:
        super()._check_progress()
        check_int("cooldown_counter", self.cooldown_counter, 0)
        check_int("num_bad_epochs", self.num_bad_epochs, 0)
        best = self.best
        if not (finite(best) or best in (math.inf, -math.inf)):
            raise ValueError(f"best must be a number (or +-inf), got {brief(best)}")

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def is_better(self, a: float, best: float) -> bool:
        """Whether metric `a` improves on `best` by more than the threshold."""
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return a < best * (1.0 - self.threshold)
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics: float, epoch: int | None = None) -> None:  # type: ignore[override]
        """Records this epoch's metric and reduces the lr if it has plateaued."""
        current = float(metrics)  # a host read if a device tensor is passed: documented above
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._lrs()

    def _reduce_lr(self) -> None:
        for group, floor in zip(self.optimizer.param_groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, floor)
            if old - new > self.eps:
                group["lr"] = new


def _check_schedulers(name: str, schedulers: Sequence[Any], optimizer: Any) -> None:
    if len(schedulers) < 1:
        raise ValueError(f"{name}: expects at least one scheduler")
    for i, s in enumerate(schedulers):
        if not isinstance(s, LRScheduler):
            raise TypeError(f"{name}: scheduler {i} is a {type(s).__name__}, not an LRScheduler")
        if isinstance(s, ReduceLROnPlateau):
            raise ValueError(f"{name}: does not support ReduceLROnPlateau (scheduler {i}), "
                             "which needs a metric on each step")
        if s.optimizer is not optimizer:
            raise ValueError(f"{name}: scheduler {i} drives a different optimizer than the "
                             "others")


class _Composite(LRScheduler):
    """State handling shared by the schedulers made of other schedulers."""

    _schedulers: list[LRScheduler]

    def state_dict(self) -> dict:
        state = {k: copy.deepcopy(v) for k, v in self.__dict__.items()
                 if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def _prepare_load(self, state_dict: Any) -> Callable[[], None]:
        name = f"{type(self).__name__}.load_state_dict"
        inner = state_dict.get("_schedulers") if isinstance(state_dict, Mapping) else None
        if not isinstance(inner, list) or len(inner) != len(self._schedulers):
            raise ValueError(f"{name}: _schedulers must be a list of the states of its "
                             f"{len(self._schedulers)} schedulers")
        loads = []
        for i, (s, saved) in enumerate(zip(self._schedulers, inner)):
            try:
                loads.append(s._prepare_load(saved))
            except (TypeError, ValueError) as e:
                raise type(e)(f"{name}: scheduler {i}: {e}") from None
        loads.append(super()._prepare_load(state_dict, special=("_schedulers",)))

        def commit() -> None:
            for load in loads:
                load()

        return commit

    def _check_progress(self) -> None:
        super()._check_progress()
        milestones = self.__dict__.get("_milestones")
        if milestones is not None:
            if not isinstance(milestones, list) or len(milestones) != len(self._schedulers) - 1:
                raise ValueError(f"_milestones must be a list of {len(self._schedulers) - 1} "
                                 "epochs")
            for m in milestones:
                check_int("_milestones", m, 0)


class ChainedScheduler(_Composite):
    """Steps several schedulers together, so their (chainable) factors multiply.

        >>> warm = LinearLR(opt, start_factor=0.1, total_iters=5)
        >>> decay = ExponentialLR(opt, gamma=0.95)
        >>> sched = ChainedScheduler([warm, decay])   # lr_t = lr * warm_t * 0.95 ** t
    """

    def __init__(self, schedulers: Sequence[LRScheduler],
                 optimizer: Optimizer | None = None) -> None:
        if optimizer is None and len(schedulers) > 0:
            optimizer = schedulers[0].optimizer
        _check_schedulers("ChainedScheduler", schedulers, optimizer)
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = self._lrs()

    def step(self) -> None:  # type: ignore[override]
        for s in self._schedulers:
            s.step()
        self._last_lr = self._lrs()


class SequentialLR(_Composite):
    """Runs `schedulers` one after another, switching at the `milestones` (epoch indices).

    Scheduler i starts from its own epoch 0 (its closed form at 0) at milestone i - 1:

        >>> warm = LinearLR(opt, start_factor=0.1, total_iters=5)
        >>> cos = CosineAnnealingLR(opt, T_max=95)
        >>> sched = SequentialLR(opt, [warm, cos], milestones=[5])
    """

    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler],
                 milestones: Sequence[int], last_epoch: int = -1) -> None:
        _check_optimizer("SequentialLR", optimizer)
        _check_schedulers("SequentialLR", schedulers, optimizer)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR: expects one milestone fewer than schedulers, got "
                f"{len(schedulers)} schedulers and {len(milestones)} milestones"
            )
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # Undo what the schedulers' constructors did, then start the first one afresh.
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for s in self._schedulers:
            s.last_epoch -= 1
        self._schedulers[0]._initial_step()
        self._last_lr = self._schedulers[0].get_last_lr()

    def step(self) -> None:  # type: ignore[override]
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler.step(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()
