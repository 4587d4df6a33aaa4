"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

from typing import Any

from backends import kernels

from . import validation
from .optimizer import Optimizer, _zero_buffers


class Adadelta(Optimizer):
    """Adadelta (PyTorch's ``torch.optim.Adadelta``).

    Args:
        params: tensors or parameter groups to optimize.
        lr: coefficient scaling each update (PyTorch's default 1.0).
        rho: decay rate of the running averages, in [0, 1].
        eps: added inside both square roots for numerical stability.
        weight_decay: L2 penalty coefficient added to the gradient.
        maximize: ascend the objective instead of descending.

    State per parameter: ``step`` (a Python int), ``square_avg``, ``acc_delta``.

        >>> opt = optim.Adadelta(model.parameters())
    """

    def __init__(self, params: Any, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    _state_keys = ("step", "square_avg", "acc_delta")

    def _validate_group(self, group: dict) -> None:
        super()._validate_group(group)
        validation.nonnegative(group, "eps", "epsilon value")
        validation.nonnegative(group, "weight_decay", "weight_decay value")
        if not 0 <= validation.number(group, "rho") <= 1:
            raise ValueError(f"invalid rho value: {group['rho']} (must be in [0, 1])")

    def _update_group(self, group: dict) -> None:
        for p, state in self._stepped(group, _zero_buffers("square_avg", "acc_delta")):
            kernels.adadelta_step(
                p._backend, p.array, p.grad.array, state["square_avg"].array,
                state["acc_delta"].array, lr=group["lr"], rho=group["rho"], eps=group["eps"],
                weight_decay=group["weight_decay"], maximize=group["maximize"],
            )
