"""Structure ops at their edges: indices and tie conventions of sort/topk/kthvalue/median/
cummax/cummin (the gradient goes to the index returned), cumprod exact at zeros (second order
too), logcumsumexp with -inf, searchsorted, logic, norms at 0, and the method (PyTorch) vs
function (NumPy) dialects."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag

GY = np.array([1.0, 10.0, 100.0, 1000.0])


def _t(backend, values, grad=True):
    return ag.tensor(np.asarray(values, dtype="float64"), device=backend, requires_grad=grad)


def _backward(y, backend, weights=None):
    w = GY[: y.shape[-1]] if weights is None else weights
    y.backward(ag.tensor(np.broadcast_to(w, y.shape).copy(), device=backend))


def test_sort_ties_route_by_the_returned_index(backend) -> None:
    x = _t(backend, [2.0, 1.0, 2.0, 1.0])
    values, indices = x.sort(stable=True)
    assert indices.numpy().tolist() == [1, 3, 0, 2] and indices.dtype == np.int64
    _backward(values, backend)
    np.testing.assert_array_equal(x.grad.numpy(), [100.0, 1.0, 1000.0, 10.0])
    x.grad = None
    values, indices = x.sort(descending=True, stable=True)
    assert indices.numpy().tolist() == [0, 2, 1, 3]  # stable: ties keep their order
    _backward(values, backend)
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 100.0, 10.0, 1000.0])


def test_unstable_sort_still_routes_ties_by_index(backend) -> None:
    x = _t(backend, [1.0, 1.0, 1.0, 0.0])
    values, indices = x.sort()
    _backward(values, backend)
    np.testing.assert_array_equal(x.grad.numpy()[indices.numpy()], GY)
    assert ag.argsort(_t(backend, [1.0, 0.0, 1.0], False), kind="stable").numpy().tolist() == [
        1, 0, 2]


def test_sort_dialects_and_nan(backend) -> None:
    x = _t(backend, [[3.0, np.nan, 1.0], [0.0, -1.0, 2.0]], grad=False)
    np.testing.assert_array_equal(ag.sort(x).numpy(), np.sort(x.numpy()))
    np.testing.assert_array_equal(ag.sort(x, axis=None).numpy(), np.sort(x.numpy(), axis=None))
    assert x.sort(dim=0).indices.numpy().tolist() == [[1, 1, 0], [0, 0, 1]]
    assert x.sort(descending=True).indices.numpy()[0].tolist() == [1, 0, 2]  # NaN is largest
    np.testing.assert_array_equal(ag.argsort(x, axis=None).numpy(), np.argsort(x.numpy(), None))
    assert x.argsort(dim=1, descending=True).numpy().tolist() == [[1, 0, 2], [2, 0, 1]]
    assert ag.argsort(x).grad_fn is None


def test_topk_kthvalue_median_indices(backend) -> None:
    x = _t(backend, [[4.0, 1.0, 3.0, 1.0], [2.0, 2.0, 0.0, 5.0]])
    values, indices = x.topk(2)
    np.testing.assert_array_equal(values.numpy(), [[4.0, 3.0], [5.0, 2.0]])
    assert indices.numpy().tolist() == [[0, 2], [3, 0]] or indices.numpy()[1, 1] in (0, 1)
    v, i = ag.topk(x, 3, dim=1, largest=False)
    np.testing.assert_array_equal(v.numpy(), [[1.0, 1.0, 3.0], [0.0, 2.0, 2.0]])
    assert i.numpy()[0].tolist() == [1, 3, 2]  # equal values come out in index order
    kv = x.kthvalue(2, dim=1)
    np.testing.assert_array_equal(kv.values.numpy(), [1.0, 2.0])
    med = x.median(dim=1)
    np.testing.assert_array_equal(med.values.numpy(), [1.0, 2.0])  # the lower middle
    _backward(med.values, backend, np.array([1.0, 10.0]))
    grad = x.grad.numpy()
    rows = np.arange(2)
    np.testing.assert_array_equal(grad[rows, med.indices.numpy()], [1.0, 10.0])
    assert grad.sum() == 11.0
    assert x.median().item() == 2.0
    np.testing.assert_array_equal(ag.median(x, axis=1).numpy(), [2.0, 2.0])  # NumPy's mean


def test_median_with_nan(backend) -> None:
    x = _t(backend, [[1.0, np.nan, 3.0], [5.0, 4.0, 6.0]], grad=False)
    med = x.median(dim=1)
    assert np.isnan(med.values.numpy()[0]) and med.indices.numpy()[0] == 1
    nm = x.nanmedian(dim=1)
    np.testing.assert_array_equal(nm.values.numpy(), [1.0, 5.0])
    assert nm.indices.numpy().tolist() == [0, 0]
    assert np.isnan(ag.median(x, axis=1).numpy()[0])


def test_quantile_methods_match_numpy(backend) -> None:
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 5))
    x = _t(backend, a, grad=False)
    for method in ("linear", "lower", "higher", "nearest", "midpoint"):
        np.testing.assert_allclose(ag.quantile(x, [0.1, 0.5, 1.0], axis=1, method=method)
                                   .numpy(), np.quantile(a, [0.1, 0.5, 1.0], axis=1,
                                                         method=method), rtol=1e-12)
    np.testing.assert_allclose(ag.percentile(x, 30, axis=(0, 1), keepdims=True).numpy(),
                               np.percentile(a, 30, axis=(0, 1), keepdims=True), rtol=1e-12)
    with pytest.raises(ValueError, match="q must lie in"):
        ag.quantile(x, 1.5)
    with pytest.raises(ValueError, match="method must be one of"):
        ag.quantile(x, 0.5, method="weibull")


def test_cummax_cummin_indices_and_ties(backend) -> None:
    x = _t(backend, [1.0, 3.0, 3.0, 2.0])
    values, indices = x.cummax(0)
    np.testing.assert_array_equal(values.numpy(), [1.0, 3.0, 3.0, 3.0])
    assert indices.numpy().tolist() == [0, 1, 2, 2]  # a tie takes the later index (PyTorch)
    _backward(values, backend)
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 10.0, 1100.0, 0.0])
    values, indices = ag.cummin(_t(backend, [[2.0, np.nan, 1.0], [3.0, 1.0, 1.0]], False), 1)
    assert indices.numpy().tolist() == [[0, 1, 1], [0, 1, 2]]
    assert np.isnan(values.numpy()[0, 2])


def test_cumprod_is_exact_at_zeros(backend) -> None:
    x = _t(backend, [2.0, 0.0, 3.0, 0.0])
    y = ag.cumprod(x)
    _backward(y, backend)
    # dy_i/dx_k = prod_{j<=i, j!=k} x_j, weighted by GY_i.
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0 * 10 + 6.0 * 100, 0.0, 0.0])
    a = ag.tensor(np.array([[0.0, 2.0, 0.0], [1.5, 0.0, 4.0]]), device=backend,
                  requires_grad=True)
    assert ag.gradcheck(lambda t: t.cumprod(1), (a,))
    assert ag.gradgradcheck(lambda t: t.cumprod(1), (a,))
    assert ag.gradgradcheck(lambda t: t.cumprod(0), (a,))


def test_cumsum_dialects(backend) -> None:
    x = _t(backend, [[1.0, 2.0], [3.0, 4.0]], grad=False)
    np.testing.assert_array_equal(ag.cumsum(x).numpy(), [1.0, 3.0, 6.0, 10.0])  # flattened
    np.testing.assert_array_equal(x.cumsum(1).numpy(), [[1.0, 3.0], [3.0, 7.0]])
    with pytest.raises(TypeError, match="dim"):
        x.cumsum()
    assert x.cumsum(axis=0).numpy().tolist() == [[1.0, 2.0], [4.0, 6.0]]
    ints = ag.tensor(np.array([True, True, False]), device=backend)
    assert ag.cumsum(ints).numpy().tolist() == [1, 2, 2]
    assert _t(backend, 2.0, False).cumsum(0).shape == ()


def test_logcumsumexp_is_stable_and_handles_minus_infinity(backend) -> None:
    x = _t(backend, [-np.inf, -np.inf, 1000.0, 0.0])
    y = x.logcumsumexp(0)
    np.testing.assert_allclose(y.numpy(), [-np.inf, -np.inf, 1000.0, 1000.0], rtol=1e-15)
    _backward(y, backend)
    # gx_k = sum_{i >= k} gy_i exp(x_k - y_i); an all -inf prefix passes nothing.
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 1100.0, 0.0], rtol=1e-12)
    z = _t(backend, [-1000.0, 0.0]).logcumsumexp(0)
    np.testing.assert_allclose(z.numpy(), [-1000.0, 0.0])


def test_searchsorted(backend) -> None:
    seq = ag.tensor(np.array([1.0, 2.0, 2.0, 5.0]), device=backend)
    v = ag.tensor(np.array([0.0, 2.0, 3.0, 6.0]), device=backend)
    assert ag.searchsorted(seq, v).numpy().tolist() == [0, 1, 3, 4]
    assert ag.searchsorted(seq, v, side="right").numpy().tolist() == [0, 3, 3, 4]
    rows = ag.tensor(np.array([[1.0, 3.0, 5.0], [2.0, 2.0, 4.0]]), device=backend)
    vals = ag.tensor(np.array([[3.0, 0.0], [2.0, 9.0]]), device=backend)
    assert ag.searchsorted(rows, vals).numpy().tolist() == [[1, 0], [0, 3]]
    assert ag.searchsorted(rows, vals, right=True).numpy().tolist() == [[2, 0], [2, 3]]
    unsorted = ag.tensor(np.array([5.0, 1.0, 2.0]), device=backend)
    order = ag.tensor(np.array([1, 2, 0]), device=backend)
    assert ag.searchsorted(unsorted, v, sorter=order).numpy().tolist() == [0, 1, 2, 3]


def test_tests_and_logic(backend) -> None:
    x = _t(backend, [np.nan, np.inf, -np.inf, 1.0], grad=False)
    assert x.isnan().numpy().tolist() == [True, False, False, False]
    assert ag.isinf(x).numpy().tolist() == [False, True, True, False]
    assert x.isfinite().numpy().tolist() == [False, False, False, True]
    assert x.isposinf().numpy().tolist() == [False, True, False, False]
    ints = ag.tensor(np.array([1, 2]), device=backend)
    assert ints.isfinite().numpy().tolist() == [True, True]
    assert ag.isclose(x, x, equal_nan=True).numpy().tolist() == [True, True, True, True]
    assert x.allclose(x, equal_nan=True) is True
    assert ag.allclose(_t(backend, [1.0]), 1.0 + 1e-9) is True
    a = ag.tensor(np.array([0.0, 1.0, 2.0]), device=backend)
    assert a.logical_and(ag.tensor(np.array([1, 1, 0]), device=backend)).numpy().tolist() == [
        False, True, False]
    assert ag.logical_xor(a, 1).numpy().tolist() == [True, False, False]
    assert ag.logical_not(a).numpy().tolist() == [True, False, False]
    assert ag.bitwise_not(ints).numpy().tolist() == [-2, -3]
    assert x.isnan().grad_fn is None and x.isnan().dtype == np.bool_


def test_norm_and_dist(backend) -> None:
    x = _t(backend, [[3.0, -4.0], [0.0, 0.0]])
    np.testing.assert_allclose(x.norm().numpy(), 5.0)
    np.testing.assert_allclose(x.norm(1, dim=1).numpy(), [7.0, 0.0])
    y = x.norm(dim=1)
    _backward(y, backend, np.array([1.0, 1.0]))
    # At x = 0 the gradient is 0 (a subgradient), never 0/0.
    np.testing.assert_allclose(x.grad.numpy(), [[0.6, -0.8], [0.0, 0.0]])
    t = _t(backend, [2.0, -2.0, 1.0])
    t.norm(float("inf")).backward()
    np.testing.assert_array_equal(t.grad.numpy(), [0.5, -0.5, 0.0])  # ties share
    assert x.norm(0).item() == 2.0
    np.testing.assert_allclose(_t(backend, [1.0, 1.0]).dist(_t(backend, [4.0, 5.0])).item(), 5.0)
    with pytest.raises(ValueError, match="nuc"):
        x.norm("nuc")


def test_triangles_diagonals_roll(backend) -> None:
    a = np.arange(24.0).reshape(2, 3, 4)
    x = _t(backend, a)
    np.testing.assert_array_equal(ag.tril(x, -1).numpy(), np.tril(a, -1))
    np.testing.assert_array_equal(x.triu(2).numpy(), np.triu(a, 2))
    np.testing.assert_array_equal(x.diagonal(1, 1, 2).numpy(), np.diagonal(a, 1, 1, 2))
    np.testing.assert_array_equal(ag.trace(x, 0, 0, 2).numpy(), np.trace(a, 0, 0, 2))
    np.testing.assert_array_equal(x.roll(1, 2).numpy(), np.roll(a, 1, 2))
    np.testing.assert_array_equal(x.roll((1, -1), (0, 1)).numpy(), np.roll(a, (1, -1), (0, 1)))
    np.testing.assert_array_equal(ag.roll(x, 5).numpy(), np.roll(a, 5))
    v = _t(backend, [1.0, 2.0])
    np.testing.assert_array_equal(v.diag_embed().numpy(), np.diag([1.0, 2.0]))
    np.testing.assert_array_equal(ag.diagflat(x[0, :2, :2]).numpy(), np.diagflat(a[0, :2, :2]))
    with pytest.raises(ValueError, match="trace: expected a 2-d"):
        x.trace()
    with pytest.raises(ValueError, match="tril: expected a tensor with at least 2"):
        ag.tril(v)


def test_average_returned_and_errors(backend) -> None:
    a = np.arange(6.0).reshape(2, 3)
    x = _t(backend, a)
    avg, total = ag.average(x, axis=1, weights=ag.tensor(np.array([1.0, 2.0, 3.0]),
                                                         device=backend), returned=True)
    ref_avg, ref_total = np.average(a, axis=1, weights=[1.0, 2.0, 3.0], returned=True)
    np.testing.assert_allclose(avg.numpy(), ref_avg)
    np.testing.assert_allclose(total.numpy(), ref_total)
    with pytest.raises(TypeError, match="give axis"):
        ag.average(x, weights=ag.tensor(np.ones(3), device=backend))
    np.testing.assert_allclose(ag.ptp(x, axis=0).numpy(), np.ptp(a, axis=0))
    np.testing.assert_allclose(ag.nansum(_t(backend, [np.nan, 1.0])).numpy(), 1.0)


def test_device_paths_never_synchronise() -> None:
    """The scans and sorts stay on the device: no host reads on the fake device."""
    import backends

    fake = backends.get("fake")
    x = ag.tensor(np.array([[1.0, 0.0, 3.0], [2.0, 5.0, 4.0]]), device="fake",
                  requires_grad=True)
    with fake.expect_no_sync():
        y = (x.cumprod(1).sum() + x.cummax(1).values.sum() + x.logcumsumexp(1).sum()
             + x.sort(1).values[:, 0].sum() + x.topk(2).values.sum() + x.median(1).values.sum()
             + ag.einsum("ij,kj->ik", x, x).sum() + x.norm() + ag.quantile(x, 0.3, axis=1).sum())
        y.backward()
