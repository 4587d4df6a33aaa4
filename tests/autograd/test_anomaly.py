"""Anomaly mode (issue 12 §7): a NaN or inf from a backward rule raises, naming the op and the
forward line that recorded it; the switch works as a context manager, decorator and plain call."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from autograd import anomaly_mode

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the NaNs are the point


@pytest.fixture(autouse=True)
def anomaly_off():
    """Every test starts and ends with anomaly mode off (it is process-wide)."""
    ag.set_detect_anomaly(False)
    yield
    ag.set_detect_anomaly(False)


def sqrt_at_zero(x):
    """d sqrt(x)/dx at 0 is inf; times the 0 from ``* 0`` it is NaN."""
    return (x.sqrt() * 0.0 + x).sum()  # the forward line the error must show


def test_nan_from_a_rule_names_the_op_and_the_forward_line(backend):
    x = ag.tensor([0.0, 1.0], device=backend, requires_grad=True)
    with ag.detect_anomaly():
        y = sqrt_at_zero(x)
        with pytest.raises(RuntimeError) as info:
            y.backward()
    message = str(info.value)
    assert "the backward rule of Sqrt returned nan values" in message
    assert "gradient for input 0 (shape (2,), float32)" in message
    # The forward stack: this file, the function, and the line itself.
    assert __file__ in message and "in sqrt_at_zero" in message
    assert "return (x.sqrt() * 0.0 + x).sum()" in message


def test_inf_from_a_rule_is_reported_as_inf(backend):
    x = ag.tensor([0.0, 2.0], dtype="float64", device=backend, requires_grad=True)
    with ag.detect_anomaly():
        y = x.log().sum()
        with pytest.raises(RuntimeError, match="the backward rule of Log returned inf values"):
            y.backward()


def test_without_anomaly_mode_the_nan_passes_silently(backend):
    x = ag.tensor([0.0, 1.0], device=backend, requires_grad=True)
    with np.errstate(all="ignore"):
        sqrt_at_zero(x).backward()
    assert np.isnan(x.grad.numpy()[0])
    assert not hasattr(x.grad_fn, "_forward_stack")  # nothing recorded when off


def test_check_nan_false_records_stacks_but_does_not_check(backend):
    x = ag.tensor([0.0, 1.0], device=backend, requires_grad=True)
    with ag.detect_anomaly(check_nan=False):
        assert ag.is_anomaly_enabled() and not ag.is_anomaly_check_nan_enabled()
        y = sqrt_at_zero(x)
        with np.errstate(all="ignore"):
            y.backward()
    assert np.isnan(x.grad.numpy()[0])
    assert ag.is_anomaly_check_nan_enabled()


@pytest.mark.parametrize("how", ["create_graph", "gradients", "retain"])
def test_every_backward_path_is_checked(backend, how):
    x = ag.tensor([0.0, 1.0], dtype="float64", device=backend, requires_grad=True)
    with ag.detect_anomaly():
        y = sqrt_at_zero(x)
        with pytest.raises(RuntimeError, match="backward rule of Sqrt"):
            if how == "create_graph":
                y.backward(create_graph=True)
            elif how == "gradients":
                ag.gradients(y, x)
            else:
                y.backward(retain_graph=True)


def test_a_nan_in_a_second_order_rule_is_caught(backend):
    x = ag.tensor([0.0, 4.0], dtype="float64", device=backend, requires_grad=True)
    with ag.detect_anomaly():
        (g,) = ag.gradients((x ** 1.5).sum(), x, create_graph=True)  # 1.5 sqrt(x): fine
        with pytest.raises(RuntimeError, match="returned (nan|inf) values"):
            g.sum().backward()  # d/dx 1.5 x ** 0.5 = 0.75 x ** -0.5: inf at 0


class NanRule(ag.Function):
    """y = 2x with a rule that returns NaN: a user op with a broken derivative."""

    def forward(self, x):
        return x * 2

    def backward(self, gy):
        return gy * float("nan")


class FailingRule(ag.Function):
    """y = x with a rule that raises."""

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        raise ValueError("the rule failed")


def test_a_custom_function_is_checked_too(backend):
    x = ag.ones(3, device=backend, requires_grad=True)
    with ag.detect_anomaly():
        y = NanRule.apply(x).sum()
        with pytest.raises(RuntimeError, match="backward rule of NanRule returned nan"):
            y.backward()


@pytest.mark.skipif(not hasattr(BaseException, "add_note"), reason="add_note: Python 3.11+")
def test_an_error_in_a_rule_gets_the_forward_stack_as_a_note(backend):
    x = ag.ones(3, device=backend, requires_grad=True)
    with ag.detect_anomaly():
        y = (FailingRule.apply(x) * 2).sum()
        with pytest.raises(ValueError, match="the rule failed") as info:
            y.backward()
    notes = "".join(info.value.__notes__)
    assert "backward rule of FailingRule" in notes
    assert "y = (FailingRule.apply(x) * 2).sum()" in notes


def test_an_op_recorded_before_anomaly_mode_has_no_stack(backend):
    x = ag.tensor([0.0, 1.0], device=backend, requires_grad=True)
    y = sqrt_at_zero(x)  # recorded while off
    with ag.detect_anomaly(), pytest.raises(RuntimeError, match="no forward stack"):
        y.backward()


def test_finite_gradients_are_unchanged(backend):
    x = ag.tensor([1.0, 2.0, 3.0], device=backend, requires_grad=True)
    with ag.detect_anomaly():
        (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_switches_nest_and_restore():
    assert not ag.is_anomaly_enabled()
    with ag.detect_anomaly():
        assert ag.is_anomaly_enabled()
        with ag.set_detect_anomaly(False):
            assert not ag.is_anomaly_enabled()
        assert ag.is_anomaly_enabled()
    assert not ag.is_anomaly_enabled()
    ag.set_detect_anomaly(True)
    assert ag.is_anomaly_enabled()
    ag.set_detect_anomaly(False)
    assert not ag.is_anomaly_enabled()


def test_the_switch_is_restored_after_an_error():
    with pytest.raises(KeyError), ag.detect_anomaly():
        raise KeyError("x")
    assert not ag.is_anomaly_enabled()


def test_decorators():
    @ag.detect_anomaly
    def bare():
        return ag.is_anomaly_enabled()

    @ag.detect_anomaly(check_nan=False)
    def called():
        return ag.is_anomaly_enabled(), ag.is_anomaly_check_nan_enabled()

    @ag.set_detect_anomaly(True)
    def switched():
        return ag.is_anomaly_enabled()

    assert not ag.is_anomaly_enabled()  # decorating switches nothing
    assert bare() and called() == (True, False) and switched()
    assert not ag.is_anomaly_enabled() and ag.is_anomaly_check_nan_enabled()


def test_one_instance_can_be_reentered():
    mode = ag.detect_anomaly()
    with mode:
        with mode:
            assert ag.is_anomaly_enabled()
        assert ag.is_anomaly_enabled()
    assert not ag.is_anomaly_enabled()


def test_the_c_core_records_stacks_too():
    # Both cores record the stack at Function.apply; the C core calls back only when on.
    x = ag.ones(2, requires_grad=True)
    with ag.detect_anomaly():
        y = x * 3.0
    stack = anomaly_mode.forward_stack(y.grad_fn)
    assert "y = x * 3.0" in stack and "test_the_c_core_records_stacks_too" in stack
