"""Math ops at their edges: zero gradients AT the jumps of floor/round/..., integer inputs,
the clamp/fmax tie conventions, operators and in-place forms, and the dialect differences
between Tensor methods (PyTorch) and ``ag.`` functions (NumPy)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag

GY = 3.0


def _grads(backend, fn, *values):
    xs = [ag.tensor(np.asarray(v, dtype="float64"), device=backend, requires_grad=True)
          for v in values]
    y = fn(*xs)
    y.backward(ag.tensor(np.full(y.shape, GY), device=backend))
    return y.numpy(), [x.grad.numpy() for x in xs]


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round", "frac"])
def test_step_functions_at_their_jumps(backend, name) -> None:
    values = [-1.0, -0.5, 0.0, 0.5, 1.0, 2.5]
    y, (g,) = _grads(backend, lambda x: getattr(x, name)(), values)
    expected = {"floor": np.floor, "ceil": np.ceil, "trunc": np.trunc, "round": np.round,
                "frac": lambda v: v - np.trunc(v)}[name](np.array(values))
    np.testing.assert_array_equal(y, expected)
    # PyTorch's convention: zero gradient everywhere (frac: slope 1), also at the jumps.
    np.testing.assert_array_equal(g, np.full(6, GY if name == "frac" else 0.0))


def test_step_functions_keep_integer_dtypes(backend) -> None:
    x = ag.tensor(np.array([-3, 2, 7], dtype=np.int64), device=backend)
    for name in ("floor", "ceil", "trunc", "round"):
        y = getattr(x, name)()
        assert y.dtype == np.int64 and y.numpy().tolist() == [-3, 2, 7]
    assert ag.round(x, -1).numpy().tolist() == [-0, 0, 10]


def test_round_decimals_halves_to_even(backend) -> None:
    x = ag.tensor(np.array([0.25, 0.35, 2.5, -1.5]), device=backend)
    np.testing.assert_array_equal(x.round(decimals=1).numpy(), np.round([0.25, 0.35, 2.5, -1.5], 1))
    np.testing.assert_array_equal(ag.round(x).numpy(), [0.0, 0.0, 2.0, -2.0])


def test_remainder_and_fmod_signs_and_operators(backend) -> None:
    a = ag.tensor(np.array([-7.0, 7.0, -7.0, 7.0]), device=backend, requires_grad=True)
    b = ag.tensor(np.array([3.0, -3.0, -3.0, 3.0]), device=backend, requires_grad=True)
    np.testing.assert_array_equal((a % b).numpy(), np.remainder(a.numpy(), b.numpy()))
    np.testing.assert_array_equal(ag.mod(a, b).numpy(), [2.0, -2.0, -1.0, 1.0])
    np.testing.assert_array_equal(a.fmod(b).numpy(), [-1.0, 1.0, -1.0, 1.0])
    np.testing.assert_array_equal((a // b).numpy(), [-3.0, -3.0, 2.0, 2.0])
    np.testing.assert_array_equal((7.0 % b).numpy(), np.remainder(7.0, b.numpy()))
    (a % b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.ones(4))
    np.testing.assert_array_equal(b.grad.numpy(), -np.floor_divide(a.numpy(), b.numpy()))
    a.grad = b.grad = None
    (a // b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.zeros(4))


def test_integer_operators_and_inplace_forms(backend) -> None:
    x = ag.tensor(np.array([5, -6, 7]), device=backend)
    y = ag.tensor(np.array([3, 3, 2]), device=backend)
    assert (x % y).numpy().tolist() == [2, 0, 1]
    assert (x // y).numpy().tolist() == [1, -2, 3]
    assert (x & y).numpy().tolist() == [1, 2, 2]
    assert (x | y).numpy().tolist() == [7, -5, 7]
    assert (x ^ y).numpy().tolist() == [6, -7, 5]
    assert (~x).numpy().tolist() == [-6, 5, -8]
    flags = ag.tensor(np.array([True, False]), device=backend)
    assert (~flags).numpy().tolist() == [False, True]
    assert (flags & True).numpy().tolist() == [True, False]
    version = x._version[0]
    x %= y
    assert x.numpy().tolist() == [2, 0, 1] and x._version[0] == version + 1
    x //= 2
    x |= 8
    x &= 9
    x ^= 1
    assert x.numpy().tolist() == [8, 9, 9]
    with pytest.raises(TypeError, match="bitwise_and"):
        ag.tensor([1.0], device=backend) & ag.tensor([2.0], device=backend)


def test_inplace_methods_record_or_refuse(backend) -> None:
    leaf = ag.tensor(np.array([1.5, -2.5]), device=backend, requires_grad=True)
    with pytest.raises(RuntimeError, match="floor_"):
        leaf.floor_()
    z = leaf * 1.0
    z.clamp_min_(0.0)
    z.sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), [1.0, 0.0])
    plain = ag.tensor(np.array([0.25, 0.75]), device=backend)
    assert plain.logit_() is plain
    np.testing.assert_allclose(plain.numpy(), [np.log(1 / 3), np.log(3)])
    m = ag.tensor(np.ones((2, 2)), device=backend)
    m.tril_()
    np.testing.assert_array_equal(m.numpy(), np.tril(np.ones((2, 2))))
    m.addmm_(ag.tensor(np.eye(2), device=backend), ag.tensor(np.eye(2), device=backend),
             beta=2.0)
    np.testing.assert_array_equal(m.numpy(), 2 * np.tril(np.ones((2, 2))) + np.eye(2))


def test_clamp_min_max_pass_the_gradient_at_the_bound(backend) -> None:
    _, (g,) = _grads(backend, lambda x: x.clamp_min(0.0), [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(g, [0.0, GY, GY])
    _, (g,) = _grads(backend, lambda x: x.clamp_max(0.0), [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(g, [GY, GY, 0.0])
    _, (gx, gm) = _grads(backend, lambda x, m: x.clamp_min(m), [-1.0, 0.0, 1.0], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(gx, [0.0, GY, GY])
    np.testing.assert_array_equal(gm, [GY, 0.0, 0.0])


def test_fmax_ignores_nan_and_gives_ties_to_the_first(backend) -> None:
    y, (ga, gb) = _grads(backend, ag.fmax, [1.0, np.nan, 2.0, np.nan], [1.0, 3.0, np.nan, np.nan])
    np.testing.assert_array_equal(y, [1.0, 3.0, 2.0, np.nan])
    np.testing.assert_array_equal(ga, [GY, 0.0, GY, GY])
    np.testing.assert_array_equal(gb, [0.0, GY, 0.0, 0.0])


def test_nan_to_num_defaults_and_gradient(backend) -> None:
    y, (g,) = _grads(backend, ag.nan_to_num, [np.nan, np.inf, -np.inf, 1.0])
    np.testing.assert_array_equal(y, np.nan_to_num(np.array([np.nan, np.inf, -np.inf, 1.0])))
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0, GY])


def test_kinks_of_hypot_atan2_sinc_copysign(backend) -> None:
    _, (ga, gb) = _grads(backend, ag.hypot, [0.0, 3.0], [0.0, 4.0])
    np.testing.assert_allclose(ga, [0.0, GY * 0.6], rtol=1e-15)
    np.testing.assert_allclose(gb, [0.0, GY * 0.8], rtol=1e-15)
    _, (ga, gb) = _grads(backend, ag.arctan2, [0.0], [0.0])
    np.testing.assert_array_equal(ga, [0.0])
    y, (g,) = _grads(backend, ag.sinc, [0.0])
    np.testing.assert_array_equal(y, [1.0])
    np.testing.assert_array_equal(g, [0.0])
    y, (ga, gb) = _grads(backend, ag.copysign, [0.0, 2.0, -2.0], [-1.0, -0.0, 1.0])
    np.testing.assert_array_equal(y, [-0.0, -2.0, 2.0])
    np.testing.assert_array_equal(ga, [0.0, -GY, -GY])
    np.testing.assert_array_equal(gb, [0.0, 0.0, 0.0])


def test_logaddexp_of_two_minus_infinities(backend) -> None:
    y, (ga, gb) = _grads(backend, ag.logaddexp, [-np.inf, 0.0], [-np.inf, 0.0])
    np.testing.assert_array_equal(y, [-np.inf, np.log(2.0)])
    np.testing.assert_array_equal(ga, [0.0, GY / 2])


def test_logit_eps_zeroes_the_gradient_outside(backend) -> None:
    y, (g,) = _grads(backend, lambda x: x.logit(eps=0.25), [0.1, 0.5, 0.9])
    np.testing.assert_allclose(y, [np.log(1 / 3), 0.0, np.log(3)])
    np.testing.assert_array_equal(g, [0.0, GY * 4.0, 0.0])


def test_dialects_of_products(backend) -> None:
    a = ag.tensor(np.arange(6.0).reshape(2, 3), device=backend)
    b = ag.tensor(np.arange(12.0).reshape(2, 3, 2), device=backend)
    np.testing.assert_array_equal(ag.dot(a, b).numpy(), np.dot(a.numpy(), b.numpy()))
    np.testing.assert_array_equal(ag.outer(a, a).numpy(), np.outer(a.numpy(), a.numpy()))
    with pytest.raises(ValueError, match="outer: expected 1-d"):
        a.outer(a)
    with pytest.raises(ValueError, match="dot: expected 1-d"):
        a.dot(a)
    with pytest.raises(ValueError, match="mm: the second operand must be 2-d"):
        a.mm(b)
    with pytest.raises(ValueError, match="bmm: batch sizes differ"):
        ag.bmm(b, ag.tensor(np.ones((3, 2, 1)), device=backend))
    nan = ag.tensor(np.full((2, 2), np.nan), device=backend)
    eye = ag.tensor(np.eye(2), device=backend)
    np.testing.assert_array_equal(nan.addmm(eye, eye, beta=0).numpy(), np.eye(2))


def test_einsum_matches_numpy_and_rejects_bad_subscripts(backend) -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3))
    t = ag.tensor(a, device=backend)
    for spec in ("ii", "ii->i", "ij->ji", "ij", "ji", "...", "i...->..."):
        np.testing.assert_allclose(ag.einsum(spec, t).numpy(), np.einsum(spec, a), rtol=1e-12)
    assert ag.einsum("ij,jk", t, t, optimize="greedy").shape == (3, 3)
    with pytest.raises(ValueError, match="names 2 operands, got 1"):
        ag.einsum("ij,jk->ik", t)
    with pytest.raises(ValueError, match="subscript 'j' has length"):
        ag.einsum("ij,jk->ik", t, ag.tensor(np.ones((2, 2)), device=backend))
    with pytest.raises(ValueError, match="appears in no operand"):
        ag.einsum("ij->k", t)
    y = ag.einsum("ij->ji", t)
    y.array[0, 0] = 100.0
    assert t.numpy()[0, 0] == a[0, 0]  # the result owns its memory
