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


def case_id(case):
    """The test id of a (optimizer class, reference rule, keyword arguments) case."""
    cls, _, kw = case
    return cls.__name__ + "-" + "-".join(f"{k}={v}" for k, v in kw.items())


def check_against_rule(backend, case, shape, steps, *, float32=False, rtol=1e-12, atol=1e-12):
    """Runs the case's optimizer for `steps` steps and compares each step with its reference
    rule `ref(p0, grads, **kw)` (computed in float64). In float32 the parameter and every state
    tensor stay float32."""
    cls, ref, kw = case
    dtype = "float32" if float32 else "float64"
    p0 = np.random.default_rng(2 if float32 else 1).standard_normal(shape).astype(dtype)
    grads = grad_sequence(shape, steps, seed=3 if float32 else 0)
    p = param(p0, backend, dtype=dtype)
    opt = cls([p], **kw)
    expected = ref(p0.astype(np.float64), grads, **kw)
    for step, g in enumerate(grads):
        set_grad(p, g)
        opt.step()
        assert p.dtype == dtype
        for v in opt.state[p].values():
            assert not isinstance(v, ag.Tensor) or v.dtype == dtype
        np.testing.assert_allclose(p.numpy(), expected[step], rtol=rtol, atol=atol,
                                   err_msg=f"step {step + 1}")
