"""Block max pooling of a relu output sends its gradient straight to relu's input (no relu
gradient pass over the image): the same gradients as through relu, and relu's own gradient
still there whenever something asks for it (hooks, retain_grad, autograd.grad)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from autograd.function import _FREED
from autograd.ops.pooling import BlockMaxPool2d, max_pool2d


def _inputs(backend, seed=0):
    rng = np.random.default_rng(seed)
    z0 = rng.standard_normal((2, 3, 4, 6))
    g0 = rng.standard_normal((2, 3, 2, 3))
    a = ag.tensor(z0, device=backend, requires_grad=True)
    return a, ag.tensor(g0, device=backend), z0, g0


def _reference(z0, g0):
    """d sum(g * maxpool2(relu(z))) / dz, by hand: g at each block's first maximum of
    relu(z), where that maximum is positive."""
    x = np.maximum(z0, 0.0)
    n, c, h, w = x.shape
    blocks = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5)
    flat = blocks.reshape(n, c, h // 2, w // 2, 4)
    first = flat.argmax(axis=-1)
    gz = np.zeros_like(flat)
    np.put_along_axis(gz, first[..., None], (g0 * (flat.max(axis=-1) > 0))[..., None], -1)
    return gz.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(x.shape)


def test_pool_of_relu_links_to_relu_input(backend):
    a, g, z0, g0 = _inputs(backend)
    z = a * 1.0  # z from an op: the pool's second edge is that op
    y = max_pool2d(z.relu(), 2)
    relu = y.grad_fn.relu
    assert isinstance(y.grad_fn, BlockMaxPool2d) and relu is not None
    y.backward(g)
    assert relu._saved is not _FREED  # relu's own rule never ran
    np.testing.assert_allclose(a.grad.numpy(), _reference(z0, g0), rtol=1e-12)


def test_pool_of_relu_of_a_leaf(backend):
    a, g, z0, g0 = _inputs(backend, seed=1)
    max_pool2d(a.relu(), 2).backward(g)
    np.testing.assert_allclose(a.grad.numpy(), _reference(z0, g0), rtol=1e-12)


@pytest.mark.parametrize("observe", ["retain_grad", "hook", "hook_before"])
def test_relu_output_observed_gets_its_gradient(backend, observe):
    a, g, z0, g0 = _inputs(backend, seed=2)
    x = (a * 1.0).relu()
    seen = []
    if observe == "hook_before":
        x.register_hook(lambda t: seen.append(t.numpy()))
    y = max_pool2d(x, 2)
    if observe == "retain_grad":
        x.retain_grad()
    elif observe == "hook":
        x.register_hook(lambda t: seen.append(t.numpy()))
    y.backward(g)
    # x's gradient: g at each block's first maximum of x, mask or no mask.
    xs = np.maximum(z0, 0.0)
    want_x = ag.tensor(xs, device=backend, requires_grad=True)
    max_pool2d(want_x * 1.0, 2).backward(g)
    got_x = x.grad.numpy() if observe == "retain_grad" else seen[0]
    np.testing.assert_allclose(got_x, want_x.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.grad.numpy(), _reference(z0, g0), rtol=1e-12)


def test_autograd_grad_of_relu_output_and_input(backend):
    a, g, z0, g0 = _inputs(backend, seed=3)
    z = a * 1.0
    x = z.relu()
    y = max_pool2d(x, 2)
    gx, gz, ga = ag.gradients(y, [x, z, a], grad_outputs=g, retain_graph=True)
    np.testing.assert_allclose(gz.numpy(), _reference(z0, g0), rtol=1e-12)
    np.testing.assert_allclose(ga.numpy(), _reference(z0, g0), rtol=1e-12)
    np.testing.assert_allclose(gx.numpy() * (z0 > 0), _reference(z0, g0), rtol=1e-12)
    (only_z,) = ag.gradients(y, [a], grad_outputs=g)
    np.testing.assert_allclose(only_z.numpy(), _reference(z0, g0), rtol=1e-12)


def test_relu_output_with_another_consumer(backend):
    a, g, z0, g0 = _inputs(backend, seed=4)
    x = (a * 1.0).relu()
    ((max_pool2d(x, 2) * g).sum() + (x * 3.0).sum()).backward()
    np.testing.assert_allclose(a.grad.numpy(), _reference(z0, g0) + 3.0 * (z0 > 0),
                               rtol=1e-12)


def test_pool_output_modified_in_place_after_pooling(backend):
    a, g, z0, g0 = _inputs(backend, seed=5)
    y = max_pool2d((a * 1.0).relu(), 2)
    out = y * 1.0
    y += 1.0  # the pool keeps a mask, not its output: backward is unaffected
    out.backward(g)
    np.testing.assert_allclose(a.grad.numpy(), _reference(z0, g0), rtol=1e-12)


def test_second_order_through_relu_pool(backend):
    a, g, z0, g0 = _inputs(backend, seed=6)
    y = max_pool2d((a * a).relu(), 2)
    (ga,) = ag.gradients(y, [a], grad_outputs=g, create_graph=True)
    (gga,) = ag.gradients(ga.sum(), [a])
    # d/da sum(gz(a^2) * 2a) with gz piecewise constant in a: 2 * gz.
    np.testing.assert_allclose(gga.numpy(), 2.0 * _reference(z0 * z0, g0), rtol=1e-12)
