"""Error messages users see: they name the op, the shapes/dtypes/devices, and what to do."""

from __future__ import annotations

import pytest

import autograd as ag
import backends


def _other_device(backend):
    """A backend different from `backend` (the fake device or the CPU), or skip."""
    name = "cpu" if backend.device != "cpu" else "fake"
    try:
        return backends.get(name)
    except Exception:  # noqa: BLE001 - the fake device may not exist in this checkout
        pytest.skip("needs a second device (the fake backend)")


@pytest.mark.parametrize("op, name", [
    (lambda a, b: a + b, "Add"),
    (lambda a, b: a - b, "Sub"),
    (lambda a, b: a * b, "Mul"),
    (lambda a, b: a / b, "Div"),
])
def test_broadcast_mismatch_names_op_shapes_and_dtypes(backend, op, name) -> None:
    a = ag.ones(2, 3, device=backend)
    b = ag.ones(4, dtype="float64", device=backend)
    with pytest.raises(ValueError, match=rf"^{name}: .*broadcast.*\(inputs: shape \(2, 3\) "
                                         r"float32, shape \(4,\) float64\)$"):
        op(a, b)


def test_matmul_mismatch(backend) -> None:
    a = ag.ones(2, 3, device=backend)
    b = ag.ones(4, device=backend)
    with pytest.raises(ValueError, match=r"^matmul: shapes \(2, 3\) and \(4,\) are not aligned: "
                                         r"3 \(last axis of a\) != 4 \(first axis of b\)$"):
        a @ b
    with pytest.raises(ValueError, match="at least one dimension"):
        a @ ag.tensor(2.0, device=backend)


def test_requires_grad_on_an_integer_tensor(backend) -> None:
    with pytest.raises(TypeError, match="only floating point tensors can require gradients, "
                                        "got dtype int64"):
        ag.tensor([1, 2], device=backend, requires_grad=True)
    with pytest.raises(TypeError, match="got dtype int64"):
        ag.arange(3, device=backend).requires_grad_()


def test_mixing_devices(backend) -> None:
    other = _other_device(backend)
    a = ag.ones(2, device=backend)
    b = ag.ones(2, device=other)
    with pytest.raises(RuntimeError, match=r"Add: all tensors must be on the same device, got "
                                           r"tensors on \[.*\(2,\) float32.*\]; move them"):
        a + b
    with pytest.raises(RuntimeError, match="different devices"):
        a.lt(b)


def test_backward_of_a_non_scalar_without_grad(backend) -> None:
    x = ag.ones(2, device=backend, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"grad can be implicitly created only for a "
                                           r"one-element output, got shape \(2,\)"):
        (x * 2.0).backward()


def test_backward_with_a_grad_of_the_wrong_shape(backend) -> None:
    x = ag.ones(2, device=backend, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"grad has shape \(3,\) but the output has shape \(2,"):
        (x * 2.0).backward(ag.ones(3, device=backend))


def test_backward_of_a_tensor_that_does_not_require_grad(backend) -> None:
    x = ag.ones(2, device=backend)
    with pytest.raises(RuntimeError, match="does not require grad and has no grad_fn"):
        x.sum().backward()


def test_backward_through_a_freed_graph(backend) -> None:
    x = ag.ones(2, device=backend, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"^Mul: trying to backward through the graph a second "
                                           r"time.*backward\(retain_graph=True\)"):
        y.backward()


def test_item_on_a_non_scalar(backend) -> None:
    with pytest.raises(ValueError, match=r"item\(\): only a tensor with one element can be "
                                         r"converted to a Python scalar, got a tensor of shape "
                                         r"\(2, 2\)"):
        ag.ones(2, 2, device=backend).item()


def test_truth_value_of_a_non_scalar(backend) -> None:
    with pytest.raises(ValueError, match="ambiguous; use .any"):
        bool(ag.ones(3, device=backend))


def test_in_place_on_a_leaf_that_requires_grad(backend) -> None:
    x = ag.ones(2, device=backend, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"in-place add on a leaf tensor that requires grad "
                                           r"\(shape \(2,\), dtype float32\).*no_grad"):
        x += 1.0


def test_reshape_mismatch(backend) -> None:
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\)"):
        ag.ones(2, 3, device=backend).reshape(4)


def test_requires_grad_false_on_a_non_leaf(backend) -> None:
    y = ag.ones(2, device=backend, requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match="only leaf tensors can stop requiring grad"):
        y.requires_grad_(False)


def test_backward_rule_returning_the_wrong_number_of_gradients(backend) -> None:
    class Broken(ag.Function):
        def forward(self, a, b):
            return a + b

        def backward(self, gy):
            return gy

    x = ag.ones(2, device=backend, requires_grad=True)
    with pytest.raises(RuntimeError, match="Broken.backward returned 1 gradients for 2 inputs"):
        Broken.apply(x, x).sum().backward()


def test_backward_rule_returning_a_non_tensor(backend) -> None:
    class Raw(ag.Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            return gy.array * 2

    x = ag.ones(2, device=backend, requires_grad=True)
    with pytest.raises(TypeError, match="Raw.backward returned .*, expected a Tensor"):
        Raw.apply(x).sum().backward()
