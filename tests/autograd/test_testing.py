"""autograd.testing: the strategies draw what they promise; check_gradients finds bad rules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
from autograd import GradcheckError
from autograd import testing as agt


@given(agt.shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
def test_shapes_respect_their_bounds(shape) -> None:
    assert isinstance(shape, tuple) and 1 <= len(shape) <= 3
    assert all(2 <= n <= 4 for n in shape)


@given(agt.shapes())
def test_shapes_defaults(shape) -> None:
    assert len(shape) <= 4 and all(0 <= n <= 5 for n in shape)


@given(agt.broadcastable_shapes(n=3, max_dims=3))
def test_broadcastable_shapes_broadcast(shapes) -> None:
    assert len(shapes) == 3
    np.broadcast_shapes(*shapes)  # raises if they do not


@given(data=st.data())
def test_tensors_draw_on_the_backend_with_dtype_bounds_and_kinks(backend, data) -> None:
    t = data.draw(agt.tensors(agt.shapes(max_dims=2), elements=(-1.0, 1.0), avoid=(0.0, 0.5),
                              margin=0.05, requires_grad=True, device=backend))
    assert isinstance(t, ag.Tensor) and t.device == backend.device
    assert t.dtype == np.float64 and t.requires_grad and t.is_leaf
    values = t.numpy()
    assert ((values >= -1.05) & (values <= 1.05)).all()
    assert (np.abs(values) >= 0.05 - 1e-12).all() and (np.abs(values - 0.5) >= 0.05 - 1e-12).all()


@given(data=st.data())
def test_tensors_with_fixed_shape_integer_dtype_and_unique(backend, data) -> None:
    t = data.draw(agt.tensors((2, 3), dtype="float32", unique=True))
    assert t.shape == (2, 3) and t.dtype == np.float32 and t.device == backend.device
    assert len(set(t.numpy().ravel().tolist())) == 6
    i = data.draw(agt.tensors((4,), dtype="int64", elements=(0, 9), requires_grad=True))
    assert i.dtype == np.int64 and not i.requires_grad
    assert ((i.numpy() >= 0) & (i.numpy() <= 9)).all()
    c = data.draw(agt.tensors((2,), elements=st.just(1.5)))
    assert c.numpy().tolist() == [1.5, 1.5]


@given(data=st.data())
def test_index_expressions_are_valid_for_their_shape(data) -> None:
    shape = data.draw(agt.shapes(max_dims=3))
    index = data.draw(agt.index_expressions(shape))
    np.zeros(shape)[index]  # raises IndexError if invalid


@given(data=st.data())
def test_index_expressions_cover_advanced_indexing(data) -> None:
    index = data.draw(agt.index_expressions((3, 4)))
    np.arange(12.0).reshape(3, 4)[index]


def test_index_expressions_draw_every_kind() -> None:
    seen = set()

    @given(agt.index_expressions((3, 4)))
    def collect(index):
        parts = index if isinstance(index, tuple) else (index,)
        kinds = {type(p).__name__ for p in parts}
        seen.update(kinds)

    collect()
    assert {"list", "slice", "int"} <= seen


def test_check_gradients_passes_a_correct_function(backend) -> None:
    def softsign(x):
        return x / (1.0 + abs(x))

    agt.check_gradients(softsign, agt.tensors(agt.shapes(max_dims=2, max_side=3), avoid=(0.0,)),
                        second_order=True, max_examples=10)


def test_check_gradients_with_dependent_arguments(backend) -> None:
    pairs = agt.broadcastable_shapes(2, max_dims=2, max_side=3).flatmap(
        lambda s: st.tuples(agt.tensors(s[0]), agt.tensors(s[1])))
    agt.assert_gradients_correct(lambda a, b: a * b + a, args=pairs, second_order=True,
                                 max_examples=5)
    with pytest.raises(TypeError, match="one strategy per argument, or args"):
        agt.check_gradients(lambda a: a)


def test_check_gradients_finds_a_wrong_rule(backend) -> None:
    class ForgetsGy(ag.Function):
        def forward(self, x):
            self.save_for_backward(x)
            return x * x

        def backward(self, gy):
            (x,) = self.saved_tensors
            return 2.0 * x

    with pytest.raises(GradcheckError):
        agt.check_gradients(ForgetsGy.apply, agt.tensors((3,)), max_examples=5)


def test_check_gradients_finds_a_kink_that_is_not_avoided(backend) -> None:
    # Closer to abs's kink than the finite-difference step: the difference straddles the kink.
    with pytest.raises(GradcheckError):
        agt.check_gradients(ag.abs, agt.tensors((3,), elements=st.just(1e-7)), max_examples=3)
    agt.check_gradients(ag.abs, agt.tensors((3,), elements=st.just(1e-7) | st.floats(-1, 1),
                                            avoid=(0.0,)), max_examples=10)
