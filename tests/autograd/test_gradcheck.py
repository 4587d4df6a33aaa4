"""gradcheck / gradgradcheck: they pass correct rules and catch the usual mistakes."""

from __future__ import annotations

import pytest

import autograd as ag
from autograd import GradcheckError, gradcheck, gradgradcheck


def _x(backend, values=(0.3, -1.2, 0.7), dtype="float64"):
    return ag.tensor(list(values), dtype=dtype, device=backend, requires_grad=True)


class ForgetsGy(ag.Function):
    """y = x^2 with a rule that ignores the upstream gradient (a .sum() check would pass)."""

    def forward(self, x):
        self.save_for_backward(x)
        return x * x

    def backward(self, gy):
        (x,) = self.saved_tensors
        return 2.0 * x


class ConstantRule(ag.Function):
    """y = x^3 with a correct first derivative computed on raw arrays: not differentiable."""

    def forward(self, x):
        self.save_for_backward(x)
        return x * x * x

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * ag.Tensor._make(3.0 * x.array * x.array, x.backend)


class Cube(ag.Function):
    """y = x^3, written properly."""

    def forward(self, x):
        self.save_for_backward(x)
        return x * x * x

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * 3.0 * x * x


def test_gradcheck_passes_correct_rules(backend) -> None:
    x = _x(backend)
    assert gradcheck(lambda t: (t.tanh() * t).exp(), (x,))
    assert gradcheck(Cube.apply, (x,))
    assert gradgradcheck(Cube.apply, (x,))


def test_gradcheck_catches_a_rule_that_ignores_gy(backend) -> None:
    x = _x(backend)
    with pytest.raises(GradcheckError, match=r"gradient of input 0 \(shape \(3,\)\) is wrong; "
                                             r"worst element \(\d,\): analytic .* vs numeric"):
        gradcheck(ForgetsGy.apply, (x,))
    assert gradcheck(ForgetsGy.apply, (x,), raise_exception=False) is False


def test_gradgradcheck_catches_a_non_differentiable_rule(backend) -> None:
    x = _x(backend)
    assert gradcheck(ConstantRule.apply, (x,))
    with pytest.raises(GradcheckError):
        gradgradcheck(ConstantRule.apply, (x,))


def test_gradcheck_refuses_float32(backend) -> None:
    x = _x(backend, dtype="float32")
    with pytest.raises(GradcheckError, match="input 0 has dtype float32; use float64"):
        gradcheck(lambda t: t * 2.0, (x,))


def test_gradcheck_catches_a_non_reentrant_backward(backend) -> None:
    calls = []

    class Drifting(ag.Function):
        def forward(self, x):
            return x * 2.0

        def backward(self, gy):
            calls.append(1)
            return gy * (2.0 + 1e-3 * len(calls))

    with pytest.raises(GradcheckError, match="not reentrant"):
        gradcheck(Drifting.apply, (_x(backend),), atol=1e-1, rtol=1e-1)


def test_gradcheck_with_several_outputs_constants_and_unused_inputs(backend) -> None:
    a = _x(backend)
    b = _x(backend, (1.0, 2.0, 3.0))
    unused = _x(backend, (5.0,))

    def f(a, b, scale, unused):
        return a * b * scale, (a - b).sum()

    assert gradcheck(f, (a, b, 3.0, unused))
    assert gradgradcheck(f, (a, b, 3.0, unused))


def test_gradcheck_handles_0d_and_size_0_inputs(backend) -> None:
    s = ag.tensor(0.5, dtype="float64", device=backend, requires_grad=True)
    e = ag.zeros(0, 2, dtype="float64", device=backend, requires_grad=True)
    assert gradcheck(lambda t: t * t, (s,))
    assert gradcheck(lambda t: t * 2.0, (e,))


def test_gradcheck_of_broadcasting_checks_un_broadcast_gradients(backend) -> None:
    a = ag.tensor([[0.1], [0.2]], dtype="float64", device=backend, requires_grad=True)
    b = ag.tensor([0.3, 0.4, 0.5], dtype="float64", device=backend, requires_grad=True)
    assert gradcheck(lambda a, b: a * b + a / (b + 2.0), (a, b))
    assert gradgradcheck(lambda a, b: a * b + a / (b + 2.0), (a, b))
