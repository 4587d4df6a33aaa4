"""Indexing, setitem and split/concatenate: gradients, views, versions and error messages.

The op table (cases_shape.py) checks these ops against NumPy over drawn shapes and indices;
the tests here pin down the cases that matter by name.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from autograd.gradcheck import gradcheck, gradgradcheck
from autograd.ops import indexing as indexing_ops


def _x(backend, shape=(3, 4), requires_grad=True):
    data = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) - 5.0
    return ag.tensor(data, device=backend, requires_grad=requires_grad)


def _grad_of(x, y, gy=None):
    """d<y, gy>/dx on the host (gy defaults to ones)."""
    gy = np.ones(y.shape) if gy is None else gy
    y.backward(ag.tensor(gy, device=x.device, dtype=y.dtype))
    return x.grad.numpy()


# -- advanced indices accumulate ---------------------------------------------------------------
def test_repeated_index_accumulates(backend) -> None:
    x = ag.tensor([1.0, 2.0, 3.0], device=backend, requires_grad=True)
    y = x[[0, 0, 1]]
    assert y.tolist() == [1.0, 1.0, 2.0]
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 1.0, 0.0]


def test_repeated_tensor_index_accumulates_weighted(backend) -> None:
    x = _x(backend)
    index = ag.tensor([[2, 0], [2, -1]], device=backend)
    gy = np.arange(16.0).reshape(2, 2, 4)
    got = _grad_of(x, x[index], gy)
    expected = np.zeros((3, 4))
    np.add.at(expected, np.array([[2, 0], [2, -1]]), gy)
    np.testing.assert_array_equal(got, expected)


def test_pairs_of_index_arrays_accumulate(backend) -> None:
    x = _x(backend)
    got = _grad_of(x, x[[1, 1, 0], [3, 3, 3]])
    expected = np.zeros((3, 4))
    expected[1, 3] = 2.0
    expected[0, 3] = 1.0
    np.testing.assert_array_equal(got, expected)


def test_advanced_getitem_second_order(backend) -> None:
    x = _x(backend, (3, 2))
    index = ag.tensor([0, 2, 0], device=backend)
    assert gradcheck(lambda t: t[index] * t[index], (x,))
    assert gradgradcheck(lambda t: t[index] * t[index], (x,))


def test_index_tensor_modified_after_use_is_caught(backend) -> None:
    x = _x(backend)
    index = ag.tensor([0, 1], device=backend)
    y = x[index]
    with ag.no_grad():
        index[0] = 2
    with pytest.raises(RuntimeError, match="modified in place"):
        y.sum().backward()


# -- boolean masks -----------------------------------------------------------------------------
def test_boolean_mask(backend) -> None:
    x = _x(backend)
    mask = x > 0
    y = x[mask]
    host = x.numpy()
    np.testing.assert_array_equal(y.numpy(), host[host > 0])
    np.testing.assert_array_equal(_grad_of(x, y * 3.0), np.where(host > 0, 3.0, 0.0))


def test_multi_axis_mask_and_mask_mixed_with_arrays(backend) -> None:
    x = _x(backend, (2, 3, 4))
    host = x.numpy()
    mask = np.array([[True, False, True], [False, False, True]])
    y = x[ag.tensor(mask, device=backend)]
    np.testing.assert_array_equal(y.numpy(), host[mask])
    assert y.shape == (3, 4)

    row_mask = np.array([True, False, True])
    y = x[:, ag.tensor(row_mask, device=backend), [0, 3]]
    np.testing.assert_array_equal(y.numpy(), host[:, row_mask, [0, 3]])
    gy = np.arange(4.0).reshape(2, 2)
    expected = np.zeros(host.shape)
    np.add.at(expected, (slice(None), row_mask, [0, 3]), gy)
    np.testing.assert_array_equal(_grad_of(x, y, gy), expected)


def test_empty_mask_and_empty_index(backend) -> None:
    x = _x(backend)
    y = x[x > 100]
    assert y.shape == (0,)
    y.sum().backward()
    assert x.grad.numpy().tolist() == np.zeros((3, 4)).tolist()
    assert x[[]].shape == (0, 4)


# -- basic indices -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "index",
    [
        (slice(None, None, -1),),
        (slice(None), slice(None, None, -2)),
        (slice(3, 0, -1), slice(-1, None, -3)),
        (slice(None, None, -1), 2),
    ],
    ids=["rows_reversed", "step_-2", "ranges", "with_int"],
)
def test_negative_steps(backend, index) -> None:
    x = _x(backend)
    host = x.numpy()
    y = x[index]
    np.testing.assert_array_equal(y.numpy(), host[index])
    gy = np.arange(1.0, 1.0 + y.numel()).reshape(y.shape)
    expected = np.zeros(host.shape)
    expected[index] = gy
    np.testing.assert_array_equal(_grad_of(x, y, gy), expected)


def test_none_and_ellipsis(backend) -> None:
    x = _x(backend, (2, 3, 4))
    host = x.numpy()
    for index in [(None,), (Ellipsis, None, 1), (0, Ellipsis, None), (None, 1, None, ..., 2)]:
        np.testing.assert_array_equal(x[index].numpy(), host[index])
    y = x[..., None, 1]
    assert y.shape == (2, 3, 1)
    expected = np.zeros(host.shape)
    expected[..., 1] = 1.0
    np.testing.assert_array_equal(_grad_of(x, y), expected)


def test_ellipsis_between_index_arrays_follows_numpy(backend) -> None:
    # An Ellipsis that covers no axes still separates advanced indices (the result's
    # broadcast axes then come first), as in NumPy.
    x = _x(backend, (3, 4, 2))
    host = x.numpy()
    index = (slice(None), [0, 1], Ellipsis, [1, 0])
    y = x[index]
    assert y.shape == host[index].shape == (2, 3)
    np.testing.assert_array_equal(y.numpy(), host[index])
    gy = np.arange(6.0).reshape(2, 3)
    expected = np.zeros(host.shape)
    np.add.at(expected, index, gy)
    np.testing.assert_array_equal(_grad_of(x, y, gy), expected)


def test_basic_getitem_is_a_view_sharing_the_version(backend) -> None:
    x = _x(backend, requires_grad=False)
    row = x[1]
    picked = x[[1]]
    assert row._version is x._version
    assert picked._version is not x._version
    with ag.no_grad():
        x[1, 2] = 100.0
    assert row.tolist()[2] == 100.0
    assert picked.tolist()[0][2] == 6.0 - 5.0


def test_iterating_a_tensor_gives_rows_with_gradients(backend) -> None:
    x = _x(backend, (3, 2))
    total = sum(row * float(i) for i, row in enumerate(x))
    total.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])


# -- setitem -----------------------------------------------------------------------------------
def test_setitem_is_recorded(backend) -> None:
    x = _x(backend)
    w = ag.tensor([7.0, 8.0, 9.0, 10.0], device=backend, dtype="float64", requires_grad=True)
    y = x * 1
    y[0] = w
    np.testing.assert_array_equal(y.numpy()[0], [7.0, 8.0, 9.0, 10.0])
    (y * y).sum().backward()
    expected_x = 2 * x.numpy()
    expected_x[0] = 0.0
    np.testing.assert_array_equal(x.grad.numpy(), expected_x)
    np.testing.assert_array_equal(w.grad.numpy(), 2 * w.numpy())


def test_setitem_broadcast_value_and_advanced_index(backend) -> None:
    x = _x(backend)
    w = ag.tensor([[0.5]], device=backend, dtype="float64", requires_grad=True)
    y = x * 2.0
    y[[0, 2], 1:3] = w
    host = x.numpy() * 2.0
    host[[0, 2], 1:3] = 0.5
    np.testing.assert_array_equal(y.numpy(), host)
    y.sum().backward()
    expected_x = np.full((3, 4), 2.0)
    expected_x[[0, 2], 1:3] = 0.0
    np.testing.assert_array_equal(x.grad.numpy(), expected_x)
    assert w.grad.shape == (1, 1) and w.grad.tolist() == [[4.0]]


def test_setitem_into_a_constant_tensor(backend) -> None:
    w = ag.tensor([1.0, 2.0], device=backend, dtype="float64", requires_grad=True)
    y = ag.zeros(2, 3, dtype="float64", device=backend)
    y[:, 1] = w * 3.0
    assert y.requires_grad
    y.sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_setitem_second_order(backend) -> None:
    x = _x(backend, (2, 3))
    v = ag.tensor([1.5, -0.5], device=backend, dtype="float64", requires_grad=True)

    def f(t, value):
        return indexing_ops.setitem(t * t, (slice(None), 1), value * value)

    assert gradcheck(f, (x, v))
    assert gradgradcheck(f, (x, v))


def test_setitem_on_a_leaf_that_requires_grad_raises(backend) -> None:
    x = _x(backend)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x[0] = 1.0
    assert x.numpy()[0, 0] == -5.0


def test_setitem_under_no_grad_is_in_place_and_bumps_the_version(backend) -> None:
    w = _x(backend)
    x = _x(backend, requires_grad=False)
    data = x.array
    version = x._version[0]
    y = w * x  # saves x for the gradient of w
    with ag.no_grad():
        x[0, ag.tensor([1, 2], device=backend)] = 0.0
    assert x.array is data
    assert x._version[0] == version + 1
    assert x.numpy()[0].tolist() == [-5.0, 0.0, 0.0, -2.0]
    with pytest.raises(RuntimeError, match="modified in place"):
        y.sum().backward()


def test_setitem_under_no_grad_on_a_parameter(backend) -> None:
    w = _x(backend)
    y = (w * w).sum()  # saves w
    with ag.no_grad():
        w[1] = ag.tensor([1.0, 1.0, 1.0, 1.0], device=backend, dtype="float64")
    assert w.numpy()[1].tolist() == [1.0] * 4
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_raw_index_unwraps_tensors(backend) -> None:
    t = ag.tensor([0, 2], device=backend)
    raw = indexing_ops.raw_index((t, slice(None), [t, 1], None))
    assert raw[0] is t.array
    assert raw[1] == slice(None) and raw[3] is None
    assert raw[2][0] is t.array
    assert indexing_ops.raw_index(t) is t.array
    assert indexing_ops.raw_index(3) == 3


# -- split and concatenate ---------------------------------------------------------------------
def test_split_concatenate_round_trip(backend) -> None:
    x = _x(backend, (2, 6))
    pieces = ag.split(x, [1, 4], axis=1)
    assert [p.shape for p in pieces] == [(2, 1), (2, 3), (2, 2)]
    y = ag.concatenate(pieces, axis=1)
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    gy = np.arange(12.0).reshape(2, 6)
    np.testing.assert_array_equal(_grad_of(x, y, gy), gy)


def test_split_pieces_get_their_own_gradients(backend) -> None:
    x = _x(backend, (6,))
    a, b, c = ag.split(x, 3)
    y = ag.concatenate([c * 3.0, a, b * 2.0])
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 2.0, 2.0, 3.0, 3.0]
    assert gradgradcheck(lambda t: ag.stack([p * p for p in ag.split(t, 2)], axis=1), (x,))


def test_concatenate_gradient_casts_back_to_each_dtype(backend) -> None:
    a = ag.tensor([1.0, 2.0], device=backend, dtype="float32", requires_grad=True)
    b = ag.tensor([3.0], device=backend, dtype="float64", requires_grad=True)
    y = ag.concatenate([a, b])
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert a.grad.dtype == np.float32 and a.grad.tolist() == [2.0, 4.0]
    assert b.grad.dtype == np.float64 and b.grad.tolist() == [6.0]


def test_take_along_axis_accumulates(backend) -> None:
    x = _x(backend, (2, 3))
    indices = ag.tensor([[0, 0], [2, -1]], device=backend)
    y = ag.take_along_axis(x, indices, axis=1)
    np.testing.assert_array_equal(y.numpy(), [[-5.0, -5.0], [0.0, 0.0]])
    np.testing.assert_array_equal(_grad_of(x, y), [[2.0, 0.0, 0.0], [0.0, 0.0, 2.0]])


def test_repeat_and_tile_gradients_sum_over_copies(backend) -> None:
    x = ag.tensor([1.0, 2.0, 3.0], device=backend, dtype="float64", requires_grad=True)
    ag.repeat(x, [2, 0, 3]).sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 3.0]
    x.grad = None
    ag.tile(x, (2, 2)).sum().backward()
    assert x.grad.tolist() == [4.0, 4.0, 4.0]


# -- errors ------------------------------------------------------------------------------------
def test_error_messages(backend) -> None:
    x = _x(backend)
    with pytest.raises(ValueError, match=r"concatenate: .*axis 0.*\(3, 4\), \(2, 3\)"):
        ag.concatenate([x, _x(backend, (2, 3))])
    with pytest.raises(ValueError, match="concatenate: 0-d"):
        ag.concatenate([x.sum(), x.sum()])
    with pytest.raises(ValueError, match=r"stack: .*same shape"):
        ag.stack([x, x[:2]])
    with pytest.raises(IndexError, match=r"getitem: index 3 is out of range for axis 0 of size 3"):
        x[3]
    with pytest.raises(IndexError, match=r"getitem: index -5 .* axis 1 of size 4"):
        x[0, -5]
    with pytest.raises(IndexError, match="getitem: too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="getitem: .*only one Ellipsis"):
        x[..., ...]
    with pytest.raises(IndexError, match="getitem: index arrays must hold integers"):
        x[ag.tensor([0.0, 1.0], device=backend)]
    with pytest.raises(IndexError, match=r"getitem: a boolean mask of shape \(2,\)"):
        x[ag.tensor([True, False], device=backend)]
    with pytest.raises(IndexError, match="out of (bounds|range)"):
        x[[0, 7]].numpy()  # on a device: raised at the next synchronisation
    with pytest.raises(ValueError, match=r"split: axis 1 of length 4 .* 3 equal sections"):
        ag.split(x, 3, axis=1)
    with pytest.raises(ValueError, match="split: axis 2 is out of bounds"):
        ag.split(x, 2, axis=2)
    with pytest.raises(ValueError, match="flatten: start_dim 1 comes after end_dim 0"):
        ag.flatten(x, 1, 0)
    with pytest.raises(ValueError, match=r"repeat: got 2 repeats for axis 0 of length 3"):
        ag.repeat(x, [1, 2], axis=0)
    with pytest.raises(ValueError, match="pad: pad widths must be non-negative"):
        ag.pad(x, -1)
    with pytest.raises(ValueError, match="pad: unsupported mode"):
        ag.pad(x, 1, mode="median")
    with pytest.raises(ValueError, match="take_along_axis: indices must be integers"):
        ag.take_along_axis(x, ag.tensor([0, 1], device=backend), axis=1)
