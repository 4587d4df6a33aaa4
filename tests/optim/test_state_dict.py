"""Optimizer checkpoints: PyTorch's layout, resume equals an uninterrupted run, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import backends
import optim

from .helpers import grad_sequence, host_state, param, set_grad

CONFIGS = [
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01)),
    (optim.RMSprop, dict(lr=0.01, momentum=0.9, centered=True)),
    (optim.Adam, dict(lr=0.01, amsgrad=True)),
    (optim.AdamW, dict(lr=0.01)),
    (optim.Adadelta, dict(lr=0.5, weight_decay=0.01)),
    (optim.Adamax, dict(lr=0.01)),
    (optim.NAdam, dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.01)),
    (optim.RAdam, dict(lr=0.01)),
    (optim.ASGD, dict(lr=0.01, t0=2)),
]


def _params(backend):
    rng = np.random.default_rng(0)
    return [param(rng.standard_normal((3, 2)), backend), param(rng.standard_normal(4), backend)]


def _run(opt, params, grads):
    for step in grads:
        for p, g in zip(params, step):
            set_grad(p, g)
        opt.step()


def _grads(n, seed):
    a, b = grad_sequence((3, 2), n, seed), grad_sequence((4,), n, seed + 100)
    return list(zip(a, b))


@pytest.mark.parametrize("cls, kw", CONFIGS, ids=[c.__name__ for c, _ in CONFIGS])
@pytest.mark.parametrize("snapshot", ["tensors", "host arrays"])
def test_resume_equals_uninterrupted(backend, cls, kw, snapshot):
    first, second = _grads(3, 1), _grads(3, 2)
    ref = _params(backend)
    ref_opt = cls([{"params": ref[:1]}, {"params": ref[1:], "lr": 0.05}], **kw)
    _run(ref_opt, ref, first + second)

    ps = _params(backend)
    opt = cls([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05}], **kw)
    _run(opt, ps, first)
    saved = opt.state_dict()
    if snapshot == "host arrays":
        saved = host_state(saved)  # what a checkpoint file holds

    resumed_ps = [param(p.numpy().copy(), backend) for p in ps]
    resumed = cls([{"params": resumed_ps[:1]}, {"params": resumed_ps[1:], "lr": 0.5}], **kw)
    resumed.load_state_dict(saved)
    assert resumed.param_groups[1]["lr"] == 0.05  # hyperparameters come from the checkpoint
    assert resumed.param_groups[0]["params"][0] is resumed_ps[0]
    _run(resumed, resumed_ps, second)
    for got, want in zip(resumed_ps, ref):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-14)
    # the loaded buffers are the optimizer's own: stepping did not touch the checkpoint
    if snapshot == "tensors":
        for i, state in saved["state"].items():
            for k, v in state.items():
                if isinstance(v, ag.Tensor):
                    assert v.array is not resumed.state[resumed_ps[i]][k].array


def test_layout(backend):
    a, b, c = param([1.0], backend), param([2.0], backend), param([3.0], backend)
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.1}], lr=0.01)
    set_grad(a, [1.0])
    set_grad(c, [1.0])
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.1 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(sd["state"]) == [0, 2]
    assert sd["state"][0]["step"] == 1 and type(sd["state"][0]["step"]) is int
    assert isinstance(sd["state"][2]["exp_avg"], ag.Tensor)
    assert sd["state"][2]["exp_avg"].device == backend.device


def test_load_accepts_step_as_array_and_casts_dtype(backend):
    p = param([1.0, 2.0], backend, dtype="float32")
    opt = optim.Adam([p], lr=0.1)
    saved = {
        "state": {0: {"step": np.array(4.0), "exp_avg": np.array([0.1, 0.2]),
                      "exp_avg_sq": np.array([0.01, 0.04])}},
        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
                          "amsgrad": False, "params": [0]}],
    }
    opt.load_state_dict(saved)
    state = opt.state[p]
    assert state["step"] == 4 and type(state["step"]) is int
    assert state["exp_avg"].dtype == np.float32 and state["exp_avg"].device == backend.device
    assert opt.param_groups[0]["maximize"] is False  # missing keys fall back to the defaults
    set_grad(p, [1.0, 1.0])
    opt.step()
    assert opt.state[p]["step"] == 5


def test_load_errors(backend):
    a, b = param([1.0, 2.0], backend), param([3.0], backend)
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    set_grad(a, [1.0, 1.0])
    set_grad(b, [1.0])
    opt.step()
    sd = host_state(opt.state_dict())

    two_groups = optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
    with pytest.raises(ValueError, match="has 1 parameter groups, but the optimizer has 2"):
        two_groups.load_state_dict(sd)
    one_param = optim.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="group 0 of the loaded state dict has 2 parameters"):
        one_param.load_state_dict(sd)
    wrong_shape = optim.SGD([param([1.0, 2.0, 3.0], backend), b], lr=0.1)
    with pytest.raises(ValueError, match=r"'momentum_buffer' of parameter 0 has shape \(2,\), "
                                         r"but the parameter has shape \(3,\)"):
        wrong_shape.load_state_dict(sd)
    with pytest.raises(ValueError, match="expected a dict with 'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})
    bad_index = {"state": {7: {}}, "param_groups": sd["param_groups"]}
    with pytest.raises(ValueError, match="parameter index 7"):
        opt.load_state_dict(bad_index)


def test_state_moves_lazily_to_the_parameter_device():
    """After a parameter moves (as Module.to does, in place), its state follows on the next step."""
    names = [b for b in ("fake", "cuda") if b in _available()]
    if not names:
        pytest.skip("needs a second backend (the fake device or CUDA)")
    cpu, other = backends.get("cpu"), backends.get(names[0])
    p = param([1.0, 2.0], cpu)
    opt = optim.Adam([p], lr=0.1)
    set_grad(p, [1.0, 1.0])
    opt.step()
    expected = p.numpy().copy()
    # move the parameter in place, as Module.to(device) does
    p.array, p._backend = other.asarray(p.numpy()), other
    set_grad(p, [1.0, 1.0])
    opt.step()
    assert all(v.device == other.device for v in opt.state[p].values()
               if isinstance(v, ag.Tensor))
    ref = param([1.0, 2.0], cpu)
    ref_opt = optim.Adam([ref], lr=0.1)
    for _ in range(2):
        set_grad(ref, [1.0, 1.0])
        ref_opt.step()
    assert not np.allclose(expected, ref.numpy())
    np.testing.assert_allclose(p.numpy(), ref.numpy())


def _available():
    out = []
    for name in ("fake", "cuda"):
        try:
            backends.get(name)
            out.append(name)
        except Exception:  # noqa: BLE001 - not available on this machine
            pass
    return out
