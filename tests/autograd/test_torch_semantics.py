"""Tensor methods mean what they mean in PyTorch (the `autograd` functions keep NumPy's).

Each test pins one place where the two dialects differ, with the values PyTorch gives.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F


def _t(data, backend, requires_grad=False, dtype="float64"):
    return ag.tensor(np.asarray(data, dtype=dtype), device=backend, requires_grad=requires_grad)


# -- repeat, split, chunk ----------------------------------------------------------------------
def test_repeat_tiles_and_repeat_interleave_repeats_elements(backend) -> None:
    x = _t([[1, 2], [3, 4]], backend)
    assert x.repeat(1, 2).tolist() == [[1, 2, 1, 2], [3, 4, 3, 4]]
    assert x.repeat(2, 1, 1).shape == (2, 2, 2)
    assert x.repeat_interleave(2, dim=0).tolist() == [[1, 2], [1, 2], [3, 4], [3, 4]]
    assert x.repeat_interleave(2).tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    counts = ag.tensor([0, 2], device=backend)
    assert x.repeat_interleave(counts, dim=1).tolist() == [[2, 2], [4, 4]]
    assert ag.repeat(x, 2, axis=1).tolist() == [[1, 1, 2, 2], [3, 3, 4, 4]]  # NumPy's
    with pytest.raises(ValueError, match="at least one per dim"):
        x.repeat(2)


def test_split_takes_sizes_and_chunk_takes_counts(backend) -> None:
    x = _t(np.arange(10).reshape(5, 2), backend)
    assert [p.shape for p in x.split(2)] == [(2, 2), (2, 2), (1, 2)]
    assert [p.shape for p in x.split([1, 4])] == [(1, 2), (4, 2)]
    assert [p.shape for p in x.split(1, dim=1)] == [(5, 1), (5, 1)]
    assert [p.shape for p in x.chunk(3)] == [(2, 2), (2, 2), (1, 2)]
    assert [p.shape for p in _t(np.zeros(6), backend).chunk(4)] == [(2,), (2,), (2,)]
    assert [p.shape for p in ag.split(x, 5)] == [(1, 2)] * 5  # NumPy's: 5 sections
    with pytest.raises(ValueError, match="add up"):
        x.split([2, 2])


# -- max, min, amax, var, std ------------------------------------------------------------------
def test_max_forms(backend) -> None:
    x = _t([[1, 5, 5], [2, 2, 0]], backend, requires_grad=True)
    values, indices = x.max(1)
    assert values.tolist() == [5, 2] and indices.tolist() == [1, 0]
    assert indices.dtype == np.int64
    result = x.max(dim=1, keepdim=True)
    assert result.values.shape == (2, 1) and result.indices.shape == (2, 1)
    assert type(result).__name__ == "max" and result._fields == ("values", "indices")
    values.sum().backward()  # the gradient goes to the index max(dim) returned
    assert x.grad.tolist() == [[0, 1, 0], [1, 0, 0]]
    x.grad = None
    x.amax(1).sum().backward()  # amax shares it among ties
    assert x.grad.tolist() == [[0, 0.5, 0.5], [0.5, 0.5, 0]]
    assert x.max().shape == () and x.max().item() == 5
    assert x.min(0).indices.tolist() == [0, 1, 1]
    other = _t([0, 9, 0], backend)
    assert x.max(other).tolist() == [[1, 9, 5], [2, 9, 0]]
    assert x.min(other).tolist() == [[0, 5, 0], [0, 2, 0]]
    assert x.amax().item() == 5 and x.amin((0, 1)).item() == 0
    assert ag.max(x, 1).tolist() == [5, 2]  # NumPy's: values only
    with pytest.raises(TypeError, match="keepdim needs a dim"):
        x.max(keepdim=True)


def test_max_of_a_0d_tensor_along_dim_0(backend) -> None:
    x = _t(3.0, backend)
    values, indices = x.max(0)
    assert values.shape == () and values.item() == 3 and indices.item() == 0


def test_var_and_std_are_unbiased_by_default(backend) -> None:
    x = _t([1, 2, 3, 4], backend)
    assert x.var().item() == pytest.approx(5 / 3)
    assert x.var(unbiased=False).item() == pytest.approx(1.25)
    assert x.var(False).item() == pytest.approx(1.25)  # PyTorch's var(unbiased) overload
    assert x.var(correction=0).item() == pytest.approx(1.25)
    assert x.var(0, correction=2).item() == pytest.approx(2.5)
    assert x.std().item() == pytest.approx((5 / 3) ** 0.5)
    assert x.std(0, keepdim=True).shape == (1,)
    assert ag.var(x).item() == pytest.approx(1.25)  # NumPy's: ddof=0
    with pytest.raises(TypeError, match="not both"):
        x.var(unbiased=True, correction=1)


# -- transpose, permute, t, squeeze -------------------------------------------------------------
def test_transpose_swaps_two_dims(backend) -> None:
    x = _t(np.zeros((2, 3, 4)), backend)
    assert x.transpose(0, 2).shape == (4, 3, 2)
    assert x.transpose(-1, 1).shape == (2, 4, 3)
    assert x.permute(2, 0, 1).shape == (4, 2, 3) and x.permute((1, 0, 2)).shape == (3, 2, 4)
    assert x.swapdims(0, 1).shape == (3, 2, 4)
    assert _t(np.zeros((2, 3)), backend).t().shape == (3, 2)
    assert _t(np.zeros(3), backend).t().shape == (3,)
    assert ag.transpose(x).shape == (4, 3, 2)  # NumPy's: reversed
    with pytest.raises(ValueError, match="at most 2 dims"):
        x.t()
    with pytest.raises(TypeError):
        x.transpose((2, 1, 0))


def test_squeeze_skips_dims_that_are_not_1(backend) -> None:
    x = _t(np.zeros((2, 1, 3, 1)), backend)
    assert x.squeeze(0).shape == (2, 1, 3, 1)
    assert x.squeeze(1).shape == (2, 3, 1)
    assert x.squeeze((0, 1, 3)).shape == (2, 3)
    assert x.squeeze().shape == (2, 3)
    assert x.unsqueeze(-1).shape == (2, 1, 3, 1, 1)
    with pytest.raises(ValueError, match="not 1"):
        ag.squeeze(x, 0)  # NumPy's


# -- softmax without a dim ---------------------------------------------------------------------
@pytest.mark.parametrize("shape, dim", [((3,), 0), ((2, 3), 1), ((2, 3, 4), 0),
                                        ((2, 3, 4, 5), 1)])
def test_softmax_without_dim_is_pytorch_implicit_choice_with_its_warning(backend, shape,
                                                                         dim) -> None:
    x = _t(np.random.default_rng(0).normal(size=shape), backend)
    expected = x.softmax(dim).numpy()
    for call in (lambda: F.softmax(x), lambda: nn.Softmax()(x)):
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
            np.testing.assert_allclose(call().numpy(), expected)
    with pytest.warns(UserWarning, match="log_softmax"):
        np.testing.assert_allclose(F.log_softmax(x).numpy(), x.log_softmax(dim).numpy())
    with pytest.warns(UserWarning):
        nn.LogSoftmax()(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.softmax(x, dim=-1)
        nn.Softmax(dim=0)(x)


def test_softmax_method_needs_a_dim(backend) -> None:
    x = _t([1.0, 2.0], backend)
    with pytest.raises(TypeError, match="missing the dim"):
        x.softmax()
    with pytest.raises(TypeError, match="missing the dim"):
        x.log_softmax()
    assert x.softmax(dim=0).sum().item() == pytest.approx(1.0)
    assert x.softmax(axis=0).sum().item() == pytest.approx(1.0)


# -- dim / keepdim and their aliases ------------------------------------------------------------
@pytest.mark.parametrize("name", ["sum", "mean", "prod", "var", "std", "amax", "amin",
                                  "logsumexp", "any", "all", "argmax", "argmin"])
def test_reductions_take_dim_keepdim_and_the_numpy_aliases(backend, name) -> None:
    x = _t(np.arange(1.0, 7.0).reshape(2, 3), backend)
    a = getattr(x, name)(dim=1, keepdim=True)
    b = getattr(x, name)(axis=1, keepdims=True)
    # var/std(dim, unbiased, keepdim), as PyTorch's positional order
    c = getattr(x, name)(1, True, True) if name in ("var", "std") else getattr(x, name)(1, True)
    assert a.shape == b.shape == c.shape == (2, 1)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(TypeError, match="alias"):
        getattr(x, name)(dim=1, axis=1)


def test_dims_out_of_range_name_the_op(backend) -> None:
    x = _t(np.zeros((2, 3)), backend)
    with pytest.raises(IndexError, match=r"sum: dim 2 is out of range .* \[-2, 1\]"):
        x.sum(2)
    with pytest.raises(ValueError, match="more than once"):
        x.sum((0, -2))


# -- indexing -----------------------------------------------------------------------------------
def test_indexing_follows_pytorch_where_numpy_differs(backend) -> None:
    data = np.arange(3 * 5 * 12 * 6 * 3, dtype=np.float64).reshape(3, 5, 12, 6, 3)
    x = _t(data, backend, requires_grad=True)
    idx = ag.tensor([0, 2, 1], device=backend)
    y = x[1, :, 3:11:2, idx, 0:2]
    assert y.shape == (5, 4, 3, 2)  # NumPy: (3, 5, 4, 2)
    np.testing.assert_array_equal(y.numpy(), data[1][:, 3:11:2, [0, 2, 1], 0:2])
    assert ag.getitem(x, (1, slice(None), slice(3, 11, 2), idx, slice(0, 2))).shape == (
        3, 5, 4, 2)  # the autograd function keeps NumPy's rule
    assert x[..., 1, :, idx].shape == (3, 5, 6, 3)
    assert x[idx, :, 0, idx].shape == (3, 5, 3)  # arrays apart: the same in both rules
    assert x[ag.tensor(1, device=backend), :, 3:11:2, idx].shape == (5, 4, 3, 3)
    gy = np.random.default_rng(1).normal(size=y.shape)
    y.backward(_t(gy, backend))
    expected = np.zeros_like(data)
    np.add.at(expected[1], (slice(None), slice(3, 11, 2), [0, 2, 1], slice(0, 2)), gy)
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_setitem_follows_pytorch_where_numpy_differs(backend) -> None:
    value = np.arange(5 * 3, dtype=np.float64).reshape(5, 3)
    x = _t(np.zeros((2, 5, 4)), backend)
    x[1, :, [0, 2, 3]] = _t(value, backend)
    expected = np.zeros((2, 5, 4))
    expected[1][:, [0, 2, 3]] = value
    np.testing.assert_array_equal(x.numpy(), expected)
    z = _t(np.zeros((2, 5, 4)), backend)
    z[ag.tensor(1, device=backend), :, [0, 2, 3]] = _t(value, backend)  # a 0-d index tensor
    np.testing.assert_array_equal(z.numpy(), expected)
    # Recorded: the same two steps, differentiable in both.
    base = _t(np.ones((2, 5, 4)), backend, requires_grad=True)
    v = _t(value, backend, requires_grad=True)
    h = base * 1.0
    h[1, :, [0, 2, 3]] = v
    expected_h = np.ones((2, 5, 4))
    expected_h[1][:, [0, 2, 3]] = value
    np.testing.assert_array_equal(h.numpy(), expected_h)
    (h * _t(np.arange(40.0).reshape(2, 5, 4), backend)).sum().backward()
    assert v.grad.numpy().tolist() == np.arange(40.0).reshape(2, 5, 4)[1][:, [0, 2, 3]].tolist()
    mask = np.ones((2, 5, 4))
    mask[1][:, [0, 2, 3]] = 0
    np.testing.assert_array_equal(base.grad.numpy(), mask * np.arange(40.0).reshape(2, 5, 4))


# -- shape and view methods ---------------------------------------------------------------------
def test_sizes(backend) -> None:
    x = _t(np.zeros((2, 3, 4)), backend)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.size().numel() == 24 and repr(x.size()) == "Size([2, 3, 4])"
    assert x.numel() == 24 and x.nelement() == 24 and x.dim() == 3
    with pytest.raises(IndexError):
        _t(1.0, backend).size(0)


def test_size_read_uncalled_is_numpys_element_count(backend) -> None:
    # PyTorch code calls x.size; NumPy code (HIPS autograd's too) reads it as the element
    # count: both spellings keep their meaning, and `x.size == 0` is never silently False.
    x = _t(np.zeros((2, 3, 4)), backend)
    assert x.size == 24 and x.size * 2 == 48 and int(x.size) == 24
    assert _t(np.zeros((0, 3)), backend).size == 0 and _t(1.0, backend).size == 1
    assert x.size() == (2, 3, 4) and x.size(-1) == 4


def test_contiguous_copies_only_a_non_contiguous_tensor(backend) -> None:
    x = _t(np.zeros((2, 3)), backend)
    assert x.contiguous() is x and x.is_contiguous()
    t = x.t()
    assert not t.is_contiguous()
    c = t.contiguous()
    assert c.is_contiguous()
    c.add_(1.0)  # its own memory: x is untouched, as in PyTorch
    assert x.numpy().sum() == 0


def test_views_write_through(backend) -> None:
    x = _t(np.zeros((2, 3)), backend)
    x.t().add_(1.0)  # nothing recorded: an in-place op on a view writes into x
    x.narrow(1, 0, 2).mul_(3.0)
    x[0].fill_(7.0)
    assert x.tolist() == [[7, 7, 7], [3, 3, 1]]


def test_expand_view_as_and_friends(backend) -> None:
    x = _t([[1.0], [2.0]], backend)
    assert x.expand(3, -1, 4).shape == (3, 2, 4)
    assert x.expand_as(_t(np.zeros((2, 5)), backend)).shape == (2, 5)
    assert x.view_as(_t(np.zeros(2), backend)).shape == (2,)
    assert x.reshape_as(_t(np.zeros((1, 2)), backend)).shape == (1, 2)
    assert x.type_as(ag.tensor([1], device=backend)).dtype == np.int64
    assert x.unflatten(0, (1, -1)).shape == (1, 2, 1)
    assert x.ravel().tolist() == [1.0, 2.0]
    assert [t.tolist() for t in x.unbind(0)] == [[1.0], [2.0]]
    with pytest.raises(ValueError, match="-1 is not allowed"):
        x.expand(-1, 2, 1)


def test_unfold_windows(backend) -> None:
    x = _t(np.arange(7.0), backend)
    assert x.unfold(0, 3, 2).tolist() == [[0, 1, 2], [2, 3, 4], [4, 5, 6]]
    m = _t(np.arange(12.0).reshape(3, 4), backend)
    assert m.unfold(1, 2, 1).shape == (3, 3, 2)


def test_movedim(backend) -> None:
    x = _t(np.zeros((2, 3, 4, 5)), backend)
    assert x.movedim(0, -1).shape == (3, 4, 5, 2)
    assert x.movedim((0, 1), (3, 0)).shape == (3, 4, 5, 2)


def test_new_tensors_take_dtype_and_device(backend) -> None:
    x = ag.zeros(2, dtype="float64", device=backend)
    for t in (x.new_zeros(2, 3), x.new_ones((2, 3)), x.new_empty(2, 3), x.new_full((2, 3), 4)):
        assert t.shape == (2, 3) and t.dtype == np.float64 and t.device == backend.device
    assert x.new_full((2,), 4).tolist() == [4, 4]
    assert x.new_tensor([1, 2]).dtype == np.float64  # PyTorch: the tensor's dtype
    assert x.new_zeros(2, dtype="int32").dtype == np.int32
    assert x.new_ones(1, requires_grad=True).requires_grad


# -- casts -------------------------------------------------------------------------------------
def test_casts(backend) -> None:
    x = _t([1.5, -2.0], backend, requires_grad=True)
    assert x.int().dtype == np.int32 and x.long().dtype == np.int64
    assert x.half().dtype == np.float16 and x.float().dtype == np.float32
    assert x.double().dtype == np.float64 and x.bool().dtype == np.bool_
    assert x.int().tolist() == [1, -2]
    assert x.to("float32").dtype == np.float32
    assert x.to(ag.tensor([1], device=backend)).dtype == np.int64
    assert x.to(backend.device, "float32").dtype == np.float32
    assert x.to(dtype="float16", device=backend.device).dtype == np.float16
    assert x.to(backend.device) is x
    assert x.to(backend.device, copy=True) is not x
    y = x.to("float32") * 2
    y.sum().backward()
    assert x.grad.dtype == np.float64 and x.grad.tolist() == [2.0, 2.0]


def test_view_as_dtype_reinterprets(backend) -> None:
    x = ag.tensor([1.0], dtype="float32", device=backend)
    assert x.view("int32").item() == 1065353216


def test_extremes_of_empty_tensors_raise(backend) -> None:
    x = ag.zeros(0, 3, device=backend)
    with pytest.raises(ValueError, match="argmax: cannot reduce"):
        x.argmax()
    with pytest.raises(ValueError, match="argmax: cannot reduce"):
        x.max(0)
    assert x.max(1).values.shape == (0,) and x.amax(1).shape == (0,)


def test_shape_methods_take_the_axis_alias(backend) -> None:
    x = _t(np.zeros((4, 6)), backend)
    assert [p.shape for p in x.split(4, axis=1)] == [(4, 4), (4, 2)]
    assert len(x.chunk(2, axis=1)) == 2 and len(x.unbind(axis=1)) == 6
    assert len(x.tensor_split(3, axis=0)) == 3
    assert x.unsqueeze(axis=0).shape == (1, 4, 6)
    assert x.repeat_interleave(2, axis=0).shape == (8, 6)
    assert x.squeeze(axis=0).shape == (4, 6)
    with pytest.raises(TypeError, match="alias"):
        x.split(2, dim=0, axis=0)


def test_type_flip_and_clamp_as_pytorch(backend) -> None:
    x = _t([1.0, -2.0, 3.0], backend, requires_grad=True, dtype="float32")
    assert x.type() == ("autograd.cuda.FloatTensor" if backend.is_device else
                        "autograd.FloatTensor")
    assert x.type("int32").dtype == np.int32 and x.type("torch.LongTensor").dtype == np.int64
    assert x.flip(0).tolist() == [3.0, -2.0, 1.0] and x.flip(()).tolist() == x.tolist()
    with pytest.raises(ValueError, match="more than once"):
        x.flip((0, -1))
    y = x.clamp(2.0, 0.0)  # min > max: max everywhere, as in PyTorch
    assert y.tolist() == [0.0, 0.0, 0.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    lo = _t([0.0, 0.0, 5.0], backend, requires_grad=True, dtype="float32")
    x.grad = None
    z = x.clamp(min=lo)
    assert z.tolist() == [1.0, 0.0, 5.0]
    z.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0] and lo.grad.tolist() == [0.0, 1.0, 1.0]
