"""Adam and AdamW: moment estimates with bias correction; AdamW decouples the weight decay."""

from __future__ import annotations

import math
from typing import Any

from autograd.tensor import Tensor

from .optimizer import (
    Optimizer,
    _check_betas,
    _check_nonnegative,
    _decayed_grad,
    _no_complex,
    _sub_scaled,
)


def _adam_update(
    xp: Any,
    p: Any,
    g: Any,
    exp_avg: Any,
    exp_avg_sq: Any,
    max_exp_avg_sq: Any,
    *,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    decoupled: bool,
    amsgrad: bool,
    maximize: bool,
) -> None:
    """One Adam/AdamW step on raw arrays; updates `p` and the moments in place.

    With `step` counted from 1, ``d = ±g + weight_decay * p`` (Adam) or ``d = ±g`` after
    ``p *= 1 - lr * weight_decay`` (AdamW, `decoupled`)::

        exp_avg    = beta1 * exp_avg + (1 - beta1) * d
        exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * d * d
        v          = max_exp_avg_sq = max(max_exp_avg_sq, exp_avg_sq)   (amsgrad)
        v          = exp_avg_sq                                         (otherwise)
        p         -= lr / (1 - beta1**step) * exp_avg / (sqrt(v) / sqrt(1 - beta2**step) + eps)

    Args:
        max_exp_avg_sq: the running maximum of `exp_avg_sq` (only with amsgrad; else None).
    """
    if decoupled:
        if weight_decay != 0:
            xp.multiply(p, 1 - lr * weight_decay, out=p)
        d, sign, owned = _decayed_grad(xp, p, g, 0, maximize)
    else:
        d, sign, owned = _decayed_grad(xp, p, g, weight_decay, maximize)
    xp.multiply(exp_avg, beta1, out=exp_avg)
    tmp = _sub_scaled(xp, exp_avg, d, -(1 - beta1) * sign)
    if tmp is None:  # beta1 == 0: no product was needed, so no scratch exists yet
        tmp = xp.empty_like(p)
    xp.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
    xp.multiply(d, d, out=tmp)
    _sub_scaled(xp, exp_avg_sq, tmp, -(1 - beta2), tmp)
    v = exp_avg_sq
    if amsgrad:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        v = max_exp_avg_sq
    bias_correction1 = 1 - beta1**step
    bias_correction2_sqrt = math.sqrt(1 - beta2**step)
    # sqrt(v) / c2 + eps = (sqrt(v) + eps * c2) / c2: the bias correction moves into the
    # scalar step size, saving one pass over the array.
    xp.sqrt(v, out=tmp)
    xp.add(tmp, eps * bias_correction2_sqrt, out=tmp)
    xp.divide(exp_avg, tmp, out=tmp)
    _sub_scaled(xp, p, tmp, lr * bias_correction2_sqrt / bias_correction1, tmp)


class Adam(Optimizer):
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
        defaults = dict(lr=lr, betas=tuple(betas) if isinstance(betas, list) else betas,
                        eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict) -> None:
        super()._validate_group(group)
        _check_nonnegative(self, group, "eps", "epsilon value")
        _check_nonnegative(self, group, "weight_decay", "weight_decay value")
        _check_betas(self, group)

    def _update_group(self, group: dict) -> None:
        beta1, beta2 = group["betas"]
        amsgrad = group["amsgrad"]
        for p in group["params"]:
            if p.grad is None:
                continue
            _no_complex(self, p)
            state = self._state_of(p)
            xp, backend = p.xp, p._backend
            if not state:
                state["step"] = 0
                state["exp_avg"] = Tensor._make(xp.zeros_like(p.data), backend)
                state["exp_avg_sq"] = Tensor._make(xp.zeros_like(p.data), backend)
            if amsgrad and "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = Tensor._make(xp.zeros_like(p.data), backend)
            state["step"] += 1
            _adam_update(
                xp, p.data, p.grad.data, state["exp_avg"].data, state["exp_avg_sq"].data,
                state["max_exp_avg_sq"].data if amsgrad else None,
                step=state["step"], lr=group["lr"], beta1=beta1, beta2=beta2,
                eps=group["eps"], weight_decay=group["weight_decay"],
                decoupled=group["decoupled_weight_decay"], amsgrad=amsgrad,
                maximize=group["maximize"],
            )
            p._version[0] += 1


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
