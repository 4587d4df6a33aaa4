"""Tests of nn. `functional_call` runs a module with some parameters swapped for given tensors,
so that gradcheck can perturb parameters (it replaces the tensors it is given)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def functional_call(module: Any, params: dict, *args: Any) -> Any:
    """``module(*args)`` with ``module.get_parameter(name)`` replaced by ``params[name]``."""
    saved = []
    try:
        for name, value in params.items():
            path, _, leaf = name.rpartition(".")
            owner = module.get_submodule(path)
            saved.append((owner, leaf, owner._parameters[leaf]))
            owner._parameters[leaf] = value  # a plain Tensor: bypasses the Parameter check
        return module(*args)
    finally:
        for owner, leaf, original in reversed(saved):
            owner._parameters[leaf] = original


def module_fn(module: Any, names: Sequence[str]) -> Callable[..., Any]:
    """``f(x, *params)`` = the module applied to `x` with the named parameters replaced."""

    def f(x: Any, *values: Any) -> Any:
        return functional_call(module, dict(zip(names, values)), x)

    return f
