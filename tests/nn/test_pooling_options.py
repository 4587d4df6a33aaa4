"""Pooling options and variants as modules: indices and unpooling, ceil mode, 1-D pools,
adaptive max pools; on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from tests.autograd.cases_pool import ref_adaptive_max_pool2d, ref_avg_pool2d, ref_max_pool2d


def _t(a, backend, **kw):
    return ag.tensor(np.asarray(a), device=backend, **kw)


def test_max_pool_indices_and_unpool_round_trip(backend):
    x = np.random.default_rng(0).permutation(2 * 3 * 36).reshape(2, 3, 6, 6).astype(float)
    pool = nn.MaxPool2d(2, return_indices=True)
    y, idx = pool(_t(x, backend))
    assert idx.dtype == np.int64 and idx.shape == y.shape
    flat = x.reshape(2, 3, 36)
    np.testing.assert_array_equal(np.take_along_axis(flat, idx.numpy().reshape(2, 3, 9), 2),
                                  y.numpy().reshape(2, 3, 9))
    back = nn.MaxUnpool2d(2)(y, idx)
    expected = np.where(x == np.repeat(np.repeat(y.numpy(), 2, 2), 2, 3), x, 0.0)
    np.testing.assert_array_equal(back.numpy(), expected)
    assert nn.MaxUnpool2d(2)(y, idx, output_size=(1, 3, 7, 7)).shape == (2, 3, 7, 7)


def test_unpool_gradient_reads_the_positions(backend):
    y = _t(np.arange(4.0).reshape(1, 1, 2, 2), backend, requires_grad=True)
    idx = _t(np.array([[[[0, 3], [9, 14]]]]), backend)
    out = F.max_unpool2d(y, idx, 2)
    weights = _t(np.arange(16.0).reshape(1, 1, 4, 4), backend)
    (out * weights).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [[[[0, 3], [9, 14]]]])
    if not backend.is_device:  # a device would have to read the indices back to check
        with pytest.raises(ValueError, match="max_unpool2d: an index is out of range"):
            F.max_unpool2d(y, _t(np.array([[[[0, 3], [9, 16]]]]), backend), 2)


def test_ceil_mode_dilation_and_divisors(backend):
    x = np.random.default_rng(1).normal(size=(1, 2, 7, 6))
    t = _t(x, backend)
    y = nn.MaxPool2d(3, 2, 1, dilation=2, ceil_mode=True)(t)
    np.testing.assert_allclose(y.numpy(), ref_max_pool2d(x, 3, 2, 1, 2, True))
    for cip in (True, False):
        y = nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=cip)(t)
        np.testing.assert_allclose(y.numpy(), ref_avg_pool2d(x, 3, 2, 1, True, cip))
    y = nn.AvgPool2d(2, divisor_override=3)(t)
    np.testing.assert_allclose(y.numpy(), ref_avg_pool2d(x, 2, divisor_override=3))
    with pytest.raises(ValueError, match="divisor_override"):
        F.avg_pool2d(t, 2, divisor_override=0)


def test_one_d_pools_and_adaptive(backend):
    x = np.random.default_rng(2).normal(size=(2, 3, 9))
    t = _t(x, backend)
    assert nn.MaxPool1d(3, stride=2)(t).shape == (2, 3, 4)
    assert nn.AvgPool1d(2, ceil_mode=True)(t).shape == (2, 3, 5)
    y, idx = nn.MaxPool1d(3, return_indices=True)(t)
    np.testing.assert_array_equal(np.take_along_axis(x, idx.numpy(), 2), y.numpy())
    np.testing.assert_allclose(nn.AdaptiveAvgPool1d(3)(t).numpy(),
                               x.reshape(2, 3, 3, 3).mean(axis=3))
    np.testing.assert_allclose(nn.AdaptiveMaxPool1d(3)(t).numpy(),
                               x.reshape(2, 3, 3, 3).max(axis=3))
    image = np.random.default_rng(3).normal(size=(2, 2, 7, 5))
    y, idx = nn.AdaptiveMaxPool2d((3, 2), return_indices=True)(_t(image, backend))
    np.testing.assert_allclose(y.numpy(), ref_adaptive_max_pool2d(image, (3, 2)))
    np.testing.assert_array_equal(
        np.take_along_axis(image.reshape(2, 2, 35), idx.numpy().reshape(2, 2, 6), 2),
        y.numpy().reshape(2, 2, 6))
    assert nn.AdaptiveMaxPool2d((None, 1))(_t(image, backend)).shape == (2, 2, 7, 1)


def test_sequential_keeps_relu_before_a_pool_with_indices(backend):
    model = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2, return_indices=True))
    y, idx = model(_t(-np.ones((1, 1, 4, 4)), backend))
    assert (y.numpy() == 0).all() and idx.shape == (1, 1, 2, 2)
    fused = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True))
    assert fused(_t(np.ones((1, 1, 5, 5)), backend)).shape == (1, 1, 3, 3)


def test_repr_and_errors(backend):
    assert "ceil_mode=True" in repr(nn.MaxPool2d(2, ceil_mode=True))
    with pytest.raises(ValueError, match="max_pool1d: kernel_size"):
        F.max_pool1d(ag.randn(1, 1, 4, device=backend), 0)
    with pytest.raises(ValueError, match="padding"):
        F.max_pool2d(ag.randn(1, 1, 4, 4, device=backend), 2, padding=2)
