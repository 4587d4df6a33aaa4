"""Shared helpers for the optimizer tests: tensors on the backend under test, fixed gradients."""

from __future__ import annotations

import numpy as np

import autograd as ag


def param(values, backend, dtype="float64"):
    return ag.tensor(np.asarray(values, dtype=dtype), device=backend, requires_grad=True)


def set_grad(p, g):
    p.grad = ag.tensor(np.asarray(g, dtype=p.dtype), device=p.device)


def grad_sequence(shape, steps, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for _ in range(steps)]


def host_state(state_dict):
    """A snapshot of an optimizer state dict with every tensor copied to a host array (what a
    checkpoint on disk holds)."""
    return {
        "state": {
            i: {k: (v.numpy().copy() if isinstance(v, ag.Tensor) else v) for k, v in s.items()}
            for i, s in state_dict["state"].items()
        },
        "param_groups": [dict(g) for g in state_dict["param_groups"]],
    }
