"""Layers: forward against NumPy references written here, gradchecks in float64 with respect to
the input and every parameter, BatchNorm running statistics, Dropout statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from autograd.gradcheck import gradcheck, gradgradcheck

from . import module_fn

_erf = np.vectorize(math.erf)


def _input(shape, seed=0, away_from_zero=False):
    x = np.random.default_rng(seed).standard_normal(shape)
    if away_from_zero:  # keep finite differences off the kinks at 0
        x = np.sign(x) * (np.abs(x) + 0.1)
    return x


def _check_layer(layer, x_host, backend, second_order=False):
    """gradcheck (and optionally gradgradcheck) w.r.t. the input and every parameter."""
    layer.to(backend, dtype="float64")
    names = [n for n, _ in layer.named_parameters()]
    x = ag.tensor(x_host, dtype="float64", requires_grad=True, device=backend)
    params = [ag.tensor(p.numpy(), dtype="float64", requires_grad=True, device=backend)
              for _, p in layer.named_parameters()]
    f = module_fn(layer, names)
    assert gradcheck(f, (x, *params))
    if second_order:
        assert gradgradcheck(f, (x, *params))


# -- Linear, Identity, Flatten ----------------------------------------------------------------


def test_linear_forward_matches_numpy(backend):
    layer = nn.Linear(5, 3)
    assert layer.weight.shape == (3, 5) and layer.bias.shape == (3,)
    assert layer.weight.device == backend.device and layer.weight.dtype == np.float32
    x = _input((4, 5))
    expected = x @ layer.weight.numpy().T + layer.bias.numpy()
    got = layer(ag.tensor(x, dtype="float32", device=backend)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    batched = _input((2, 4, 5))
    np.testing.assert_allclose(
        layer(ag.tensor(batched, dtype="float32", device=backend)).numpy(),
        batched @ layer.weight.numpy().T + layer.bias.numpy(), rtol=1e-5, atol=1e-6,
    )


def test_linear_default_init_bounds(backend):
    ag.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform(a=sqrt(5)) reduces to 1/sqrt(fan_in)
    w = layer.weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert np.abs(layer.bias.numpy()).max() <= bound


def test_linear_options(backend):
    layer = nn.Linear(3, 2, bias=False, dtype="float64")
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    assert layer.weight.dtype == np.float64
    assert repr(layer) == "Linear(in_features=3, out_features=2, bias=False)"
    with pytest.raises(ValueError, match="linear: input of shape"):
        layer(ag.zeros(4, 5, dtype="float64"))
    ag.manual_seed(3)
    a = nn.Linear(3, 2).weight.numpy()
    ag.manual_seed(3)
    np.testing.assert_array_equal(nn.Linear(3, 2).weight.numpy(), a)


def test_linear_gradcheck(backend):
    _check_layer(nn.Linear(4, 3), _input((2, 4)), backend, second_order=True)
    _check_layer(nn.Linear(3, 2, bias=False), _input((2, 2, 3)), backend)


def test_identity_and_flatten(backend):
    x = ag.randn(2, 3, 4, 5)
    assert nn.Identity(7, key="ignored")(x) is x
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, -1)(x).shape == (120,)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    assert nn.Flatten(-2)(x).shape == (2, 3, 20)
    np.testing.assert_array_equal(nn.Flatten()(x).numpy(), x.numpy().reshape(2, 60))
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    with pytest.raises(ValueError, match="Flatten"):
        nn.Flatten(3, 1)(x)
    _check_layer(nn.Flatten(), _input((2, 2, 3)), backend)


# -- Embedding --------------------------------------------------------------------------------


def test_embedding_forward_and_accumulating_gradient(backend):
    emb = nn.Embedding(6, 3)
    idx = ag.tensor([[1, 2, 1], [5, 1, 0]], device=backend)
    out = emb(idx)
    w = emb.weight.numpy()
    np.testing.assert_array_equal(out.numpy(), w[idx.numpy()])
    gy = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    out.backward(ag.tensor(gy, device=backend))
    expected = np.zeros_like(w)
    np.add.at(expected, idx.numpy(), gy)
    np.testing.assert_allclose(emb.weight.grad.numpy(), expected, rtol=1e-6)
    assert expected[1].any()  # index 1 appears three times: its gradients add up


def test_embedding_padding_idx(backend):
    emb = nn.Embedding(5, 2, padding_idx=-1)
    assert emb.padding_idx == 4
    np.testing.assert_array_equal(emb.weight.numpy()[4], 0)
    out = emb(ag.tensor([4, 0, 4], device=backend))
    np.testing.assert_array_equal(out.numpy()[0], 0)
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[4], 0)
    np.testing.assert_array_equal(emb.weight.grad.numpy()[0], 1)
    assert repr(emb) == "Embedding(5, 2, padding_idx=4)"
    with pytest.raises(TypeError, match="indices must be integers"):
        emb(ag.tensor([0.0, 1.0], device=backend))


def test_embedding_gradcheck(backend):
    # Without padding: with it, the padding row is deliberately left out of the gradient.
    idx = ag.tensor([[0, 3, 3], [2, 1, 0]], device=backend)
    w = ag.tensor(_input((4, 3), seed=1), requires_grad=True, device=backend)
    f = lambda w: F.embedding(idx, w)  # noqa: E731
    assert gradcheck(f, (w,))
    assert gradgradcheck(f, (w,))


# -- Dropout ----------------------------------------------------------------------------------


def test_dropout_statistics(backend):
    ag.manual_seed(0)
    p = 0.3
    drop = nn.Dropout(p)
    x = ag.ones(200_000)
    y = drop(x).numpy()
    zero_fraction = (y == 0).mean()
    assert abs(zero_fraction - p) < 0.005  # ~5 binomial standard deviations
    np.testing.assert_allclose(y[y != 0], 1 / (1 - p), rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.01  # inverted dropout keeps the expectation


def test_dropout_eval_identity_and_edge_probabilities(backend):
    x = ag.randn(10, 10)
    drop = nn.Dropout(0.5)
    assert drop.eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert float(abs(nn.Dropout(1.0)(x)).sum()) == 0
    assert repr(drop) == "Dropout(p=0.5)"
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        nn.Dropout(1.5)


def test_dropout_reproducible_and_gradient_is_the_mask(backend):
    x = ag.randn(50, 40, requires_grad=True)
    ag.manual_seed(7)
    y1 = nn.Dropout(0.4)(x)
    ag.manual_seed(7)
    y2 = nn.Dropout(0.4)(x)
    np.testing.assert_array_equal(y1.numpy(), y2.numpy())
    y1.sum().backward()
    mask = (y1.numpy() != 0) / 0.6
    np.testing.assert_allclose(x.grad.numpy(), mask, rtol=1e-6)


def test_dropout_gradcheck_with_a_fixed_mask(backend):
    x = ag.tensor(_input((3, 4)), dtype="float64", requires_grad=True, device=backend)

    def f(x):
        ag.manual_seed(11)  # the same mask on every call
        return F.dropout(x, 0.5, training=True)

    assert gradcheck(f, (x,))


# -- activations ------------------------------------------------------------------------------

_ACTIVATIONS = [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.ELU(1.5), lambda x: np.where(x > 0, x, 1.5 * np.expm1(x))),
    (nn.GELU(), lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2)))),
    (nn.GELU("tanh"),
     lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.Softplus(), lambda x: np.log1p(np.exp(x))),
    (nn.Softplus(beta=2.0, threshold=1.0),
     lambda x: np.where(2 * x > 1, x, np.log1p(np.exp(2 * x)) / 2)),
    (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)),
    (nn.LogSoftmax(dim=-1), lambda x: x - np.log(np.exp(x).sum(axis=-1, keepdims=True))),
]


@pytest.mark.parametrize("layer, ref", _ACTIVATIONS, ids=lambda v: repr(v) if
                         isinstance(v, nn.Module) else "")
def test_activation_forward_and_gradcheck(backend, layer, ref):
    x = _input((3, 4), seed=2, away_from_zero=True) * 2
    out = layer(ag.tensor(x, dtype="float64", device=backend))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), ref(x), rtol=1e-7, atol=1e-10)
    _check_layer(layer, x, backend)


def test_activation_reprs_and_softmax_axis(backend):
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.ELU()) == "ELU(alpha=1.0)"
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    assert repr(nn.Softmax(dim=0)) == "Softmax(dim=0)"
    assert nn.Softmax(axis=0).dim == 0
    x = ag.randn(3, 4)
    np.testing.assert_allclose(F.softmax(x, axis=0).numpy().sum(axis=0), 1, rtol=1e-6)
    with pytest.raises(TypeError, match="dim or axis"):
        nn.Softmax(dim=0, axis=1)
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")


# -- BatchNorm ----------------------------------------------------------------------------------


def _bn_reference(x, weight, bias, eps=1e-5):
    axes = (0, *range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight.reshape(shape) + bias.reshape(shape)


@pytest.mark.parametrize("cls, shape", [
    (nn.BatchNorm1d, (6, 3)), (nn.BatchNorm1d, (4, 3, 5)), (nn.BatchNorm2d, (3, 3, 2, 4)),
])
def test_batchnorm_forward_matches_numpy(backend, cls, shape):
    bn = cls(3)
    with ag.no_grad():
        bn.weight.copy_(ag.tensor([0.5, 1.0, 2.0], device=backend))
        bn.bias.copy_(ag.tensor([0.1, -0.2, 0.3], device=backend))
    x = _input(shape, seed=3) * 2 + 1
    got = bn(ag.tensor(x, dtype="float32", device=backend)).numpy()
    np.testing.assert_allclose(got, _bn_reference(x, bn.weight.numpy(), bn.bias.numpy()),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
def test_batchnorm_running_statistics_match_numpy(backend, momentum):
    bn = nn.BatchNorm2d(3, momentum=momentum, dtype="float64")
    mean, var = np.zeros(3), np.ones(3)
    rng = np.random.default_rng(4)
    for step in range(1, 5):
        x = rng.standard_normal((4, 3, 2, 3)) * 3 + step
        bn(ag.tensor(x, device=backend))
        m = 1 / step if momentum is None else momentum
        n = x.size // 3
        mean = (1 - m) * mean + m * x.mean(axis=(0, 2, 3))
        var = (1 - m) * var + m * x.var(axis=(0, 2, 3)) * n / (n - 1)  # unbiased
        np.testing.assert_allclose(bn.running_mean.numpy(), mean, rtol=1e-12)
        np.testing.assert_allclose(bn.running_var.numpy(), var, rtol=1e-12)
        assert int(bn.num_batches_tracked.item()) == step
    # eval normalises with the running statistics and leaves them alone
    bn.eval()
    x = rng.standard_normal((2, 3, 2, 2))
    expected = (x - mean.reshape(1, 3, 1, 1)) / np.sqrt(var.reshape(1, 3, 1, 1) + 1e-5)
    np.testing.assert_allclose(bn(ag.tensor(x, device=backend)).numpy(), expected, rtol=1e-10)
    np.testing.assert_allclose(bn.running_mean.numpy(), mean, rtol=1e-12)
    assert int(bn.num_batches_tracked.item()) == 4


def test_batchnorm_running_stats_stay_float32_and_in_place(backend):
    bn = nn.BatchNorm1d(4)
    running = bn.running_mean
    array = running.array
    bn(ag.randn(8, 4, dtype="float64"))
    assert bn.running_mean is running and running.array is array
    assert running.dtype == np.float32


def test_batchnorm_without_running_stats_or_affine(backend):
    bn = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert list(bn.state_dict()) == [] and bn.running_mean is None
    x = _input((5, 3), seed=5)
    expected = _bn_reference(x, np.ones(3), np.zeros(3))
    np.testing.assert_allclose(bn(ag.tensor(x, device=backend)).numpy(), expected, rtol=1e-10)
    bn.eval()  # still batch statistics: there are no running ones
    np.testing.assert_allclose(bn(ag.tensor(x, device=backend)).numpy(), expected, rtol=1e-10)


def test_batchnorm_errors_and_repr(backend):
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"more than 1 value per channel"):
        bn(ag.randn(1, 3))
    with pytest.raises(ValueError, match=r"expected a \(N, C\) or \(N, C, L\) input"):
        bn(ag.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="expected 3 channels"):
        bn(ag.randn(2, 4))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        nn.BatchNorm2d(3)(ag.randn(2, 3))
    assert repr(nn.BatchNorm2d(8)) == (
        "BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    )
    bn.eval()
    assert bn(ag.randn(1, 3)).shape == (1, 3)  # one sample is fine in eval mode


@pytest.mark.parametrize("cls, shape", [
    (nn.BatchNorm1d, (4, 2)), (nn.BatchNorm1d, (3, 2, 2)), (nn.BatchNorm2d, (2, 2, 2, 2)),
])
def test_batchnorm_gradcheck_train_and_eval(backend, cls, shape):
    bn = cls(2)
    with ag.no_grad():
        bn.weight.copy_(ag.tensor([1.5, -0.5], device=backend))
        bn.bias.copy_(ag.tensor([0.2, 0.3], device=backend))
    _check_layer(bn, _input(shape, seed=6), backend, second_order=True)
    bn.eval()
    _check_layer(bn, _input(shape, seed=7), backend)


# -- LayerNorm ----------------------------------------------------------------------------------


def _ln_reference(x, k, weight, bias, eps=1e-5):
    axes = tuple(range(x.ndim - k, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def test_layernorm_forward_matches_numpy(backend):
    ln = nn.LayerNorm((3, 4))
    with ag.no_grad():
        ln.weight.copy_(ag.tensor(_input((3, 4), seed=8), dtype="float32", device=backend))
        ln.bias.copy_(ag.tensor(_input((3, 4), seed=9), dtype="float32", device=backend))
    x = _input((2, 3, 4), seed=10) * 3 - 1
    np.testing.assert_allclose(
        ln(ag.tensor(x, dtype="float32", device=backend)).numpy(),
        _ln_reference(x, 2, ln.weight.numpy(), ln.bias.numpy()), rtol=1e-4, atol=1e-5,
    )
    assert repr(nn.LayerNorm(4)) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True)"


def test_layernorm_options_and_errors(backend):
    ln = nn.LayerNorm(4, elementwise_affine=False)
    assert list(ln.parameters()) == []
    x = _input((3, 4), seed=11)
    np.testing.assert_allclose(ln(ag.tensor(x, device=backend)).numpy(),
                               _ln_reference(x, 1, 1.0, 0.0), rtol=1e-10)
    assert nn.LayerNorm(4, bias=False).bias is None
    with pytest.raises(ValueError, match="does not end in normalized_shape"):
        nn.LayerNorm(5)(ag.randn(3, 4))


def test_layernorm_gradcheck(backend):
    ln = nn.LayerNorm(3)
    with ag.no_grad():
        ln.weight.copy_(ag.tensor([1.5, -0.5, 2.0], device=backend))
        ln.bias.copy_(ag.tensor([0.2, 0.3, -0.1], device=backend))
    _check_layer(ln, _input((2, 3), seed=12), backend, second_order=True)
    _check_layer(nn.LayerNorm((2, 2)), _input((2, 2, 2), seed=13), backend)


# -- models -------------------------------------------------------------------------------------


def test_small_model_trains(backend):
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.LayerNorm(16), nn.Linear(16, 1))
    x = ag.randn(64, 2)
    target = (x * ag.tensor([[1.0, -2.0]], device=backend)).sum(axis=1, keepdims=True)
    first = None
    for _ in range(100):
        loss = ((model(x) - target) ** 2).mean()
        first = first if first is not None else float(loss)
        model.zero_grad()
        loss.backward()
        with ag.no_grad():
            for p in model.parameters():
                p -= 0.05 * p.grad
    assert float(loss) < 0.1 * first


def test_no_host_syncs_in_training_steps(backend):
    """Running-stat updates, dropout masks and layer math stay on the device."""
    if not hasattr(backend, "expect_no_sync"):
        pytest.skip("only the fake device counts host synchronisations")
    model = nn.Sequential(
        nn.Linear(4, 8), nn.BatchNorm1d(8), nn.GELU(), nn.Dropout(0.2), nn.LayerNorm(8),
        nn.Linear(8, 3), nn.Softmax(dim=-1),
    )
    model2d = nn.Sequential(nn.BatchNorm2d(2, momentum=None), nn.Flatten())
    x = ag.randn(5, 4)
    with backend.expect_no_sync():
        model(x).sum().backward()
        model2d(ag.randn(3, 2, 2, 2))
        model.eval()
        model(x)
        nn.Embedding(5, 3)(ag.tensor([[1, 2], [4, 0]], device=backend))
