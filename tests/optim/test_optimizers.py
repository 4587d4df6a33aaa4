"""Each optimizer against its update formula written out in NumPy (tests/optimizer_rules.py),
step by step."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
import optim

from .. import optimizer_rules as rules
from .helpers import case_id, check_against_rule, param, set_grad

SHAPE = (3, 4)
STEPS = 5


# -- reference updates, written out from the algorithms' definitions ----------------------------
def ref_sgd(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
            maximize=False):
    p, buf, out = p.copy(), None, []
    for g in grads:
        p, buf = rules.ref_sgd(p, g, buf, lr, momentum, dampening, weight_decay, nesterov,
                               maximize)
        out.append(p)
    return out


def ref_adagrad(p, grads, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                initial_accumulator_value=0.0, eps=1e-10, maximize=False):
    p, out = p.copy(), []
    s = np.full_like(p, initial_accumulator_value)
    for t, g in enumerate(grads, start=1):
        p, s = rules.ref_adagrad(p, g, s, t, lr, lr_decay, weight_decay, eps, maximize)
        out.append(p)
    return out


def ref_rmsprop(p, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                centered=False, maximize=False):
    p, out = p.copy(), []
    v, m, buf = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for g in grads:
        p, v, m, buf = rules.ref_rmsprop(p, g, v, m, buf, lr, alpha, eps, weight_decay,
                                         momentum, centered, maximize)
        out.append(p)
    return out


def ref_adam(p, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
             amsgrad=False, maximize=False, decoupled=False):
    p, out = p.copy(), []
    m, v, vmax = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        p, m, v, vmax = rules.ref_adam(p, g, m, v, vmax, t, lr, *betas, eps, weight_decay,
                                       decoupled, amsgrad, maximize)
        out.append(p)
    return out


def ref_adamw(p, grads, weight_decay=1e-2, **kw):
    return ref_adam(p, grads, weight_decay=weight_decay, decoupled=True, **kw)


CASES = [
    (optim.SGD, ref_sgd, dict(lr=0.1)),
    (optim.SGD, ref_sgd, dict(lr=0.1, weight_decay=0.1)),
    (optim.SGD, ref_sgd, dict(lr=0.1, momentum=0.9)),
    (optim.SGD, ref_sgd, dict(lr=0.1, momentum=0.9, dampening=0.5)),
    (optim.SGD, ref_sgd, dict(lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.05)),
    (optim.SGD, ref_sgd, dict(lr=0.1, momentum=0.9, nesterov=True)),
    (optim.SGD, ref_sgd, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    (optim.SGD, ref_sgd, dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    (optim.SGD, ref_sgd, dict(lr=0.1, momentum=0.8, maximize=True, weight_decay=0.1)),
    (optim.SGD, ref_sgd, dict(lr=0.1, maximize=True)),
    (optim.Adagrad, ref_adagrad, dict()),
    (optim.Adagrad, ref_adagrad, dict(lr=0.1, lr_decay=0.1, weight_decay=0.1)),
    (optim.Adagrad, ref_adagrad, dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    (optim.Adagrad, ref_adagrad, dict(lr=0.1, maximize=True)),
    (optim.RMSprop, ref_rmsprop, dict()),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01, alpha=0.9, weight_decay=0.1)),
    (optim.RMSprop, ref_rmsprop, dict(momentum=0.9)),
    (optim.RMSprop, ref_rmsprop, dict(centered=True)),
    (optim.RMSprop, ref_rmsprop, dict(centered=True, momentum=0.5, weight_decay=0.01)),
    (optim.RMSprop, ref_rmsprop, dict(momentum=0.5, maximize=True)),
    (optim.Adam, ref_adam, dict()),
    (optim.Adam, ref_adam, dict(lr=0.1, betas=(0.8, 0.9), weight_decay=0.1)),
    (optim.Adam, ref_adam, dict(lr=0.1, amsgrad=True)),
    (optim.Adam, ref_adam, dict(lr=0.1, amsgrad=True, weight_decay=0.1, maximize=True)),
    (optim.Adam, ref_adam, dict(lr=0.1, betas=(0.0, 0.5))),
    (optim.Adam, ref_adam, dict(lr=0.1, maximize=True)),
    (optim.AdamW, ref_adamw, dict()),
    (optim.AdamW, ref_adamw, dict(lr=0.1, weight_decay=0.5)),
    (optim.AdamW, ref_adamw, dict(lr=0.1, weight_decay=0.5, amsgrad=True, maximize=True)),
]


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_matches_formula_float64(backend, case):
    check_against_rule(backend, case, SHAPE, STEPS)


@pytest.mark.parametrize("case", CASES[::3], ids=[case_id(c) for c in CASES[::3]])
def test_matches_formula_float32(backend, case):
    check_against_rule(backend, case, SHAPE, STEPS, float32=True, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adagrad, optim.RMSprop, optim.Adam,
                                 optim.AdamW])
def test_zero_dim_and_empty_parameters(backend, cls):
    a, b = param(1.5, backend), param(np.zeros((0, 3)), backend)
    opt = cls([a, b], lr=0.1)
    for _ in range(2):
        set_grad(a, 2.0)
        set_grad(b, np.zeros((0, 3)))
        opt.step()
    assert a.shape == () and b.shape == (0, 3)
    assert np.isfinite(a.numpy()) and a.numpy() < 1.5


def test_through_backward(backend):
    """A real loss: minimise sum((x - 3)^2) with Adam; the gradient comes from the engine."""
    x = param(np.zeros(4), backend)
    opt = optim.Adam([x], lr=0.1)
    for _ in range(300):
        opt.zero_grad()
        ((x - 3.0) * (x - 3.0)).sum().backward()
        opt.step()
    np.testing.assert_allclose(x.numpy(), 3.0, atol=1e-2)


def test_parameters_without_grad_are_skipped(backend):
    a, b = param([1.0, 2.0], backend), param([3.0], backend)
    opt = optim.Adam([a, b], lr=0.1)
    set_grad(a, [1.0, 1.0])
    opt.step()
    assert b not in opt.state and opt.state[a]["step"] == 1
    np.testing.assert_array_equal(b.numpy(), [3.0])


@pytest.mark.parametrize("cls", [optim.Adagrad, optim.RMSprop, optim.Adam, optim.AdamW])
def test_step_is_a_python_int(backend, cls):
    p = param([1.0], backend)
    opt = cls([p], lr=0.1)
    for _ in range(3):
        set_grad(p, [1.0])
        opt.step()
    assert type(opt.state[p]["step"]) is int and opt.state[p]["step"] == 3


def test_state_keys(backend):
    p = param([1.0], backend)
    expect = [
        (optim.SGD(p_ := [p], lr=0.1, momentum=0.9), {"momentum_buffer"}),
        (optim.SGD(p_, lr=0.1), set()),
        (optim.Adagrad(p_), {"step", "sum"}),
        (optim.RMSprop(p_), {"step", "square_avg"}),
        (optim.RMSprop(p_, momentum=0.1, centered=True),
         {"step", "square_avg", "momentum_buffer", "grad_avg"}),
        (optim.Adam(p_), {"step", "exp_avg", "exp_avg_sq"}),
        (optim.Adam(p_, amsgrad=True), {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}),
    ]
    for opt, keys in expect:
        set_grad(p, [1.0])
        opt.step()
        assert set(opt.state.get(p, {})) == keys, type(opt).__name__


def test_update_bumps_version_and_keeps_array(backend):
    p = param([1.0, 2.0], backend)
    array, version = p.array, p._version[0]
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    set_grad(p, [1.0, 1.0])
    opt.step()
    assert p.array is array  # updated in place
    assert p._version[0] == version + 1


def test_grad_is_not_modified(backend):
    p = param([1.0, 2.0], backend)
    for opt in [optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True),
                optim.Adam([p], weight_decay=0.1, maximize=True),
                optim.RMSprop([p], centered=True, momentum=0.9),
                optim.Adagrad([p], weight_decay=0.1)]:
        set_grad(p, [0.5, -0.5])
        opt.step()
        opt.step()
        np.testing.assert_array_equal(p.grad.numpy(), [0.5, -0.5])


def test_closure(backend):
    x = param([2.0], backend)
    opt = optim.SGD([x], lr=0.25)
    calls = []

    def closure():
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        calls.append(1)
        return loss

    with ag.no_grad():  # the closure still records: step turns grad mode on for it
        loss = opt.step(closure)
    assert len(calls) == 1 and math.isclose(loss.item(), 4.0)
    np.testing.assert_allclose(x.numpy(), [1.0])  # 2 - 0.25 * 4


def test_zero_grad(backend):
    a, b = param([1.0, 2.0], backend), param([3.0], backend)
    opt = optim.SGD([a, b], lr=0.1)
    set_grad(a, [1.0, 1.0])
    opt.zero_grad(set_to_none=False)
    assert b.grad is None
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_param_groups_with_different_lrs(backend):
    a, b = param([1.0], backend), param([1.0], backend)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.01, "momentum": 0.5}], lr=0.1)
    assert opt.param_groups[0]["momentum"] == 0 and opt.param_groups[1]["momentum"] == 0.5
    for _ in range(2):
        set_grad(a, [1.0])
        set_grad(b, [1.0])
        opt.step()
    np.testing.assert_allclose(a.numpy(), [1.0 - 0.2])
    np.testing.assert_allclose(b.numpy(), [1.0 - 0.01 - 0.01 * 1.5])


def test_add_param_group(backend):
    a, b = param([1.0], backend), param([1.0], backend)
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.5})
    assert len(opt.param_groups) == 2
    assert opt.param_groups[1]["betas"] == (0.9, 0.999) and opt.param_groups[1]["lr"] == 0.5
    set_grad(b, [1.0])
    opt.step()
    np.testing.assert_allclose(b.numpy(), [0.5], rtol=1e-6)  # Adam's first step is lr * sign
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="invalid learning rate"):
        opt.add_param_group({"params": [param([1.0], backend)], "lr": -1.0})


def test_generator_of_parameters(backend):
    ps = [param([1.0], backend), param([2.0], backend)]
    opt = optim.SGD((p for p in ps), lr=0.1)
    assert len(opt.param_groups[0]["params"]) == 2


VALIDATION = [
    (lambda p: optim.SGD(p, lr=-0.1), ValueError, "invalid learning rate: -0.1"),
    (lambda p: optim.SGD(p), ValueError, "required optimization parameter 'lr'"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), ValueError, "invalid momentum"),
    (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1), ValueError, "invalid weight_decay"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), ValueError, "Nesterov momentum requires"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     "Nesterov momentum requires"),
    (lambda p: optim.SGD(p, lr="fast"), TypeError, "lr must be a Python number"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), ValueError, "beta parameter at index 0"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), ValueError, "beta parameter at index 1"),
    (lambda p: optim.Adam(p, betas=(0.9,)), ValueError, "betas must be a pair"),
    (lambda p: optim.Adam(p, eps=-1e-8), ValueError, "invalid epsilon value"),
    (lambda p: optim.AdamW(p, weight_decay=-0.1), ValueError, "invalid weight_decay"),
    (lambda p: optim.Adam(p, lr=float("nan")), ValueError, "invalid lr"),
    (lambda p: optim.Adagrad(p, lr_decay=-1), ValueError, "invalid lr_decay"),
    (lambda p: optim.Adagrad(p, initial_accumulator_value=-1), ValueError,
     "invalid initial_accumulator_value"),
    (lambda p: optim.RMSprop(p, alpha=-0.1), ValueError, "invalid alpha"),
    (lambda p: optim.RMSprop(p, momentum=-0.1), ValueError, "invalid momentum"),
    (lambda p: optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
    (lambda p: optim.SGD(p[0], lr=0.1), TypeError, "got a single Tensor"),
    (lambda p: optim.SGD(set(p), lr=0.1), TypeError, "got a set"),
    (lambda p: optim.SGD({"params": p}, lr=0.1), TypeError, "wrap the parameter group"),
    (lambda p: optim.SGD([p[0], p[0]], lr=0.1), ValueError, "appears twice"),
    (lambda p: optim.SGD([[1.0]], lr=0.1), TypeError, "can only optimize Tensors"),
    (lambda p: optim.SGD([p[0] * 2], lr=0.1), ValueError, "non-leaf"),
    (lambda p: optim.SGD([{"lr": 0.1}], lr=0.1), ValueError, "needs a 'params' entry"),
]


@pytest.mark.parametrize("make, exc, match", VALIDATION,
                         ids=[f"case{i}" for i in range(len(VALIDATION))])
def test_validation_errors(backend, make, exc, match):
    p = [param([1.0], backend)]
    with pytest.raises(exc, match=match):
        make(p)


def test_complex_parameters_refused_by_adaptive_optimizers(backend):
    p = ag.tensor(np.array([1 + 1j]), device=backend)
    p.requires_grad = True  # the back door: a complex tensor cannot ask for grad (issue 12 §3)
    p.grad = ag.tensor(np.array([1 + 0j]), device=backend)
    with pytest.raises(NotImplementedError, match="complex"):
        optim.Adam([p]).step()


def test_repr():
    opt = optim.SGD([param([1.0], "cpu")], lr=0.1, momentum=0.9)
    text = repr(opt)
    assert text.startswith("SGD (") and "momentum: 0.9" in text and "lr: 0.1" in text
