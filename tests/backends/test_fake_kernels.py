"""The fake device's ElementwiseKernel / ReductionKernel: CUDA bodies compiled as host C++,
strict about dtypes and the current device as CuPy's kernels are."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import backends
import nn
import optim
from backends.fake_kernels import compiler
from backends.kernels import common

pytestmark = pytest.mark.skipif(compiler() is None, reason="no C++ compiler for CUDA bodies")


@pytest.fixture
def fake():
    b = backends.get("fake")
    previous, b.run_cuda_bodies = b.run_cuda_bodies, True
    yield b
    b.run_cuda_bodies = previous


def test_an_elementwise_body_runs_with_broadcasting_and_scalars(fake) -> None:
    k = fake.elementwise_kernel("T x, T y, float32 a", "T z", "z = T(a * (acc_t)x + y);",
                                name="axpy", preamble="typedef float acc_t;")
    x = fake.asarray(np.arange(6, dtype=np.float16).reshape(2, 3))
    y = fake.asarray(np.array([1, 2, 3], dtype=np.float16))
    z = fake.xp.empty((2, 3), dtype=np.float16)
    k(x, y, 2.0, z)
    np.testing.assert_array_equal(fake.to_numpy(z), 2 * np.arange(6).reshape(2, 3) + [1, 2, 3])


def test_kernels_refuse_mismatched_dtypes_as_cupy_does(fake) -> None:
    k = fake.elementwise_kernel("T x", "T y", "y = x;", name="copy")
    with pytest.raises(TypeError, match="Type is mismatched"):
        k(fake.xp.ones(3, dtype="float64"), fake.xp.ones(3, dtype="float32"))


def test_kernels_launch_only_on_the_current_device() -> None:
    fake1 = backends.get("fake:1")
    k = fake1.elementwise_kernel("T x", "T y", "y = x;", name="copy")
    a = fake1.xp.ones(3)
    with pytest.raises(ValueError, match="current device"):
        k(a, fake1.xp.empty(3))
    with fake1.device_scope():
        k(a, fake1.xp.empty(3))


def test_the_sum_exp_reduction(fake) -> None:
    k = fake.reduction_kernel("T x, T m", "T s", "exp((acc_t)x - (acc_t)m)", "a + b",
                              "s = T(a)", "0", name="sum_exp", reduce_type="double",
                              preamble="typedef double acc_t;")
    x = np.random.default_rng(0).normal(size=(2, 4, 3))
    m = x.max(axis=1, keepdims=True)
    got = k(fake.asarray(x), fake.asarray(m), axis=1, keepdims=True)
    np.testing.assert_allclose(fake.to_numpy(got), np.exp(x - m).sum(axis=1, keepdims=True))


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_a_training_step_runs_the_cuda_bodies(fake, name) -> None:
    kwargs = {"SGD": {"momentum": 0.9}, "RMSprop": {"momentum": 0.5, "centered": True}}
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3)).to(fake)
    opt = getattr(optim, name)(model.parameters(), lr=0.01, **kwargs.get(name, {}))
    x = ag.randn(6, 4, device=fake)
    y = ag.tensor([0, 1, 2, 0, 1, 2], device=fake)
    before = common.launches
    for dtype in (ag.float32, ag.float64):  # state follows the parameters to float64
        model.to(dtype=dtype)
        opt.zero_grad()
        nn.functional.cross_entropy(model(x.to(dtype=dtype)), y).backward()
        opt.step()
    assert common.launches - before >= 4  # relu grad, cross-entropy grad, optimizer updates
