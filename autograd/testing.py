"""Hypothesis strategies for property tests of code built on kedja, and a gradient checker.

Needs hypothesis (``pip install kedja[dev]``); ``import autograd`` alone never imports it.

    >>> from hypothesis import given
    >>> from autograd import testing as agt
    >>>
    >>> @given(agt.tensors(agt.shapes(max_dims=2), elements=(-3, 3), avoid=(0.0,)))
    ... def test_abs_is_even(x):
    ...     assert (ag.abs(-x) == ag.abs(x)).all()
    >>>
    >>> def test_softsign_gradients():
    ...     softsign = lambda x: x / (1 + ag.abs(x))
    ...     agt.check_gradients(softsign, agt.tensors(agt.shapes(max_dims=2), avoid=(0.0,)),
    ...                         second_order=True)
    >>>
    >>> def test_mul_gradients_with_broadcasting():
    ...     pairs = agt.broadcastable_shapes(2, max_dims=3).flatmap(
    ...         lambda s: st.tuples(agt.tensors(s[0]), agt.tensors(s[1])))
    ...     agt.check_gradients(lambda a, b: a * b, args=pairs, second_order=True)

Values are drawn as host arrays and then moved to the tensor's device, so the same strategy works
on every backend. Draws stay inside the given bounds except where `avoid` pushes a value off a
kink (by at most `margin`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import backends

try:
    from hypothesis import given
    from hypothesis import settings as _settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "autograd.testing needs hypothesis: pip install 'kedja[dev]' (or pip install hypothesis)"
    ) from error

from .creation import tensor
from .gradcheck import gradcheck, gradgradcheck
from .tensor import Tensor

__all__ = [
    "shapes", "broadcastable_shapes", "tensors", "index_expressions", "check_gradients",
    "assert_gradients_correct",
]

Strategy = st.SearchStrategy


def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 0,
           max_side: int = 5) -> Strategy:
    """Array shapes (tuples of ints), including 0-d ``()`` and size-0 shapes by default.

    Args:
        min_dims, max_dims: bounds on the number of axes.
        min_side, max_side: bounds on each axis length.
    """
    if not 0 <= min_dims <= max_dims or not 0 <= min_side <= max_side:
        raise ValueError(f"shapes: bad bounds dims [{min_dims}, {max_dims}], "
                         f"sides [{min_side}, {max_side}]")
    side = st.integers(min_side, max_side)
    return st.lists(side, min_size=min_dims, max_size=max_dims).map(tuple)


def broadcastable_shapes(n: int = 2, min_dims: int = 0, max_dims: int = 4, min_side: int = 0,
                         max_side: int = 5) -> Strategy:
    """Tuples of `n` shapes that broadcast together (missing, length-1 and size-0 axes)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
        max_side=max_side,
    ).map(lambda drawn: tuple(drawn.input_shapes))


def _elements(dtype: Any, elements: Any) -> Strategy:
    if isinstance(elements, st.SearchStrategy):
        return elements
    low, high = elements
    if dtype.kind == "f":
        return st.floats(low, high, allow_nan=False, allow_infinity=False,
                         width=min(dtype.itemsize * 8, 64))
    if dtype.kind in "iu":
        return st.integers(int(low), int(high))
    if dtype.kind == "b":
        return st.booleans()
    raise TypeError(f"tensors: no default elements for dtype {dtype}; pass elements=strategy")


def _push_off(value: Any, kinks: Sequence[float], margin: float) -> Any:
    """`value` moved to `margin` from the nearest kink it is closer to than `margin`."""
    for k in kinks:
        if abs(value - k) < margin:
            value = k + margin if value >= k else k - margin
    return value


@st.composite
def tensors(
    draw: Callable,
    shape: tuple | Strategy | None = None,
    dtype: Any = "float64",
    elements: tuple | Strategy = (-2.0, 2.0),
    device: Any = None,
    requires_grad: bool = False,
    avoid: Sequence[float] = (),
    margin: float = 1e-2,
    unique: bool = False,
) -> Tensor:
    """Tensors with drawn values (and shapes).

    Args:
        shape: a fixed shape, a strategy for shapes (e.g. `shapes()`), or None for `shapes()`.
        dtype: element type (float64 by default, as gradchecks need).
        elements: ``(low, high)`` bounds or a hypothesis strategy for single elements.
        device: where the tensor lives (default: the default backend at draw time).
        requires_grad: mark the tensor as requiring grad (floating dtypes only).
        avoid: points (kinks) that values keep at least `margin` away from, e.g. ``(0.0,)``
            for relu or abs.
        margin: the distance kept from `avoid` points.
        unique: all elements distinct (max, sort and friends tie otherwise).
    """
    if shape is None:
        shape = shapes()
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    shape = tuple(shape)
    np_dtype = backends.dtype_of(dtype)
    element = _elements(np_dtype, elements)
    if avoid:
        kinks = tuple(avoid)
        element = element.map(lambda v: _push_off(v, kinks, margin))
    array = draw(hnp.arrays(np_dtype, shape, elements=element, unique=unique))
    return tensor(array, dtype=np_dtype, device=device,
                  requires_grad=requires_grad and np_dtype.kind == "f")


@st.composite
def index_expressions(draw: Callable, shape: Sequence[int], allow_advanced: bool = True,
                      allow_newaxis: bool = False) -> Any:
    """An index valid for an array of `shape`: what ``x[index]`` accepts.

    Basic indices (ints, slices with negative bounds and steps, Ellipsis, optionally None) and,
    with `allow_advanced`, advanced ones: integer lists on one axis, integer lists on two axes
    (broadcast together), a boolean mask over the leading axes, and a slice mixed with an
    integer list. Advanced indices are plain lists, so they work on every backend.
    """
    shape = tuple(shape)
    kinds = ["basic"]
    if allow_advanced and shape:
        kinds += ["int_list", "mask"]
        if len(shape) >= 2:
            kinds += ["two_lists", "slice_and_list"]
    kind = draw(st.sampled_from(kinds))
    if kind == "basic":
        return draw(hnp.basic_indices(shape, min_dims=0, allow_newaxis=allow_newaxis,
                                      allow_ellipsis=True))
    if kind == "mask":
        lead = draw(st.integers(1, len(shape)))
        mask = draw(hnp.arrays(backends.dtype_of("bool"), shape[:lead], elements=st.booleans()))
        return (mask.tolist(),)
    if kind == "int_list":
        axis = draw(st.integers(0, len(shape) - 1))
        return (slice(None),) * axis + (draw(_int_list(shape[axis])),)
    if kind == "two_lists":
        n = draw(st.integers(0, 4))
        first = draw(_int_list(shape[0], size=n))
        second = draw(_int_list(shape[1], size=n))
        return (first, second)
    # A slice on the first axis, an integer list on the second.
    start = draw(st.integers(-shape[0] - 1, shape[0] + 1) | st.none())
    return (slice(start, None), draw(_int_list(shape[1])))


def _int_list(n: int, size: int | None = None) -> Strategy:
    """Lists of valid (possibly negative, possibly repeated) indices into an axis of length n."""
    if n == 0:
        return st.just([]) if not size else st.nothing()
    element = st.integers(-n, n - 1)
    if size is None:
        return st.lists(element, min_size=0, max_size=4)
    return st.lists(element, min_size=size, max_size=size)


def check_gradients(
    f: Callable[..., Any],
    *inputs: Strategy,
    args: Strategy | None = None,
    second_order: bool = False,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    max_examples: int | None = None,
) -> None:
    """Property-checks the gradients of `f` with `gradcheck` on inputs drawn from `inputs`.

    Args:
        f: a function of Tensors returning a Tensor (or a tuple of Tensors).
        *inputs: one strategy per argument of `f` (e.g. `tensors(...)`); drawn floating tensors
            are checked (they are made to require grad when none of them does).
        args: instead of `inputs`, one strategy drawing the tuple of all arguments (for
            arguments that depend on each other, such as broadcastable shapes).
        second_order: check second derivatives with `gradgradcheck` too.
        eps, atol, rtol: passed to the checks.
        max_examples: how many draws (default: the active hypothesis profile's).

    Raises:
        GradcheckError (through hypothesis, with the shrunk failing example) on a wrong gradient.

    Call it from a plain test function (not from one that is itself decorated with ``@given``).
    """
    config = {"deadline": None}
    if max_examples is not None:
        config["max_examples"] = max_examples

    if (args is None) == (not inputs):
        raise TypeError("check_gradients: pass one strategy per argument, or args=strategy")
    drawn_args = st.tuples(*inputs) if args is None else args.map(tuple)

    @_settings(**config)
    @given(drawn_args)
    def run(drawn: tuple) -> None:
        drawn = _with_grad(drawn)
        gradcheck(f, drawn, eps=eps, atol=atol, rtol=rtol)
        if second_order:
            gradgradcheck(f, drawn, eps=eps, atol=atol, rtol=rtol)

    run()


#: The same as `check_gradients`, named like an assertion.
assert_gradients_correct = check_gradients


def _with_grad(drawn: tuple) -> tuple:
    """Makes the floating tensors require grad when the strategies drew none that does."""
    if any(isinstance(t, Tensor) and t.requires_grad for t in drawn):
        return drawn
    return tuple(
        t.requires_grad_(True) if isinstance(t, Tensor) and t.dtype.kind == "f" else t
        for t in drawn
    )
