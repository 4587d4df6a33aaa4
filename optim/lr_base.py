"""The learning-rate scheduler base class (`LRScheduler`), which every scheduler in
`optim.lr_scheduler` and `optim.lr_policies` extends; its own file so neither imports the other."""

from __future__ import annotations

import copy
from typing import Any

from .optimizer import Optimizer

__all__ = ["LRScheduler"]


def _check_optimizer(name: str, optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{name}: expected an Optimizer, got {type(optimizer).__name__}")


class LRScheduler:
    """Base class: tracks ``last_epoch`` and writes ``get_lr()`` into the groups on ``step()``.

    Args:
        optimizer: the optimizer whose learning rates are scheduled.
        last_epoch: the index of the last epoch when resuming (-1 to start afresh); resuming
            needs ``"initial_lr"`` in every group (saved along with the optimizer's state).

    Attributes:
        base_lrs: each group's ``initial_lr`` (its lr when the first scheduler was attached).
        last_epoch: how many times ``step()`` has been called since the start (0 after
            construction, which takes the first step).
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: param 'initial_lr' is not specified in "
                        f"param_groups[{i}] when resuming (last_epoch={last_epoch})"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self.step()

    def get_lr(self) -> list[float]:
        """The learning rates for ``last_epoch`` (chainable form: from the current lrs)."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rates the last ``step()`` set, one per parameter group."""
        return self._last_lr

    def step(self, epoch: int | None = None) -> None:
        """Advances one epoch and sets the new learning rates.

        Args:
            epoch: jump to this epoch instead (uses the closed form where the scheduler has
                one; kept for PyTorch compatibility and for SequentialLR).
        """
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """Everything but the optimizer (plain Python values)."""
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restores a state saved by :meth:`state_dict`."""
        self.__dict__.update(copy.deepcopy(state_dict))

    def _lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]
