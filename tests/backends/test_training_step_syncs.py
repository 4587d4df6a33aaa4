"""A whole training step (forward, loss, backward, optimizer step) never reads the device.

The fake device counts host synchronisations; these are the two workloads the GPU issue names.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
import optim


def _models() -> dict:
    return {
        "mlp": (nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)),
                (8, 1, 8, 8)),
        "cnn": (nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(16 * 2 * 2, 10)),
                (8, 1, 8, 8)),
    }


@pytest.mark.parametrize("name", ["mlp", "cnn"])
@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_a_training_step_performs_zero_host_syncs(backend, name: str, optimizer: str) -> None:
    if not hasattr(backend, "expect_no_sync"):
        pytest.skip("only the fake device counts host synchronisations")
    ag.manual_seed(0)
    model, shape = _models()[name]
    model.to(backend.device)
    opt = (optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if optimizer == "SGD"
           else optim.Adam(model.parameters(), lr=1e-3))
    x = ag.randn(*shape, device=backend)
    y = ag.tensor(np.arange(shape[0]) % 10, device=backend)
    backend.reset_sync_count()
    for _ in range(2):  # the second step also runs with optimizer state in place
        with backend.expect_no_sync():
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
    assert backend.sync_count == 0
    assert loss.device == backend.device
