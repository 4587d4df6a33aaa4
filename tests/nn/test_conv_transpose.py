"""ConvTranspose1d/2d: the modules, output_size, the adjoint identity with conv2d, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from tests.autograd.cases_conv_transpose import ref_conv_transpose1d, ref_conv_transpose2d


def _t(a, backend, **kw):
    return ag.tensor(np.asarray(a), device=backend, **kw)


@pytest.mark.parametrize("stride,padding,output_padding,groups,dilation", [
    (1, 0, 0, 1, 1), (2, 1, 1, 1, 1), (2, 0, 1, 2, 1), (3, 2, 2, 1, 1), (2, 1, 0, 1, 2),
    ((2, 1), (1, 0), (1, 0), 4, (1, 2)), (1, 1, 1, 1, 2),
])
def test_conv_transpose2d_module_matches_reference(backend, stride, padding, output_padding,
                                                   groups, dilation):
    layer = nn.ConvTranspose2d(4, 8, (3, 2), stride, padding, output_padding, groups,
                               dilation=dilation, dtype="float64")
    x = np.random.default_rng(0).normal(size=(2, 4, 5, 4))
    y = layer(_t(x, backend))
    expected = ref_conv_transpose2d(x, layer.weight.numpy(), layer.bias.numpy(), stride,
                                    padding, output_padding, groups, dilation)
    assert y.shape == expected.shape and y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_conv_transpose1d_module_matches_reference(backend):
    layer = nn.ConvTranspose1d(3, 4, 3, stride=2, padding=1, output_padding=1, dtype="float64")
    x = np.random.default_rng(1).normal(size=(2, 3, 6))
    y = layer(_t(x, backend))
    expected = ref_conv_transpose1d(x, layer.weight.numpy(), layer.bias.numpy(), 2, 1, 1)
    assert y.shape == (2, 4, 12)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_default_init_shapes_and_repr(backend):
    layer = nn.ConvTranspose2d(6, 4, 3, groups=2)
    assert layer.weight.shape == (6, 2, 3, 3) and layer.weight.dtype == np.float32
    bound = 1 / math.sqrt(2 * 3 * 3)  # fan_in = weight.shape[1] * kernel area, as PyTorch
    assert np.abs(layer.weight.numpy()).max() <= bound
    assert np.abs(layer.bias.numpy()).max() <= bound
    assert repr(layer) == "ConvTranspose2d(6, 4, kernel_size=(3, 3), stride=(1, 1), groups=2)"
    assert nn.ConvTranspose2d(2, 2, 1, bias=False).bias is None
    assert "output_padding=1" in repr(nn.ConvTranspose1d(2, 2, 3, stride=2, output_padding=1))


def test_output_size_picks_the_output_padding(backend):
    layer = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, dtype="float64")
    x = _t(np.random.default_rng(2).normal(size=(1, 2, 4, 4)), backend)
    assert layer(x).shape == (1, 3, 7, 7)
    y = layer(x, output_size=(8, 7))
    assert y.shape == (1, 3, 8, 7)
    same = F.conv_transpose2d(x, layer.weight, layer.bias, 2, 1, (1, 0))
    np.testing.assert_allclose(y.numpy(), same.numpy())
    assert layer(x, output_size=[1, 3, 8, 8]).shape == (1, 3, 8, 8)  # N and C may lead
    with pytest.raises(ValueError, match="valid sizes range from 7 to 8"):
        layer(x, output_size=(9, 9))
    one = nn.ConvTranspose1d(2, 2, 3, stride=3)
    assert one(ag.randn(1, 2, 4, device=backend), output_size=[12]).shape == (1, 2, 12)


@pytest.mark.parametrize("groups", [1, 2])
def test_adjoint_of_conv2d(backend, groups):
    """<conv_transpose2d(x, w), z> == <x, conv2d(z, w)>: the transposed convolution is the
    convolution's adjoint, so its forward is the convolution's input gradient."""
    rng = np.random.default_rng(3)
    x = _t(rng.normal(size=(2, 4, 4, 5)), backend)
    w = _t(rng.normal(size=(4, 3, 3, 3)), backend)
    y = F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1, groups=groups)
    z = _t(rng.normal(size=y.shape), backend, requires_grad=True)
    left = float((y * z).sum().item())
    conv = F.conv2d(z, w, stride=2, padding=1, groups=groups)
    right = float((x * conv).sum().item())
    assert math.isclose(left, right, rel_tol=1e-10)
    # and conv2d's input gradient is this op's forward
    conv.backward(x)
    np.testing.assert_allclose(z.grad.numpy(), y.numpy(), rtol=1e-10, atol=1e-12)


def test_float32_channels_last_and_gradients_agree_with_float64(backend):
    rng = np.random.default_rng(4)
    x64 = rng.normal(size=(3, 5, 6, 6))
    w64 = rng.normal(size=(5, 2, 4, 4)) * 0.1
    grads = []
    for dtype in ("float32", "float64"):
        x = _t(x64.astype(dtype), backend, requires_grad=True)
        w = _t(w64.astype(dtype), backend, requires_grad=True)
        b = _t(np.ones(2, dtype=dtype), backend, requires_grad=True)
        y = F.conv_transpose2d(x, w, b, stride=2, padding=1)
        assert y.dtype == np.dtype(dtype) and y.shape == (3, 2, 12, 12)
        (y * y).sum().backward()
        grads.append([t.grad.numpy() for t in (x, w, b)])
    for g32, g64 in zip(*grads):
        np.testing.assert_allclose(g32, g64, rtol=2e-4, atol=2e-4)


def test_errors_name_the_op(backend):
    x = ag.randn(1, 4, 3, 3, device=backend)
    with pytest.raises(ValueError, match="conv_transpose2d: input of shape .* has 4 channels"):
        F.conv_transpose2d(x, ag.randn(3, 2, 3, 3, device=backend))
    with pytest.raises(ValueError, match="output_padding .* must be smaller than either stride"):
        F.conv_transpose2d(x, ag.randn(4, 2, 3, 3, device=backend), stride=2, output_padding=2)
    with pytest.raises(ValueError, match="is not positive"):
        F.conv_transpose2d(x, ag.randn(4, 2, 1, 1, device=backend), padding=2)
    with pytest.raises(ValueError, match="groups"):
        F.conv_transpose2d(x, ag.randn(4, 2, 3, 3, device=backend), groups=3)
    with pytest.raises(ValueError, match="conv_transpose1d"):
        F.conv_transpose1d(ag.randn(1, 4, 3, device=backend), ag.randn(3, 2, 3, device=backend))
    with pytest.raises(ValueError, match="ConvTranspose2d: output_padding"):
        nn.ConvTranspose2d(2, 2, 3, stride=1, output_padding=1)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")


def test_trains_on_the_device_without_host_reads(backend):
    layer = nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1).to(backend.device)
    x = ag.randn(2, 3, 5, 5, device=backend)
    before = layer.weight.numpy().copy()
    loss = (layer(x) ** 2).mean()
    loss.backward()
    assert layer.weight.grad.shape == layer.weight.shape
    assert layer.bias.grad.shape == (2,)
    with ag.no_grad():
        layer.weight -= 0.1 * layer.weight.grad
    assert not np.allclose(before, layer.weight.numpy())
