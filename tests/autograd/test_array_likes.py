"""The NumPy-dialect `ag.` functions convert lists, scalars and NumPy arrays as NumPy does:
every wrapped function is called on plain lists and compared with NumPy (values and dtype)."""

from __future__ import annotations

import numpy as onp
import pytest

import autograd as ag
from autograd import array_likes

F = [[0.25, 0.5], [0.75, 0.125]]
G = [[0.5, 1.5], [2.5, 0.25]]
I = [[1, 2], [3, 4]]  # noqa: E741
J = [[5, 6], [7, 8]]
#: What each function is called with, where none of the generic calls below fits it (NumPy
#: arrays where NumPy itself refuses lists).
SPECIAL = {
    "argpartition": (F[0], 1), "partition": (F[0], 1), "astype": (onp.array(I), "float32"),
    "broadcast_to": (F, (3, 2, 2)), "clip": (F, 0.2, 0.6), "einsum": ("ij,jk->ik", F, G),
    "expand_dims": (F, 0), "quantile": (F, 0.5), "percentile": (F, 50.0),
    "reshape": (F, (4,)), "swapaxes": (F, 0, 1),
    "take_along_axis": (onp.array(F), onp.array([[0], [1]]), 1),
    "where": ([[True, False], [False, True]], F, G), "repeat": (F, 2), "tile": (F, 2),
    "roll": (F, 1), "split": (onp.array(F), 2), "searchsorted": ([1.0, 2.0, 3.0], [2.5, 0.5]),
    "pad": (F, 1), "average": (F,), "full_like": (I, 7),
}
#: The generic calls, tried in order: the first NumPy accepts is the one compared.
GENERIC = [(F,), (F, G), (I,), (I, J)]
WRAPPED = sorted(name for name in ag.__all__
                 if getattr(getattr(ag, name), "__wrapped__", None) is not None
                 and hasattr(onp, name))


def _numpy_call(name: str) -> tuple:
    if name in SPECIAL:
        return SPECIAL[name]
    for args in GENERIC:
        try:
            with onp.errstate(all="ignore"):
                getattr(onp, name)(*args)
        except (TypeError, ValueError):
            continue
        return args
    raise AssertionError(f"no generic call fits numpy.{name}: add it to SPECIAL")


def _assert_same(name: str, got, want) -> None:
    if isinstance(want, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(want), name
        for g, w in zip(got, want):
            _assert_same(name, g, w)
        return
    if isinstance(want, bool):
        assert got is want or got == want, name
        return
    assert isinstance(got, ag.Tensor), f"{name} returned {type(got).__name__}"
    want = onp.asarray(want)
    assert got.shape == want.shape, f"{name}: shape {got.shape}, NumPy's {want.shape}"
    assert got.array.dtype == want.dtype, f"{name}: dtype {got.dtype}, NumPy's {want.dtype}"
    onp.testing.assert_allclose(got.numpy(), want, rtol=1e-12, err_msg=name)


def test_the_numpy_functions_are_wrapped() -> None:
    # every NumPy-named ag function that takes an array argument converts array-likes
    assert {"add", "multiply", "exp", "sum", "dot", "concatenate", "where", "einsum",
            "maximum", "logaddexp", "sort", "cumsum"} <= set(WRAPPED)
    assert len(WRAPPED) > 100


@pytest.mark.parametrize("name", WRAPPED)
def test_each_function_on_lists_matches_numpy(name: str) -> None:
    args = _numpy_call(name)
    with onp.errstate(all="ignore"):
        want = getattr(onp, name)(*args)
        got = getattr(ag, name)(*args)
    _assert_same(name, got, want)


def test_two_lists_add_elementwise_not_concatenate() -> None:
    # the regression: with no Tensor among the inputs, Python's list + concatenated them
    y = ag.add([1, 2], [3, 4])
    assert isinstance(y, ag.Tensor) and y.tolist() == [4, 6] and y.dtype == ag.int64
    assert ag.multiply([1.0, 2.0], 3).tolist() == [3.0, 6.0]
    assert ag.subtract(5, [1, 2]).tolist() == [4, 3]


def test_scalars_alone_follow_numpy() -> None:
    y = ag.add(1, 2.5)
    assert y.shape == () and y.dtype == ag.float64 and y.item() == 3.5
    assert ag.add(1, 2).dtype == ag.int64
    assert ag.exp(0.0).dtype == ag.float64


def test_next_to_a_tensor_lists_keep_numpys_dtype_and_scalars_stay_weak(backend) -> None:
    x = ag.tensor(onp.array([1.0, 2.0], dtype=onp.float32), device=backend)
    assert ag.add(x, 1.5).dtype == ag.float32        # NEP 50: a Python float never widens
    y = ag.add(x, [1.0, 2.0])                        # a float list is float64, as in NumPy
    assert y.dtype == ag.float64 and y.device == x.device
    assert y.tolist() == [2.0, 4.0]
    z = ag.maximum([0.0, 3.0], x)
    assert z.device == x.device and z.tolist() == [1.0, 3.0]


def test_lists_holding_tensors_are_stacked_differentiably(backend) -> None:
    x = ag.tensor(onp.array([1.0, 2.0]), device=backend, requires_grad=True)
    y = ag.sum(ag.multiply([x, x * 2.0], [[1.0, 1.0], [2.0, 2.0]]))
    y.backward()
    onp.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])
    c = ag.concatenate([x, [3.0]])
    assert c.tolist() == [1.0, 2.0, 3.0] and c.requires_grad


def test_tensors_pass_through_unchanged() -> None:
    x = ag.tensor([1.0, 2.0])
    assert ag.add.__wrapped__ is not ag.add
    assert ag.exp(x).dtype == ag.float32


def test_bad_array_likes_are_refused_with_the_op_name() -> None:
    with pytest.raises(TypeError, match="add: expected an array-like"):
        ag.add([[1, 2], [3]], 1)
    with pytest.raises(TypeError, match="add"):
        ag.add(ag.tensor([1.0]), [[1.0], [2.0, 3.0]])


def test_a_function_without_array_parameters_is_left_alone() -> None:
    def f(n: int) -> int:
        return n

    assert array_likes.accept_array_likes(f) is f
