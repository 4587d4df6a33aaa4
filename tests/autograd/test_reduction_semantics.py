"""Reductions at their edges: ties, -inf and huge logits, zeros in prod, empty inputs, argmax."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
from autograd.gradcheck import gradcheck, gradgradcheck

NEG_INF = -np.inf


def _t(data, backend, requires_grad=False, dtype="float64"):
    return ag.tensor(np.asarray(data, dtype=dtype), device=backend, requires_grad=requires_grad)


def _grad(f, x, gy=None):
    """x.grad after backward of f(x) with upstream gradient `gy` (ones when None)."""
    y = f(x)
    seed = np.ones(y.shape) if gy is None else np.asarray(gy, dtype=np.float64)
    y.backward(_t(seed, x.backend, dtype=x.dtype))
    return x.grad.numpy()


# -- max / min ties ------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["max", "min"])
def test_ties_split_the_gradient_evenly(backend, op) -> None:
    sign = 1.0 if op == "max" else -1.0
    data = sign * np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [5.0, 0.0, 1.0]])
    x = _t(data, backend, requires_grad=True)
    g = _grad(lambda t: getattr(ag, op)(t, axis=1), x, gy=[1.0, 6.0, 4.0])
    expected = [[0.0, 0.5, 0.5], [2.0, 2.0, 2.0], [4.0, 0.0, 0.0]]
    np.testing.assert_array_equal(g, expected)


@pytest.mark.parametrize("op", ["max", "min"])
def test_ties_over_all_axes_and_keepdims(backend, op) -> None:
    sign = 1.0 if op == "max" else -1.0
    data = sign * np.array([[4.0, 1.0], [4.0, 4.0]])
    x = _t(data, backend, requires_grad=True)
    y = getattr(ag, op)(x, axis=(0, -1), keepdims=True)
    assert y.shape == (1, 1)
    y.backward(_t([[3.0]], backend))
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 0.0], [1.0, 1.0]])


# -- log_softmax / softmax / logsumexp with -inf and large logits ----------------------------


def test_log_softmax_with_neg_inf_entries(backend) -> None:
    data = np.array([[0.5, NEG_INF, 1.5, -1.0], [NEG_INF, 2.0, NEG_INF, 0.0]])
    x = _t(data, backend, requires_grad=True)
    y = ag.log_softmax(x, axis=1)
    got = y.numpy()
    masked = np.isneginf(data)
    assert np.all(np.isneginf(got[masked]))
    assert np.all(np.isfinite(got[~masked]))
    for row, out in zip(data, got):
        finite = row[np.isfinite(row)]
        ref = finite - np.log(np.sum(np.exp(finite)))
        np.testing.assert_allclose(out[np.isfinite(row)], ref, rtol=1e-12)
    # An upstream gradient that is nonzero even at the masked entries.
    gy = np.arange(1.0, 9.0).reshape(2, 4)
    y.backward(_t(gy, backend))
    g = x.grad.numpy()
    assert np.all(np.isfinite(g))
    np.testing.assert_array_equal(g[masked], 0.0)
    # The masked outputs are -inf whatever the other inputs are, so the finite entries get the
    # gradient of log_softmax over the finite entries alone.
    for i, row in enumerate(data):
        keep = np.isfinite(row)
        p = np.exp(row[keep] - np.max(row[keep]))
        p /= p.sum()
        np.testing.assert_allclose(g[i, keep], gy[i, keep] - p * gy[i, keep].sum(), rtol=1e-12)


def test_softmax_with_neg_inf_entries(backend) -> None:
    data = np.array([[0.5, NEG_INF, 1.5], [NEG_INF, 2.0, NEG_INF]])
    x = _t(data, backend, requires_grad=True)
    p = ag.softmax(x, axis=-1)
    got = p.numpy()
    np.testing.assert_array_equal(got[np.isneginf(data)], 0.0)
    np.testing.assert_allclose(got.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(got[1], [0.0, 1.0, 0.0])
    p.backward(_t([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], backend))
    g = x.grad.numpy()
    assert np.all(np.isfinite(g))
    np.testing.assert_array_equal(g[np.isneginf(data)], 0.0)


def test_all_neg_inf_slices_give_zero_gradients(backend) -> None:
    data = np.array([[NEG_INF, NEG_INF], [0.0, 1.0]])
    x = _t(data, backend, requires_grad=True)
    lse = ag.logsumexp(x, axis=1)
    assert np.isneginf(lse.numpy()[0]) and np.isfinite(lse.numpy()[1])
    lse.backward(_t([1.0, 1.0], backend))
    g = x.grad.numpy()
    np.testing.assert_array_equal(g[0], 0.0)
    np.testing.assert_allclose(g[1], np.exp([0.0, 1.0]) / np.exp([0.0, 1.0]).sum(), rtol=1e-12)

    x = _t(data, backend, requires_grad=True)
    ag.log_softmax(x, axis=1).backward(_t(np.ones((2, 2)), backend))
    np.testing.assert_array_equal(x.grad.numpy()[0], 0.0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_large_logits_are_stable(backend, dtype) -> None:
    data = np.array([[1e4, 1e4 + 1.0, -1e4], [-1e4, -1e4 - 2.0, -1e4 - 1.0]])
    shifted = data - data.max(axis=1, keepdims=True)
    x = _t(data, backend, requires_grad=True, dtype=dtype)
    tol = 1e-5 if dtype == "float32" else 1e-12

    ls = ag.log_softmax(x, axis=1)
    ref = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(ls.numpy(), ref, rtol=tol, atol=tol)
    p = ag.softmax(x, axis=1)
    np.testing.assert_allclose(p.numpy(), np.exp(ref), rtol=tol, atol=tol)
    lse = ag.logsumexp(x, axis=1)
    expected = np.array([1e4 + 1.0 + math.log1p(math.exp(-1.0)), -1e4 + np.log(np.exp(
        shifted[1]).sum())])
    np.testing.assert_allclose(lse.numpy(), expected, rtol=tol)

    (ls.sum() + p.sum() + lse.sum()).backward()
    assert np.all(np.isfinite(x.grad.numpy()))


@pytest.mark.parametrize("axis", [0, 1, -1, (0, 2), None])
def test_softmax_sums_to_one(backend, axis) -> None:
    data = np.random.default_rng(0).normal(scale=5.0, size=(3, 4, 5))
    p = ag.softmax(_t(data, backend), axis=axis).numpy()
    assert p.shape == data.shape
    np.testing.assert_allclose(p.sum(axis=axis), 1.0, rtol=1e-12)
    assert np.all(p > 0)


# -- prod with zeros -------------------------------------------------------------------------


def test_prod_gradient_with_zeros_is_exact(backend) -> None:
    data = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, -2.0, 3.0], [0.0, 0.0, 0.0]])
    x = _t(data, backend, requires_grad=True)
    y = ag.prod(x, axis=1)
    np.testing.assert_array_equal(y.numpy(), [0.0, 0.0, -6.0, 0.0])
    g = _grad(lambda t: ag.prod(t, axis=1), x, gy=[1.0, 1.0, 2.0, 1.0])
    expected = [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [-12.0, 6.0, -4.0], [0.0, 0.0, 0.0]]
    np.testing.assert_array_equal(g, expected)

    x = _t([[4.0, 0.0], [3.0, -1.0]], backend, requires_grad=True)
    np.testing.assert_array_equal(_grad(lambda t: ag.prod(t), x), [[0.0, -12.0], [0.0, 0.0]])


@pytest.mark.parametrize(
    "data",
    [[1.5, 0.0, -2.0, 0.5], [0.0, 0.0, 3.0, -1.0], [0.0, 0.0, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0]],
    ids=["one_zero", "two_zeros", "three_zeros", "all_zeros"],
)
def test_prod_with_zeros_second_order(backend, data) -> None:
    # prod is a polynomial, so finite differences are valid at its zeros: the first- and
    # second-order rules are checked there against them.
    x = _t(np.reshape(data, (2, 2)), backend, requires_grad=True)
    for axis in (None, 0, 1):
        assert gradcheck(lambda t, a=axis: ag.prod(t, axis=a), (x,))
        assert gradgradcheck(lambda t, a=axis: ag.prod(t, axis=a), (x,))


# -- std at zero variance --------------------------------------------------------------------


def test_std_of_constant_slice_has_zero_gradient(backend) -> None:
    x = _t([[2.0, 2.0, 2.0], [1.0, 3.0, 5.0]], backend, requires_grad=True)
    s = ag.std(x, axis=1)
    np.testing.assert_allclose(s.numpy(), [0.0, np.std([1.0, 3.0, 5.0])], rtol=1e-12)
    s.backward(_t([1.0, 1.0], backend))
    g = x.grad.numpy()
    assert np.all(np.isfinite(g))
    np.testing.assert_array_equal(g[0], 0.0)


# -- argmax / argmin -------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("axis, keepdims", [(None, False), (None, True), (0, False), (-1, True)])
def test_arg_reductions_return_int64_without_grad(backend, op, axis, keepdims) -> None:
    data = np.array([[0.1, 0.7, -0.3], [0.9, -0.5, 0.2]])
    x = _t(data, backend, requires_grad=True)
    i = getattr(ag, op)(x, axis=axis, keepdims=keepdims)
    method = getattr(x, op)(axis=axis, keepdims=keepdims)
    expected = getattr(np, op)(data, axis=axis, keepdims=keepdims)
    assert i.dtype == np.dtype("int64")
    assert i.grad_fn is None and not i.requires_grad
    assert i.shape == np.shape(expected)
    np.testing.assert_array_equal(i.numpy(), expected)
    np.testing.assert_array_equal(method.numpy(), expected)


def test_argmax_of_ties_is_the_first(backend) -> None:
    x = _t([1.0, 3.0, 3.0], backend)
    assert ag.argmax(x).item() == 1
    assert ag.argmin(_t([2.0, 0.0, 0.0], backend)).item() == 1


# -- empty reductions ------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("shape, axis", [((0,), None), ((3, 0), 1), ((0, 3), 0), ((0, 0), 1)])
def test_empty_max_min_raise_naming_op_and_shape(backend, op, shape, axis) -> None:
    x = _t(np.zeros(shape), backend)
    with pytest.raises(ValueError, match=rf"{op}: .*shape \({shape[0]},"):
        getattr(ag, op)(x, axis=axis)


def test_empty_max_over_nonempty_axis_is_empty(backend) -> None:
    y = ag.max(_t(np.zeros((0, 3)), backend), axis=1)
    assert y.shape == (0,)


@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_empty_arg_reductions_raise(backend, op) -> None:
    with pytest.raises(ValueError, match=op):
        getattr(ag, op)(_t(np.zeros((2, 0)), backend), axis=1)
    with pytest.raises(ValueError, match=op):
        getattr(ag, op)(_t(np.zeros((0,)), backend))


def test_empty_sum_prod_logsumexp_follow_numpy(backend) -> None:
    x = _t(np.zeros((2, 0)), backend, requires_grad=True)
    np.testing.assert_array_equal(ag.sum(x, axis=1).numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(ag.prod(x, axis=1).numpy(), [1.0, 1.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        assert np.all(np.isneginf(ag.logsumexp(x, axis=1).numpy()))
        assert np.all(np.isnan(ag.mean(x, axis=1).numpy()))
    assert ag.sum(x).item() == 0.0
    ag.sum(x).backward()
    assert x.grad.shape == (2, 0)
