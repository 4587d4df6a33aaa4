"""RMSprop: gradients scaled by a running root mean square; optionally centered, with momentum."""

from __future__ import annotations

from typing import Any

from backends import kernels

from . import validation
from .optimizer import Optimizer, _zero_buffers, _zeros_state


class RMSprop(Optimizer):
    """RMSprop (PyTorch's ``torch.optim.RMSprop``).

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate.
        alpha: smoothing constant of the running mean of squared gradients.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty coefficient added to the gradient.
        momentum: momentum factor.
        centered: normalise by an estimate of the gradient's variance instead of its second
            moment.
        maximize: ascend the objective instead of descending.

    State per parameter: ``step`` (a Python int), ``square_avg``, ``momentum_buffer`` (with
    momentum), ``grad_avg`` (when centered).
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    _state_keys = ("step", "square_avg")
    _optional_state_keys = ("momentum_buffer", "grad_avg")

    def _validate_group(self, group: dict) -> None:
        super()._validate_group(group)
        validation.nonnegative(group, "eps", "epsilon value")
        validation.nonnegative(group, "momentum")
        validation.nonnegative(group, "weight_decay")
        validation.nonnegative(group, "alpha")

    def _update_group(self, group: dict) -> None:
        momentum, centered = group["momentum"], group["centered"]
        for p, state in self._stepped(group, _zero_buffers("square_avg")):
            # Created when first needed, so turning momentum or centering on later works.
            if momentum > 0 and "momentum_buffer" not in state:
                state["momentum_buffer"] = _zeros_state(p)
            if centered and "grad_avg" not in state:
                state["grad_avg"] = _zeros_state(p)
            kernels.rmsprop_step(
                p._backend, p.array, p.grad.array, state["square_avg"].array,
                state["grad_avg"].array if centered else None,
                state["momentum_buffer"].array if momentum > 0 else None,
                lr=group["lr"], alpha=group["alpha"], eps=group["eps"],
                weight_decay=group["weight_decay"], momentum=momentum, centered=centered,
                maximize=group["maximize"],
            )
