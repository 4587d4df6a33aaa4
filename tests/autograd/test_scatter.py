"""Selection and scatter at their edges: repeated indices, tied extremes, zeros in products,
second order, and the errors (the op table covers drawn shapes; this file the exact rules)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from autograd.gradcheck import gradcheck, gradgradcheck


def _t(data, backend, requires_grad=False, dtype="float64"):
    return ag.tensor(np.asarray(data, dtype=dtype), device=backend, requires_grad=requires_grad)


def _i(data, backend):
    return ag.tensor(np.asarray(data, dtype=np.int64), device=backend)


def test_scatter_with_repeated_indices_keeps_the_last_write_and_its_gradient(backend) -> None:
    x = _t([0.0, 0.0, 0.0], backend, requires_grad=True)
    src = _t([1.0, 2.0, 3.0, 4.0], backend, requires_grad=True)
    y = x.scatter(0, _i([2, 0, 2, 2], backend), src)
    assert y.tolist() == [2.0, 0.0, 4.0]
    y.backward(_t([10.0, 20.0, 30.0], backend))
    assert src.grad.tolist() == [0.0, 10.0, 0.0, 30.0]  # only the written values
    assert x.grad.tolist() == [0.0, 20.0, 0.0]  # only where nothing was written
    assert gradgradcheck(lambda a, b: a.scatter(0, _i([2, 0, 2, 2], backend), b), [x, src])


def test_scatter_add_and_index_add_accumulate(backend) -> None:
    x = _t(np.zeros((2, 3)), backend, requires_grad=True)
    src = _t([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], backend, requires_grad=True)
    index = _i([[0, 0, 2], [0, 2, 2]], backend)
    y = x.scatter_add(1, index, src)
    assert y.tolist() == [[3.0, 0.0, 3.0], [4.0, 0.0, 11.0]]
    gy = _t([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], backend)
    y.backward(gy)
    assert src.grad.tolist() == [[1.0, 1.0, 3.0], [4.0, 6.0, 6.0]]  # gy gathered at index
    s = _t([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], backend, requires_grad=True)
    z = _t(np.zeros((2, 2)), backend).index_add(0, _i([1, 1, 0], backend), s, alpha=2.0)
    assert z.tolist() == [[6.0, 6.0], [6.0, 6.0]]
    assert gradgradcheck(lambda a, b: a.index_add(0, _i([1, 1, 0], backend), b, alpha=2.0),
                         [_t(np.ones((2, 2)), backend, True), s])


def test_gather_and_index_select_sum_repeated_picks(backend) -> None:
    x = _t([[1.0, 2.0], [3.0, 4.0]], backend, requires_grad=True)
    y = x.gather(1, _i([[0, 0, 1], [1, 1, 1]], backend))
    assert y.tolist() == [[1.0, 1.0, 2.0], [4.0, 4.0, 4.0]]
    y.sum().backward()
    assert x.grad.tolist() == [[2.0, 1.0], [0.0, 3.0]]
    x.grad = None
    x.index_select(0, _i([1, 1, 0], backend)).sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0], [2.0, 2.0]]


@pytest.mark.parametrize("reduce", ["amax", "amin"])
def test_scatter_reduce_extremes_share_ties_evenly(backend, reduce) -> None:
    sign = 1.0 if reduce == "amax" else -1.0
    x = _t(sign * np.array([5.0, 0.0, 1.0]), backend, requires_grad=True)
    src = _t(sign * np.array([5.0, 2.0, 2.0, 0.5]), backend, requires_grad=True)
    index = _i([0, 1, 1, 2], backend)
    y = x.scatter_reduce(0, index, src, reduce)
    assert (sign * y.numpy()).tolist() == [5.0, 2.0, 1.0]
    y.backward(_t([6.0, 4.0, 8.0], backend))
    # position 0: x and src[0] tie; position 1: src[1] and src[2] tie; position 2: x wins
    assert x.grad.tolist() == [3.0, 0.0, 8.0]
    assert src.grad.tolist() == [3.0, 2.0, 2.0, 0.0]
    x.grad = src.grad = None
    y = x.scatter_reduce(0, index, src, reduce, include_self=False)
    assert (sign * y.numpy()).tolist() == [5.0, 2.0, 0.5]
    y.backward(_t([6.0, 4.0, 8.0], backend))
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    assert src.grad.tolist() == [6.0, 2.0, 2.0, 8.0]


@pytest.mark.parametrize("x_data, src_data", [
    ([2.0, 3.0], [0.0, 1.5, 4.0]),   # one zero among the factors of position 0
    ([0.0, 3.0], [0.0, 1.5, 4.0]),   # two zeros (x's and src's)
    ([0.0, 3.0], [0.0, 0.0, 4.0]),   # three zeros
    ([2.0, -3.0], [0.5, 1.5, 4.0]),  # none
])
def test_scatter_reduce_prod_is_exact_with_zeros_to_second_order(backend, x_data,
                                                                  src_data) -> None:
    x = _t(x_data, backend, requires_grad=True)
    src = _t(src_data, backend, requires_grad=True)
    index = _i([0, 0, 1], backend)
    for include_self in (True, False):
        y = x.scatter_reduce(0, index, src, "prod", include_self=include_self)
        factors = ([x_data[0]] if include_self else []) + src_data[:2]
        assert y.tolist()[0] == pytest.approx(float(np.prod(factors)))
        assert gradcheck(lambda a, b, s=include_self: a.scatter_reduce(0, index, b, "prod",
                                                                       include_self=s),
                         [x, src])
        assert gradgradcheck(lambda a, b, s=include_self: a.scatter_reduce(0, index, b, "prod",
                                                                           include_self=s),
                             [x, src])


def test_scatter_reduce_mean_and_untouched_positions(backend) -> None:
    x = _t([1.0, 2.0, 3.0], backend, requires_grad=True)
    src = _t([3.0, 5.0], backend, requires_grad=True)
    index = _i([0, 0], backend)
    assert x.scatter_reduce(0, index, src, "mean").tolist() == [3.0, 2.0, 3.0]
    y = x.scatter_reduce(0, index, src, "mean", include_self=False)
    assert y.tolist() == [4.0, 2.0, 3.0]
    y.backward(_t([2.0, 1.0, 1.0], backend))
    assert x.grad.tolist() == [0.0, 1.0, 1.0] and src.grad.tolist() == [1.0, 1.0]
    ints = ag.tensor([1, 2], device=backend)
    assert ints.scatter_reduce(0, _i([0, 0], backend), ag.tensor([2, 4], device=backend),
                               "mean").tolist() == [2, 2]  # PyTorch rounds down


def test_index_fill_and_masked_fill_with_a_tensor_value(backend) -> None:
    x = _t([[1.0, 2.0], [3.0, 4.0]], backend, requires_grad=True)
    v = _t(9.0, backend, requires_grad=True)
    y = x.index_fill(1, _i([1, 1], backend), v)  # a repeated index fills once
    assert y.tolist() == [[1.0, 9.0], [3.0, 9.0]]
    y.sum().backward()
    assert v.grad.item() == 2.0 and x.grad.tolist() == [[1.0, 0.0], [1.0, 0.0]]
    x.grad = v.grad = None
    mask = ag.tensor([True, False], device=backend)
    z = x.masked_fill(mask, v)
    assert z.tolist() == [[9.0, 2.0], [9.0, 4.0]]
    (z * _t([[1.0, 2.0], [3.0, 4.0]], backend)).sum().backward()
    assert v.grad.item() == 4.0 and x.grad.tolist() == [[0.0, 2.0], [0.0, 4.0]]
    assert gradgradcheck(lambda a, b: a.masked_fill(mask, b) ** 2, [x, v])


def test_index_copy_last_write_wins(backend) -> None:
    x = _t(np.zeros((3, 2)), backend, requires_grad=True)
    source = _t([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], backend, requires_grad=True)
    y = x.index_copy(0, _i([2, 0, 2], backend), source)
    assert y.tolist() == [[2.0, 2.0], [0.0, 0.0], [3.0, 3.0]]
    y.sum().backward()
    assert source.grad.tolist() == [[0.0, 0.0], [1.0, 1.0], [1.0, 1.0]]
    assert x.grad.tolist() == [[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]]


def test_masked_select_nonzero_and_take_along_dim(backend) -> None:
    x = _t([[1.0, -2.0], [-3.0, 4.0]], backend, requires_grad=True)
    picked = x.masked_select(x > 0)
    assert picked.tolist() == [1.0, 4.0]
    picked.sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert (x > 0).nonzero().tolist() == [[0, 0], [1, 1]]
    rows, cols = (x > 0).nonzero(as_tuple=True)
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1]
    assert _t(1.0, backend).nonzero().shape == (1, 0)
    assert x.take_along_dim(_i([[1], [0]], backend), 1).tolist() == [[-2.0], [-3.0]]
    assert x.take_along_dim(_i([3, 0], backend)).tolist() == [4.0, 1.0]
    assert x.where(x > 0, 0.0).tolist() == [[1.0, 0.0], [0.0, 4.0]]


def test_errors_name_the_op(backend) -> None:
    x = _t(np.zeros((2, 3)), backend)
    with pytest.raises(ValueError, match="gather: index .* as many dims"):
        x.gather(1, _i([0, 1], backend))
    with pytest.raises(ValueError, match="scatter_add: index of shape"):
        x.scatter_add(1, _i(np.zeros((3, 3)), backend), _t(np.zeros((3, 3)), backend))
    with pytest.raises(TypeError, match="scatter: give exactly one"):
        x.scatter(0, _i([[0]], backend))
    with pytest.raises(ValueError, match="scatter_reduce: reduce must be one of"):
        x.scatter_reduce(0, _i([[0]], backend), x, "max")
    with pytest.raises(TypeError, match="masked_fill: mask must be a bool"):
        x.masked_fill(ag.tensor([1, 0, 1], device=backend), 0.0)
    with pytest.raises(ValueError, match="index_add: source has shape"):
        x.index_add(0, _i([0], backend), _t(np.zeros((2, 3)), backend))
    if not backend.is_device:  # the range is checked on the host only (no device read)
        with pytest.raises(IndexError, match="gather: index 3 is out of bounds for dim 1"):
            x.gather(1, _i([[3]], backend))
        with pytest.raises(IndexError, match="index_select: index -1 is out of bounds"):
            x.index_select(0, _i([-1], backend))


def test_in_place_forms(backend) -> None:
    x = _t(np.zeros((2, 3)), backend)
    x.scatter_(1, _i([[2], [0]], backend), 5.0)
    x.index_add_(0, _i([1], backend), _t([[1.0, 1.0, 1.0]], backend))
    x.masked_fill_(x == 1.0, -1.0)
    x.index_fill_(1, _i([1], backend), 7.0)
    assert x.tolist() == [[0.0, 7.0, 5.0], [6.0, 7.0, -1.0]]
    with pytest.raises(RuntimeError, match="does not fit the tensor of shape"):
        _t(np.zeros(3), backend).masked_fill_(ag.ones(2, 3, device=backend) > 0, 1.0)
