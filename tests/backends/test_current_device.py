"""The fake device models CuPy's current device: work on fake:1 runs in its device scope, and
an operator on fake:1 arrays outside one fails (on a GPU it would run on the wrong device)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import backends
import nn
import optim
from nn.trainer import Trainer


@pytest.fixture
def fake1():
    return backends.get("fake:1")


def test_operators_on_fake1_arrays_need_its_scope(fake1) -> None:
    a = fake1.xp.ones(3)  # namespace calls run on the backend's device, as CuPy's proxy does
    with pytest.raises(ValueError, match="fake:0 is the current device"):
        a + a
    with pytest.raises(ValueError, match="current device"):
        a.sum()
    with pytest.raises(ValueError, match="current device"):
        a[...] = 2.0
    a.reshape(3, 1)  # a view launches nothing
    with fake1.device_scope():
        assert fake1.to_numpy(a + a).tolist() == [2.0, 2.0, 2.0]
    assert not backends.get("fake").needs_device_scope and fake1.needs_device_scope


def test_tensor_methods_on_fake1(fake1) -> None:
    x = ag.tensor([1.0, -2.0, 3.0], device=fake1)
    assert (x > 0).numpy().tolist() == [True, False, True]
    assert (x == 3.0).numpy().tolist() == [False, False, True]
    x.fill_(2.0)
    x.copy_(ag.tensor([4.0, 5.0, 6.0], device=fake1))
    assert x.numpy().tolist() == [4.0, 5.0, 6.0]
    x.zero_()
    assert x.numpy().tolist() == [0.0, 0.0, 0.0]
    with ag.no_grad():
        x[ag.tensor([0, 2], device=fake1)] = 1.0
    assert x.numpy().tolist() == [1.0, 0.0, 1.0]


def test_a_training_loop_on_fake1(fake1) -> None:
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).to(fake1)
    opt = optim.Adam(model.parameters(), lr=0.01)
    data = nn.TensorDataset(np.random.default_rng(0).normal(size=(16, 4)).astype("float32"),
                            np.arange(16) % 3)
    for x, y in nn.DataLoader(data, batch_size=8, shuffle=True, seed=0, device=fake1):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optim.clip_grad_norm_(model.parameters(), 1.0)
        optim.clip_grad_value_(model.parameters(), 0.5)
        opt.step()
    assert np.isfinite(loss.item())
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, metrics=["accuracy"], device=fake1,
                      progress=False)
    history = trainer.fit(nn.DataLoader(data, batch_size=8, device=fake1), epochs=1)
    assert history is not None


def test_load_state_dict_moves_to_the_targets_device(fake1) -> None:
    source = nn.Linear(2, 2).to("fake")
    target = nn.Linear(2, 2).to(fake1)
    target.load_state_dict(source.state_dict())
    assert target.weight.array._dev is fake1
    np.testing.assert_array_equal(target.weight.numpy(), source.weight.numpy())


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("RMSprop", {"momentum": 0.5, "centered": True}),
    ("Adagrad", {}),
    ("AdamW", {"amsgrad": True}),
])
def test_layers_losses_and_optimizers_on_fake1(fake1, name, kwargs) -> None:
    F = nn.functional
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.BatchNorm2d(4),
        nn.Flatten(), nn.Dropout(0.1), nn.Linear(4 * 4 * 4, 3), nn.GELU(), nn.LayerNorm(3),
    ).to(fake1)
    opt = getattr(optim, name)(model.parameters(), lr=0.01, **kwargs)
    x = ag.randn(2, 1, 8, 8, device=fake1)
    y = ag.tensor([0, 2], device=fake1)
    for _ in range(2):
        opt.zero_grad()
        out = model(x)
        loss = (F.cross_entropy(out, y) + F.mse_loss(out, out.detach() * 0.5)
                + F.nll_loss(F.log_softmax(out, 1), y))
        loss.backward()
        opt.step()
    model.eval()
    model(x)
    assert np.isfinite(loss.item())
