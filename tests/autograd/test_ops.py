"""Table-driven op tests: forward vs NumPy, first-order and second-order gradchecks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd.gradcheck import gradcheck, gradgradcheck

from .cases_arithmetic import CASES as ARITHMETIC
from .op_table import OpCase, draw_values, to_tensors

CASES: list[OpCase] = [*ARITHMETIC]
for _module in ("cases_unary", "cases_reduction", "cases_shape", "cases_nn", "cases_math",
                "cases_structure", "cases_products", "cases_numpy", "cases_linalg",
                "cases_special", "cases_recurrent", "cases_attention", "cases_layer_norm",
                "cases_torch_shape", "cases_scatter", "cases_torch_writes", "cases_torch_aliases",
                "cases_conv_transpose", "cases_resample", "cases_pool", "cases_activations",
                "cases_norm", "cases_losses"):
    try:
        CASES += __import__(f"tests.autograd.{_module}", fromlist=["CASES"]).CASES
    except ModuleNotFoundError:
        pass

SECOND_ORDER = [c for c in CASES if c.second_order]


def _draw(case: OpCase, data: st.DataObject) -> tuple:
    shapes = data.draw(case.shapes, label="shapes")
    params = data.draw(case.params(shapes), label="params")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    return draw_values(case, shapes, seed), params


@pytest.mark.parametrize("case", CASES, ids=str)
@given(data=st.data())
def test_forward_matches_numpy(case: OpCase, backend, data) -> None:
    arrays, params = _draw(case, data)
    tensors = to_tensors(case, arrays, backend, requires_grad=False)
    out = case.fn(*tensors, **params)
    expected = np.asarray(case.ref(*arrays, **params))
    got = out.numpy()
    assert got.shape == expected.shape, f"{case.name}: shape {got.shape} != {expected.shape}"
    assert got.dtype == expected.dtype or expected.dtype.kind != "f", (
        f"{case.name}: dtype {got.dtype} != {expected.dtype}"
    )
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12, err_msg=case.name)


@pytest.mark.parametrize("case", CASES, ids=str)
@given(data=st.data())
def test_gradcheck(case: OpCase, backend, data) -> None:
    arrays, params = _draw(case, data)
    tensors = to_tensors(case, arrays, backend)
    assert gradcheck(lambda *xs: case.fn(*xs, **params), tensors, atol=case.atol, rtol=case.rtol)


@pytest.mark.parametrize("case", SECOND_ORDER, ids=str)
@given(data=st.data())
def test_gradgradcheck(case: OpCase, backend, data) -> None:
    arrays, params = _draw(case, data)
    tensors = to_tensors(case, arrays, backend)
    assert gradgradcheck(
        lambda *xs: case.fn(*xs, **params), tensors, atol=case.atol, rtol=case.rtol
    )


# Long property runs: `python -m pytest -m slow` (300 drawn examples per op instead of 25).
LONG = settings(max_examples=300, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=str)
@LONG
@given(data=st.data())
def test_gradcheck_long(case: OpCase, backend, data) -> None:
    test_gradcheck.hypothesis.inner_test(case, backend, data)


@pytest.mark.slow
@pytest.mark.parametrize("case", SECOND_ORDER, ids=str)
@LONG
@given(data=st.data())
def test_gradgradcheck_long(case: OpCase, backend, data) -> None:
    test_gradgradcheck.hypothesis.inner_test(case, backend, data)
