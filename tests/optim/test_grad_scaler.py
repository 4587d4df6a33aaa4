"""GradScaler: scaling, unscaling, skipped steps, the scale's growth and backoff, state."""

import numpy as np
import pytest

import autograd as ag
import backends
import nn
import nn.functional as F
import optim


def _setup(backend, optimizer="sgd"):
    ag.manual_seed(0)
    model = nn.Linear(3, 2).to(backend.device)
    x = ag.tensor(np.arange(12, dtype=np.float32).reshape(4, 3) / 10, device=backend.device)
    target = ag.tensor([0, 1, 1, 0], device=backend.device)
    if optimizer == "sgd":
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    else:
        opt = optim.Adam(model.parameters(), lr=0.1)
    return model, x, target, opt


def _weights(model):
    return [p.numpy().copy() for p in model.parameters()]


def test_a_clean_step_equals_the_unscaled_step(backend):
    model, x, target, opt = _setup(backend)
    reference, _, _, ref_opt = _setup(backend)
    scaler = ag.GradScaler(init_scale=1024.0)
    loss = F.cross_entropy(model(x), target)
    scaled = scaler.scale(loss)
    np.testing.assert_allclose(scaled.numpy(), loss.numpy() * 1024, rtol=1e-6)
    scaled.backward()
    scaler.step(opt)
    scaler.update()
    F.cross_entropy(reference(x), target).backward()
    ref_opt.step()
    for got, want in zip(_weights(model), _weights(reference)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert scaler.get_scale() == 1024.0


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_inf_gradients_skip_the_step_and_back_off(backend, optimizer):
    model, x, target, opt = _setup(backend, optimizer)
    scaler = ag.GradScaler(init_scale=8.0, backoff_factor=0.25)
    before = _weights(model)
    loss = F.cross_entropy(model(x), target) * float("inf")
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    for got, want in zip(_weights(model), before):
        np.testing.assert_array_equal(got, want)          # the step was skipped (undone)
    for state in opt.state.values():                      # array state as if never stepped
        for value in state.values():
            if isinstance(value, ag.Tensor):
                assert not np.any(value.numpy())
    assert scaler.get_scale() == 2.0
    assert scaler.state_dict()["_growth_tracker"] == 0
    opt.zero_grad()
    scaler.scale(F.cross_entropy(model(x), target)).backward()
    scaler.step(opt)                                      # a clean step after a skipped one
    scaler.update()
    assert not np.array_equal(_weights(model)[0], before[0])


def test_nan_in_one_parameter_is_enough(backend):
    model, x, target, opt = _setup(backend)
    scaler = ag.GradScaler(init_scale=4.0)
    scaler.scale(F.cross_entropy(model(x), target)).backward()
    model.bias.grad.array[0] = float("nan")
    before = _weights(model)
    scaler.step(opt)
    scaler.update()
    for got, want in zip(_weights(model), before):
        np.testing.assert_array_equal(got, want)
    assert scaler.get_scale() == 2.0


def test_growth_after_growth_interval_clean_steps(backend):
    model, x, target, opt = _setup(backend)
    scaler = ag.GradScaler(init_scale=2.0, growth_factor=3.0, growth_interval=3)
    scales = []
    for _ in range(7):
        opt.zero_grad()
        scaler.scale(F.cross_entropy(model(x), target)).backward()
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    assert scales == [2.0, 2.0, 6.0, 6.0, 6.0, 18.0, 18.0]
    scaler.update(new_scale=5.0)
    assert scaler.get_scale() == 5.0


def test_unscale_before_clipping(backend):
    model, x, target, opt = _setup(backend)
    scaler = ag.GradScaler(init_scale=64.0)
    loss = F.cross_entropy(model(x), target)
    scaler.scale(loss).backward()
    scaled_grad = model.weight.grad.numpy().copy()
    scaler.unscale_(opt)
    np.testing.assert_allclose(model.weight.grad.numpy(), scaled_grad / 64, rtol=1e-6)
    with pytest.raises(RuntimeError, match="already called"):
        scaler.unscale_(opt)
    optim.clip_grad_norm_(model.parameters(), 0.01)
    scaler.step(opt)                       # does not unscale a second time
    with pytest.raises(RuntimeError, match="already called"):
        scaler.step(opt)
    scaler.update()


def test_device_path_reads_nothing_back():
    fake = backends.get("fake")
    model, x, target, opt = _setup(fake, "adam")
    scaler = ag.GradScaler()
    for _ in range(2):   # the first step creates the state (transfers happen then)
        opt.zero_grad()
        with ag.autocast("cuda"):
            loss = F.cross_entropy(model(x), target)
        with fake.expect_no_sync():
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_sync_free_false_reads_the_flag_on_a_device():
    fake = backends.get("fake")
    model, x, target, opt = _setup(fake, "adam")
    scaler = ag.GradScaler(sync_free=False)
    scaler.scale(F.cross_entropy(model(x), target) * float("inf")).backward()
    before = fake.sync_count
    scaler.step(opt)
    assert fake.sync_count == before + 1
    assert opt.state == {} or all(s.get("step", 0) == 0 for s in opt.state.values())


def test_state_dict_round_trip_and_disabled(backend):
    model, x, target, opt = _setup(backend)
    scaler = ag.GradScaler(init_scale=16.0, growth_interval=5)
    scaler.scale(F.cross_entropy(model(x), target)).backward()
    scaler.step(opt)
    scaler.update()
    state = scaler.state_dict()
    assert state == {"scale": 16.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                     "growth_interval": 5, "_growth_tracker": 1}
    other = ag.GradScaler()
    other.load_state_dict(state)
    assert other.state_dict() == state
    off = ag.GradScaler(enabled=False)
    loss = F.cross_entropy(model(x), target)
    assert off.scale(loss) is loss and off.get_scale() == 1.0 and off.state_dict() == {}
    with pytest.raises(RuntimeError, match="empty"):
        other.load_state_dict({})


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 65536 x the loss overflows float16
def test_bad_arguments():
    with pytest.raises(ValueError, match="growth_factor"):
        ag.GradScaler(growth_factor=0.5)
    with pytest.raises(ValueError, match="backoff_factor"):
        ag.GradScaler(backoff_factor=1.5)
    with pytest.raises(ValueError, match="growth_interval"):
        ag.GradScaler(growth_interval=0)
    w = ag.tensor([1.0, 2.0], dtype=ag.float16, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    scaler = ag.GradScaler()
    scaled = scaler.scale(w.sum())
    assert scaled.dtype == ag.float32 and scaled.item() == 3 * 2.0 ** 16
    scaled.backward()
    with pytest.raises(ValueError, match="float16 gradients"):
        scaler.unscale_(opt)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
                                  "Adamax", "NAdam", "RAdam", "ASGD"])
def test_every_optimizer_skips_and_then_steps(backend, name):
    model, x, target, _ = _setup(backend)
    opt = getattr(optim, name)(model.parameters(), lr=0.1)
    scaler = ag.GradScaler(init_scale=4.0)
    before = _weights(model)
    scaler.scale(F.cross_entropy(model(x), target) * float("inf")).backward()
    if backend.is_device:
        with backend.expect_no_sync():
            scaler.step(opt)
            scaler.update()
    else:
        scaler.step(opt)
        scaler.update()
    for got, want in zip(_weights(model), before):
        np.testing.assert_array_equal(got, want)
    opt.zero_grad()
    scaler.scale(F.cross_entropy(model(x), target)).backward()
    scaler.step(opt)
    scaler.update()
    assert not np.array_equal(_weights(model)[0], before[0])
    assert scaler.get_scale() == 2.0
