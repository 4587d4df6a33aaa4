"""GroupNorm, InstanceNorm, RMSNorm, LocalResponseNorm, the dropout variants, Unflatten,
Bilinear, CosineSimilarity, PairwiseDistance, one_hot and the parameter containers, on
every backend."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from tests.autograd.cases_norm import (
    ref_group_norm,
    ref_instance_norm,
    ref_local_response_norm,
    ref_rms_norm,
)


def _t(a, backend, **kw):
    return ag.tensor(np.asarray(a), device=backend, **kw)


def test_group_and_layer_free_norms(backend):
    x = np.random.default_rng(0).normal(size=(2, 6, 3, 3))
    t = _t(x, backend)
    gn = nn.GroupNorm(3, 6, dtype="float64").to(backend.device)
    np.testing.assert_allclose(gn(t).numpy(), ref_group_norm(x, 3), atol=1e-12)
    assert [n for n, _ in gn.named_parameters()] == ["weight", "bias"]
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(4, 6)
    rms = nn.RMSNorm((3, 3), eps=1e-6, dtype="float64").to(backend.device)
    np.testing.assert_allclose(rms(t).numpy(), ref_rms_norm(x, (3, 3)), atol=1e-12)
    lrn = nn.LocalResponseNorm(3, alpha=0.3)
    np.testing.assert_allclose(lrn(t).numpy(), ref_local_response_norm(x, 3, 0.3), atol=1e-12)
    assert nn.RMSNorm(4)(ag.randn(2, 4, device=backend)).dtype == np.float32


def test_instance_norm_running_statistics(backend):
    x = np.random.default_rng(1).normal(size=(4, 3, 5)) * 2 + 1
    layer = nn.InstanceNorm1d(3, affine=True, track_running_stats=True, momentum=0.5,
                              dtype="float64").to(backend.device)
    y = layer(_t(x, backend))
    np.testing.assert_allclose(y.numpy(), ref_instance_norm(x), atol=1e-12)
    means = x.mean(axis=2).mean(axis=0)
    variances = x.var(axis=2, ddof=1).mean(axis=0)
    np.testing.assert_allclose(layer.running_mean.numpy(), 0.5 * means, atol=1e-12)
    np.testing.assert_allclose(layer.running_var.numpy(), 0.5 + 0.5 * variances, atol=1e-12)
    assert int(layer.num_batches_tracked.numpy()) == 1
    layer.eval()
    y = layer(_t(x, backend))
    expected = (x - layer.running_mean.numpy()[:, None]) / np.sqrt(
        layer.running_var.numpy()[:, None] + 1e-5)
    np.testing.assert_allclose(y.numpy(), expected, atol=1e-12)
    plain = nn.InstanceNorm2d(3)
    assert plain.running_mean is None and plain.weight is None
    assert plain(ag.randn(3, 4, 4, device=backend)).shape == (3, 4, 4)  # unbatched
    with pytest.raises(ValueError, match="InstanceNorm2d: expected a 4-d"):
        plain(ag.randn(2, 3, device=backend))


def test_channel_dropouts_zero_whole_channels(backend):
    ag.manual_seed(0)
    x = ag.ones(8, 16, 3, 3, device=backend)
    y = nn.Dropout2d(0.5)(x).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert (per_channel.min(axis=2) == per_channel.max(axis=2)).all()  # whole channels
    assert 0 < (per_channel[:, :, 0] == 0).mean() < 1
    layer = nn.Dropout1d(0.3).eval()
    assert layer(x[:, :, 0]) is not None and (layer(x[:, :, 0]).numpy() == 1).all()
    assert nn.Dropout2d(1.0)(x).numpy().sum() == 0
    with pytest.raises(ValueError, match="dropout2d: expected a 4-d"):
        nn.Dropout2d()(ag.ones(2, 3, device=backend))


def test_alpha_dropout_keeps_standardised_statistics(backend):
    ag.manual_seed(1)
    x = ag.randn(200_000, device=backend, dtype="float64")
    y = nn.AlphaDropout(0.2)(x).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01
    dropped = y[np.isclose(y, -1.7580993408473766 * ((1.7580993408473766 ** 2 * 0.2 + 1)
                                                     * 0.8) ** -0.5 * 0.8)]
    assert 0.15 < dropped.size / y.size < 0.25
    assert nn.AlphaDropout(0.2).eval()(x) is x
    f = nn.FeatureAlphaDropout(0.5)(ag.ones(4, 6, 5, device=backend)).numpy()
    assert (f.min(axis=2) == f.max(axis=2)).all()


def test_unflatten_bilinear_similarity_distance(backend):
    assert nn.Unflatten(-1, (2, 3))(ag.zeros(4, 6, device=backend)).shape == (4, 2, 3)
    with pytest.raises(ValueError, match="does not multiply"):
        nn.Unflatten(1, (4, 2))(ag.zeros(4, 6, device=backend))
    bil = nn.Bilinear(3, 2, 4, dtype="float64").to(backend.device)
    a, b = np.ones((5, 3)), np.arange(10.0).reshape(5, 2)
    expected = np.einsum("ni,kij,nj->nk", a, bil.weight.numpy(), b) + bil.bias.numpy()
    np.testing.assert_allclose(bil(_t(a, backend), _t(b, backend)).numpy(), expected)
    assert np.abs(bil.weight.numpy()).max() <= 1 / np.sqrt(3)
    x = _t([[3.0, 4.0], [0.0, 0.0]], backend)
    y = _t([[4.0, 3.0], [1.0, 0.0]], backend)
    np.testing.assert_allclose(nn.CosineSimilarity()(x, y).numpy(), [24 / 25, 0.0])
    diff = x.numpy() - y.numpy() + 1e-6  # eps is added to the difference, as PyTorch
    np.testing.assert_allclose(nn.PairwiseDistance()(x, y).numpy(),
                               np.sqrt((diff ** 2).sum(axis=1)), rtol=1e-6)
    np.testing.assert_allclose(F.normalize(x, dim=1).numpy(), [[0.6, 0.8], [0.0, 0.0]])


def test_one_hot(backend):
    labels = _t(np.array([[0, 2], [1, 2]]), backend)
    hot = F.one_hot(labels)
    assert hot.dtype == np.int64 and hot.shape == (2, 2, 3)
    np.testing.assert_array_equal(hot.numpy()[0], [[1, 0, 0], [0, 0, 1]])
    assert F.one_hot(labels, 5).shape == (2, 2, 5)
    with pytest.raises(TypeError, match="integer"):
        F.one_hot(_t([0.5], backend))
    if not backend.is_device:
        with pytest.raises(ValueError, match="class values must be in"):
            F.one_hot(labels, 2)


def test_parameter_containers(backend):
    model = nn.Module()
    model.scales = nn.ParameterList([nn.Parameter(ag.ones(2, device=backend)),
                                     ag.zeros(3, device=backend)])
    model.extra = nn.ParameterDict({"a": ag.ones(1, device=backend)})
    model.scales.append(ag.ones(4, device=backend))
    assert [n for n, _ in model.named_parameters()] == ["scales.0", "scales.1", "scales.2",
                                                        "extra.a"]
    assert isinstance(model.scales[1], nn.Parameter) and len(model.scales) == 3
    assert "a" in model.extra and model.extra["a"].shape == (1,)
    state = model.state_dict()
    assert list(state) == ["scales.0", "scales.1", "scales.2", "extra.a"]
    with pytest.raises(TypeError, match="ParameterList: expected a Parameter"):
        model.scales.append(3.0)
    with pytest.raises(IndexError):
        model.scales[5]
