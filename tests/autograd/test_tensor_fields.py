"""What Tensor's fields accept: ``.grad`` (None or a matching Tensor), ``.data`` (PyTorch's:
the micrograd update idiom works), and ``Tensor(t)`` sharing t's version counter."""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd as ag
import backends


def _param(backend, values=(1.0, 2.0, 3.0)):
    return ag.tensor(list(values), device=backend, requires_grad=True)


# -- .grad -------------------------------------------------------------------------------------
def test_grad_takes_none_or_a_tensor_of_the_same_shape_dtype_and_device(backend) -> None:
    p = _param(backend)
    g = ag.tensor([0.5, 0.5, 0.5], device=backend)
    p.grad = g
    assert p.grad is g
    p.grad = None
    assert p.grad is None
    p.grad = g
    del p.grad  # as in PyTorch: the same as assigning None
    assert p.grad is None


@pytest.mark.parametrize("value", [0, 1.5, "grad", [1.0, 2.0, 3.0], np.ones(3, np.float32)],
                         ids=["int", "float", "str", "list", "ndarray"])
def test_grad_refuses_what_is_not_a_tensor(backend, value) -> None:
    p = _param(backend)
    with pytest.raises(TypeError, match=r"Tensor.grad: expected None or a Tensor, got "
                                        r"\w+; the tensor has shape \(3,\), dtype float32"):
        p.grad = value
    assert p.grad is None


def test_grad_refuses_another_shape_and_names_both(backend) -> None:
    p = _param(backend)
    for bad in (ag.ones(1, device=backend), ag.ones(3, 1, device=backend), ag.tensor(1.0)):
        if bad.device != p.device:
            continue
        shape = re.escape(str(tuple(bad.shape)))
        with pytest.raises(RuntimeError, match=rf"has shape {shape}, dtype float32.*but the "
                                               r"tensor has shape \(3,\), dtype float32"):
            p.grad = bad
    assert p.grad is None


def test_grad_refuses_another_dtype(backend) -> None:
    p = _param(backend)
    with pytest.raises(RuntimeError, match=r"dtype float64.*but the tensor has shape \(3,\), "
                                           r"dtype float32"):
        p.grad = ag.ones(3, dtype="float64", device=backend)


def test_grad_refuses_another_device(backend) -> None:
    other = "cpu" if backend.device != "cpu" else "fake"
    try:
        other_backend = backends.get(other)
    except Exception:  # noqa: BLE001 - no fake device in this checkout
        pytest.skip("needs a second device")
    p = _param(backend)
    with pytest.raises(RuntimeError, match=rf"device {other_backend.device}.*but the tensor has "
                                           rf".*device {backend.device}"):
        p.grad = ag.ones(3, device=other_backend)


def test_a_refused_grad_leaves_backward_working(backend) -> None:
    # `q.grad = 0` used to be stored and crash the next backward.
    q = _param(backend)
    with pytest.raises(TypeError):
        q.grad = 0
    (q * q).sum().backward()
    np.testing.assert_allclose(q.grad.numpy(), [2.0, 4.0, 6.0])
    (q * q).sum().backward()  # accumulates into the checked grad
    np.testing.assert_allclose(q.grad.numpy(), [4.0, 8.0, 12.0])


def test_an_assigned_grad_accumulates(backend) -> None:
    p = _param(backend)
    p.grad = ag.tensor([1.0, 1.0, 1.0], device=backend)
    (p * 2).sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), [3.0, 3.0, 3.0])


# -- .data: the micrograd / old-PyTorch update idiom ------------------------------------------
def test_data_minus_equals_updates_the_parameter_and_backward_still_works(backend) -> None:
    p = _param(backend)
    (p * p).sum().backward()
    lr = 0.1
    p.data -= lr * p.grad
    np.testing.assert_allclose(p.numpy(), [0.8, 1.6, 2.4], rtol=1e-6)
    assert p.requires_grad and p.is_leaf
    p.grad = None
    (p * p).sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), [1.6, 3.2, 4.8], rtol=1e-6)


def test_data_copy_writes_the_memory_outside_autograd(backend) -> None:
    p = _param(backend)
    y = p * p  # saves p
    p.data.copy_(ag.tensor([4.0, 5.0, 6.0], device=backend))
    np.testing.assert_allclose(p.numpy(), [4.0, 5.0, 6.0])
    y.sum().backward()  # as in PyTorch: .data writes are not seen by autograd
    np.testing.assert_allclose(p.grad.numpy(), [8.0, 10.0, 12.0])


def test_data_assignment_rebinds_and_backward_uses_the_new_values(backend) -> None:
    p = _param(backend)
    p.data = ag.tensor([[1.0, 2.0], [3.0, 4.0]], device=backend)
    assert p.shape == (2, 2) and p.requires_grad
    (p * p).sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), [[2.0, 4.0], [6.0, 8.0]])


def test_data_assignment_refuses_an_array(backend) -> None:
    p = _param(backend)
    with pytest.raises(TypeError, match=r"Tensor.data: expected a Tensor, got ndarray.*\.array"):
        p.data = np.ones(3)
    np.testing.assert_allclose(p.numpy(), [1.0, 2.0, 3.0])


# -- Tensor(t) shares t's memory, so it shares its version counter -----------------------------
def test_tensor_of_a_tensor_shares_the_version_counter(backend) -> None:
    a = ag.tensor([1.0, 2.0, 3.0], device=backend)
    x = _param(backend, (4.0, 8.0, 12.0))
    y = (x * a * a).sum()  # saves a
    alias = ag.Tensor(a)
    assert alias.array is a.array and alias._version is a._version
    alias += 1  # an in-place write through the alias changes what Mul saved
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_tensor_of_a_tensor_with_a_copy_gets_its_own_counter(backend) -> None:
    a = ag.tensor([1.0, 2.0, 3.0], device=backend)
    copy = ag.Tensor(a, dtype="float64")
    assert copy.array is not a.array and copy._version is not a._version
    x = _param(backend)
    y = (x * a).sum()
    copy += 1  # another memory: backward is unaffected
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 2.0, 3.0])
