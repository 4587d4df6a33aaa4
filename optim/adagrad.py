"""Adagrad: per-coordinate learning rates from the running sum of squared gradients."""

from __future__ import annotations

from typing import Any

from autograd.tensor import Tensor

from .optimizer import Optimizer, _check_nonnegative, _decayed_grad, _no_complex


def _adagrad_update(
    xp: Any,
    p: Any,
    g: Any,
    state_sum: Any,
    *,
    step: int,
    lr: float,
    lr_decay: float,
    weight_decay: float,
    eps: float,
    maximize: bool,
) -> None:
    """One Adagrad step on raw arrays; updates `p` and `state_sum` in place.

    With ``d = ±g + weight_decay * p`` and `step` counted from 1::

        clr  = lr / (1 + (step - 1) * lr_decay)
        sum += d * d
        p   -= clr * d / (sqrt(sum) + eps)
    """
    d, sign, _ = _decayed_grad(xp, p, g, weight_decay, maximize)
    clr = lr / (1 + (step - 1) * lr_decay)
    tmp = xp.multiply(d, d, out=xp.empty_like(p))
    xp.add(state_sum, tmp, out=state_sum)
    xp.sqrt(state_sum, out=tmp)
    xp.add(tmp, eps, out=tmp)
    xp.divide(d, tmp, out=tmp)
    xp.multiply(tmp, clr * sign, out=tmp)
    xp.subtract(p, tmp, out=p)


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

    def _validate_group(self, group: dict) -> None:
        super()._validate_group(group)
        _check_nonnegative(self, group, "lr_decay")
        _check_nonnegative(self, group, "weight_decay")
        _check_nonnegative(self, group, "initial_accumulator_value")
        _check_nonnegative(self, group, "eps", "epsilon value")

    def _update_group(self, group: dict) -> None:
        for p in group["params"]:
            if p.grad is None:
                continue
            _no_complex(self, p)
            state = self._state_of(p)
            if not state:
                state["step"] = 0
                init = group["initial_accumulator_value"]
                state["sum"] = Tensor._make(p.xp.full_like(p.data, init), p._backend)
            state["step"] += 1
            _adagrad_update(
                p.xp, p.data, p.grad.data, state["sum"].data, step=state["step"],
                lr=group["lr"], lr_decay=group["lr_decay"],
                weight_decay=group["weight_decay"], eps=group["eps"],
                maximize=group["maximize"],
            )
            p._version[0] += 1
