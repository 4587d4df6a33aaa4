"""Stochastic gradient descent, with optional (Nesterov) momentum and L2 weight decay."""

from __future__ import annotations

from typing import Any

from autograd.tensor import Tensor
from backends import kernels

from . import validation
from .optimizer import Optimizer, required


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

    _state_keys = ()
    _optional_state_keys = ("momentum_buffer",)

    def _validate_group(self, group: dict) -> None:
        super()._validate_group(group)
        validation.nonnegative(group, "momentum")
        validation.nonnegative(group, "weight_decay")
        validation.number(group, "dampening")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum > 0 and zero dampening, got "
                f"momentum={group['momentum']}, dampening={group['dampening']}"
            )

    def _update_group(self, group: dict) -> None:
        momentum = group["momentum"]
        hyper = dict(lr=group["lr"], momentum=momentum, dampening=group["dampening"],
                     weight_decay=group["weight_decay"], nesterov=group["nesterov"],
                     maximize=group["maximize"])
        step = kernels.sgd_step
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            if momentum == 0:  # stateless: no per-parameter state to look up
                step(p._backend, p.array, grad.array, None, **hyper)
            else:
                state = self._state_of(p)
                buf = state.get("momentum_buffer")
                new = step(p._backend, p.array, grad.array, None if buf is None else buf.array,
                           **hyper)
                if buf is None:
                    state["momentum_buffer"] = Tensor._make(new, p._backend)
            p._version[0] += 1
