"""load_state_dict checks what it loads as the constructors check it, and changes nothing when it
refuses: optimizers (hyperparameters, state keys, buffers, step) and LR schedulers."""

from __future__ import annotations

import math

import numpy as np
import pytest

import optim
from optim import lr_scheduler as sch

from .helpers import host_state, param, set_grad


def _stepped(cls, backend, **kw):
    ps = [param([1.0, 2.0], backend), param([3.0], backend)]
    opt = cls(ps, **kw)
    for p in ps:
        set_grad(p, np.ones(p.shape))
    opt.step()
    return opt, host_state(opt.state_dict())


def _fresh(cls, backend, **kw):
    return cls([param([1.0, 2.0], backend), param([3.0], backend)], **kw)


def _snapshot(opt):
    return ([{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups],
            {id(p): dict(s) for p, s in opt.state.items()})


GROUP_EDITS = [
    ("lr", math.nan, ValueError, r"invalid lr: nan"),
    ("lr", -1.0, ValueError, r"invalid learning rate: -1.0"),
    ("lr", "0.1", TypeError, r"lr must be a Python number, got str '0.1'"),
    ("lr", 10**400, ValueError, r"invalid lr: 1000000"),
    ("eps", -1e-8, ValueError, r"invalid epsilon value: -1e-08"),
    ("betas", (0.9, 1.0), ValueError, r"invalid beta parameter at index 1: 1.0"),
    ("betas", (1.5, 0.9), ValueError, r"invalid beta parameter at index 0: 1.5"),
    ("betas", [0.9], ValueError, r"betas must be a pair"),
    ("amsgrad", "yes", TypeError, r"amsgrad must be True or False"),
    ("initial_lr", "x", TypeError, r"initial_lr must be a Python number"),
]


@pytest.mark.parametrize("key, value, exc, match", GROUP_EDITS,
                         ids=[f"{k}={v!r}" for k, v, _, _ in GROUP_EDITS])
def test_bad_hyperparameters_do_not_load(backend, key, value, exc, match):
    _, saved = _stepped(optim.Adam, backend)
    saved["param_groups"][0][key] = value
    opt, _ = _stepped(optim.Adam, backend, lr=0.01)
    before = _snapshot(opt)
    with pytest.raises(exc, match=rf"^Adam\.load_state_dict: parameter group 0: {match}"):
        opt.load_state_dict(saved)
    assert _snapshot(opt) == before


def test_sgd_state_does_not_load_into_adam(backend):
    _, with_momentum = _stepped(optim.SGD, backend, lr=0.1, momentum=0.9)
    _, plain = _stepped(optim.SGD, backend, lr=0.1)
    adam = _fresh(optim.Adam, backend)
    with pytest.raises(ValueError, match=r"parameter group 0 lacks betas, eps, amsgrad; it has "
                                         r"momentum, dampening, nesterov, which Adam does not "
                                         r"use: is it the state of another optimizer\?"):
        adam.load_state_dict(plain)
    # the groups alone could pass as Adam's (PyTorch's keys): the state keys still tell
    groups = [{**g, "betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False}
              for g in with_momentum["param_groups"]]
    with pytest.raises(ValueError, match=r"the state of parameter 0 holds momentum_buffer; a "
                                         r"Adam state holds step, exp_avg, exp_avg_sq \(and may "
                                         r"hold max_exp_avg_sq\)"):
        adam.load_state_dict({"state": with_momentum["state"], "param_groups": groups})
    _, adam_state = _stepped(optim.Adam, backend)
    sgd = _fresh(optim.SGD, backend, lr=0.1)
    with pytest.raises(ValueError, match="lacks momentum, dampening, nesterov"):
        sgd.load_state_dict(adam_state)


STATE_EDITS = [
    ("step", math.nan, ValueError, r"state 'step' of parameter 0 must be a whole number in "
                                   r"\[0, 2\*\*53\], "
                                   r"got nan"),
    ("step", -1, ValueError, r"'step' of parameter 0 must be a whole number in \[0, "
                             r"2\*\*53\], got -1"),
    ("step", 2**53 + 1, ValueError, r"got 9007199254740993"),
    ("step", 1.5, ValueError, r"got 1.5"),
    ("step", math.inf, ValueError, r"got inf"),
    ("step", "3", ValueError, r"got '3'"),
    ("step", True, ValueError, r"got True"),
    ("exp_avg", "zeros", TypeError, r"state 'exp_avg' of parameter 0 must be an array of the "
                                    r"parameter's shape \(2,\), got str"),
    ("exp_avg", np.zeros(3), ValueError, r"'exp_avg' of parameter 0 has shape \(3,\), but the "
                                         r"parameter has shape \(2,\)"),
    ("exp_avg", np.zeros(2, dtype=np.int64), TypeError, r"'exp_avg' of parameter 0 has dtype "
                                                        r"int64; expected floating point"),
    ("exp_avg", np.zeros(2, dtype=complex), TypeError, r"has dtype complex128"),
    ("exp_avg", np.zeros(2, dtype=object), TypeError, r"has dtype object"),
]


@pytest.mark.parametrize("key, value, exc, match", STATE_EDITS,
                         ids=[f"{k}={v!r}"[:40] for k, v, _, _ in STATE_EDITS])
def test_bad_state_values_do_not_load(backend, key, value, exc, match):
    _, saved = _stepped(optim.Adam, backend)
    saved["state"][0][key] = value
    opt, _ = _stepped(optim.Adam, backend, lr=0.01)
    before = _snapshot(opt)
    with pytest.raises(exc, match=rf"^Adam\.load_state_dict: .*{match}"):
        opt.load_state_dict(saved)
    assert _snapshot(opt) == before


def test_step_as_pytorch_saves_it_still_loads(backend):
    _, saved = _stepped(optim.Adam, backend)
    saved["state"][0]["step"] = np.array([7.0], dtype=np.float32)
    opt = _fresh(optim.Adam, backend)
    opt.load_state_dict(saved)
    assert opt.state[opt.param_groups[0]["params"][0]]["step"] == 7


def test_pytorch_group_flags_and_missing_late_flags_load(backend):
    """PyTorch's implementation flags (foreach, fused, ...) are kept; flags added to PyTorch
    after the algorithm (maximize, ...) may be absent and take the defaults."""
    _, saved = _stepped(optim.Adam, backend)
    group = saved["param_groups"][0]
    del group["maximize"], group["decoupled_weight_decay"]
    group.update(foreach=None, fused=None, capturable=False, differentiable=False)
    opt = _fresh(optim.Adam, backend)
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["maximize"] is False and opt.param_groups[0]["foreach"] is None


STRUCTURE_EDITS = [
    (lambda sd: sd.update(param_groups="x"), TypeError, "'param_groups' must be a list"),
    (lambda sd: sd.update(state=[1]), TypeError, "'state' must be a dict"),
    (lambda sd: sd["param_groups"].__setitem__(0, 3), TypeError, "group 0 must be a dict"),
    (lambda sd: sd["param_groups"][0].update(params="ab"), TypeError, "needs a 'params' list"),
    (lambda sd: sd["param_groups"][0].update(params=[0, 0]), ValueError, "listed twice"),
    (lambda sd: sd["param_groups"][0].update(params=[0, "1"]), TypeError,
     "lists '1' among its 'params'"),
    (lambda sd: sd["state"].__setitem__(0, [1]), TypeError, "state of parameter 0 must be a dict"),
    (lambda sd: sd["state"][0].__setitem__(1, 2), TypeError, "has a key 1 of type int"),
    (lambda sd: sd["state"].__setitem__("0", {}), ValueError, "parameter index '0'"),
    (lambda sd: sd["param_groups"][0].pop("lr"), ValueError, "group 0 lacks lr"),
]


@pytest.mark.parametrize("edit, exc, match", STRUCTURE_EDITS,
                         ids=[f"case{i}" for i in range(len(STRUCTURE_EDITS))])
def test_malformed_state_dicts(backend, edit, exc, match):
    _, saved = _stepped(optim.Adam, backend)
    edit(saved)
    opt = _fresh(optim.Adam, backend)
    with pytest.raises(exc, match=match):
        opt.load_state_dict(saved)


def test_every_optimizer_round_trips_its_own_state(backend):
    for cls, kw in [(optim.SGD, dict(lr=0.1, momentum=0.9)), (optim.Adagrad, {}),
                    (optim.RMSprop, dict(momentum=0.5, centered=True)),
                    (optim.Adam, dict(amsgrad=True)), (optim.AdamW, {}), (optim.Adadelta, {}),
                    (optim.Adamax, {}), (optim.NAdam, {}), (optim.RAdam, {}), (optim.ASGD, {})]:
        _, saved = _stepped(cls, backend, **kw)
        _fresh(cls, backend, **kw).load_state_dict(saved)


# -- schedulers -------------------------------------------------------------------------------
def _opt(backend):
    return optim.SGD([param([1.0], backend)], lr=0.1, momentum=0.9)


def test_steplr_state_does_not_load_into_cosine(backend):
    opt = _opt(backend)
    step = sch.StepLR(opt, step_size=2)
    cosine = sch.CosineAnnealingLR(opt, T_max=10)
    before = dict(cosine.__dict__)
    with pytest.raises(ValueError, match=r"CosineAnnealingLR\.load_state_dict: the state does not "
                                         r"fit a CosineAnnealingLR \(unexpected step_size, gamma; "
                                         r"missing T_max, eta_min\)"):
        cosine.load_state_dict(step.state_dict())
    assert cosine.__dict__ == before


def test_scheduler_load_cannot_replace_methods_or_the_optimizer(backend):
    opt = _opt(backend)
    step = sch.StepLR(opt, step_size=2)
    for key in ("get_lr", "optimizer", "step"):
        saved = step.state_dict()
        saved[key] = None
        with pytest.raises(ValueError, match=f"unexpected {key}"):
            step.load_state_dict(saved)
    assert step.optimizer is opt and callable(step.get_lr)


SCHEDULER_EDITS = [
    (lambda o: sch.StepLR(o, 2), "step_size", 0, ValueError, "step_size must be a positive int"),
    (lambda o: sch.StepLR(o, 2), "gamma", "x", TypeError, "gamma must be a number, got str"),
    (lambda o: sch.StepLR(o, 2), "gamma", math.nan, ValueError, "gamma must be a finite number"),
    (lambda o: sch.StepLR(o, 2), "last_epoch", 1.5, ValueError, "last_epoch must be an int"),
    (lambda o: sch.CosineAnnealingLR(o, 5), "last_epoch", 10**400, ValueError,
     r"last_epoch must be an int >= -1 \(at most 2\*\*53\)"),
    (lambda o: sch.StepLR(o, 2), "gamma", 10**400, ValueError, "gamma must be a finite number"),
    (lambda o: sch.ReduceLROnPlateau(o), "best", 10**400, ValueError, "best must be a number"),
    (lambda o: sch.StepLR(o, 2), "base_lrs", [-1.0], ValueError, r"base_lrs\[0\] must be"),
    (lambda o: sch.StepLR(o, 2), "base_lrs", [0.1, 0.1], ValueError,
     "base_lrs must be a list of 1 values"),
    (lambda o: sch.CosineAnnealingLR(o, 5), "T_max", 0, ValueError, "T_max must be positive"),
    (lambda o: sch.LinearLR(o), "start_factor", 0.0, ValueError, "start_factor must be in"),
    (lambda o: sch.ConstantLR(o), "factor", 2.0, ValueError, "factor must be in"),
    (lambda o: sch.MultiStepLR(o, [2]), "milestones", {"x": 1}, ValueError, "milestones must"),
    (lambda o: sch.ReduceLROnPlateau(o), "factor", 1.0, ValueError, "factor must be < 1.0"),
    (lambda o: sch.ReduceLROnPlateau(o), "mode", "up", ValueError, "mode must be 'min' or"),
    (lambda o: sch.ReduceLROnPlateau(o), "best", math.nan, ValueError, "best must be a number"),
    (lambda o: sch.ReduceLROnPlateau(o), "patience", -1, ValueError, "patience must be an int"),
    (lambda o: sch.OneCycleLR(o, 1.0, total_steps=5), "anneal_strategy", "x", ValueError,
     "anneal_strategy must be"),
    (lambda o: sch.OneCycleLR(o, 1.0, total_steps=5), "_phases", [[1, "lr", "a", "b", "c"]] * 2,
     ValueError, "each of _phases"),
]


@pytest.mark.parametrize("make, key, value, exc, match", SCHEDULER_EDITS,
                         ids=[f"{k}={v!r}"[:30] for _, k, v, _, _ in SCHEDULER_EDITS])
def test_bad_scheduler_values_do_not_load(backend, make, key, value, exc, match):
    opt = _opt(backend)
    sched = make(opt)
    saved = sched.state_dict()
    saved[key] = value
    before = dict(sched.__dict__)
    with pytest.raises(exc, match=rf"load_state_dict: {match}"):
        sched.load_state_dict(saved)
    assert sched.__dict__.keys() == before.keys()
    assert all(sched.__dict__[k] is v for k, v in before.items())


def test_multisteplr_milestones_survive_json(backend):
    """A checkpoint's JSON writes the Counter's epochs as strings; they load back as ints."""
    opt = _opt(backend)
    sched = sch.MultiStepLR(opt, [2, 4], gamma=0.5)
    saved = sched.state_dict()
    saved["milestones"] = {str(k): v for k, v in saved["milestones"].items()}
    sched.load_state_dict(saved)
    for _ in range(2):
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05)


def test_composite_checks_every_part_before_loading_any(backend):
    opt = _opt(backend)
    chain = sch.ChainedScheduler([sch.LinearLR(opt, 0.5, total_iters=2),
                                  sch.ExponentialLR(opt, 0.9)])
    saved = chain.state_dict()
    saved["_schedulers"][0]["last_epoch"] = 7
    saved["_schedulers"][1]["gamma"] = math.inf
    first = dict(chain._schedulers[0].__dict__)
    with pytest.raises(ValueError, match=r"scheduler 1: .*gamma must be a finite number"):
        chain.load_state_dict(saved)
    assert chain._schedulers[0].__dict__ == first
    saved["_schedulers"] = saved["_schedulers"][:1]
    with pytest.raises(ValueError, match="_schedulers must be a list of the states of its 2"):
        chain.load_state_dict(saved)
