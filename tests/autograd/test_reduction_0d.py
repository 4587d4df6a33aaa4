"""Reductions of a 0-d tensor over axis 0 or -1 (issue 12 §6: ``ag.tensor(0.5).logsumexp(0)``
raised "tuple index out of range").

PyTorch's reductions take dim 0 or -1 on a 0-d tensor and return it (reduced over nothing);
NumPy's ufunc reductions (sum, prod, max, min, argmax) and scipy's logsumexp do the same. Both
dialects therefore agree: the value comes back, with gradient 1. Any other axis raises naming
the op.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag

REDUCTIONS = ["sum", "mean", "var", "std", "prod", "max", "min", "logsumexp"]


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("axis", [0, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_method_and_function_reduce_a_0d_tensor_over_nothing(backend, name, axis, keepdims):
    expected = {"var": 0.0, "std": 0.0}.get(name, 0.5)
    for call in (lambda t: getattr(t, name)(axis, keepdims=keepdims),
                 lambda t: getattr(ag, name)(t, axis=axis, keepdims=keepdims)):
        x = ag.tensor(0.5, dtype="float64", device=backend, requires_grad=True)
        y = call(x)
        assert y.shape == () and y.item() == pytest.approx(expected)
        y.backward()
        assert x.grad.item() == pytest.approx({"var": 0.0, "std": 0.0}.get(name, 1.0))


def test_the_issue_example(backend):
    assert ag.tensor(0.5, device=backend).logsumexp(0).item() == pytest.approx(0.5)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_of_a_0d_tensor(name):
    t = ag.tensor(0.5)
    assert getattr(t, name)(0).item() == 0 and getattr(t, name)(-1).item() == 0


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_of_a_0d_tensor(name):
    t = ag.tensor(0.5)
    assert getattr(t, name)(0).item() == pytest.approx(1.0 if name == "softmax" else 0.0)


@pytest.mark.parametrize("name", REDUCTIONS + ["argmax", "softmax"])
@pytest.mark.parametrize("axis", [1, -2])
def test_other_axes_of_a_0d_tensor_raise_naming_the_op(name, axis):
    with pytest.raises(ValueError, match=f"axis {axis} is out of bounds for a tensor of "
                                         "dimension 0") as info:
        getattr(ag.tensor(0.5), name)(axis)
    op = {"softmax": "logsoftmax"}.get(name, name)
    assert op in str(info.value).replace("_", "").lower()


def test_tensors_with_axes_are_unchanged():
    x = ag.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(x.logsumexp(-1).numpy(),
                               np.log(np.exp(np.arange(6.0).reshape(2, 3)).sum(-1)), rtol=1e-6)
    with pytest.raises(ValueError, match="axis 2 is out of bounds"):
        x.logsumexp(2)
