"""In-place methods (``x.add_(y, alpha=2)``, ``x.exp_()``, ``x.masked_fill_(m, 0)``, ...): the one
mechanism in tensor_inplace.py, under the version counter's protection."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from autograd import tensor_inplace
from autograd.tensor import Tensor


def _t(data, backend, requires_grad=False, dtype="float64"):
    return ag.tensor(np.asarray(data, dtype=dtype), device=backend, requires_grad=requires_grad)


def test_every_pytorch_in_place_name_with_an_out_of_place_method_is_there() -> None:
    missing = [n + "_" for n in tensor_inplace.TORCH_INPLACE
               if hasattr(Tensor, n) and not hasattr(Tensor, n + "_")]
    assert missing == []
    for name in ("add_", "sub_", "mul_", "div_", "clamp_", "copy_", "fill_", "zero_",
                 "normal_", "uniform_", "masked_fill_", "index_add_", "scatter_", "exp_",
                 "addcmul_", "addcdiv_", "t_", "transpose_", "squeeze_", "unsqueeze_"):
        assert hasattr(Tensor, name), name


def test_a_method_added_later_gets_its_in_place_form() -> None:
    class Later(Tensor):
        __slots__ = ()

        def floor(self):  # a PyTorch in-place name: no marking needed
            return Tensor._make(self.xp.floor(self.array), self.backend)

        @tensor_inplace.inplace
        def halve(self):  # not PyTorch's: marked
            return self * 0.5

    tensor_inplace.install(Later)
    x = Later._make(ag.tensor([1.5, 3.0]).array, ag.tensor(0.0).backend)
    assert x.floor_() is x and x.tolist() == [1.0, 3.0]
    x.halve_()
    assert x.tolist() == [0.5, 1.5]


UNARY = ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "neg", "sign",
         "square", "erf", "log1p", "expm1"]


@pytest.mark.parametrize("name", UNARY)
def test_unary_in_place_forms_match_out_of_place(backend, name) -> None:
    data = np.array([0.5, 1.5, 2.5])
    x = _t(data, backend)
    expected = getattr(x, name)().numpy()
    version = x._version[0]
    assert getattr(x, name + "_")() is x
    np.testing.assert_allclose(x.numpy(), expected)
    assert x._version[0] == version + 1


def test_arithmetic_keywords(backend) -> None:
    x = _t([1.0, 2.0], backend)
    y = _t([10.0, 20.0], backend)
    x.add_(y, alpha=2).sub_(y, alpha=0.5).mul_(2.0).div_(_t([2.0, 4.0], backend))
    assert x.tolist() == [16.0, 16.0]
    x.addcmul_(y, y, value=0.01).addcdiv_(y, _t([5.0, 10.0], backend), value=2.0)
    assert x.tolist() == pytest.approx([21.0, 24.0])
    x.clamp_(min=22.0).pow_(0.5).clamp_(max=4.7)
    assert x.tolist() == pytest.approx([22.0 ** 0.5, 4.7 ** 1])
    x.div_(2, rounding_mode="floor")
    assert x.tolist() == [2.0, 2.0]
    assert x.gt_(1.5).tolist() == [1.0, 1.0]  # comparisons too, in the tensor's dtype


def test_unrecorded_writes_go_to_memory_and_views_see_them(backend) -> None:
    x = _t(np.zeros((2, 3)), backend)
    row = x[1]
    row.add_(2.0)
    x.t().mul_(3.0)
    assert x.tolist() == [[0.0] * 3, [6.0] * 3]
    assert row.tolist() == [6.0] * 3


def test_recorded_in_place_is_rebound_and_exact(backend) -> None:
    w = _t([1.0, 2.0], backend, requires_grad=True)
    h = w * 3.0
    z = h * h  # saves the old h
    h.add_(w, alpha=2.0).exp_().masked_fill_(ag.tensor([False, True], device=backend), 1.0)
    (z.sum() + h.sum()).backward()
    # d/dw [9 w^2] = 18 w, plus d/dw exp(5 w) on the unmasked entry only
    expected = 18 * np.array([1.0, 2.0]) + np.array([5 * np.exp(5.0), 0.0])
    np.testing.assert_allclose(w.grad.numpy(), expected)


def test_an_overwritten_saved_tensor_is_caught_at_backward(backend) -> None:
    x = _t([1.0, 2.0], backend, requires_grad=True)
    y = x.exp()  # saves its output
    with ag.no_grad():
        y.mul_(2.0)  # written in memory: y's version moves on
    with pytest.raises(RuntimeError, match="modified in place"):
        y.sum().backward()


def test_leaves_and_their_views_refuse_recorded_in_place(backend) -> None:
    p = _t([1.0, 2.0], backend, requires_grad=True)
    with pytest.raises(RuntimeError, match="add_ on a leaf tensor that requires grad"):
        p.add_(1.0)
    with pytest.raises(RuntimeError, match="on a view of a leaf tensor that requires grad"):
        p[0].mul_(2.0)
    with pytest.raises(RuntimeError, match="on a view of a leaf"):
        p.view(2, 1)[1] += 1.0
    with ag.no_grad():
        p.add_(1.0)
        p[0].mul_(2.0)
    assert p.tolist() == [4.0, 3.0] and p.is_leaf and p.requires_grad


def test_in_place_results_must_fit_the_tensor(backend) -> None:
    x = _t([1.0, 2.0, 3.0], backend)
    with pytest.raises(RuntimeError, match="shape"):
        x.add_(_t(np.ones((2, 3)), backend))
    i = ag.tensor([1, 2], device=backend)
    with pytest.raises(RuntimeError, match="can't be cast|cannot write"):
        i.add_(1.5)
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.exp_()
    f = ag.tensor([1.0], dtype="float32", device=backend)
    f.add_(_t([0.5], backend))  # a float64 operand: the result is cast back to float32
    assert f.dtype == np.float32 and f.tolist() == [1.5]
    i.mul_(3)
    assert i.tolist() == [3, 6]


def test_fill_zero_copy(backend) -> None:
    x = _t([1.0, 2.0], backend)
    assert x.fill_(5.0).tolist() == [5.0, 5.0]
    assert x.zero_().tolist() == [0.0, 0.0]
    assert x.copy_(_t([[3.0, 4.0]], backend)[0]).tolist() == [3.0, 4.0]
    x.copy_(ag.tensor([7.0, 8.0], device="cpu"))  # from any device
    assert x.tolist() == [7.0, 8.0]
    # Recorded: the value gets the gradient, the old values none, and h stays in the graph.
    w = _t([1.0, 2.0], backend, requires_grad=True)
    v = _t(3.0, backend, requires_grad=True)
    h = w * 2.0
    h.fill_(v)
    g = w * 2.0
    g.zero_()
    (h.sum() + g.sum()).backward()
    assert v.grad.item() == 2.0 and w.grad.tolist() == [0.0, 0.0]


def test_random_draws_fill_in_place(backend) -> None:
    ag.manual_seed(0)
    x = ag.zeros(2000, dtype="float64", device=backend)
    assert x.normal_(1.0, 2.0) is x
    assert abs(x.numpy().mean() - 1.0) < 0.2 and abs(x.numpy().std() - 2.0) < 0.2
    x.uniform_(-1.0, 3.0)
    assert x.numpy().min() >= -1.0 and x.numpy().max() < 3.0
    x.bernoulli_(0.25)
    assert set(np.unique(x.numpy())) <= {0.0, 1.0} and abs(x.numpy().mean() - 0.25) < 0.05


def test_metadata_in_place(backend) -> None:
    x = _t(np.zeros((2, 1, 3)), backend)
    array = x.array
    x.squeeze_(1)
    assert x.shape == (2, 3)
    x.t_()
    assert x.shape == (3, 2)
    x.unsqueeze_(0).transpose_(0, 2)
    assert x.shape == (2, 3, 1)
    x.add_(1.0)
    assert array.sum() == 6  # still the same memory
    w = _t([1.0], backend, requires_grad=True)
    h = w * 2
    h.detach_()
    assert h.grad_fn is None and not h.requires_grad
