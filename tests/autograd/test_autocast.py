"""autocast: which op runs in which dtype, nesting, no_grad, the weight-cast cache, errors."""

import threading

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from autograd import autocast_mode

ml_dtypes = pytest.importorskip("ml_dtypes")


def _low_dtypes(backend):
    """The low dtypes autocast offers on `backend` (CuPy and the fake device: float16 only)."""
    return ["float16"] if backend.is_device else ["float16", "bfloat16"]


def _device_type(backend):
    return backend.device.split(":")[0]


def _randn(backend, *shape, requires_grad=False):
    rng = np.random.default_rng(sum(shape) + len(shape))
    return ag.tensor(rng.standard_normal(shape).astype(np.float32), device=backend.device,
                     requires_grad=requires_grad)


@pytest.mark.parametrize("low_name", ["float16", "bfloat16"])
def test_lower_precision_and_float32_ops(backend, low_name):
    if low_name not in _low_dtypes(backend):
        pytest.skip("no bfloat16 on a device (CuPy has none)")
    low = getattr(ag, low_name)
    x = _randn(backend, 4, 6)
    lin = nn.Linear(6, 5).to(backend.device)
    conv = nn.Conv2d(2, 3, 3, padding=1).to(backend.device)
    img = _randn(backend, 2, 2, 5, 5)
    target = ag.tensor([0, 1, 2, 3], device=backend.device)
    with ag.autocast(_device_type(backend), dtype=low):
        y = lin(x)
        assert y.dtype == low                              # linear
        assert (x @ x.T).dtype == low                      # matmul / @
        assert ag.matmul(x, x.T).dtype == low
        assert conv(img).dtype == low                      # conv2d (the fused GEMM)
        assert F.conv2d(img, ag.randn(4, 1, 3, 3).to(backend.device), groups=2).dtype == low
        assert y.sum().dtype == ag.float32                 # reductions
        assert y.softmax(-1).dtype == ag.float32
        assert F.log_softmax(y, dim=-1).dtype == ag.float32
        assert y.exp().dtype == ag.float32
        assert (y ** 2).dtype == ag.float32
        assert F.cross_entropy(y, target).dtype == ag.float32   # losses
        assert F.mse_loss(y, y.detach()).dtype == ag.float32
        assert F.layer_norm(y, (5,)).dtype == ag.float32        # norms
        bn = nn.BatchNorm1d(5).to(backend.device)
        assert bn(y).dtype == low   # float32 statistics, the input's dtype out (PyTorch's)
        assert bn.running_mean.dtype == ag.float32
        assert ag.relu(y).dtype == low                          # not listed: input dtype
        assert (y + y.astype(ag.float32)).dtype == ag.float32   # mixed: the wider
        x64 = x.astype(ag.float64)
        assert (x64 @ x64.T).dtype == ag.float64                # float64 is never cast
    assert lin(x).dtype == ag.float32                           # outside: as before


def test_gradients_come_back_in_the_leaf_dtype_and_match_float32(backend):
    lin = nn.Linear(8, 4).to(backend.device)
    x = _randn(backend, 16, 8)
    target = ag.tensor([0, 1, 2, 3] * 4, device=backend.device)
    F.cross_entropy(lin(x), target).backward()
    reference = [p.grad.numpy().copy() for p in lin.parameters()]
    lin.zero_grad()
    with ag.autocast(_device_type(backend), dtype=ag.float16):
        loss = F.cross_entropy(lin(x), target)
    assert loss.dtype == ag.float32
    loss.backward()
    for p, ref in zip(lin.parameters(), reference):
        assert p.grad.dtype == ag.float32
        np.testing.assert_allclose(p.grad.numpy(), ref, atol=3e-3)


def test_nested_regions(backend):
    x = _randn(backend, 3, 3)
    kind = _device_type(backend)
    with ag.autocast(kind, dtype=ag.float16):
        with ag.autocast(kind, enabled=False):
            assert (x @ x).dtype == ag.float32
            assert not ag.is_autocast_enabled(kind)
        assert (x @ x).dtype == ag.float16
        if not backend.is_device:
            with ag.autocast(kind, dtype=ag.bfloat16):
                assert (x @ x).dtype == ag.bfloat16
                assert ag.get_autocast_dtype(kind) == ag.bfloat16
            assert ag.get_autocast_dtype(kind) == ag.float16
        assert ag.is_autocast_enabled(kind)
    assert not ag.is_autocast_enabled(kind)
    assert autocast_mode.ACTIVE == 0


def test_a_region_for_another_device_type_casts_nothing(backend):
    x = _randn(backend, 3, 3)
    other = "cpu" if backend.is_device else "cuda"
    with ag.autocast(other, dtype=ag.float16):
        assert (x @ x).dtype == ag.float32


def test_fake_device_counts_as_cuda():
    fake = ag.tensor(np.eye(2, dtype=np.float32), device="fake")
    with ag.autocast("cuda"):
        assert (fake @ fake).dtype == ag.float16
        assert ag.is_autocast_enabled("fake")


def test_decorator(backend):
    kind = _device_type(backend)

    @ag.autocast(kind, dtype=ag.float16)
    def forward(a):
        return a @ a

    x = _randn(backend, 2, 2)
    assert forward(x).dtype == ag.float16
    assert (x @ x).dtype == ag.float32
    assert not ag.is_autocast_enabled(kind)


def test_inside_no_grad(backend):
    lin = nn.Linear(3, 2).to(backend.device)
    x = _randn(backend, 4, 3)
    with ag.no_grad(), ag.autocast(_device_type(backend), dtype=ag.float16):
        y = lin(x)
        assert y.dtype == ag.float16 and not y.requires_grad
        assert autocast_mode.state.cache == {}   # casts made without a graph are not cached
    with ag.autocast(_device_type(backend), dtype=ag.float16):
        with ag.no_grad():
            lin(x)
        y = lin(x)   # grad mode back on: the weight's cast is recorded, gradients flow
    y.sum().backward()
    assert lin.weight.grad is not None and lin.weight.grad.dtype == ag.float32


def _product(t):
    """The MatMul node behind `t` (on the host a float16 product's output is a cast of it)."""
    node = t.grad_fn
    while type(node).__name__ == "Cast":
        node = node.next_edges[0]
    return node


def test_weight_casts_are_cached_per_region(backend):
    w = _randn(backend, 4, 4, requires_grad=True)
    x = _randn(backend, 2, 4)
    with ag.autocast(_device_type(backend), dtype=ag.float16):
        a = x @ w
        b = (a @ w).astype(ag.float32)
        assert len(autocast_mode.state.cache) == 1          # w cast once, used twice
        ((leaf, _version, cast),) = autocast_mode.state.cache.values()
        assert leaf is w
        assert _product(a).next_edges[1] is cast.grad_fn    # both uses share the cast node
        with ag.no_grad():
            w += 1.0                                        # in place: the cached cast is stale
        c = x @ w
        assert _product(c).next_edges[1] is not cast.grad_fn
        np.testing.assert_allclose(c.astype(ag.float32).numpy(),
                                   x.numpy() @ w.numpy(), rtol=1e-2, atol=1e-2)
    assert autocast_mode.state.cache == {}                  # emptied on exit
    b.sum().backward()
    assert w.grad.dtype == ag.float32
    with ag.autocast(_device_type(backend), dtype=ag.float16, cache_enabled=False):
        x @ w
        assert autocast_mode.state.cache == {}


def test_state_is_thread_local():
    seen = []
    x = ag.randn(2, 2)
    with ag.autocast("cpu", dtype=ag.float16):
        thread = threading.Thread(target=lambda: seen.append((x @ x).dtype))
        thread.start()
        thread.join()
    assert seen == [ag.float32]


def test_bad_arguments():
    with pytest.raises(ValueError, match="device_type"):
        ag.autocast("tpu")
    with pytest.raises(ValueError, match="float16 or bfloat16"):
        ag.autocast("cpu", dtype=ag.float32)
    with pytest.raises(TypeError, match="bfloat16 is not available on cuda"):
        ag.autocast("cuda", dtype=ag.bfloat16)
    with pytest.raises(TypeError, match="enabled"):
        ag.autocast("cpu", enabled=1)


def test_host_float16_products_round_inputs_and_output():
    # On NumPy a float16 GEMM multiplies the float16-rounded inputs in float32 and rounds the
    # product once (a GPU's float32-accumulating float16 GEMM), and its gradients are float16
    # values too.
    rng = np.random.default_rng(3)
    a = rng.standard_normal((5, 300)).astype(np.float32)
    b = rng.standard_normal((300, 4)).astype(np.float32)
    ta, tb = ag.tensor(a, requires_grad=True), ag.tensor(b, requires_grad=True)
    with ag.autocast("cpu", dtype=ag.float16):
        y = ta @ tb
    a16, b16 = a.astype(np.float16).astype(np.float32), b.astype(np.float16).astype(np.float32)
    np.testing.assert_array_equal(y.numpy(), (a16 @ b16).astype(np.float16))
    y.astype(ag.float32).sum().backward()
    want = (np.ones((5, 4), np.float16).astype(np.float32) @ b16.T).astype(np.float16)
    np.testing.assert_array_equal(ta.grad.numpy(), want.astype(np.float32))
