"""The checks every optimizer shares: hyperparameter values and the gradients reaching ``step()``.

One validation path: the constructors (through ``add_param_group``), ``load_state_dict`` and
``step()`` all call the optimizer's ``_validate_group``, which is built from the checks here, so a
value refused by a constructor is refused when it arrives from a checkpoint or is assigned to a
``param_group`` later. The messages leave the optimizer's name and the group out; the caller adds
them (see ``Optimizer._checked``).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from autograd.tensor import Tensor


def brief(value: Any) -> str:
    """``repr(value)``, cut short for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


#: Keys the learning-rate schedulers keep in a parameter group (all learning rates or momenta).
SCHEDULER_KEYS = ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum")


def finite(value: Any) -> bool:
    """Whether `value` is a real number (not a bool) that a float holds finitely (an int past
    the float range is not: arithmetic with it raises OverflowError)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


#: The largest count (a step, an epoch) a loaded state may hold: floats count exactly to here,
#: and schedules compute with floats of it.
MAX_COUNT = 2**53


def number(group: dict, key: str) -> float:
    """``group[key]`` if it is a finite real Python number (not a bool or a Tensor)."""
    value = group[key]
    if isinstance(value, (Tensor, bool)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{key} must be a Python number, got {type(value).__name__} {brief(value)}")
    if not finite(value):
        raise ValueError(f"invalid {key}: {brief(value)} (must be a finite number)")
    return value


def nonnegative(group: dict, key: str, what: str | None = None) -> None:
    """``group[key]`` is a finite number >= 0."""
    if number(group, key) < 0:
        raise ValueError(f"invalid {what or key}: {group[key]} (must be >= 0)")


def flag(group: dict, key: str) -> None:
    """``group[key]`` is True or False (a string such as ``"false"`` would read as true)."""
    value = group[key]
    if not isinstance(value, bool):
        raise TypeError(f"{key} must be True or False, got {type(value).__name__} {brief(value)}")


def eps_decay_betas(group: dict) -> None:
    """The Adam family's checks: ``eps`` and ``weight_decay`` >= 0, `betas`."""
    nonnegative(group, "eps", "epsilon value")
    nonnegative(group, "weight_decay", "weight_decay value")
    betas(group)


def betas(group: dict) -> None:
    """``group["betas"]`` is a pair of numbers in [0, 1)."""
    value = group["betas"]
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {brief(value)}")
    for i, beta in enumerate(value):
        if isinstance(beta, (Tensor, bool)) or not isinstance(beta, numbers.Real) \
                or not 0 <= beta < 1:
            raise ValueError(f"invalid beta parameter at index {i}: {brief(beta)} "
                             "(must be in [0, 1))")


def scheduler_keys(group: dict) -> None:
    """The schedulers' entries of a group, where present, are finite numbers >= 0."""
    for key in SCHEDULER_KEYS:
        if key in group:
            nonnegative(group, key)


# -- gradients at step() ---------------------------------------------------------------------
def grads_fit(params: list) -> bool:
    """Whether every ``.grad`` among `params` is None or a Tensor of its parameter's shape, dtype
    and device: a few attribute comparisons per parameter, no array work."""
    for p in params:
        g = p.grad
        if g is None:
            continue
        if type(g) is not Tensor or g._backend is not p._backend:
            return False
        ga, pa = g.array, p.array
        if ga.shape != pa.shape or (ga.dtype is not pa.dtype and ga.dtype != pa.dtype):
            return False
    return True


def grad_problem(p: Tensor) -> str | None:
    """What is wrong with ``p.grad`` (None if nothing): what it is and what was expected."""
    g = p.grad
    if g is None:
        return None
    expected = (f"expected a Tensor of the parameter's shape {p.shape}, dtype {p.dtype} on "
                f"{p.device}")
    if not isinstance(g, Tensor):
        return f"its .grad is of type {type(g).__name__}; {expected}"
    if g._backend is not p._backend:
        return f"its .grad is on {g.device}; {expected}"
    if g.shape != p.shape:
        return f"its .grad has shape {g.shape}; {expected}"
    if g.dtype != p.dtype:
        return f"its .grad has dtype {g.dtype}; {expected}"
    return None
