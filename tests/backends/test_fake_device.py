"""The strict fake device refuses what breaks CuPy code and counts host synchronisations."""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest

import autograd as ag
import backends
from backends.fake_backend import FakeDeviceArray, HostSyncError


@pytest.fixture
def fake():
    b = backends.get("fake")
    b.reset_sync_count()
    return b


@pytest.fixture
def x(fake):
    return fake.asarray(np.arange(6, dtype=np.float32).reshape(2, 3))


# -- refusals ----------------------------------------------------------------------------------
def test_refuses_implicit_numpy_conversion(x):
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(x)
    with pytest.raises(TypeError):
        np.array([x, x])


@pytest.mark.parametrize("call", [np.exp, np.sum, np.tanh, lambda a: np.concatenate([a, a]),
                                  lambda a: np.where(a > 0, a, 0.0), lambda a: np.add.at(a, 0, 1)])
def test_refuses_numpy_functions_on_device_data(x, call):
    with pytest.raises(TypeError):
        call(x)


@pytest.mark.parametrize("call", [
    lambda a, h: a + h,
    lambda a, h: h + a,
    lambda a, h: h * a,
    lambda a, h: a @ h.T,
    lambda a, h: a.__iadd__(h),
    lambda a, h: a[h.astype(np.int64)[:, 0]],
    lambda a, h: a.__setitem__(..., h),
    lambda a, h: a.xp_add(h),
])
def test_refuses_host_arrays_mixed_in(fake, x, call):
    host = np.ones((2, 3), dtype=np.float32)
    FakeDeviceArray.xp_add = lambda a, h: fake.xp.add(a, h)  # via the namespace too
    try:
        with pytest.raises(TypeError, match="host numpy.ndarray"):
            call(x, host)
    finally:
        del FakeDeviceArray.xp_add


def test_refuses_host_arrays_in_namespace_calls(fake, x):
    host = np.ones((2, 3), dtype=np.float32)
    for call in (lambda: fake.xp.concatenate([x, host]), lambda: fake.xp.where(x > 0, host, x),
                 lambda: fake.xp.matmul(x, host.T), lambda: fake.scatter_add(x, host, 1.0)):
        with pytest.raises(TypeError, match="host numpy.ndarray"):
            call()


def test_scalars_mix_like_cupy(fake, x):
    assert (x * 2).dtype == np.float32  # Python scalars never upcast
    assert (x * np.float32(2)).dtype == np.float32  # NumPy scalars are accepted, as in CuPy
    assert type(np.float32(2) * x) is FakeDeviceArray
    assert type(2.0 - x) is FakeDeviceArray


def test_namespace_refusals(fake, x):
    with pytest.raises(AttributeError, match="scatter_add"):
        fake.xp.add.at(x, [0], 1.0)
    with pytest.raises(AttributeError, match="seeded generator"):
        fake.xp.random.standard_normal(3)
    with pytest.raises(AttributeError, match="errstate"):
        fake.xp.errstate(divide="ignore")
    with pytest.raises(TypeError, match="device array"):
        fake.xp.prod((2, 3))  # cupy.prod needs a device array, not a shape tuple
    with pytest.raises(TypeError, match="NumPy-only"):
        x.max(initial=0.0)
    with pytest.raises(TypeError, match="NumPy-only"):
        fake.xp.sum(x, where=x > 0)
    with pytest.raises(TypeError, match="only out=, dtype= and casting="):
        fake.xp.add(x, 1.0, where=x > 0)
    with pytest.raises(TypeError, match="ufuncs take device arrays"):
        fake.xp.exp([1.0, 2.0])
    with pytest.raises(TypeError, match="not supported on a CUDA device"):
        fake.xp.asarray([[1], [1, 2]], dtype=object)
    with pytest.raises(AttributeError):
        x.tofile  # noqa: B018 - numpy-only method


def test_refuses_other_fake_device(fake, x):
    other = backends.get("fake:1")
    y = other.asarray([1.0, 2.0, 3.0])
    assert y.device == "fake:1"
    with pytest.raises(ValueError, match="different devices"):
        x + y
    with pytest.raises(ValueError, match="different devices"):
        fake.xp.add(x, y)
    moved = fake.asarray(y)  # an explicit device -> device copy
    assert moved.device == "fake:0" and backends.backend_of_array(moved) is fake
    assert backends.backend_of_array(y) is other


# -- synchronisations -------------------------------------------------------------------------
@pytest.mark.parametrize("sync", [
    lambda a: float(a.sum()),
    lambda a: int(a[0, 0]),
    lambda a: bool(a.max() > 0),
    lambda a: a.sum().item(),
    lambda a: a.tolist(),
    lambda a: repr(a),
    lambda a: a[a > 2],
    lambda a: a.nonzero(),
    lambda a: backends.get("fake").to_numpy(a),
    lambda a: pickle.dumps(a),
    lambda a: ag.Tensor(a).item() if a.size == 1 else ag.Tensor(a).sum().item(),
    lambda a: ag.Tensor(a).numpy(),
])
def test_host_syncs_are_counted_and_forbidden(fake, x, sync):
    before = fake.sync_count
    sync(x)
    assert fake.sync_count > before
    with pytest.raises(HostSyncError, match="synchronisation"), fake.expect_no_sync():
        sync(x)


def test_device_arrays_have_no_index(fake, x):
    # cupy.ndarray has no __index__: a device int never silently becomes a Python index
    with pytest.raises(TypeError):
        range(10)[x.astype("int64")[0, 1]]
    assert not hasattr(type(x), "__index__")


def test_device_work_needs_no_sync(fake, x):
    with fake.expect_no_sync(), fake.count_syncs() as counter:
        y = fake.xp.exp(x).sum(axis=0) + x.mean()
        y = y.reshape(3, 1) * x.T[:, :1]
        y[0] = 0.0
        y += 1
        m = x > 2
        z = fake.xp.where(m, x, 0.0).max()
        _ = len(x), x.shape, x.dtype, x.ndim, x.size, list(x)
    assert counter.count == 0
    assert type(z) is FakeDeviceArray and z.shape == ()
    assert float(z) == 5.0


def test_reductions_return_device_arrays(fake, x):
    xp = fake.xp
    for r in (x.sum(), x.max(), x.mean(), xp.linalg.norm(x), xp.allclose(x, x),
              xp.count_nonzero(x), x[0, 0], xp.float32(1.0) * x.sum()):
        assert type(r) is FakeDeviceArray and r.shape == ()


def test_sync_counter_api(fake, x):
    fake.reset_sync_count()
    float(x.sum())
    float(x.sum())
    assert fake.sync_count == 2 and "float()" in fake.sync_log[-1]
    fake.reset_sync_count()
    assert fake.sync_count == 0
    with fake.forbid_host_sync(), pytest.raises(HostSyncError):
        x.sum().item()
    float(x.sum())  # allowed again outside the region


# -- array behaviour --------------------------------------------------------------------------
def test_array_api(fake, x):
    xp = fake.xp
    assert isinstance(x, xp.ndarray)
    assert x.T.shape == (3, 2) and x.mT.shape == (3, 2)
    assert x.base is None and x[0].base is not None and x.reshape(3, 2).base is not None
    assert x.copy().base is None
    assert x.astype("float32") is not None and x.astype(np.float64).dtype == np.float64
    assert x.view("int32").dtype == np.int32
    np.testing.assert_array_equal(fake.to_numpy(x.argmax(axis=1)), [2, 2])
    np.testing.assert_array_equal(fake.to_numpy(x.clip(1, 4)), [[1, 1, 2], [3, 4, 4]])
    q, r = xp.linalg.qr(x.T.astype("float64"))
    assert type(q) is FakeDeviceArray and q.shape == (3, 2)
    w = xp.lib.stride_tricks.sliding_window_view(x, 2, axis=1)
    assert type(w) is FakeDeviceArray and w.shape == (2, 2, 2)
    s = xp.lib.stride_tricks.as_strided(x, shape=(2, 2), strides=x.strides)
    assert s.shape == (2, 2)
    assert xp.finfo(xp.float32).eps > 0 and xp.inf == math.inf and xp.newaxis is None
    assert x[:, xp.newaxis].shape == (2, 1, 3)
    assert xp.concatenate([x, x]).shape == (4, 3) and xp.stack([x, x]).shape == (2, 2, 3)
    assert xp.einsum("ij,kj->ik", x, x).shape == (2, 2)
    assert xp.zeros((2, 2), dtype=xp.float32).dtype == np.float32
    assert xp.asarray(x) is x  # no copy for a device array
    assert xp.dtype("float32") == np.float32


def test_out_and_inplace_keep_identity(fake, x):
    y = x.copy()
    assert fake.xp.add(y, 1.0, out=y, casting="same_kind") is y
    y *= 2
    y[0, 0] = -1.0
    y[fake.asarray([1])] = 7.0
    np.testing.assert_array_equal(fake.to_numpy(y), [[-1, 4, 6], [7, 7, 7]])
    np.testing.assert_array_equal(fake.to_numpy(x), np.arange(6).reshape(2, 3))


def test_host_transfer_copies(fake):
    host = np.ones(3, dtype=np.float32)
    before = fake.transfer_count
    d = fake.asarray(host)
    d2 = fake.xp.asarray(host)
    assert fake.transfer_count == before + 2
    host[:] = 5
    np.testing.assert_array_equal(fake.to_numpy(d), [1, 1, 1])
    np.testing.assert_array_equal(fake.to_numpy(d2), [1, 1, 1])
    out = fake.to_numpy(d)
    out[:] = 9  # a host copy: writing to it leaves the device alone
    np.testing.assert_array_equal(fake.to_numpy(d), [1, 1, 1])
    assert fake.asarray(d) is d and fake.asarray(d, dtype="float64").dtype == np.float64


def test_copy_and_pickle(fake, x):
    with fake.expect_no_sync():
        c = copy.deepcopy(x)
    assert c is not x and fake.to_numpy(c).tolist() == fake.to_numpy(x).tolist()
    back = pickle.loads(pickle.dumps(x))
    assert type(back) is FakeDeviceArray and back.device == "fake:0"


def test_scatter_add_accumulates_repeats(fake):
    target = fake.xp.zeros(4, dtype="float32")
    fake.scatter_add(target, fake.asarray([0, 1, 1, 3]), fake.asarray([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(fake.to_numpy(target), [1, 5, 0, 4])
    fake.scatter_add(target, (fake.asarray([2, 2]),), 1.0)
    np.testing.assert_array_equal(fake.to_numpy(target), [1, 5, 2, 4])


def test_random_draws_reproducible(fake):
    fake.seed(7)
    a = fake.to_numpy(fake.normal(0.0, 1.0, (3, 2), "float32"))
    u = fake.to_numpy(fake.uniform(-1.0, 1.0, (5,), "float64"))
    fake.seed(7)
    np.testing.assert_array_equal(fake.to_numpy(fake.normal(0.0, 1.0, (3, 2), "float32")), a)
    np.testing.assert_array_equal(fake.to_numpy(fake.uniform(-1.0, 1.0, (5,), "float64")), u)
    assert a.dtype == np.float32 and u.dtype == np.float64 and ((u >= -1) & (u < 1)).all()
    fake.seed(8)
    assert not np.array_equal(fake.to_numpy(fake.normal(0.0, 1.0, (3, 2), "float32")), a)
    i = fake.integers(0, 5, (10,))
    p = fake.permutation(6)
    assert type(i) is FakeDeviceArray and i.dtype == np.int64 and p.dtype == np.int64
    assert sorted(fake.to_numpy(p).tolist()) == list(range(6))


def test_erf(fake):
    values = [-2.0, -0.5, 0.0, 0.3, 3.0]
    got = fake.to_numpy(fake.erf(fake.asarray(values)))
    np.testing.assert_allclose(got, [math.erf(v) for v in values], rtol=1e-12)


def test_memory_info_tracks_live_arrays(fake):
    before = fake.memory_info()["used_bytes"]
    big = fake.xp.zeros(1000, dtype="float64")
    view = big[10:]
    assert fake.memory_info()["used_bytes"] - before == 8000  # the view is not counted twice
    del big, view
    assert fake.memory_info()["used_bytes"] == before


def test_dlpack_stays_on_the_device(fake, x):
    assert backends.from_dlpack(x) is x
    assert x.__dlpack_device__() == (12, 0)
    with pytest.raises(BufferError):
        fake.from_dlpack(np.ones(3))
    with pytest.raises(BufferError):
        backends.get("fake:1").from_dlpack(x)
    with pytest.raises(BufferError, match="real array library"):
        np.from_dlpack(x)  # a real consumer cannot read fake device memory


def test_tensor_on_fake_device_refuses_host_conversion(fake):
    t = ag.tensor([1.0, 2.0], device="fake")
    assert t.device == "fake:0" and type(t.array) is FakeDeviceArray
    with pytest.raises(TypeError):
        np.asarray(t)


# -- the training loop --------------------------------------------------------------------------
def test_training_steps_make_no_host_sync(fake):
    ag.manual_seed(0)
    x = ag.randn(16, 4, device=fake)
    target = ag.randn(16, 1, device=fake)
    w1 = ag.randn(4, 8, device=fake, requires_grad=True)
    b1 = ag.zeros(8, device=fake, requires_grad=True)
    w2 = ag.randn(8, 1, device=fake, requires_grad=True)
    params = [w1, b1, w2]
    losses = []
    fake.reset_sync_count()
    with fake.expect_no_sync():
        for _ in range(5):
            h = (x @ w1 + b1).tanh()
            pred = h @ w2
            diff = pred - target
            # a smooth loss built from exp and log as well: log(1 + exp(d^2)) summed
            loss = ((diff * diff).exp() + 1.0).log().sum() * (1.0 / 16)
            loss.backward()
            with ag.no_grad():
                for p in params:
                    p -= 0.05 * p.grad
                    p.grad = None
            losses.append(loss.detach())
    assert fake.sync_count == 0
    values = [loss.item() for loss in losses]  # read back once, after the loop
    assert fake.sync_count == len(values)
    assert values[-1] < values[0]
