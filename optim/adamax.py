"""Adamax: Adam with the infinity norm of past gradients in place of the second moment."""

from __future__ import annotations

from typing import Any

from backends import kernels

from .optimizer import _AdamLike, _betas, _zero_buffers


class Adamax(_AdamLike):
    """Adamax (PyTorch's ``torch.optim.Adamax``).

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate (PyTorch's default 2e-3).
        betas: decay rates of the first moment and of the infinity norm, each in [0, 1).
        eps: added to the norm for numerical stability.
        weight_decay: L2 penalty coefficient added to the gradient.
        maximize: ascend the objective instead of descending.

    State per parameter: ``step`` (a Python int), ``exp_avg``, ``exp_inf``.
    """

    def __init__(self, params: Any, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, betas=_betas(betas),
                        eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    _state_keys = ("step", "exp_avg", "exp_inf")

    def _update_group(self, group: dict) -> None:
        beta1, beta2 = group["betas"]
        for p, state in self._stepped(group, _zero_buffers("exp_avg", "exp_inf")):
            kernels.adamax_step(
                p._backend, p.array, p.grad.array, state["exp_avg"].array,
                state["exp_inf"].array, step=state["step"], lr=group["lr"], beta1=beta1,
                beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
                maximize=group["maximize"],
            )
