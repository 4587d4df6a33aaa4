"""Adadelta, Adamax, NAdam, RAdam and ASGD against their update rules as PyTorch's documentation
writes them (the algorithm boxes of ``torch.optim``), step by step, in NumPy."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
import optim

from .helpers import case_id, check_against_rule, grad_sequence, param, set_grad

SHAPE = (3, 4)
STEPS = 8  # past RAdam's rectification threshold (rho_t > 5 from step 6 with beta2 = 0.999)


def ref_adadelta(p, grads, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    p, out = p.copy(), []
    v, u = np.zeros_like(p), np.zeros_like(p)
    for g in grads:
        g = (-g if maximize else g) + weight_decay * p
        v = v * rho + g * g * (1 - rho)
        dx = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = u * rho + dx * dx * (1 - rho)
        p = p - lr * dx
        out.append(p)
    return out


def ref_adamax(p, grads, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
               maximize=False):
    (b1, b2), p, out = betas, p.copy(), []
    m, u = np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        g = (-g if maximize else g) + weight_decay * p
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g) + eps)
        p = p - lr * m / ((1 - b1**t) * u)
        out.append(p)
    return out


def ref_nadam(p, grads, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
              momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False):
    (b1, b2), p, out = betas, p.copy(), []
    m, v = np.zeros_like(p), np.zeros_like(p)
    mus = [b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay)) for t in range(1, len(grads) + 2)]
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        if decoupled_weight_decay:
            p = p - lr * weight_decay * p
        else:
            g = g + weight_decay * p
        mu, mu_next = mus[t - 1], mus[t]
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = (mu_next * m / (1 - math.prod(mus[:t + 1]))
                 + (1 - mu) * g / (1 - math.prod(mus[:t])))
        v_hat = v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


def ref_radam(p, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
              decoupled_weight_decay=False, maximize=False):
    (b1, b2), p, out = betas, p.copy(), []
    m, v = np.zeros_like(p), np.zeros_like(p)
    rho_inf = 2 / (1 - b2) - 1
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        if decoupled_weight_decay:
            p = p - lr * weight_decay * p
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        rho_t = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho_t > 5:
            ell = np.sqrt(1 - b2**t) / (np.sqrt(v) + eps)
            r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                          / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            p = p - lr * m_hat * r * ell
        else:
            p = p - lr * m_hat
        out.append(p)
    return out


def ref_asgd(p, grads, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0,
             maximize=False, averages=None):
    p, out = p.copy(), []
    eta, mu, ax = lr, 1.0, np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        g = (-g if maximize else g) + weight_decay * p
        p = p * (1 - lambd * eta) - eta * g
        ax = p.copy() if mu == 1 else ax + mu * (p - ax)
        eta = lr / (1 + lambd * lr * t) ** alpha
        mu = 1 / max(1, t - t0)
        out.append(p)
        if averages is not None:
            averages.append(ax)
    return out


CASES = [
    (optim.Adadelta, ref_adadelta, dict()),
    (optim.Adadelta, ref_adadelta, dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1)),
    (optim.Adadelta, ref_adadelta, dict(maximize=True, weight_decay=0.1)),
    (optim.Adamax, ref_adamax, dict()),
    (optim.Adamax, ref_adamax, dict(lr=0.1, betas=(0.8, 0.9), weight_decay=0.1)),
    (optim.Adamax, ref_adamax, dict(lr=0.1, maximize=True, eps=1e-3)),
    (optim.NAdam, ref_nadam, dict()),
    (optim.NAdam, ref_nadam, dict(lr=0.1, betas=(0.8, 0.9), weight_decay=0.1,
                                  momentum_decay=0.1)),
    (optim.NAdam, ref_nadam, dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
    (optim.NAdam, ref_nadam, dict(lr=0.1, maximize=True)),
    (optim.RAdam, ref_radam, dict()),
    (optim.RAdam, ref_radam, dict(lr=0.1, betas=(0.8, 0.9), weight_decay=0.1)),
    (optim.RAdam, ref_radam, dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
    (optim.RAdam, ref_radam, dict(lr=0.1, maximize=True, betas=(0.9, 0.5))),
    (optim.ASGD, ref_asgd, dict()),
    (optim.ASGD, ref_asgd, dict(lr=0.1, lambd=0.1, alpha=0.5, t0=3, weight_decay=0.1)),
    (optim.ASGD, ref_asgd, dict(lr=0.1, t0=0, maximize=True)),
]


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_matches_the_documented_rule_float64(backend, case):
    check_against_rule(backend, case, SHAPE, STEPS, rtol=1e-11)


@pytest.mark.parametrize("case", CASES[::2], ids=[case_id(c) for c in CASES[::2]])
def test_matches_the_documented_rule_float32(backend, case):
    check_against_rule(backend, case, SHAPE, STEPS, float32=True, rtol=1e-4, atol=1e-5)


def test_asgd_keeps_the_average_of_the_iterates(backend):
    p0 = np.random.default_rng(4).standard_normal(SHAPE)
    grads = grad_sequence(SHAPE, STEPS, seed=5)
    averages: list = []
    ref_asgd(p0, grads, lr=0.1, t0=2, averages=averages)
    p = param(p0, backend)
    opt = optim.ASGD([p], lr=0.1, t0=2)
    for g, ax in zip(grads, averages):
        set_grad(p, g)
        opt.step()
        np.testing.assert_allclose(opt.state[p]["ax"].numpy(), ax, rtol=1e-12, atol=1e-12)
    state = opt.state[p]
    assert state["step"] == STEPS and isinstance(state["eta"], float)
    assert state["mu"] == 1 / (STEPS - 2)


def test_defaults_are_pytorchs():
    p = ag.zeros(2, requires_grad=True)
    expect = {
        optim.Adadelta: dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False),
        optim.Adamax: dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                           maximize=False),
        optim.NAdam: dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                          momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False),
        optim.RAdam: dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                          decoupled_weight_decay=False, maximize=False),
        optim.ASGD: dict(lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                         maximize=False),
    }
    for cls, defaults in expect.items():
        assert cls([p]).defaults == defaults, cls.__name__


@pytest.mark.parametrize("cls, kw, match", [
    (optim.Adadelta, dict(rho=1.5), "rho"),
    (optim.Adadelta, dict(eps=-1.0), "epsilon"),
    (optim.Adamax, dict(betas=(0.9, 1.0)), "beta"),
    (optim.NAdam, dict(momentum_decay=-0.1), "momentum_decay"),
    (optim.RAdam, dict(lr=-0.1), "learning rate"),
    (optim.RAdam, dict(weight_decay=-1.0), "weight_decay"),
    (optim.ASGD, dict(weight_decay=-1.0), "weight_decay"),
])
def test_bad_hyperparameters_are_refused(cls, kw, match):
    with pytest.raises(ValueError, match=match):
        cls([ag.zeros(2, requires_grad=True)], **kw)


@pytest.mark.parametrize("cls", [optim.Adadelta, optim.Adamax, optim.NAdam, optim.RAdam,
                                 optim.ASGD])
def test_they_minimise_a_quadratic(backend, cls):
    x = param(np.array([2.0, -1.5, 0.5]), backend)
    lr = {optim.Adadelta: 1.0, optim.ASGD: 0.05}.get(cls, 0.05)
    opt = cls([x], lr=lr)
    for _ in range(400):
        opt.zero_grad()
        (x * x).sum().backward()
        opt.step()
    assert float((x.numpy() ** 2).sum()) < 0.05 * 6.5, x.numpy()  # from 6.5 at the start


@pytest.mark.parametrize("cls", [optim.NAdam, optim.ASGD])
def test_scalar_state_loaded_as_pytorch_saves_it(backend, cls):
    """PyTorch saves mu_product / eta / mu as 0-d tensors: they are read once, then floats."""
    p0 = np.random.default_rng(6).standard_normal(4)
    grads = grad_sequence((4,), 4, seed=7)
    a, b = param(p0, backend), param(p0, backend)
    opt_a, opt_b = cls([a], lr=0.1), cls([b], lr=0.1)
    for g in grads[:2]:
        set_grad(a, g)
        opt_a.step()
    saved = opt_a.state_dict()
    saved["state"][0] = {k: (ag.tensor(v, dtype="float64") if isinstance(v, float) else v)
                         for k, v in saved["state"][0].items()}
    b.array[...] = a.array
    opt_b.load_state_dict(saved)
    for g in grads[2:]:
        for p, opt in ((a, opt_a), (b, opt_b)):
            set_grad(p, g)
            opt.step()
    np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-14)
    assert all(not isinstance(v, ag.Tensor) or v.shape == (4,)
               for v in opt_b.state[b].values())
