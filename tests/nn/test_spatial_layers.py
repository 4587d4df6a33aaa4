"""Upsample, PixelShuffle, Unfold/Fold and the padding modules, on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from tests.autograd.cases_resample import ref_interpolate, ref_pad


def _t(a, backend, **kw):
    return ag.tensor(np.asarray(a), device=backend, **kw)


def test_upsample_modes_match_the_reference(backend):
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    t = _t(x, backend)
    for layer, kw in [(nn.Upsample(scale_factor=2), dict(scale_factor=2.0)),
                      (nn.Upsample(size=(7, 3), mode="bilinear"),
                       dict(size=(7, 3), mode="bilinear")),
                      (nn.UpsamplingBilinear2d(scale_factor=2),
                       dict(scale_factor=2.0, mode="bilinear", align_corners=True)),
                      (nn.UpsamplingNearest2d(size=6), dict(size=6))]:
        np.testing.assert_allclose(layer(t).numpy(), ref_interpolate(x, **kw), atol=1e-12)
    line = np.random.default_rng(1).normal(size=(1, 2, 5))
    y = nn.Upsample(size=9, mode="linear", align_corners=True)(_t(line, backend))
    np.testing.assert_allclose(y.numpy(), ref_interpolate(line, 9, mode="linear",
                                                          align_corners=True))
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2, mode='nearest')"


def test_interpolate_gradient_sums_the_copies(backend):
    x = _t(np.ones((1, 1, 2, 2)), backend, requires_grad=True)
    F.interpolate(x, scale_factor=3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((1, 1, 2, 2), 9.0))
    x.grad = None
    F.interpolate(x, size=(5, 5), mode="bilinear", align_corners=True).sum().backward()
    assert x.grad.numpy().sum() == pytest.approx(25.0)  # the weights of each output sum to 1


def test_interpolate_errors(backend):
    x = ag.randn(1, 1, 3, 3, device=backend)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="expects an input of shape \\(N, C, L\\)"):
        F.interpolate(x, size=4, mode="linear")
    with pytest.raises(ValueError, match="align_corners only goes with the linear modes"):
        F.interpolate(x, size=4, align_corners=True)
    with pytest.raises(ValueError, match="bicubic"):
        F.interpolate(x, size=4, mode="bicubic")


def test_pixel_shuffle_round_trip_and_unfold_fold(backend):
    x = np.random.default_rng(2).normal(size=(2, 8, 3, 4))
    t = _t(x, backend)
    y = nn.PixelShuffle(2)(t)
    assert y.shape == (2, 2, 6, 8)
    np.testing.assert_array_equal(nn.PixelUnshuffle(2)(y).numpy(), x)
    assert nn.PixelShuffle(2)(_t(x[0], backend)).shape == (2, 6, 8)  # unbatched
    cols = nn.Unfold(2, stride=2)(_t(x, backend))
    assert cols.shape == (2, 32, 2)
    back = nn.Fold((2, 4), 2, stride=2)(cols)
    np.testing.assert_array_equal(back.numpy(), x[:, :, :2, :4])  # disjoint windows: exact
    ones = F.fold(F.unfold(_t(np.ones((1, 1, 3, 3)), backend), 2), (3, 3), 2)
    np.testing.assert_array_equal(ones.numpy()[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    with pytest.raises(ValueError, match="fold: input of shape"):
        F.fold(cols, (3, 3), 2)


def test_padding_modules(backend):
    x = np.arange(12.0).reshape(1, 1, 3, 4)
    t = _t(x, backend)
    cases = [(nn.ZeroPad2d((1, 0, 2, 1)), (1, 0, 2, 1), "constant", None),
             (nn.ConstantPad2d(1, 2.5), (1, 1, 1, 1), "constant", 2.5),
             (nn.ReflectionPad2d(2), (2, 2, 2, 2), "reflect", None),
             (nn.ReplicationPad2d((0, 3, 1, 0)), (0, 3, 1, 0), "replicate", None),
             (nn.CircularPad2d(1), (1, 1, 1, 1), "circular", None)]
    for layer, widths, mode, value in cases:
        np.testing.assert_array_equal(layer(t).numpy(), ref_pad(x, widths, mode, value))
    line = _t(x[0], backend)  # (C, H, W) seen as a batched 1-D input
    np.testing.assert_array_equal(nn.ReflectionPad1d((1, 2))(line).numpy(),
                                  ref_pad(x[0], (1, 2), "reflect"))
    with pytest.raises(ValueError, match="reflect padding .* must be smaller than"):
        nn.ReflectionPad2d(3)(t)
    with pytest.raises(ValueError, match="takes no value"):
        F.pad(t, (1, 1), "reflect", value=1.0)
    np.testing.assert_array_equal(F.pad(t, (-1, -1, 0, 0)).numpy(), x[..., 1:3])
