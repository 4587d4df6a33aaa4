"""On a device backend, optimizer steps and (non-checking) clipping never read data to the host."""

from __future__ import annotations

import numpy as np
import pytest

import optim

from .helpers import param, set_grad

OPTIMIZERS = [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, maximize=True),
    lambda ps: optim.Adagrad(ps, lr_decay=0.1, weight_decay=0.1),
    lambda ps: optim.RMSprop(ps, momentum=0.9, centered=True, weight_decay=0.1),
    lambda ps: optim.Adam(ps, amsgrad=True, weight_decay=0.1),
    lambda ps: optim.AdamW(ps),
]


@pytest.mark.parametrize("make", OPTIMIZERS, ids=["sgd-nesterov", "sgd-damp", "adagrad",
                                                  "rmsprop", "adam", "adamw"])
def test_step_and_clip_without_host_sync(backend, make):
    if not hasattr(backend, "expect_no_sync"):
        pytest.skip("only the fake device counts host synchronisations")
    ps = [param(np.ones((3, 2)), backend), param(np.ones(()), backend)]
    opt = make(ps)
    for _ in range(3):
        for p in ps:
            set_grad(p, np.full(p.shape, 0.5))
        with backend.expect_no_sync():
            optim.clip_grad_norm_(ps, 0.1)
            optim.clip_grad_value_(ps, 0.01)
            opt.step()
            opt.zero_grad()
