"""backends/device_scope.py: the one way library code runs raw array work on a tensor's device
(in-place writes, nn.init, module casts, collectives, DDP, optimizer state, clipping)."""

from __future__ import annotations

import pytest

import autograd as ag
import backends
import nn
import optim
from backends import fake_rules
from backends.device_scope import call_scoped, scoped


@pytest.fixture
def fake1():
    return backends.get("fake:1")


def _current() -> int:
    return fake_rules.CURRENT[0]


def test_call_scoped_makes_the_backend_current_and_restores(fake1) -> None:
    assert call_scoped(fake1, _current) == 1
    assert _current() == 0
    assert call_scoped(None, _current) == 0  # no backend: a plain call
    with fake1.device_scope():  # fake:0 current again inside fake:1's scope
        assert call_scoped(backends.get("fake"), _current) == 0
        assert _current() == 1


def test_scoped_takes_the_backend_from_the_arguments(fake1) -> None:
    @scoped(lambda backend, value: backend)
    def where(backend, value):
        """Doc."""
        return _current(), value

    assert where(fake1, "v") == (1, "v")
    assert where(None, "w") == (0, "w")
    assert where.__doc__ == "Doc." and where.__name__ == "where"


def test_raw_writes_run_on_their_tensors_device(fake1) -> None:
    x = ag.zeros(4, device=fake1)
    with ag.no_grad():
        x[1] = 2.0
        x[ag.tensor([2, 3], device=fake1)] = ag.tensor([3.0, 4.0], device=fake1)
    v = x._version[0]
    nn.init.constant_(x, 5.0)
    assert x.numpy().tolist() == [5.0] * 4 and x._version[0] == v + 1
    host = ag.zeros(2, device="fake")
    with fake1.device_scope():  # a fake:0 tensor written while fake:1 is current
        host.fill_(1.0)
        host[0] = 7.0
        nn.init.ones_(ag.zeros(2, device="fake"))
    assert host.numpy().tolist() == [7.0, 1.0]


def test_a_cast_model_and_its_optimizer_state_stay_on_fake1(fake1) -> None:
    model = nn.Linear(3, 2).to(fake1)
    opt = optim.Adam(model.parameters(), lr=0.1)
    model(ag.ones((1, 3), device=fake1)).sum().backward()
    opt.step()
    state = opt.state_dict()
    model.to(ag.float64)
    opt.load_state_dict(state)  # float32 moments follow the float64 parameters, on fake:1
    model(ag.ones((1, 3), dtype=ag.float64, device=fake1)).sum().backward()
    opt.step()
    assert model.weight.dtype == ag.float64 and model.weight.device == fake1.device
    assert opt.state[model.weight]["exp_avg"].dtype == ag.float64
