"""Every scheduler's lr sequence against closed-form values computed by hand in the test."""

from __future__ import annotations

import math

import numpy as np
import pytest

import optim
from optim import lr_scheduler as sch

from .helpers import param

PI = math.pi


def _opt(backend, lr=1.0, groups=1, cls=optim.SGD, **kw):
    params = [param([1.0], backend) for _ in range(groups)]
    return cls([{"params": [p]} for p in params], lr=lr, **kw)


def _lrs(opt, sched, n):
    """The lr of group 0 at epochs 0..n-1 (the constructor sets epoch 0)."""
    out = [opt.param_groups[0]["lr"]]
    assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
    for _ in range(n - 1):
        sched.step()
        out.append(opt.param_groups[0]["lr"])
        assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
    return out


def _close(got, want):
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_step_lr(backend):
    opt = _opt(backend, lr=0.1)
    got = _lrs(opt, sch.StepLR(opt, step_size=3, gamma=0.5), 10)
    _close(got, [0.1 * 0.5 ** (t // 3) for t in range(10)])


def test_multi_step_lr_with_repeated_milestone(backend):
    opt = _opt(backend)
    got = _lrs(opt, sch.MultiStepLR(opt, milestones=[5, 2, 5], gamma=0.1), 8)
    _close(got, [1, 1, 0.1, 0.1, 0.1, 1e-3, 1e-3, 1e-3])


def test_exponential_lr(backend):
    opt = _opt(backend, lr=0.5)
    _close(_lrs(opt, sch.ExponentialLR(opt, gamma=0.9), 8), [0.5 * 0.9**t for t in range(8)])


def test_cosine_annealing_lr_past_t_max(backend):
    opt = _opt(backend, lr=1.0)
    got = _lrs(opt, sch.CosineAnnealingLR(opt, T_max=4, eta_min=0.1), 13)
    _close(got, [0.1 + 0.9 * (1 + math.cos(PI * t / 4)) / 2 for t in range(13)])


def test_linear_lr_warm_up_and_decay(backend):
    opt = _opt(backend)
    _close(_lrs(opt, sch.LinearLR(opt, start_factor=0.25, total_iters=3), 7),
           [0.25, 0.5, 0.75, 1, 1, 1, 1])
    opt = _opt(backend, lr=2.0)
    _close(_lrs(opt, sch.LinearLR(opt, start_factor=1.0, end_factor=0.5, total_iters=2), 5),
           [2.0, 1.5, 1.0, 1.0, 1.0])


def test_constant_lr(backend):
    opt = _opt(backend)
    _close(_lrs(opt, sch.ConstantLR(opt, factor=0.5, total_iters=2), 5), [0.5, 0.5, 1, 1, 1])


def test_lambda_lr_per_group(backend):
    opt = _opt(backend, lr=0.3, groups=2)
    sched = sch.LambdaLR(opt, [lambda e: 1 / (e + 1), lambda e: 0.5**e])
    for t in range(5):
        _close([g["lr"] for g in opt.param_groups], [0.3 / (t + 1), 0.3 * 0.5**t])
        sched.step()


def _one_cycle_expected(t, anneal, lo=0.04, hi=1.0, floor=4e-6):
    def f(a, b, pct):
        if anneal == "cos":
            return b + (a - b) / 2 * (math.cos(PI * pct) + 1)
        return a + (b - a) * pct

    if t <= 2:  # phase 1 ends at 0.3 * 10 - 1 = 2
        return f(lo, hi, t / 2), f(0.95, 0.85, t / 2)
    return f(hi, floor, (t - 2) / 7), f(0.85, 0.95, (t - 2) / 7)  # phase 2 ends at 9


@pytest.mark.parametrize("anneal", ["cos", "linear"])
def test_one_cycle_lr(backend, anneal):
    opt = _opt(backend, lr=123.0, momentum=0.5)  # both are replaced by the schedule
    sched = sch.OneCycleLR(opt, max_lr=1.0, total_steps=10, anneal_strategy=anneal)
    for t in range(11):
        lr, momentum = _one_cycle_expected(t, anneal)
        _close(opt.param_groups[0]["lr"], lr)
        _close(opt.param_groups[0]["momentum"], momentum)
        if t < 10:
            sched.step()
    _close(opt.param_groups[0]["lr"], _one_cycle_expected(10, anneal)[0])
    with pytest.raises(ValueError, match="tried to step 11 times"):
        sched.step()


def test_one_cycle_lr_cycles_adam_beta1_and_three_phase(backend):
    opt = _opt(backend, cls=optim.Adam, betas=(0.9, 0.99))
    sched = sch.OneCycleLR(opt, max_lr=2.0, epochs=2, steps_per_epoch=5, three_phase=True,
                           anneal_strategy="linear")
    lo, hi, floor = 2.0 / 25, 2.0, 2.0 / 25 / 1e4
    # phases end at steps 2 (rise), 4 (fall back to the start), 9 (anneal to the floor)
    want = [lo + (hi - lo) * t / 2 for t in range(3)] + [hi + (lo - hi) * (t - 2) / 2
                                                         for t in (3, 4)]
    want += [lo + (floor - lo) * (t - 4) / 5 for t in range(5, 10)]
    beta1 = [0.95 - 0.1 * t / 2 for t in range(3)] + [0.85 + 0.1 * (t - 2) / 2 for t in (3, 4)]
    beta1 += [0.95] * 5
    for t in range(10):
        _close(opt.param_groups[0]["lr"], want[t])
        _close(opt.param_groups[0]["betas"][0], beta1[t])
        assert opt.param_groups[0]["betas"][1] == 0.99
        sched.step()


def test_reduce_lr_on_plateau_min_rel(backend):
    opt = _opt(backend)
    sched = sch.ReduceLROnPlateau(opt, factor=0.5, patience=2, threshold=0.1, cooldown=1,
                                  min_lr=0.2)
    metrics = [1.0, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.5, 0.5, 0.5, 0.5]
    got = []
    for m in metrics:
        sched.step(m)
        got.append(opt.param_groups[0]["lr"])
        assert sched.get_last_lr() == [got[-1]]
    _close(got, [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.25, 0.2])
    assert sched.last_epoch == len(metrics)


def test_reduce_lr_on_plateau_max_abs(backend):
    opt = _opt(backend)
    sched = sch.ReduceLROnPlateau(opt, mode="max", threshold_mode="abs", threshold=0.5,
                                  patience=0, factor=0.1)
    got = []
    for m in [1.0, 1.4, 2.0, 2.4]:
        sched.step(m)
        got.append(opt.param_groups[0]["lr"])
    _close(got, [1, 0.1, 0.1, 0.01])


def test_chained_scheduler(backend):
    opt = _opt(backend)
    warm = sch.LinearLR(opt, start_factor=0.5, total_iters=2)
    decay = sch.ExponentialLR(opt, gamma=0.9)
    got = _lrs(opt, sch.ChainedScheduler([warm, decay]), 6)
    _close(got, [min(1.0, 0.5 + 0.25 * t) * 0.9**t for t in range(6)])

    opt = _opt(backend)
    chained = sch.ChainedScheduler([sch.StepLR(opt, 2, gamma=0.5),
                                    sch.ExponentialLR(opt, gamma=0.9)])
    _close(_lrs(opt, chained, 7), [0.5 ** (t // 2) * 0.9**t for t in range(7)])


def test_sequential_lr(backend):
    opt = _opt(backend)
    warm = sch.LinearLR(opt, start_factor=0.1, total_iters=2)
    decay = sch.ExponentialLR(opt, gamma=0.5)
    got = _lrs(opt, sch.SequentialLR(opt, [warm, decay], milestones=[3]), 6)
    _close(got, [0.1, 0.55, 1.0, 1.0, 0.5, 0.25])

    opt = _opt(backend)
    warm = sch.LinearLR(opt, start_factor=0.25, total_iters=2)
    cos = sch.CosineAnnealingLR(opt, T_max=4)
    got = _lrs(opt, sch.SequentialLR(opt, [warm, cos], milestones=[2]), 7)
    _close(got, [0.25, 0.625] + [(1 + math.cos(PI * t / 4)) / 2 for t in range(5)])


def test_step_with_epoch_uses_closed_form(backend):
    opt = _opt(backend)
    sched = sch.StepLR(opt, step_size=3, gamma=0.5)
    sched.step(7)
    _close(opt.param_groups[0]["lr"], 0.25)


class _Halving:
    """A callable object: LambdaLR saves its __dict__."""

    def __init__(self) -> None:
        self.base = 0.5

    def __call__(self, epoch: int) -> float:
        return self.base**epoch


def _make(kind, opt):
    if kind == "step":
        return sch.StepLR(opt, step_size=2, gamma=0.5)
    if kind == "cosine":
        return sch.CosineAnnealingLR(opt, T_max=5, eta_min=0.01)
    if kind == "lambda":
        return sch.LambdaLR(opt, _Halving())
    if kind == "one_cycle":
        return sch.OneCycleLR(opt, max_lr=1.0, total_steps=12)
    if kind == "sequential":
        return sch.SequentialLR(opt, [sch.LinearLR(opt, 0.5, total_iters=2),
                                      sch.ExponentialLR(opt, 0.8)], milestones=[3])
    if kind == "chained":
        return sch.ChainedScheduler([sch.LinearLR(opt, 0.5, total_iters=2),
                                     sch.MultiStepLR(opt, [3, 5], 0.5)])
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["step", "cosine", "lambda", "one_cycle", "sequential",
                                  "chained"])
def test_scheduler_state_dict_resume(backend, kind):
    opt = _opt(backend, momentum=0.9)
    ref = _lrs(opt, _make(kind, opt), 10)

    opt = _opt(backend, momentum=0.9)
    sched = _make(kind, opt)
    for _ in range(4):
        sched.step()
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()

    # PyTorch's resume order: build both, then load the optimizer (it restores the lrs the
    # new scheduler's constructor overwrote), then the scheduler.
    opt2 = _opt(backend, lr=7.0, momentum=0.1)
    sched2 = _make(kind, opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    got = [opt2.param_groups[0]["lr"]]
    for _ in range(5):
        sched2.step()
        got.append(opt2.param_groups[0]["lr"])
    _close(got, ref[4:])


def test_plateau_state_dict(backend):
    opt = _opt(backend)
    sched = sch.ReduceLROnPlateau(opt, patience=1)
    for m in [1.0, 1.0]:
        sched.step(m)
    saved = sched.state_dict()
    assert "optimizer" not in saved and saved["num_bad_epochs"] == 1
    other = sch.ReduceLROnPlateau(opt, patience=1)
    other.load_state_dict(saved)
    other.step(1.0)
    _close(opt.param_groups[0]["lr"], 0.1)


VALIDATION = [
    (lambda o: sch.StepLR(o, step_size=0), ValueError, "step_size must be a positive int"),
    (lambda o: sch.LinearLR(o, start_factor=0), ValueError, "start_factor must be in"),
    (lambda o: sch.LinearLR(o, end_factor=1.5), ValueError, "end_factor must be in"),
    (lambda o: sch.CosineAnnealingLR(o, T_max=0), ValueError, "T_max must be positive"),
    (lambda o: sch.ReduceLROnPlateau(o, factor=1.0), ValueError, "factor must be < 1.0"),
    (lambda o: sch.ReduceLROnPlateau(o, mode="up"), ValueError, "mode must be"),
    (lambda o: sch.ReduceLROnPlateau(o, min_lr=[0, 0]), ValueError, "expected 1 values"),
    (lambda o: sch.OneCycleLR(o, max_lr=1.0), ValueError, "either total_steps"),
    (lambda o: sch.OneCycleLR(o, 1.0, total_steps=5, anneal_strategy="x"), ValueError,
     "anneal_strategy"),
    (lambda o: sch.OneCycleLR(o, 1.0, total_steps=5, pct_start=2), ValueError, "pct_start"),
    (lambda o: sch.StepLR(o, 2, last_epoch=3), KeyError, "initial_lr"),
    (lambda o: sch.LambdaLR(o, [lambda e: 1, lambda e: 1]), ValueError, "expected 1"),
    (lambda o: sch.SequentialLR(o, [sch.StepLR(o, 2)], milestones=[3]), ValueError,
     "one milestone fewer"),
    (lambda o: sch.ChainedScheduler([sch.ReduceLROnPlateau(o)]), ValueError,
     "ReduceLROnPlateau"),
    (lambda o: sch.ChainedScheduler([sch.StepLR(o, 2), sch.StepLR(_opt("cpu"), 2)]),
     ValueError, "different optimizer"),
    (lambda o: sch.StepLR("opt", 2), TypeError, "expected an Optimizer"),
]


@pytest.mark.parametrize("make, exc, match", VALIDATION,
                         ids=[f"case{i}" for i in range(len(VALIDATION))])
def test_validation_errors(backend, make, exc, match):
    with pytest.raises(exc, match=match):
        make(_opt(backend))


def test_one_cycle_needs_momentum(backend):
    opt = _opt(backend, cls=optim.Adagrad)
    with pytest.raises(ValueError, match="momentum or beta1"):
        sch.OneCycleLR(opt, max_lr=1.0, total_steps=5)
    sch.OneCycleLR(opt, max_lr=1.0, total_steps=5, cycle_momentum=False)
