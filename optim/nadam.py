"""NAdam: Adam with Nesterov momentum and a warming momentum schedule."""

from __future__ import annotations

from typing import Any

from backends import kernels

from . import validation
from .optimizer import _AdamLike, _betas, _zeros_state
from .scalar_state import python_float


class NAdam(_AdamLike):
    """NAdam (PyTorch's ``torch.optim.NAdam``).

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate (PyTorch's default 2e-3).
        betas: decay rates of the first and second moment estimates, each in [0, 1).
        eps: added to the denominator for numerical stability.
        weight_decay: weight decay coefficient (an L2 term in the gradient, or decoupled).
        momentum_decay: psi of the momentum schedule
            ``mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * psi))``.
        decoupled_weight_decay: shrink the parameter by ``1 - lr * weight_decay`` each step
            (NAdamW) instead of adding an L2 term to the gradient.
        maximize: ascend the objective instead of descending.

    State per parameter: ``step`` (a Python int), ``mu_product`` (a Python float: the product of
    the momentum coefficients so far), ``exp_avg``, ``exp_avg_sq``.
    """

    def __init__(self, params: Any, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, betas=_betas(betas),
                        eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    _state_keys = ("step", "mu_product", "exp_avg", "exp_avg_sq")
    _optional_on_load = ("maximize", "decoupled_weight_decay")

    def _validate_group(self, group: dict) -> None:
        super()._validate_group(group)
        validation.nonnegative(group, "momentum_decay", "momentum_decay value")

    def _update_group(self, group: dict) -> None:
        beta1, beta2 = group["betas"]
        for p, state in self._stepped(group, _new_state):
            coef_g, coef_m, state["mu_product"] = kernels.nadam_coefficients(
                state["step"], python_float(state["mu_product"]), lr=group["lr"], beta1=beta1,
                momentum_decay=group["momentum_decay"])
            kernels.nadam_step(
                p._backend, p.array, p.grad.array, state["exp_avg"].array,
                state["exp_avg_sq"].array, step=state["step"], coef_g=coef_g, coef_m=coef_m,
                lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                weight_decay=group["weight_decay"],
                decoupled=group["decoupled_weight_decay"], maximize=group["maximize"],
            )


def _new_state(p: Any) -> dict:
    return {"mu_product": 1.0, "exp_avg": _zeros_state(p), "exp_avg_sq": _zeros_state(p)}
