"""Out-of-range integer indices never wrap silently on a device (CuPy wraps them; the fake
device models that), and checking them costs no host synchronisation per indexing op."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import backends


def _x(backend, requires_grad=False):
    return ag.tensor(np.arange(6.0).reshape(3, 2), device=backend, requires_grad=requires_grad)


def test_the_fake_device_wraps_index_arrays_as_cupy_does() -> None:
    fake = backends.get("fake")
    a = fake.asarray(np.arange(6.0).reshape(3, 2))
    idx = fake.asarray(np.array([0, 7, -4]))
    np.testing.assert_array_equal(fake.to_numpy(a[idx]), [[0, 1], [2, 3], [4, 5]])
    a[idx] = 9.0
    assert fake.to_numpy(a)[1].tolist() == [9.0, 9.0]
    t = fake.xp.zeros(3)
    fake.scatter_add(t, fake.asarray(np.array([4, 4])), 1.0)
    assert fake.to_numpy(t).tolist() == [0.0, 2.0, 0.0]
    with pytest.raises(IndexError):
        a[5]  # a Python int is checked, on CuPy too


@pytest.mark.parametrize("case", ["getitem", "getitem_tensor", "setitem", "setitem_recorded",
                                  "take_along_axis", "second_axis"])
def test_out_of_range_indices_raise(backend, case) -> None:
    x = _x(backend, requires_grad=case == "setitem_recorded")
    bad = ag.tensor([0, 7], device=backend)
    with pytest.raises(IndexError, match="out of (range|bounds)"):
        if case == "getitem":
            x[[0, 7]].numpy()
        elif case == "getitem_tensor":
            x[bad].numpy()
        elif case == "setitem":
            with ag.no_grad():
                x[bad] = 1.0
            x.numpy()
        elif case == "setitem_recorded":
            y = x * 1.0
            y[bad] = 1.0
            y.sum().item()
        elif case == "take_along_axis":
            ag.take_along_axis(x, ag.tensor([[0], [2], [3]], device=backend), 0).numpy()
        else:
            x[:, [1, -3]].numpy()


def test_device_index_checks_cost_no_sync_and_name_the_op() -> None:
    fake = backends.get("fake")
    x = _x(fake, requires_grad=True)
    fake.raise_index_errors()
    with fake.expect_no_sync():
        y = x[ag.tensor([2, 3], device=fake)]  # wraps on the device; noted, not read back
        loss = (y * y).sum()
        loss.backward()  # scatter_add of the same (wrapped) indices
    with pytest.raises(IndexError, match=r"getitem: an index array into axis 0 of size 3"):
        fake.synchronize()
    fake.synchronize()  # reported once: the flags are cleared
    with fake.expect_no_sync():
        x[ag.tensor([0, -3], device=fake)]  # in range: noted, nothing to report
    fake.raise_index_errors()


def test_eager_index_checks_raise_at_the_op(monkeypatch) -> None:
    fake = backends.get("fake")
    monkeypatch.setenv("KEDJA_CHECK_INDICES", "eager")
    x = _x(fake)
    with pytest.raises(IndexError, match="getitem: an index array"):
        x[[0, 3]]
    with fake.count_syncs() as syncs:
        x[[0, 2]]
    assert syncs.count == 1
