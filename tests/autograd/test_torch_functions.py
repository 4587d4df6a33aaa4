"""The `ag.` functions PyTorch programs use: joining (cat, concat, stack), random draws
(multinomial, bernoulli, normal, randperm), from_numpy, is_tensor, numel, inference_mode and
the device object."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import autograd as ag
import backends


# -- joining ------------------------------------------------------------------------------------
def test_cat_and_concat_join_along_dim_or_axis(backend) -> None:
    a = ag.tensor([[1.0, 2.0]], device=backend)
    b = ag.tensor([[3.0, 4.0], [5.0, 6.0]], device=backend)
    for y in (ag.cat([a, b]), ag.cat((a, b), dim=0), ag.cat([a, b], axis=0),
              ag.concat([a, b]), ag.concat([a, b], axis=0), ag.concatenate([a, b], dim=0)):
        assert y.numpy().tolist() == [[1, 2], [3, 4], [5, 6]]
    assert ag.cat([a.T, b.T], dim=-1).shape == (2, 3)
    assert ag.concat([a, b], axis=None).numpy().tolist() == [1, 2, 3, 4, 5, 6]  # NumPy's None
    with pytest.raises(TypeError, match="pass one of them"):
        ag.concat([a, b], axis=1, dim=0)


def test_cat_promotes_as_pytorch_and_concat_as_numpy(backend) -> None:
    i = ag.tensor([1, 2], device=backend)
    h = ag.ones(2, dtype="float16", device=backend)
    assert ag.cat([i, h]).dtype == ag.float16  # PyTorch: the floating type as it is
    assert ag.concat([i, h]).dtype == ag.float64  # NumPy widens int64 with float16


def test_cat_errors_name_the_function_and_shapes(backend) -> None:
    with pytest.raises(ValueError, match=r"cat: tensors must have the same shape except along "
                                         r"axis 0, got shapes \(1, 2\), \(1, 3\)"):
        ag.cat([ag.ones(1, 2, device=backend), ag.ones(1, 3, device=backend)])
    with pytest.raises(ValueError, match="cat: 0-d tensors cannot be concatenated"):
        ag.cat([ag.tensor(1.0, device=backend)])


def test_cat_gradients_flow_to_every_piece(backend) -> None:
    a = ag.ones(2, device=backend, requires_grad=True)
    b = ag.ones(3, dtype="float64", device=backend, requires_grad=True)
    y = ag.cat([a, b])
    assert y.dtype == ag.float64
    (y * ag.arange(5, device=backend)).sum().backward()
    assert a.grad.numpy().tolist() == [0, 1] and a.grad.dtype == ag.float32
    assert b.grad.numpy().tolist() == [2, 3, 4]


def test_stack_takes_dim_or_axis(backend) -> None:
    xs = [ag.ones(2, 3, device=backend) for _ in range(4)]
    assert ag.stack(xs, dim=1).shape == (2, 4, 3)
    assert ag.stack(xs, axis=2).shape == (2, 3, 4)
    assert ag.stack(xs).shape == (4, 2, 3)


# -- random draws -------------------------------------------------------------------------------
def test_multinomial_with_replacement_follows_the_weights(backend) -> None:
    ag.manual_seed(0)
    weights = ag.tensor([1.0, 0.0, 6.0, 3.0], device=backend)  # need not sum to 1
    draws = ag.multinomial(weights, 20000, replacement=True)
    assert draws.dtype == ag.int64 and draws.shape == (20000,)
    freq = np.bincount(draws.numpy(), minlength=4) / 20000
    assert freq[1] == 0.0  # a zero weight is never drawn
    np.testing.assert_allclose(freq, [0.1, 0.0, 0.6, 0.3], atol=0.02)


def test_multinomial_rows_draw_independently(backend) -> None:
    ag.manual_seed(1)
    weights = ag.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0], [0.0, 5.0, 0.0]], device=backend)
    draws = ag.multinomial(weights, 6, replacement=True)
    assert draws.shape == (3, 6)
    assert draws.numpy().tolist() == [[0] * 6, [2] * 6, [1] * 6]


def test_multinomial_without_replacement_draws_distinct_categories(backend) -> None:
    ag.manual_seed(2)
    weights = ag.tensor([[1.0, 2.0, 3.0, 4.0]] * 4000, device=backend)
    draws = ag.multinomial(weights, 4).numpy()  # replacement=False is PyTorch's default
    assert all(sorted(row) == [0, 1, 2, 3] for row in draws)
    first = np.bincount(draws[:, 0], minlength=4) / 4000
    np.testing.assert_allclose(first, [0.1, 0.2, 0.3, 0.4], atol=0.03)
    # the second draw: each category in proportion to its weight among those left
    p = np.array([0.1, 0.2, 0.3, 0.4])
    second = [sum(p[j] * p[i] / (1 - p[j]) for j in range(4) if j != i) for i in range(4)]
    np.testing.assert_allclose(np.bincount(draws[:, 1], minlength=4) / 4000, second, atol=0.03)


def test_multinomial_one_sample_without_replacement(backend) -> None:
    ag.manual_seed(3)
    probs = ag.tensor([0.0, 0.25, 0.75], device=backend).reshape(1, 3)
    draws = ag.cat([ag.multinomial(probs, 1) for _ in range(2000)]).numpy().ravel()
    assert 0 not in draws
    np.testing.assert_allclose((draws == 2).mean(), 0.75, atol=0.04)


def test_multinomial_is_reproducible_under_manual_seed(backend) -> None:
    weights = ag.softmax(ag.randn(3, 50, device=backend), axis=-1)
    draws = []
    for _ in range(2):
        ag.manual_seed(123)
        draws.append(ag.multinomial(weights, 5).numpy().tolist()
                     + ag.multinomial(weights, 5, replacement=True).numpy().tolist())
    assert draws[0] == draws[1]


def test_multinomial_checks_its_arguments() -> None:
    w = ag.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="without replacement"):
        ag.multinomial(w, 3)
    with pytest.raises(ValueError, match="num_samples must be positive"):
        ag.multinomial(w, 0)
    with pytest.raises(ValueError, match="1-D or 2-D"):
        ag.multinomial(ag.ones(2, 2, 2), 1)
    with pytest.raises(TypeError, match="only floating weights"):
        ag.multinomial(ag.tensor([1, 2]), 1)
    with pytest.raises(ValueError, match="finite and non-negative"):
        ag.multinomial(ag.tensor([-1.0, 2.0]), 1)
    with pytest.raises(ValueError, match="positive sum"):
        ag.multinomial(ag.tensor([[1.0, 1.0], [0.0, 0.0]]), 1)
    with pytest.raises(TypeError, match="ag.manual_seed"):
        ag.multinomial(w, 1, generator=object())


def test_bernoulli_draws_zeros_and_ones_with_the_given_probabilities(backend) -> None:
    ag.manual_seed(4)
    p = ag.tensor([0.0, 0.2, 1.0], device=backend).reshape(1, 3) * ag.ones(5000, 1,
                                                                          device=backend)
    draws = ag.bernoulli(p)
    assert draws.dtype == ag.float32 and draws.shape == (5000, 3)
    mean = draws.numpy().mean(axis=0)
    assert mean[0] == 0.0 and mean[2] == 1.0 and abs(mean[1] - 0.2) < 0.03
    fixed = ag.bernoulli(ag.zeros(5000, dtype="float64", device=backend), 0.7)
    assert fixed.dtype == ag.float64 and abs(fixed.numpy().mean() - 0.7) < 0.03
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        ag.bernoulli(p, 1.5)


def test_normal_in_pytorchs_forms(backend) -> None:
    ag.manual_seed(5)
    mean = ag.tensor([0.0, 10.0, -10.0], device=backend)
    assert ag.normal(mean, 1.0).shape == (3,)
    assert ag.normal(mean).shape == (3,)
    assert ag.normal(2.0, ag.ones(4, device=backend)).shape == (4,)
    both = ag.normal(mean.reshape(3, 1), ag.ones(1, 2, device=backend))
    assert both.shape == (3, 2)
    big = ag.normal(mean.reshape(3, 1), ag.full((1, 4000), 2.0, device=backend)).numpy()
    np.testing.assert_allclose(big.mean(axis=1), [0, 10, -10], atol=0.15)
    np.testing.assert_allclose(big.std(axis=1), [2, 2, 2], atol=0.1)
    made = ag.normal(1.0, 0.5, (2, 3), device=backend)
    assert made.shape == (2, 3) and made.dtype == ag.float32 and made.device == backend.device
    assert ag.normal(0.0, 1.0, 3, dtype=ag.float64, device=backend).dtype == ag.float64
    assert ag.normal(ag.zeros(2, dtype="float64", device=backend), 1.0).dtype == ag.float64


def test_normal_and_bernoulli_have_zero_gradients_as_in_pytorch(backend) -> None:
    mean = ag.zeros(3, device=backend, requires_grad=True)
    std = ag.ones(3, device=backend, requires_grad=True)
    y = ag.normal(mean, std)
    assert y.requires_grad
    (y * 3.0).sum().backward()
    assert mean.grad.numpy().tolist() == [0, 0, 0] and std.grad.numpy().tolist() == [0, 0, 0]
    p = ag.full((3,), 0.5, device=backend, requires_grad=True)
    ag.bernoulli(p).sum().backward()
    assert p.grad.numpy().tolist() == [0, 0, 0]


def test_normal_checks_its_arguments() -> None:
    with pytest.raises(RuntimeError, match="std must be >= 0"):
        ag.normal(ag.zeros(2), -1.0)
    with pytest.raises(RuntimeError, match="std must be >= 0"):
        ag.normal(ag.zeros(2), ag.tensor([1.0, -1.0]))
    with pytest.raises(TypeError, match="give a size"):
        ag.normal(0.0, 1.0)


def test_randperm(backend) -> None:
    ag.manual_seed(6)
    p = ag.randperm(10, device=backend)
    assert p.dtype == ag.int64 and sorted(p.numpy().tolist()) == list(range(10))
    assert ag.randperm(4, dtype=ag.float32, device=backend).dtype == ag.float32
    ag.manual_seed(6)
    assert ag.randperm(10, device=backend).numpy().tolist() == p.numpy().tolist()


def test_random_draws_need_no_host_sync_on_the_fake_device() -> None:
    fake = backends.get("fake")
    w = ag.softmax(ag.randn(2, 8, device=fake), axis=-1)
    with fake.expect_no_sync():
        ag.multinomial(w, 3)
        ag.multinomial(w, 1)
        ag.multinomial(w, 5, replacement=True)
        ag.bernoulli(w)
        ag.bernoulli(w, 0.5)
        ag.normal(w, 1.0)
        ag.normal(0.0, 1.0, (2,), device=fake)
        ag.randperm(5, device=fake)


# -- from_numpy, is_tensor, numel ------------------------------------------------------------------
def test_from_numpy_shares_memory_and_keeps_the_dtype() -> None:
    a = np.zeros(3)
    t = ag.from_numpy(a)
    assert t.dtype == ag.float64 and t.device == "cpu"
    a[0] = 5.0
    t[1] = 7.0
    assert t.numpy().tolist() == [5.0, 7.0, 0.0] and a.tolist() == [5.0, 7.0, 0.0]
    with pytest.raises(TypeError, match="expected a numpy.ndarray, got list"):
        ag.from_numpy([1, 2])


def test_is_tensor_and_numel() -> None:
    assert ag.is_tensor(ag.ones(2)) and not ag.is_tensor(np.ones(2)) and not ag.is_tensor(1.0)
    assert ag.numel(ag.ones(2, 3)) == 6 and ag.numel(ag.tensor(1.0)) == 1
    assert ag.numel(ag.ones(0, 3)) == 0
    with pytest.raises(TypeError):
        ag.numel([1, 2])


# -- inference_mode -----------------------------------------------------------------------------
def test_inference_mode_stops_recording_as_a_context_and_a_decorator() -> None:
    x = ag.ones(2, requires_grad=True)
    with ag.inference_mode():
        assert ag.is_inference_mode_enabled() and not ag.is_grad_enabled()
        assert not (x * 2).requires_grad
        with ag.inference_mode(False):  # as in PyTorch: recording is back on
            assert not ag.is_inference_mode_enabled() and (x * 2).requires_grad
        assert not (x * 2).requires_grad
    assert ag.is_grad_enabled() and not ag.is_inference_mode_enabled()

    @ag.inference_mode
    def bare(t):
        return t * 2

    @ag.inference_mode()
    def called(t):
        return t * 2

    assert not bare(x).requires_grad and not called(x).requires_grad
    assert (x * 2).requires_grad


# -- device -------------------------------------------------------------------------------------
def test_device_objects_have_type_and_index() -> None:
    d = ag.device("cuda:1")
    assert (d.type, d.index, str(d)) == ("cuda", 1, "cuda:1") and d == "cuda:1"
    assert ag.device("cuda", 1) == d and ag.device(1) == d
    assert ag.device("cpu").index is None and ag.device("cuda").index is None
    assert ag.device("numpy") == "cpu" and ag.device("cupy:0").type == "cuda"
    assert repr(d) == "device(type='cuda', index=1)" and repr(ag.device("cpu")) == \
        "device(type='cpu')"
    assert ag.device(d) is d and pickle.loads(pickle.dumps(d)) == d
    with pytest.raises(ValueError):
        ag.device("tpu")
    with pytest.raises(ValueError):
        ag.device("cuda:0", 1)
    with pytest.raises(ValueError):
        ag.device("cpu:1")


def test_devices_go_wherever_a_device_string_does(backend) -> None:
    d = ag.device(backend.device)
    x = ag.zeros(2, device=d)
    assert x.device == d and x.device.type == d.type and isinstance(x.device, ag.device)
    assert ag.tensor([1.0], device=d).to(ag.device("cpu")).device == "cpu"
    assert ag.ones(2).to(d).device == backend.device
