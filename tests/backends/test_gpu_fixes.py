"""GPU-only bugs found by the CuPy audit (issue 17 §1), tested on the fake device."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import backends
import nn
import optim


def test_backward_copies_nothing_host_to_device() -> None:
    fake = backends.get("fake")
    x = ag.tensor([1.0, 2.0], device=fake, requires_grad=True)
    loss = (x * x).sum()
    before = fake.transfer_count
    loss.backward()
    assert fake.transfer_count == before  # the seed gradient is filled on the device
    assert x.grad.numpy().tolist() == [2.0, 4.0]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_erf_keeps_the_input_dtype(backend, dtype) -> None:
    x = backend.asarray(np.array([-1.0, 0.0, 0.5], dtype=dtype))
    y = backend.erf(x)
    assert y.dtype == np.dtype(dtype)
    np.testing.assert_allclose(backend.to_numpy(y).astype(float), [-0.8427, 0.0, 0.5205],
                               atol=2e-3)


@pytest.mark.parametrize("name, key, kwargs", [
    ("Adam", "exp_avg", {}),
    ("Adam", "max_exp_avg_sq", {"amsgrad": True}),
    ("SGD", "momentum_buffer", {"momentum": 0.9}),
    ("RMSprop", "square_avg", {"momentum": 0.5, "centered": True}),
    ("Adagrad", "sum", {}),
])
def test_optimizer_state_follows_the_parameter_dtype(backend, name, key, kwargs) -> None:
    model = nn.Linear(3, 2)
    opt = getattr(optim, name)(model.parameters(), lr=0.1, **kwargs)
    x = ag.randn(4, 3)

    def step():
        opt.zero_grad()
        model(x.to(dtype=model.weight.dtype)).sum().backward()
        opt.step()

    step()
    model.to(dtype=ag.float64)
    step()
    for p in model.parameters():
        state = opt.state[p]
        for value in state.values():
            if isinstance(value, ag.Tensor):
                assert value.dtype == ag.float64, (key, value.dtype)
        assert state[key].dtype == ag.float64
