"""Parameter updates written the PyTorch way: each idiom trains a small model for a few steps
and must give the same parameters as the update formula written out in NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag

LR = 0.1


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(8, 3)), rng.normal(size=(8,)), rng.normal(size=(3,))


def _expected(steps: int) -> np.ndarray:
    """Gradient descent on the mean squared error of x @ w, in NumPy."""
    x, y, w = _data()
    for _ in range(steps):
        w = w - LR * (2.0 / len(y)) * x.T @ (x @ w - y)
    return w


def _loss(w: ag.Tensor, backend) -> ag.Tensor:
    x, y, _ = _data()
    x, y = ag.tensor(x, device=backend), ag.tensor(y, device=backend)
    return ((x @ w - y) ** 2).mean()


def _no_grad_isub(p):
    with ag.no_grad():
        p -= LR * p.grad


def _data_add_(p):
    p.data.add_(p.grad, alpha=-LR)


def _data_isub(p):
    p.data -= LR * p.grad  # the micrograd idiom


def _no_grad_sub_(p):
    with ag.no_grad():
        p.sub_(p.grad * LR)


def _data_assign(p):
    p.data = p.data - LR * p.grad


UPDATES = [_no_grad_isub, _data_add_, _data_isub, _no_grad_sub_, _data_assign]


@pytest.mark.parametrize("update", UPDATES, ids=lambda f: f.__name__.strip("_"))
@pytest.mark.parametrize("reset", ["none", "zero_", "zeros_like"])
def test_update_idioms_train_as_the_formula(backend, update, reset) -> None:
    w = ag.tensor(_data()[2], device=backend, requires_grad=True)
    for _ in range(3):
        if reset == "none":
            w.grad = None
        elif w.grad is not None and reset == "zero_":
            w.grad.zero_()
        elif reset == "zeros_like":
            w.grad = ag.zeros_like(w)
        _loss(w, backend).backward()
        update(w)
        assert w.is_leaf and w.requires_grad and w.grad_fn is None
    np.testing.assert_allclose(w.numpy(), _expected(3), rtol=1e-12)


def test_data_writes_are_not_seen_by_autograd(backend) -> None:
    w = ag.tensor([1.0, 2.0], dtype="float64", device=backend, requires_grad=True)
    y = w * w  # saves w
    w.data.mul_(10.0)  # PyTorch's .data: its own version counter, so no error below
    y.sum().backward()
    assert w.grad.tolist() == [20.0, 40.0]  # computed from the new values, as in PyTorch
    version = w._version[0]
    w.data -= 1.0
    assert w._version[0] == version and w.tolist() == [9.0, 19.0]


def test_in_place_on_a_parameter_under_grad_mode_raises(backend) -> None:
    w = ag.tensor([1.0], device=backend, requires_grad=True)
    w.grad = ag.ones_like(w)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w -= LR * w.grad
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.add_(w.grad, alpha=-LR)
