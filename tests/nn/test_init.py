"""nn.init: gains, fans, the statistics of every draw, orthogonality, in-place and seeding."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
import nn
from nn import init


def _param(*shape, dtype="float32"):
    return nn.Parameter(ag.zeros(*shape, dtype=dtype))


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1
    assert init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_fans_of_linear_and_conv_weights(backend):
    assert init._calculate_fan_in_and_fan_out(_param(20, 30)) == (30, 20)
    assert init._calculate_fan_in_and_fan_out(_param(8, 3, 5, 5)) == (75, 200)
    assert init._calculate_fan_in_and_fan_out(_param(4, 2, 7)) == (14, 28)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(_param(5))


def test_fills_are_in_place_and_return_the_tensor(backend):
    p = _param(3, 4)
    array, version = p.array, p._version[0]
    assert init.constant_(p, 2.5) is p
    assert p.array is array and p._version[0] > version
    np.testing.assert_array_equal(p.numpy(), 2.5)
    np.testing.assert_array_equal(init.ones_(p).numpy(), 1)
    np.testing.assert_array_equal(init.zeros_(p).numpy(), 0)
    np.testing.assert_array_equal(init.eye_(p).numpy(), np.eye(3, 4))
    assert p.requires_grad and p.grad_fn is None and p.device == backend.device


def _stats(p):
    a = p.numpy().astype(np.float64)
    return a.mean(), a.std(), a.min(), a.max()


def test_uniform_and_normal_statistics(backend):
    ag.manual_seed(0)
    p = _param(300, 400)
    mean, std, lo, hi = _stats(init.uniform_(p, -2.0, 4.0))
    assert -2.0 <= lo and hi < 4.0
    assert abs(mean - 1.0) < 0.02 and abs(std - 6 / math.sqrt(12)) < 0.02
    mean, std, _, _ = _stats(init.normal_(p, 3.0, 0.5))
    assert abs(mean - 3.0) < 0.01 and abs(std - 0.5) / 0.5 < 0.01
    mean, std, lo, hi = _stats(init.trunc_normal_(p, 0.0, 1.0, -1.0, 2.0))
    assert -1.0 <= lo and hi <= 2.0
    # mean of N(0, 1) truncated to [-1, 2]: (phi(-1) - phi(2)) / (Phi(2) - Phi(-1))
    phi = lambda v: math.exp(-v * v / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda v: (1 + math.erf(v / math.sqrt(2))) / 2  # noqa: E731
    assert abs(mean - (phi(-1) - phi(2)) / (cdf(2) - cdf(-1))) < 0.01


@pytest.mark.parametrize("shape", [(256, 512), (64, 32, 3, 3)])
def test_xavier_statistics(backend, shape):
    ag.manual_seed(1)
    p = _param(*shape)
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(p)
    gain = 2.0
    bound = gain * math.sqrt(6 / (fan_in + fan_out))
    _, std, lo, hi = _stats(init.xavier_uniform_(p, gain=gain))
    assert -bound <= lo and hi <= bound
    assert abs(std - bound / math.sqrt(3)) / std < 0.02
    _, std, _, _ = _stats(init.xavier_normal_(p, gain=gain))
    assert abs(std - gain * math.sqrt(2 / (fan_in + fan_out))) / std < 0.02


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming_statistics(backend, mode):
    ag.manual_seed(2)
    p = _param(128, 64, 3, 3)
    fan = 64 * 9 if mode == "fan_in" else 128 * 9
    std_expected = math.sqrt(2) / math.sqrt(fan)
    _, std, _, _ = _stats(init.kaiming_normal_(p, mode=mode, nonlinearity="relu"))
    assert abs(std - std_expected) / std_expected < 0.02
    _, std, lo, hi = _stats(init.kaiming_uniform_(p, mode=mode, nonlinearity="relu"))
    bound = math.sqrt(3) * std_expected
    assert -bound <= lo and hi <= bound
    assert abs(std - std_expected) / std_expected < 0.02
    # leaky_relu with a: gain sqrt(2 / (1 + a^2))
    _, std, _, _ = _stats(init.kaiming_normal_(p, a=0.5, mode=mode))
    assert abs(std - math.sqrt(2 / 1.25 / fan)) / std < 0.02
    with pytest.raises(ValueError, match="mode must be"):
        init.kaiming_normal_(p, mode="fan_avg")


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (8, 2, 3), (7, 7)])
def test_orthogonal(backend, shape):
    ag.manual_seed(3)
    p = _param(*shape, dtype="float64")
    init.orthogonal_(p, gain=1.5)
    w = p.numpy().reshape(shape[0], -1)
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(gram, 1.5**2 * np.eye(min(rows, cols)), atol=1e-10)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(_param(4))


def test_orthogonal_float32_is_orthogonal_to_float32_precision(backend):
    p = init.orthogonal_(_param(64, 64))
    w = p.numpy().astype(np.float64)
    np.testing.assert_allclose(w @ w.T, np.eye(64), atol=1e-5)


def test_manual_seed_reproduces_every_draw(backend):
    fills = [
        lambda p: init.uniform_(p), lambda p: init.normal_(p),
        lambda p: init.xavier_uniform_(p), lambda p: init.kaiming_normal_(p),
        lambda p: init.orthogonal_(p), lambda p: init.trunc_normal_(p),
    ]
    for fill in fills:
        ag.manual_seed(42)
        a = fill(_param(5, 4)).numpy()
        ag.manual_seed(42)
        b = fill(_param(5, 4)).numpy()
        np.testing.assert_array_equal(a, b)
        assert a.std() > 0


def test_init_on_a_module_with_apply(backend):
    def reinit(m):
        if isinstance(m, nn.Linear):
            init.xavier_uniform_(m.weight, gain=init.calculate_gain("tanh"))
            init.zeros_(m.bias)

    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)).apply(reinit)
    assert float(abs(model[2].bias).sum()) == 0
    assert model[0].weight.requires_grad


def test_zero_size_tensors_are_left_alone(backend):
    p = _param(0, 3)
    assert init.kaiming_uniform_(p) is p and init.orthogonal_(p) is p
    assert nn.Linear(0, 3).weight.shape == (3, 0)
