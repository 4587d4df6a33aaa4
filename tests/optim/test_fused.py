"""Launch budget of the fused optimizer steps.

On CuPy a step costs exactly one kernel launch per parameter, and SGD and Adam on host arrays
one C loop (backends/csrc/optimizers.c) where it is built. Elsewhere the NumPy body runs; we
count its array operations by wrapping the backend's namespace (every ``xp.<function>`` call is
one whole-array operation) and, on the fake device, the arrays it allocates. The count per
parameter must be a small constant: the same for a 1-element and a 10^4-element parameter, the
same for any hyperparameter values.
"""

from __future__ import annotations

import numpy as np
import pytest

import optim
from backends import kernels
from backends.kernels import optimizers

from .helpers import param, set_grad


class CountingNamespace:
    """Forwards to an array namespace, counting calls of its functions and ufuncs."""

    def __init__(self, xp):
        self._xp = xp
        self.calls = 0
        self.names: list[str] = []

    def __getattr__(self, name):
        value = getattr(self._xp, name)
        if not callable(value) or isinstance(value, type):
            return value

        def counted(*args, **kwargs):
            self.calls += 1
            self.names.append(name)
            return value(*args, **kwargs)

        return counted


MAKERS = {
    "sgd": lambda ps, **kw: optim.SGD(ps, lr=kw.get("lr", 0.1)),
    "sgd-momentum": lambda ps, **kw: optim.SGD(ps, lr=kw.get("lr", 0.1), momentum=0.9,
                                               nesterov=True, weight_decay=0.01),
    "adam": lambda ps, **kw: optim.Adam(ps, **kw),
    "adam-amsgrad": lambda ps, **kw: optim.Adam(ps, amsgrad=True, weight_decay=0.1, **kw),
    "adamw": lambda ps, **kw: optim.AdamW(ps, **kw),
    "rmsprop": lambda ps, **kw: optim.RMSprop(ps, momentum=0.9, centered=True, **kw),
    "adagrad": lambda ps, **kw: optim.Adagrad(ps, **kw),
    "adadelta": lambda ps, **kw: optim.Adadelta(ps, weight_decay=0.1, **kw),
    "adamax": lambda ps, **kw: optim.Adamax(ps, weight_decay=0.1, **kw),
    "nadam": lambda ps, **kw: optim.NAdam(ps, weight_decay=0.1, **kw),
    "nadamw": lambda ps, **kw: optim.NAdam(ps, weight_decay=0.1, decoupled_weight_decay=True,
                                           **kw),
    "radam": lambda ps, **kw: optim.RAdam(ps, weight_decay=0.1, **kw),
    "asgd": lambda ps, **kw: optim.ASGD(ps, weight_decay=0.1, t0=0, **kw),
}
#: The steps with a host C loop (backends/csrc/optimizers.c).
C_LOOPS = ("sgd", "sgd-momentum", "adam", "adam-amsgrad", "adamw")
# The most array operations one parameter may cost on the NumPy path (Adam with AMSGrad and
# L2 weight decay: 20), and the most arrays it may allocate (the decayed gradient and a scratch).
MAX_OPS_PER_PARAM = 20
MAX_ALLOCATIONS_PER_PARAM = 3


def _measure(backend, monkeypatch, name, sizes, **hyper):
    """(xp calls, allocations, fused launches) of the second step over parameters of `sizes`."""
    params = [param(np.linspace(-1, 1, n), backend) for n in sizes]
    opt = MAKERS[name](params, **hyper)
    for p in params:
        set_grad(p, np.full(p.shape, 0.5))
    opt.step()  # creates the state
    counter = CountingNamespace(backend.xp)
    allocations = [0]
    monkeypatch.setattr(backend, "xp", counter)
    if hasattr(backend, "_track"):  # the fake device registers every array it creates
        track = backend._track

        def counting_track(array):
            allocations[0] += 1
            track(array)

        monkeypatch.setattr(backend, "_track", counting_track)
    launches = kernels.launches
    opt.step()
    monkeypatch.undo()
    return counter.calls, allocations[0], kernels.launches - launches


@pytest.mark.parametrize("name", list(MAKERS))
def test_cost_per_parameter_is_constant(backend, monkeypatch, name):
    one = _measure(backend, monkeypatch, name, [1])
    many = _measure(backend, monkeypatch, name, [1, 10, 10_000, 3])
    assert many == tuple(4 * c for c in one), (one, many)
    calls, allocations, launches = one
    if backend.name == "cupy":
        assert (calls, launches) == (0, 1), "one fused kernel per parameter, nothing else"
    elif backend.name == "numpy" and name in C_LOOPS and optimizers.host_kernels:
        assert (calls, launches) == (0, 0), "one host C loop per parameter, nothing else"
    else:
        assert launches == 0
        assert 1 <= calls <= MAX_OPS_PER_PARAM
        assert allocations <= MAX_ALLOCATIONS_PER_PARAM


@pytest.mark.parametrize("name", ["adam", "adamw", "rmsprop", "adagrad", "adamax", "nadam",
                                  "radam"])
def test_cost_does_not_depend_on_hyperparameter_values(backend, monkeypatch, name):
    a = _measure(backend, monkeypatch, name, [5, 7], lr=1e-3, eps=1e-8)
    b = _measure(backend, monkeypatch, name, [5, 7], lr=0.5, eps=1e-3)
    assert a == b


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.0, 0.5), (0.5, 0.0)])
def test_adam_cost_does_not_depend_on_betas(backend, monkeypatch, betas):
    assert _measure(backend, monkeypatch, "adam", [6], betas=betas) == \
        _measure(backend, monkeypatch, "adam", [6], betas=(0.8, 0.9))


def test_adam_op_count_on_the_host(monkeypatch):
    """The measured NumPy-path cost of one Adam step, pinned (see docs/kernels.md)."""
    import backends

    monkeypatch.setattr(optimizers, "host_kernels", None)  # the NumPy body, C loops built or not
    calls, _, launches = _measure(backends.get("cpu"), monkeypatch, "adam", [100])
    assert (calls, launches) == (13, 0)
