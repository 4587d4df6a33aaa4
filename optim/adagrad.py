"""Adagrad: per-coordinate learning rates from the running sum of squared gradients."""

from __future__ import annotations

from typing import Any

from autograd.tensor import Tensor
from backends import kernels

from . import validation
from .optimizer import Optimizer


class Adagrad(Optimizer):
    """Adagrad (PyTorch's ``torch.optim.Adagrad``).

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate.
        lr_decay: the learning rate at step t is ``lr / (1 + (t - 1) * lr_decay)``.
        weight_decay: L2 penalty coefficient added to the gradient.
        initial_accumulator_value: starting value of the sum of squared gradients.
        eps: added to the denominator for numerical stability.
        maximize: ascend the objective instead of descending.

    State per parameter: ``step`` (a Python int), ``sum``.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults)

    _state_keys = ("step", "sum")
    _optional_on_load = ("maximize", "initial_accumulator_value")

    def _validate_group(self, group: dict) -> None:
        super()._validate_group(group)
        validation.nonnegative(group, "lr_decay")
        validation.nonnegative(group, "weight_decay")
        validation.nonnegative(group, "initial_accumulator_value")
        validation.nonnegative(group, "eps", "epsilon value")

    def _update_group(self, group: dict) -> None:
        init = group["initial_accumulator_value"]

        def new_state(p: Tensor) -> dict:
            return {"sum": Tensor._make(p.xp.full_like(p.array, init), p._backend)}

        for p, state in self._stepped(group, new_state):
            kernels.adagrad_step(
                p._backend, p.array, p.grad.array, state["sum"].array, step=state["step"],
                lr=group["lr"], lr_decay=group["lr_decay"],
                weight_decay=group["weight_decay"], eps=group["eps"],
                maximize=group["maximize"],
            )
