"""Conv and pooling layers, im2col/col2im, residual blocks and the small ResNet."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
import nn
from autograd.gradcheck import gradcheck, gradgradcheck
from autograd.ops.conv import col2im, conv1d, conv2d, im2col
from autograd.ops.pooling import adaptive_avg_pool2d, max_pool2d
from tests.autograd.cases_nn import (
    ref_adaptive_avg_pool2d,
    ref_avg_pool2d,
    ref_conv1d,
    ref_conv2d,
)


def _t(a, backend, **kw):
    return ag.tensor(np.asarray(a), device=backend, **kw)


@pytest.mark.parametrize("stride,padding,dilation,groups", [
    (1, 0, 1, 1), (2, 1, 1, 1), (1, 2, 2, 2), (3, (1, 0), (2, 1), 4), ((2, 1), 1, 1, 2),
])
def test_conv2d_module_matches_reference(backend, stride, padding, dilation, groups):
    conv = nn.Conv2d(4, 8, (3, 2), stride, padding, dilation, groups, dtype="float64")
    x = np.random.default_rng(0).normal(size=(2, 4, 9, 7))
    y = conv(_t(x, backend))
    expected = ref_conv2d(x, conv.weight.numpy(), conv.bias.numpy(), stride, padding, dilation,
                          groups)
    assert y.shape == expected.shape and y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_conv2d_default_init_and_dtype(backend):
    conv = nn.Conv2d(6, 4, 3, groups=2)
    bound = 1 / math.sqrt(3 * 3 * 3)  # kaiming_uniform(a=sqrt(5)) on fan_in = 3*3*3
    assert conv.weight.shape == (4, 3, 3, 3) and conv.weight.dtype == np.float32
    assert np.abs(conv.weight.numpy()).max() <= bound
    assert np.abs(conv.bias.numpy()).max() <= bound
    assert conv.weight.device == backend.device
    y = conv(ag.randn(2, 6, 5, 5, device=backend))
    assert y.shape == (2, 4, 3, 3) and y.dtype == np.float32
    assert [name for name, _ in conv.named_parameters()] == ["weight", "bias"]
    assert nn.Conv2d(2, 2, 1, bias=False).bias is None


def test_conv_same_padding(backend):
    x = np.random.default_rng(1).normal(size=(1, 2, 5, 6))
    conv = nn.Conv2d(2, 3, (4, 3), padding="same", dtype="float64")
    y = conv(_t(x, backend))
    assert y.shape == (1, 3, 5, 6)
    # an even kernel puts the odd extra pixel at the bottom, as PyTorch
    padded = np.pad(x, ((0, 0), (0, 0), (1, 2), (1, 1)))
    expected = ref_conv2d(padded, conv.weight.numpy(), conv.bias.numpy())
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="stride 1"):
        conv2d(_t(x, backend), conv.weight, stride=2, padding="same")


def test_conv1d_module(backend):
    conv = nn.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2, dtype="float64")
    x = np.random.default_rng(2).normal(size=(3, 4, 11))
    y = conv(_t(x, backend))
    expected = ref_conv1d(x, conv.weight.numpy(), conv.bias.numpy(), 2, 1, 2, 2)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-12)
    assert "Conv1d(4, 6, kernel_size=3, stride=2, padding=1, dilation=2, groups=2)" == repr(conv)


def test_conv2d_gradients_first_and_second_order(backend):
    rng = np.random.default_rng(3)
    x = _t(rng.normal(size=(2, 4, 5, 4)), backend, requires_grad=True)
    w = _t(rng.normal(size=(4, 2, 3, 2)), backend, requires_grad=True)
    b = _t(rng.normal(size=4), backend, requires_grad=True)

    def f(x, w, b):
        return conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2)

    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))


def test_conv_errors(backend):
    x = ag.zeros(1, 3, 4, 4, device=backend)
    with pytest.raises(ValueError, match=r"conv2d: input of shape \(1, 3, 4, 4\) has 3 channels"):
        conv2d(x, ag.zeros(2, 4, 3, 3, device=backend))
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv2d(x, ag.zeros(2, 3, 5, 5, device=backend))
    with pytest.raises(ValueError, match="kernel"):
        conv2d(x, ag.zeros(2, 3, 3, 3, device=backend), dilation=3)
    with pytest.raises(ValueError, match=r"expected an input of shape \(N, C, H, W\)"):
        conv2d(ag.zeros(3, 4, 4, device=backend), ag.zeros(2, 3, 3, 3, device=backend))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="bias"):
        conv2d(x, ag.zeros(2, 3, 3, 3, device=backend), ag.zeros(3, device=backend))
    with pytest.raises(ValueError, match="conv1d"):
        conv1d(ag.zeros(1, 3, 2, device=backend), ag.zeros(2, 3, 5, device=backend))


def test_im2col_and_col2im_are_adjoint(backend):
    rng = np.random.default_rng(4)
    x = _t(rng.normal(size=(2, 3, 6, 5)), backend)
    args = dict(kernel_size=(3, 2), stride=(2, 1), padding=1, dilation=(1, 2))
    cols = im2col(x, **args)
    assert cols.shape == (2, 3, 5, 3 * 3 * 2)
    c = _t(rng.normal(size=cols.shape), backend)
    back = col2im(c, x.shape, **args)
    lhs = (cols.numpy() * c.numpy()).sum()
    rhs = (x.numpy() * back.numpy()).sum()
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)


# -- pooling ---------------------------------------------------------------------------------
def test_max_pool_ties_send_gradient_to_first(backend):
    x = ag.ones(1, 1, 4, 4, dtype="float64", device=backend, requires_grad=True)
    y = nn.MaxPool2d(2)(x)
    assert y.shape == (1, 1, 2, 2)
    y.sum().backward()
    expected = np.tile([[1, 0], [0, 0]], (2, 2))
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected)


def test_max_pool_padding_and_overlap(backend):
    x = np.random.default_rng(5).permutation(50).reshape(1, 2, 5, 5).astype(np.float64)
    xt = _t(x, backend, requires_grad=True)
    y = max_pool2d(xt, 3, stride=1, padding=1)
    assert y.shape == (1, 2, 5, 5)
    np.testing.assert_array_equal(
        y.numpy()[0, 0, 0, 0], x[0, 0, :2, :2].max())
    assert gradcheck(lambda t: max_pool2d(t, 3, 2, 1), (xt,))
    with pytest.raises(ValueError, match="at most half the kernel"):
        max_pool2d(xt, 2, padding=2)


@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool(backend, count_include_pad):
    x = np.random.default_rng(6).normal(size=(2, 3, 7, 6))
    pool = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=count_include_pad)
    got = pool(_t(x, backend))
    np.testing.assert_allclose(got.numpy(), ref_avg_pool2d(x, 3, 2, 1, count_include_pad),
                               rtol=1e-12)
    xt = _t(x[:1, :1], backend, requires_grad=True)
    assert gradgradcheck(pool, (xt,))


@pytest.mark.parametrize("size,out", [((8, 6), (4, 3)), ((7, 5), (3, 2)), ((5, 5), (1, 1)),
                                      ((3, 4), (5, 6))])
def test_adaptive_avg_pool(backend, size, out):
    x = np.random.default_rng(7).normal(size=(2, 3, *size))
    got = nn.AdaptiveAvgPool2d(out)(_t(x, backend))
    np.testing.assert_allclose(got.numpy(), ref_adaptive_avg_pool2d(x, out), rtol=1e-12)
    xt = _t(x[:1, :1], backend, requires_grad=True)
    assert gradcheck(lambda t: adaptive_avg_pool2d(t, out), (xt,))


def test_adaptive_avg_pool_none_and_errors(backend):
    x = ag.randn(1, 2, 6, 4, device=backend)
    assert adaptive_avg_pool2d(x, (None, 2)).shape == (1, 2, 6, 2)
    with pytest.raises(ValueError, match="adaptive_avg_pool2d"):
        adaptive_avg_pool2d(x, 0)


# -- residual networks -----------------------------------------------------------------------
def test_residual_block_shapes(backend):
    same = nn.ResidualBlock(4, 4)
    assert same.shortcut is None
    down = nn.ResidualBlock(4, 8, stride=2)
    x = ag.randn(2, 4, 6, 6, device=backend)
    assert same(x).shape == (2, 4, 6, 6)
    y = down(x)
    assert y.shape == (2, 8, 3, 3)
    assert (y.numpy() >= 0).all()  # ends with a ReLU


def test_resnet_learns(backend):
    ag.manual_seed(0)
    model = nn.ResNet(in_channels=1, num_classes=3, widths=(4, 8), blocks_per_stage=1)
    x = ag.randn(6, 1, 8, 8, device=backend)
    y = ag.tensor(np.array([0, 1, 2, 0, 1, 2]), device=backend)
    assert model(x).shape == (6, 3)
    criterion = nn.CrossEntropyLoss()
    losses = []
    for _ in range(15):
        loss = criterion(model(x), y)
        losses.append(float(loss.item()))
        model.zero_grad()
        loss.backward()
        with ag.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    assert all(p.grad is not None for p in model.parameters())
    assert losses[-1] < losses[0] * 0.7, losses


def test_cnn_step_makes_no_host_sync(backend):
    """Conv, pooling, BN, cross-entropy and their backward never read device memory back."""
    if not hasattr(backend, "expect_no_sync"):
        pytest.skip("only the fake device counts host synchronisations")
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(),
                          nn.Conv2d(4, 4, 3, groups=2), nn.AvgPool2d(2, padding=1),
                          nn.AdaptiveAvgPool2d((2, 1)), nn.Flatten(), nn.Linear(8, 3))
    x = ag.randn(5, 1, 8, 8, device=backend)
    y = ag.tensor(np.array([0, 1, 2, -100, 1]), device=backend)
    with backend.expect_no_sync():
        loss = nn.CrossEntropyLoss(label_smoothing=0.1)(model(x), y)
        loss = loss + nn.BCEWithLogitsLoss()(model(x), ag.zeros(5, 3, device=backend))
        loss = loss + nn.NLLLoss()(model(x).log_softmax(axis=1), y)
        loss.backward()
    assert all(p.grad is not None for p in model.parameters())


def test_block_max_pool_sends_the_gradient_to_the_first_maximum_on_ties(backend) -> None:
    x = ag.tensor([[[[1.0, 1.0], [0.0, 1.0]]]], device=backend, requires_grad=True)
    y = max_pool2d(x, 2)
    y.sum().backward()
    assert y.tolist() == [[[[1.0]]]]
    assert x.grad.tolist() == [[[[1.0, 0.0], [0.0, 0.0]]]]


def test_block_max_pool_matches_numpy_forward_and_backward(backend) -> None:
    rng = np.random.default_rng(0)
    data = rng.standard_normal((2, 3, 6, 4))
    x = ag.tensor(data, device=backend, requires_grad=True)
    fast = max_pool2d(x, 2)
    # (N, C, OH, OW, 4): each 2x2 block flattened row-major.
    blocks = data.reshape(2, 3, 3, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(2, 3, 3, 2, 4)
    np.testing.assert_array_equal(fast.numpy(), blocks.max(axis=-1))
    g = rng.standard_normal(fast.shape)
    fast.backward(ag.tensor(g, device=backend))
    expected = np.zeros_like(blocks)
    np.put_along_axis(expected, blocks.argmax(axis=-1)[..., None], g[..., None], axis=-1)
    expected = expected.reshape(2, 3, 3, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(2, 3, 6, 4)
    np.testing.assert_array_equal(x.grad.numpy(), expected)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_block_max_pool_first_maximum_with_many_ties(backend, k) -> None:
    """Small integers make ties common: each block's gradient goes to its first maximum
    (row-major), as argmax picks it, for every kernel offset's update of the index."""
    rng = np.random.default_rng(k)
    data = rng.integers(0, 3, (3, 2, 2 * k, 3 * k)).astype(np.float64)
    x = ag.tensor(data, device=backend, requires_grad=True)
    y = max_pool2d(x, k)
    blocks = data.reshape(3, 2, 2, k, 3, k).transpose(0, 1, 2, 4, 3, 5).reshape(3, 2, 2, 3, k * k)
    np.testing.assert_array_equal(y.numpy(), blocks.max(axis=-1))
    g = rng.standard_normal(y.shape)
    y.backward(ag.tensor(g, device=backend))
    expected = np.zeros_like(blocks)
    np.put_along_axis(expected, blocks.argmax(axis=-1)[..., None], g[..., None], axis=-1)
    expected = expected.reshape(3, 2, 2, 3, k, k).transpose(0, 1, 2, 4, 3, 5).reshape(data.shape)
    np.testing.assert_array_equal(x.grad.numpy(), expected)
