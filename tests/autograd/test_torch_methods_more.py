"""PyTorch's Tensor methods added after the first port: random fills and draws, the casts and
``to`` forms with dtype objects, integer mean/var/std refused, the extra reductions, index writes
(index_put/put/masked_scatter/fill_diagonal_) and the dtype queries. Gradients of the
differentiable ones are checked by the op table (cases_torch_writes.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag


def _t(data, backend, **kw):
    return ag.tensor(data, device=backend, **kw)


# -- random fills ------------------------------------------------------------------------------
N = 20000


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_fills_follow_their_distributions(backend, dtype) -> None:
    ag.manual_seed(1)
    x = ag.empty(N, dtype=dtype, device=backend)
    assert x.exponential_(2.0) is x and x.dtype == dtype
    assert x.numpy().min() >= 0 and abs(x.numpy().mean() - 0.5) < 0.03
    x.geometric_(0.25)
    g = x.numpy()
    assert g.min() >= 1 and np.all(g == np.round(g)) and abs(g.mean() - 4.0) < 0.15
    x.log_normal_(0.0, 0.5)
    assert x.numpy().min() > 0 and abs(x.numpy().mean() - math.exp(0.125)) < 0.03
    x.cauchy_(1.0, 2.0)
    assert abs(np.median(x.numpy()) - 1.0) < 0.1
    x.uniform_(-3.0, -1.0)
    assert -3.0 <= x.numpy().min() and x.numpy().max() < -1.0
    x.uniform_(**{"from": 2.0, "to": 3.0})
    assert 2.0 <= x.numpy().min()
    x.normal_(3.0, 2.0)
    assert abs(x.numpy().mean() - 3.0) < 0.1 and abs(x.numpy().std() - 2.0) < 0.1
    x.bernoulli_(0.25)
    assert set(np.unique(x.numpy())) <= {0.0, 1.0} and abs(x.numpy().mean() - 0.25) < 0.02


def test_random_integers(backend) -> None:
    ag.manual_seed(2)
    x = ag.zeros(N, device=backend)
    values = x.random_(5).numpy()
    assert values.min() == 0 and values.max() == 4
    values = x.random_(3, 7).numpy()
    assert set(np.unique(values)) == {3.0, 4.0, 5.0, 6.0}
    values = x.random_().numpy()
    assert values.min() >= 0 and values.max() <= 2**24 and np.all(values == np.round(values))
    i = ag.zeros(100, dtype="int8", device=backend).random_()
    assert i.dtype == np.int8 and i.numpy().min() >= 0
    b = ag.zeros(100, dtype="bool", device=backend).random_()
    assert b.dtype == np.bool_ and b.numpy().any() and not b.numpy().all()
    with pytest.raises(RuntimeError, match="from < to"):
        x.random_(5, 5)


def test_random_fills_are_seeded_and_refuse_bad_arguments(backend) -> None:
    draws = []
    for _ in range(2):
        ag.manual_seed(7)
        draws.append(ag.empty(5, device=backend).exponential_().numpy())
    np.testing.assert_array_equal(*draws)
    x = ag.empty(3, device=backend)
    for call, match in [(lambda: x.exponential_(0.0), "lambd"), (lambda: x.geometric_(0.0), "p"),
                        (lambda: x.log_normal_(std=0.0), "std"), (lambda: x.normal_(std=-1.0),
                                                                  "std"),
                        (lambda: x.bernoulli_(1.5), "p")]:
        with pytest.raises(RuntimeError, match=match):
            call()
    with pytest.raises(TypeError, match="generator"):
        x.uniform_(generator=object())


def test_random_fills_respect_autograd(backend) -> None:
    w = ag.zeros(3, device=backend, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.normal_()
    with ag.no_grad():
        w.normal_()  # the nn.init idiom
    assert w.requires_grad and w.grad_fn is None and np.all(w.numpy() != 0)
    h = w * 2.0
    h.uniform_()  # a non-leaf: rebound to constants, the gradient to w is zero
    h.sum().backward()
    assert np.all(w.grad.numpy() == 0)


def test_bernoulli_and_multinomial_methods(backend) -> None:
    ag.manual_seed(3)
    p = _t([[0.0, 1.0, 0.5]] * 200, backend)
    draws = p.bernoulli().numpy()
    assert draws.dtype == np.float32 and np.all(draws[:, 0] == 0) and np.all(draws[:, 1] == 1)
    assert set(np.unique(p.bernoulli(0.5).numpy())) == {0.0, 1.0}
    probs = _t([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]], backend)
    sample = probs.multinomial(4, replacement=True)
    assert sample.dtype == np.int64 and sample.numpy().tolist() == [[2] * 4, [0] * 4]
    assert sorted(_t([1.0, 1.0, 1.0], backend).multinomial(3).numpy().tolist()) == [0, 1, 2]


# -- to() and casts ----------------------------------------------------------------------------
def test_to_takes_dtype_objects_devices_and_tensors(backend) -> None:
    x = _t([1.5, 2.5], backend)
    assert x.to(ag.float64).dtype == ag.float64
    assert x.to(backend.device, ag.float64).dtype == ag.float64
    assert x.to(x.device, dtype=ag.float16).dtype == ag.float16
    assert x.to(ag.device(backend.device)).device == x.device
    other = _t([1], backend, dtype=ag.int64)
    y = x.to(other)
    assert y.dtype == ag.int64 and y.numpy().tolist() == [1, 2]
    assert x.to(ag.float32) is x and x.to(ag.float32, copy=True) is not x
    assert x.to(dtype=ag.double).dtype == ag.float64 and x.to(ag.long).dtype == ag.int64
    if backend.is_device:  # CuPy has no bfloat16: refused with a clear error
        with pytest.raises(TypeError, match="bfloat16"):
            x.bfloat16()
    else:
        assert x.bfloat16().dtype == ag.bfloat16 and "dtype=bfloat16" in repr(x.bfloat16())


def test_dtype_queries(backend) -> None:
    x = _t([[1.0, 2.0, 3.0]], backend)
    assert x.is_floating_point() and not x.is_complex()
    assert not _t([1], backend).is_floating_point()
    assert x.element_size() == 4 == x.itemsize and x.nbytes == 12
    assert x.double().element_size() == 8


# -- integer mean/var/std ----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["mean", "var", "std", "nanmean"])
def test_integer_mean_var_std_raise_as_in_pytorch(backend, name) -> None:
    for data in ([1, 2, 3], [True, False]):
        with pytest.raises(RuntimeError, match=f"{name}\\(\\): expected a floating point"):
            getattr(_t(data, backend), name)()
    assert _t([1, 2], backend).mean(dtype=ag.float32).item() == 1.5
    assert ag.mean(_t([1, 2], backend)).item() == 1.5  # the NumPy dialect keeps NumPy's mean


# -- extra reductions --------------------------------------------------------------------------
def test_nan_reductions_count_nonzero_aminmax(backend) -> None:
    x = _t([[1.0, float("nan"), 3.0], [0.0, 2.0, 2.0]], backend)
    assert x.nansum(1).numpy().tolist() == [4.0, 4.0]
    assert x.nansum().item() == 8.0 and x.nansum(dim=0, keepdim=True).shape == (1, 3)
    np.testing.assert_allclose(x.nanmean(dim=0).numpy(), [0.5, 2.0, 2.5])
    assert x.count_nonzero().item() == 5 and x.count_nonzero(0).numpy().tolist() == [1, 2, 2]
    assert x.count_nonzero(dim=(0, 1)).item() == 5
    lo, hi = _t([[3.0, 1.0], [2.0, 5.0]], backend).aminmax(dim=1, keepdim=True)
    assert lo.numpy().tolist() == [[1.0], [2.0]] and hi.numpy().tolist() == [[3.0], [5.0]]
    both = _t([3.0, 1.0, 4.0], backend).aminmax()
    assert (both.min.item(), both.max.item()) == (1.0, 4.0)
    with pytest.raises(RuntimeError, match="no elements"):
        ag.zeros(0, device=backend).aminmax()


def test_unique(backend) -> None:
    x = _t([3, 1, 3, 2], backend)
    assert x.unique().numpy().tolist() == [1, 2, 3]
    values, inverse, counts = x.unique(return_inverse=True, return_counts=True)
    assert inverse.numpy().tolist() == [2, 0, 2, 1] and counts.numpy().tolist() == [1, 1, 2]
    assert inverse.dtype == np.int64
    rows, inverse = _t([[1, 2], [1, 2], [0, 5]], backend).unique(dim=0, return_inverse=True)
    assert rows.numpy().tolist() == [[0, 5], [1, 2]] and inverse.numpy().tolist() == [1, 1, 0]
    cols = _t([[1, 0, 1], [2, 5, 2]], backend).unique(dim=1)
    assert cols.numpy().tolist() == [[0, 1], [5, 2]]


# -- index writes ------------------------------------------------------------------------------
def test_index_put_and_its_in_place_form(backend) -> None:
    i, j = _t([0, 2, 0], backend), _t([1, 3, 1], backend)
    x = ag.zeros(3, 4, device=backend)
    y = x.index_put((i, j), _t([1.0, 2.0, 3.0], backend), accumulate=True)
    assert y.numpy()[0, 1] == 4.0 and y.numpy()[2, 3] == 2.0 and x.numpy().sum() == 0
    assert x.index_put((i,), _t(5.0, backend)).numpy()[:, 0].tolist() == [5.0, 0.0, 5.0]
    x.index_put_((_t([-1], backend),), ag.ones(4, device=backend), accumulate=True)
    x.index_put_([_t([-1], backend)], ag.ones(4, device=backend), accumulate=True)
    assert x.numpy()[2].tolist() == [2.0] * 4
    mask = _t([True, False, True], backend)
    assert ag.zeros(3, device=backend).index_put((mask,), _t(1.0, backend),
                                                 accumulate=True).numpy().tolist() == [1, 0, 1]


def test_put_masked_scatter_fill_diagonal(backend) -> None:
    out = ag.zeros(2, 3, device=backend).put(_t([0, 5, 0], backend), _t([1.0, 2.0, 3.0], backend),
                                              accumulate=True)
    assert out.numpy().tolist() == [[4.0, 0.0, 0.0], [0.0, 0.0, 2.0]]
    x = ag.zeros(2, 3, device=backend)
    x.put_(_t([-1], backend), _t([9.0], backend))
    assert x.numpy()[1, 2] == 9.0
    mask = _t([[True, False, True], [False, True, False]], backend)
    got = ag.zeros(2, 3, device=backend).masked_scatter(mask, ag.arange(1.0, 10.0, device=backend))
    assert got.numpy().tolist() == [[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]]
    with pytest.raises(RuntimeError, match="only 2"):
        ag.zeros(2, 3, device=backend).masked_scatter(mask, ag.ones(2, device=backend))
    for shape, wrap in [((3, 3), False), ((5, 3), False), ((5, 3), True), ((2, 4), False),
                        ((3, 3, 3), False)]:
        expected = np.zeros(shape)
        np.fill_diagonal(expected, 7.0, wrap=wrap)
        got = ag.zeros(*shape, device=backend).fill_diagonal_(7.0, wrap=wrap)
        np.testing.assert_array_equal(got.numpy(), expected)
    with pytest.raises(RuntimeError, match="all of one size"):
        ag.zeros(2, 3, 4, device=backend).fill_diagonal_(1.0)


def test_torch_only_functions_return_named_tuples(backend) -> None:
    x = _t([[3.0, 1.0, 2.0]], backend)
    top = ag.topk(x, 2)
    assert top.values.numpy().tolist() == [[3.0, 2.0]] and top.indices.numpy().tolist() == [[0, 2]]
    kth = ag.kthvalue(x, 1)
    assert kth.values.numpy().tolist() == [1.0] and kth.indices.numpy().tolist() == [1]


def test_shift_operators_and_einsum_operand_list(backend) -> None:
    x = _t([1, 2, -8], backend, dtype=ag.int32)
    assert (x << 2).numpy().tolist() == [4, 8, -32] and (x << 2).dtype == ag.int32
    assert (x >> 1).numpy().tolist() == [0, 1, -4] and (1 << _t([1, 2], backend)).numpy().tolist() \
        == [2, 4]
    assert x.bitwise_left_shift(_t([1, 1, 1], backend)).numpy().tolist() == [2, 4, -16]
    y = x.clone()
    y <<= 1
    y.bitwise_right_shift_(1)
    assert y.numpy().tolist() == x.numpy().tolist() and y.dtype == ag.int32
    with pytest.raises(TypeError, match="integer"):
        ag.ones(2, device=backend) << 1
    a, b = _t([1.0, 2.0], backend), _t([3.0, 4.0], backend)
    assert ag.einsum("i,i->", [a, b]).item() == 11.0  # PyTorch's list of operands


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 0 ** -2 overflows, as NumPy warns
def test_pow_exponent_gradient_at_a_non_positive_base_is_pytorchs(backend) -> None:
    x = _t([-2.0, -1.0, 0.0, 1.0, 2.0, 3.0], backend, requires_grad=True)
    (0 ** x).sum().backward()
    assert x.grad.numpy().tolist() == [-np.inf, -np.inf, 0.0, 0.0, 0.0, 0.0]
    x.grad = None
    ((-2.0) ** x).sum().backward()
    assert np.isnan(x.grad.numpy()).all()
    a = _t([-1.0, 0.0, 0.0, 2.0], backend, requires_grad=True)
    b = _t([2.0, 1.0, -1.0, 3.0], backend, requires_grad=True)
    (a ** b).sum().backward()
    gb = b.grad.numpy()
    assert np.isnan(gb[0]) and gb[1] == 0.0 and gb[2] == -np.inf
    assert gb[3] == pytest.approx(8.0 * np.log(2.0))
    assert (0 ** _t([1.0, 2.0], backend)).dtype == ag.float32


def test_roll_pairs_shifts_with_dims_as_pytorch(backend) -> None:
    x = ag.arange(8.0, device=backend).reshape(2, 4)
    assert x.roll(1).numpy().tolist() == [[7.0, 0.0, 1.0, 2.0], [3.0, 4.0, 5.0, 6.0]]
    assert x.roll((1,)).numpy().tolist() == x.roll(1).numpy().tolist()
    assert x.roll((1, 1), (0, 1)).numpy().tolist() == [[7.0, 4.0, 5.0, 6.0], [3.0, 0.0, 1.0, 2.0]]
    for shifts, dims in [((1, 2), None), (1, (0, 1))]:
        with pytest.raises(RuntimeError, match="must align"):
            x.roll(shifts, dims)
    assert ag.roll(x, (1, 2)).shape == (2, 4)  # NumPy's: the shifts add up


# -- aliases and small compositions (tensor_aliases.py; gradients in cases_torch_aliases.py) ----
def test_alias_methods(backend) -> None:
    x = _t([[-1.0, 0.0], [2.0, -3.0]], backend)
    y = _t([[0.5, 0.0], [2.0, 1.0]], backend)
    assert x.absolute().numpy().tolist() == [[1.0, 0.0], [2.0, 3.0]]
    assert x.negative().numpy().tolist() == (-x).numpy().tolist() and x.positive() is x
    assert x.greater(y).numpy().tolist() == [[False, False], [False, False]]
    assert x.less_equal(y).numpy().all() and not x.not_equal(x).numpy().any()
    z = x.clone()
    z.greater_(0.0)  # a comparison written back in the tensor's dtype, as PyTorch's gt_
    assert z.dtype == ag.float32 and z.numpy().tolist() == [[0.0, 0.0], [1.0, 0.0]]
    assert x.equal(x.clone()) and not x.equal(y) and not x.equal(x[0])
    assert x.is_same_size(y) and x.is_signed() and not _t([1], backend, dtype="uint8").is_signed()
    assert _t([2.0], backend).is_nonzero() and not _t(0.0, backend).is_nonzero()
    with pytest.raises(RuntimeError, match="ambiguous"):
        x.is_nonzero()
    assert x.is_cuda == backend.is_device and x.is_cpu != backend.is_device
    assert x.get_device() == (-1 if not backend.is_device else 0)
    assert x.stride() == (2, 1) and x.t().stride() == (1, 2) and x.stride(-1) == 1
    assert _t([-0.0, 0.0, -2.0], backend).signbit().numpy().tolist() == [True, False, True]
    assert x.fliplr().numpy().tolist() == [[0.0, -1.0], [-3.0, 2.0]]
    assert x.flipud().numpy().tolist() == [[2.0, -3.0], [-1.0, 0.0]]
    assert x.msort().numpy().tolist() == [[-1.0, -3.0], [2.0, 0.0]]
    assert [p.shape for p in ag.zeros(4, 6, 2, device=backend).hsplit(3)] == [(4, 2, 2)] * 3
    assert [p.shape for p in ag.zeros(4, 6, device=backend).vsplit([1])] == [(1, 6), (3, 6)]
    assert len(ag.zeros(1, 1, 4, device=backend).dsplit(2)) == 2
    with pytest.raises(RuntimeError, match="at least 3 dims"):
        x.dsplit(2)
    assert [p.shape for p in x.split_with_sizes([1, 1], 1)] == [(2, 1), (2, 1)]
    assert x.narrow_copy(0, 1, 1).numpy().tolist() == [[2.0, -3.0]]


def test_composed_methods_edges(backend) -> None:
    x = _t([0.0, 0.0, 2.0], backend, requires_grad=True)
    y = _t([0.0, float("nan"), 3.0], backend, requires_grad=True)
    out = x.xlogy(y)
    got = out.detach().numpy()
    assert got[0] == 0.0 and np.isnan(got[1]) and got[2] == pytest.approx(2 * np.log(3.0))
    out[::2].sum().backward()  # at x == 0 both gradients are 0 (PyTorch's definition)
    assert x.grad.numpy()[0] == 0.0 and y.grad.numpy()[0] == 0.0
    assert _t([1, 2], backend).xlogy(2).dtype == ag.float32
    assert _t([2.0], backend).float_power(2).dtype == ag.float64
    assert _t([1.0, 1.0], backend).ldexp(_t([1, 3], backend)).numpy().tolist() == [2.0, 8.0]
    with pytest.raises(RuntimeError, match="size 3"):
        ag.zeros(2, 2, device=backend).cross(ag.zeros(2, 2, device=backend))
    a, b = _t([[1.0, 0.0, 0.0]], backend), _t([[0.0, 1.0, 0.0]], backend)
    assert a.cross(b).numpy().tolist() == [[0.0, 0.0, 1.0]]  # dim None: the first of size 3
    with pytest.raises(RuntimeError, match="not expandable"):
        ag.zeros(2, 3, device=backend).sum_to_size(2, 2)
    nan_self = _t([float("nan"), 1.0], backend)
    got = nan_self.addmv(ag.ones(2, 2, device=backend), ag.ones(2, device=backend), beta=0)
    assert got.numpy().tolist() == [2.0, 2.0]  # beta=0 ignores self, NaN included
    assert x.detach().diff().numpy().tolist() == [0.0, 2.0]
    assert x.detach().diff(prepend=1.0).numpy().tolist() == [-1.0, 0.0, 2.0]
    with pytest.raises(IndexError, match="out of range"):
        x.select(0, 3)
    assert _t([[1.0, 2.0], [3.0, 4.0]], backend).quantile(0.5).item() == 2.5
    with pytest.raises(RuntimeError, match="floating"):
        _t([1, 2], backend).quantile(0.5)


def test_integer_helpers(backend) -> None:
    counts = _t([1, 3, 3, 0], backend).bincount(minlength=6)
    assert counts.numpy().tolist() == [1, 1, 0, 2, 0, 0]
    weighted = _t([1, 3, 3], backend).bincount(_t([0.5, 1.0, 2.0], backend))
    assert weighted.numpy().tolist() == [0.0, 0.5, 0.0, 3.0]
    with pytest.raises(RuntimeError, match="1-d integer"):
        _t([1.0], backend).bincount()
    hist = _t([-1.0, -0.2, 0.1, 0.9, 5.0], backend).histc(4, -1, 1)
    assert hist.numpy().tolist() == [1.0, 1.0, 1.0, 1.0] and hist.dtype == ag.float32
    assert _t([12, 18, 7], backend).gcd(_t([8, 12, 0], backend)).numpy().tolist() == [4, 6, 7]
    assert _t([4, 6], backend).lcm(_t([6, 4], backend)).numpy().tolist() == [12, 12]
    with pytest.raises(RuntimeError, match="integer"):
        _t([1.5], backend).gcd(_t([2.0], backend))
    h = _t([-1.0, 0.0, 2.0], backend).heaviside(_t([0.5], backend))
    assert h.numpy().tolist() == [0.0, 0.5, 1.0]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_pow_base_gradient_is_zero_for_a_zero_exponent(backend) -> None:
    a = _t([-np.inf, np.inf, 0.0, 0.0], backend, requires_grad=True)
    b = _t([0.0, 0.0, 0.0, 0.3], backend, requires_grad=True)
    (a ** b).sum().backward()
    assert a.grad.numpy().tolist()[:3] == [0.0, 0.0, 0.0]  # x ** 0 is the constant 1
