"""Module hooks (forward pre/post, full backward pre/post) and nn.utils, on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn


def _x(backend, *shape, grad=True):
    return ag.tensor(np.random.default_rng(0).normal(size=shape), device=backend,
                     requires_grad=grad)


def test_forward_hooks_see_and_replace(backend):
    layer = nn.Linear(3, 2, dtype="float64").to(backend.device)
    seen = []
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = layer.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    y = layer(_x(backend, 4, 3))
    np.testing.assert_allclose(y.numpy(), np.broadcast_to(layer.bias.numpy(), (4, 2)))
    assert seen == [(4, 2)]
    pre.remove()
    post.remove()
    assert layer(_x(backend, 4, 3)).shape == (4, 2) and seen == [(4, 2)]
    kw = layer.register_forward_pre_hook(lambda m, args, kwargs: (args, kwargs),
                                         with_kwargs=True)
    double = layer.register_forward_hook(lambda m, args, kwargs, out: out * 2, with_kwargs=True)
    base = layer.forward(_x(backend, 1, 3))
    np.testing.assert_allclose(layer(_x(backend, 1, 3)).numpy(), 2 * base.numpy())
    kw.remove()
    double.remove()


def test_hook_order_prepend_and_context_manager(backend):
    layer = nn.Identity()
    order = []
    layer.register_forward_hook(lambda m, a, o: order.append("second"))
    with layer.register_forward_hook(lambda m, a, o: order.append("first"), prepend=True):
        layer(_x(backend, 2))
    layer(_x(backend, 2))
    assert order == ["first", "second", "second"]


def test_always_call_hook_runs_when_forward_fails(backend):
    layer = nn.Linear(3, 2)
    calls = []
    layer.register_forward_hook(lambda m, a, o: calls.append(o), always_call=True)
    with pytest.raises(ValueError):
        layer(ag.randn(2, 5, device=backend))
    assert calls == [None]


def test_full_backward_hooks(backend):
    layer = nn.Linear(3, 2, dtype="float64").to(backend.device)
    log = []
    layer.register_full_backward_pre_hook(lambda m, go: log.append(("pre", go[0].numpy())))
    layer.register_full_backward_hook(
        lambda m, gi, go: log.append(("post", gi[0].numpy(), go[0].numpy())))
    x = _x(backend, 4, 3)
    gy = np.arange(8.0).reshape(4, 2)
    layer(x).backward(ag.tensor(gy, device=backend))
    assert [entry[0] for entry in log] == ["pre", "post"]
    np.testing.assert_allclose(log[0][1], gy)
    np.testing.assert_allclose(log[1][1], gy @ layer.weight.numpy())
    np.testing.assert_allclose(x.grad.numpy(), gy @ layer.weight.numpy())


def test_backward_hooks_replace_gradients(backend):
    layer = nn.Linear(3, 2, dtype="float64").to(backend.device)
    layer.register_full_backward_pre_hook(lambda m, go: (go[0] * 10,))
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0] + 1,))
    x = _x(backend, 4, 3)
    layer(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 10 * np.ones((4, 2)) @ layer.weight.numpy() + 1)
    np.testing.assert_allclose(layer.bias.grad.numpy(), [40.0, 40.0])  # saw the scaled grad


def test_backward_hook_without_input_gradients(backend):
    layer = nn.Linear(3, 2)
    seen = []
    layer.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go[0].shape)))
    layer(ag.randn(4, 3, device=backend)).sum().backward()
    assert seen == [((None,), (4, 2))]


def test_hooks_inside_sequential_keep_relu_pool_unfused(backend):
    relu = nn.ReLU()
    seen = []
    relu.register_forward_hook(lambda m, a, o: seen.append(o.shape))
    model = nn.Sequential(relu, nn.MaxPool2d(2))
    assert model(ag.randn(1, 1, 4, 4, device=backend)).shape == (1, 1, 2, 2)
    assert seen == [(1, 1, 4, 4)]


def test_named_modules_apply_requires_grad_zero_grad(backend):
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Linear(2, 1)))
    assert [n for n, _ in model.named_modules()] == ["", "0", "1", "1.0", "1.1"]
    model.apply(lambda m: nn.init.zeros_(m.bias) if isinstance(m, nn.Linear) else None)
    assert all((m.bias.numpy() == 0).all() for m in model.modules() if isinstance(m, nn.Linear))
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    model.requires_grad_()
    model(ag.randn(3, 2, device=backend)).sum().backward()
    model.zero_grad(set_to_none=False)
    assert all((p.grad.numpy() == 0).all() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_parameters_to_vector_and_back(backend):
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1)).to(backend.device)
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (11,)
    np.testing.assert_allclose(vec.numpy()[:6], model[0].weight.numpy().reshape(-1))
    weight = model[0].weight
    nn.utils.vector_to_parameters(ag.arange(11, device=backend, dtype="float32"),
                                  model.parameters())
    assert model[0].weight is weight
    np.testing.assert_allclose(model[1].bias.numpy(), [10.0])
    (vec * vec).sum().backward()  # differentiable: reaches the parameters
    assert model[1].weight.grad is not None
    with pytest.raises(ValueError, match="holds 11|hold 11"):
        nn.utils.vector_to_parameters(ag.zeros(3, device=backend), model.parameters())
    with pytest.raises(TypeError, match="iterable of tensors"):
        nn.utils.parameters_to_vector(model[0].weight)


def test_clip_grad_is_exposed_under_nn_utils(backend):
    import optim

    assert nn.utils.clip_grad_norm_ is optim.clip.clip_grad_norm_
    layer = nn.Linear(2, 1).to(backend.device)
    layer(ag.ones(1, 2, device=backend) * 100).sum().backward()
    total = nn.utils.clip_grad_norm_(layer.parameters(), max_norm=1.0)
    assert float(total.numpy()) > 1.0
    norm = np.sqrt(sum((p.grad.numpy() ** 2).sum() for p in layer.parameters()))
    assert norm == pytest.approx(1.0, rel=1e-5)
    nn.utils.clip_grad_value_(layer.parameters(), 0.1)
    assert max(np.abs(p.grad.numpy()).max() for p in layer.parameters()) <= 0.1
