"""ASGD: SGD with a decaying step size and a running average of the iterates."""

from __future__ import annotations

from typing import Any

from autograd.tensor import Tensor
from backends import kernels

from . import validation
from .optimizer import Optimizer, _zeros_state
from .scalar_state import python_float


class ASGD(Optimizer):
    """Averaged SGD (PyTorch's ``torch.optim.ASGD``).

    Each step, with the step count t (from 1) and ``d = ±g + weight_decay * p``::

        p   = p * (1 - lambd * eta) - eta * d
        ax  = p (while mu == 1), else ax + (p - ax) * mu
        eta = lr / (1 + lambd * lr * t) ** alpha
        mu  = 1 / max(1, t - t0)

    ``ax`` (the averaged parameters, in the state) is the estimate to evaluate with once
    averaging has started (t > t0).

    Args:
        params: tensors or parameter groups to optimize.
        lr: learning rate (the first step's eta).
        lambd: decay term.
        alpha: power of the eta update.
        t0: the step at which averaging starts.
        weight_decay: L2 penalty coefficient added to the gradient.
        maximize: ascend the objective instead of descending.

    State per parameter: ``step`` (a Python int), ``eta``, ``mu`` (Python floats), ``ax``.
    """

    def __init__(self, params: Any, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    _state_keys = ("step", "eta", "mu", "ax")

    def _validate_group(self, group: dict) -> None:
        super()._validate_group(group)
        validation.nonnegative(group, "weight_decay", "weight_decay value")
        for key in ("lambd", "alpha", "t0"):
            validation.number(group, key)

    def _update_group(self, group: dict) -> None:
        lr, lambd, alpha, t0 = group["lr"], group["lambd"], group["alpha"], group["t0"]

        def new_state(p: Tensor) -> dict:
            return {"eta": float(lr), "mu": 1.0, "ax": _zeros_state(p)}

        for p, state in self._stepped(group, new_state):
            step = state["step"]
            kernels.asgd_step(
                p._backend, p.array, p.grad.array, state["ax"].array,
                eta=python_float(state["eta"]), mu=python_float(state["mu"]), lambd=lambd,
                weight_decay=group["weight_decay"], maximize=group["maximize"],
            )
            state["eta"] = lr / (1 + lambd * lr * step) ** alpha
            state["mu"] = 1.0 / max(1.0, step - t0)
