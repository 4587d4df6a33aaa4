"""Stochastic gradient descent, with optional (Nesterov) momentum and L2 weight decay."""

from __future__ import annotations

from typing import Any

from autograd.tensor import Tensor

from .optimizer import (
    Optimizer,
    _check_nonnegative,
    _decayed_grad,
    _number,
    _sub_scaled,
    required,
)


def _sgd_update(
    xp: Any,
    p: Any,
    g: Any,
    momentum_buffer: Any,
    *,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
) -> Any:
    """One SGD step on raw arrays; updates `p` (and the buffer) in place.

    With ``d = ±g + weight_decay * p``::

        buf = d                                   (first step)
        buf = momentum * buf + (1 - dampening) * d
        p  -= lr * (d + momentum * buf)           (nesterov)
        p  -= lr * buf                            (momentum)
        p  -= lr * d                              (plain)

    Args:
        momentum_buffer: the buffer, or None before the first step with momentum.

    Returns:
        The momentum buffer (a new array on the first step), or None without momentum.
    """
    d, sign, owned = _decayed_grad(xp, p, g, weight_decay, maximize)
    scratch = d if owned else None
    if momentum == 0:
        _sub_scaled(xp, p, d, lr * sign, scratch)
        return None
    buf = momentum_buffer
    if buf is None:
        buf = d.copy() if sign == 1 else xp.negative(d, out=xp.empty_like(d))
    else:
        xp.multiply(buf, momentum, out=buf)
        scratch = _sub_scaled(xp, buf, d, -(1 - dampening) * sign, scratch)
    if nesterov:
        # dampening is 0 here, so `d` is still intact even when it served as scratch above.
        scratch = _sub_scaled(xp, p, d, lr * sign, scratch)
        _sub_scaled(xp, p, buf, lr * momentum, scratch)
    else:
        _sub_scaled(xp, p, buf, lr, scratch)
    return buf


class SGD(Optimizer):
    """Stochastic gradient descent (PyTorch's ``torch.optim.SGD``).

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate (required, here or in every group).
        momentum: momentum factor (0 disables the buffer).
        dampening: dampening of the gradient added to the momentum buffer.
        weight_decay: L2 penalty coefficient added to the gradient.
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: ascend the objective instead of descending.

    State per parameter: ``momentum_buffer`` (only with momentum).

        >>> opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(
        self,
        params: Any,
        lr: float = required,  # type: ignore[assignment]
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict) -> None:
        super()._validate_group(group)
        _check_nonnegative(self, group, "momentum")
        _check_nonnegative(self, group, "weight_decay")
        _number(self, group, "dampening")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "SGD: Nesterov momentum requires a momentum > 0 and zero dampening, got "
                f"momentum={group['momentum']}, dampening={group['dampening']}"
            )

    def _update_group(self, group: dict) -> None:
        momentum = group["momentum"]
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self._state_of(p)
            buf = state.get("momentum_buffer")
            new = _sgd_update(
                p.xp, p.data, p.grad.data, None if buf is None else buf.data,
                lr=group["lr"], momentum=momentum, dampening=group["dampening"],
                weight_decay=group["weight_decay"], nesterov=group["nesterov"],
                maximize=group["maximize"],
            )
            if momentum != 0 and buf is None:
                state["momentum_buffer"] = Tensor._make(new, p._backend)
            p._version[0] += 1
