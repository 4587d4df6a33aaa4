"""MultiplicativeLR, PolynomialLR, CosineAnnealingWarmRestarts and CyclicLR against their formulas
written out (closed forms of PyTorch's documentation), checkpoints and refusals."""

from __future__ import annotations

import math

import pytest

import autograd as ag
import optim
from optim import lr_scheduler as sch


def _sgd(lr=0.1, momentum=0.9, groups=1):
    return optim.SGD([{"params": [ag.zeros(2, requires_grad=True)]} for _ in range(groups)],
                     lr=lr, momentum=momentum)


def _lrs(opt, sched, n, key="lr"):
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0][key])
        sched.step()
    return out


def test_multiplicative_lr():
    opt = _sgd()
    sched = sch.MultiplicativeLR(opt, lr_lambda=lambda e: 0.5 if e % 2 else 1.0)
    expected, lr = [], 0.1
    for e in range(8):
        if e > 0:
            lr *= 0.5 if e % 2 else 1.0
        expected.append(lr)
    assert _lrs(opt, sched, 8) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("power", [1.0, 2.0, 0.5])
def test_polynomial_lr(power):
    opt = _sgd()
    sched = sch.PolynomialLR(opt, total_iters=5, power=power)
    expected = [0.1 * (1 - min(e, 5) / 5) ** power for e in range(9)]
    assert _lrs(opt, sched, 9) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    sched.step(3)  # closed form
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * (1 - 3 / 5) ** power)


def _warm_restart(epoch, t0, mult, base, eta_min):
    t_i, t_cur = t0, epoch
    while t_cur >= t_i:
        t_cur -= t_i
        t_i *= mult
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2


@pytest.mark.parametrize("t0, mult", [(4, 1), (3, 2), (2, 3)])
def test_cosine_annealing_warm_restarts(t0, mult):
    opt = _sgd()
    sched = sch.CosineAnnealingWarmRestarts(opt, T_0=t0, T_mult=mult, eta_min=0.01)
    expected = [_warm_restart(e, t0, mult, 0.1, 0.01) for e in range(30)]
    assert _lrs(opt, sched, 30) == pytest.approx(expected, rel=1e-12)


def test_cosine_annealing_warm_restarts_fractional_epochs():
    opt = _sgd()
    sched = sch.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)
    for epoch in [0.5, 1.25, 2.75, 3.0, 4.5, 9.0, 10.2, 21.5]:
        sched.step(epoch)
        assert opt.param_groups[0]["lr"] == pytest.approx(_warm_restart(epoch, 3, 2, 0.1, 0.0))
        assert sched.last_epoch == math.floor(epoch)
    with pytest.raises(ValueError, match="epoch"):
        sched.step(-1.0)


def _cyclic(t, base, top, up, down, scale):
    total = up + down
    cycle = math.floor(1 + t / total)
    x = 1 + t / total - cycle
    height = x / (up / total) if x <= up / total else (x - 1) / (up / total - 1)
    return base + (top - base) * height * scale(cycle, t), height * scale(cycle, t)


@pytest.mark.parametrize("mode, scale", [
    ("triangular", lambda cycle, t: 1.0),
    ("triangular2", lambda cycle, t: 1 / 2 ** (cycle - 1)),
    ("exp_range", lambda cycle, t: 0.9**t),
])
def test_cyclic_lr_and_momentum(mode, scale):
    opt = _sgd()
    sched = sch.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=3, step_size_down=5,
                         mode=mode, gamma=0.9)
    for t in range(25):
        lr, h = _cyclic(t, 0.01, 0.1, 3, 5, scale)
        assert opt.param_groups[0]["lr"] == pytest.approx(lr, rel=1e-12)
        assert opt.param_groups[0]["momentum"] == pytest.approx(0.9 - 0.1 * h, rel=1e-12)
        sched.step()


def test_cyclic_lr_cycles_adams_beta1_and_takes_a_scale_fn():
    p = ag.zeros(2, requires_grad=True)
    opt = optim.Adam([p], lr=0.5, betas=(0.9, 0.99))
    sched = sch.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=2,
                         scale_fn=lambda x: 0.5, scale_mode="iterations")
    assert opt.param_groups[0]["lr"] == 0.01 and opt.param_groups[0]["betas"] == (0.9, 0.99)
    sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01 + 0.09 * 0.5 * 0.5)
    assert opt.param_groups[0]["betas"] == pytest.approx((0.9 - 0.1 * 0.5 * 0.5, 0.99))
    assert "_scale_fn_custom" not in sched.state_dict()


@pytest.mark.parametrize("make", [
    lambda o: sch.MultiplicativeLR(o, lr_lambda=lambda e: 0.95),
    lambda o: sch.PolynomialLR(o, total_iters=7, power=1.5),
    lambda o: sch.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2, eta_min=0.001),
    lambda o: sch.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=3, mode="triangular2"),
])
def test_resume_equals_uninterrupted(make):
    opt = _sgd(groups=2)
    sched = make(opt)
    for _ in range(5):
        sched.step()
    saved_opt, saved = opt.state_dict(), sched.state_dict()
    straight = [(_lrs(opt, sched, 1), opt.param_groups[1]["lr"]) for _ in range(9)]

    opt2 = _sgd(groups=2)
    sched2 = make(opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    resumed = [(_lrs(opt2, sched2, 1), opt2.param_groups[1]["lr"]) for _ in range(9)]
    assert resumed == straight


@pytest.mark.parametrize("make, match", [
    (lambda o: sch.PolynomialLR(o, total_iters=0), "total_iters"),
    (lambda o: sch.CosineAnnealingWarmRestarts(o, T_0=0), "T_0"),
    (lambda o: sch.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5), "T_mult"),
    (lambda o: sch.CyclicLR(o, 0.01, 0.1, mode="sawtooth"), "mode"),
    (lambda o: sch.CyclicLR(o, 0.01, 0.1, step_size_up=0), "step_size_up"),
    (lambda o: sch.CyclicLR(optim.Adagrad([ag.zeros(1, requires_grad=True)]), 0.01, 0.1),
     "momentum"),
])
def test_refusals(make, match):
    with pytest.raises(ValueError, match=match):
        make(_sgd())


def test_a_polynomial_state_does_not_load_into_warm_restarts():
    opt = _sgd()
    poly = sch.PolynomialLR(opt, total_iters=4)
    warm = sch.CosineAnnealingWarmRestarts(opt, T_0=3)
    with pytest.raises(ValueError, match="CosineAnnealingWarmRestarts.load_state_dict"):
        warm.load_state_dict(poly.state_dict())
