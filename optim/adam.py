"""Adam and AdamW: moment estimates with bias correction; AdamW decouples the weight decay."""

from __future__ import annotations

from typing import Any

from backends import kernels

from .optimizer import _AdamLike, _betas, _zero_buffers, _zeros_state


class Adam(_AdamLike):
    """Adam (PyTorch's ``torch.optim.Adam``).

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate.
        betas: decay rates of the first and second moment estimates, each in [0, 1).
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty coefficient added to the gradient (see AdamW for decoupled
            decay).
        amsgrad: use the running maximum of the second moment (AMSGrad).
        maximize: ascend the objective instead of descending.
        decoupled_weight_decay: apply weight decay to the parameter directly (AdamW).

    State per parameter: ``step`` (a Python int), ``exp_avg``, ``exp_avg_sq``,
    ``max_exp_avg_sq`` (with amsgrad).

        >>> opt = optim.Adam(model.parameters(), lr=1e-3)
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=_betas(betas),
                        eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    _state_keys = ("step", "exp_avg", "exp_avg_sq")
    _optional_state_keys = ("max_exp_avg_sq",)
    _optional_on_load = ("maximize", "decoupled_weight_decay")

    def _update_group(self, group: dict) -> None:
        beta1, beta2 = group["betas"]
        amsgrad = group["amsgrad"]
        for p, state in self._stepped(group, _zero_buffers("exp_avg", "exp_avg_sq")):
            if amsgrad and "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = _zeros_state(p)
            kernels.adam_step(
                p._backend, p.array, p.grad.array, state["exp_avg"].array,
                state["exp_avg_sq"].array, state["max_exp_avg_sq"].array if amsgrad else None,
                step=state["step"], lr=group["lr"], beta1=beta1, beta2=beta2,
                eps=group["eps"], weight_decay=group["weight_decay"],
                decoupled=group["decoupled_weight_decay"], amsgrad=amsgrad,
                maximize=group["maximize"],
            )


class AdamW(Adam):
    """Adam with decoupled weight decay (PyTorch's ``torch.optim.AdamW``).

    Each step first shrinks the parameter, ``p *= 1 - lr * weight_decay``, then takes the Adam
    step on the raw gradient, so the decay is not rescaled by the adaptive denominator.

    Args:
        params, lr, betas, eps, amsgrad, maximize: as for :class:`Adam`.
        weight_decay: decoupled weight decay coefficient (default 1e-2).
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)
