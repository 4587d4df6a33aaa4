"""RAdam: Adam whose adaptive step is rectified while the second moment's variance is high."""

from __future__ import annotations

from typing import Any

from backends import kernels

from .optimizer import _AdamLike, _betas, _zero_buffers


class RAdam(_AdamLike):
    """RAdam (PyTorch's ``torch.optim.RAdam``).

    Until the approximated length of the second moment's moving average, ``rho_t``, exceeds 5
    (the first ~5 steps with beta2 = 0.999) the step is plain bias-corrected momentum (SGD-like);
    after it, Adam's step scaled by the variance rectification term.

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate.
        betas: decay rates of the first and second moment estimates, each in [0, 1).
        eps: added to the denominator for numerical stability.
        weight_decay: weight decay coefficient (an L2 term in the gradient, or decoupled).
        decoupled_weight_decay: shrink the parameter by ``1 - lr * weight_decay`` each step
            (RAdamW) instead of adding an L2 term to the gradient.
        maximize: ascend the objective instead of descending.

    State per parameter: ``step`` (a Python int), ``exp_avg``, ``exp_avg_sq``.
    """

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, betas=_betas(betas),
                        eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    _state_keys = ("step", "exp_avg", "exp_avg_sq")
    _optional_on_load = ("maximize", "decoupled_weight_decay")

    def _update_group(self, group: dict) -> None:
        beta1, beta2 = group["betas"]
        for p, state in self._stepped(group, _zero_buffers("exp_avg", "exp_avg_sq")):
            kernels.radam_step(
                p._backend, p.array, p.grad.array, state["exp_avg"].array,
                state["exp_avg_sq"].array, step=state["step"], lr=group["lr"], beta1=beta1,
                beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
                decoupled=group["decoupled_weight_decay"], maximize=group["maximize"],
            )
