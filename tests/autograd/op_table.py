"""The op table: one `OpCase` row per differentiable op drives three tests in test_ops.py.

A row names the kedja call, the NumPy reference, how its input shapes (and extra arguments such
as `axis`) are drawn, the input domain, and the kinks that drawn values stay away from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag

SIDE = 4  # largest axis length drawn: gradchecks cost one forward per element


def one_shape(min_dims: int = 0, max_dims: int = 3, min_side: int = 0) -> st.SearchStrategy:
    """Shapes including 0-d and size-0 ones."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=SIDE).map(lambda s: (s,))


def broadcast_shapes(n: int, min_dims: int = 0, max_dims: int = 3) -> st.SearchStrategy:
    """`n` mutually broadcastable shapes (including 0-d, size-0 and stretched axes)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=SIDE
    ).map(lambda bs: tuple(bs.input_shapes))


def no_params(shapes: tuple) -> st.SearchStrategy:
    return st.just({})


def axis_params(shapes: tuple, keepdims: bool = True) -> st.SearchStrategy:
    """``axis`` (None, one axis, negative axis, or a tuple) and ``keepdims`` for reductions."""
    ndim = len(shapes[0])
    choices = [st.none()]
    if ndim:
        choices.append(st.integers(-ndim, ndim - 1))
        choices.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                                unique=True).map(tuple))
    axis = st.one_of(*choices)
    if keepdims:
        return st.fixed_dictionaries({"axis": axis, "keepdims": st.booleans()})
    return st.fixed_dictionaries({"axis": axis})


@dataclass(frozen=True)
class OpCase:
    """One differentiable op, as the table-driven tests see it.

    Attributes:
        name: test id.
        fn: the kedja call, ``fn(*tensors, **params)``.
        ref: the NumPy reference, ``ref(*arrays, **params)``.
        shapes: strategy for the tuple of input shapes.
        params: ``params(shapes)`` -> strategy for keyword arguments (axis, keepdims...).
        domain: inputs are drawn uniformly from this interval.
        kinks: points where the op is not differentiable; drawn values keep `margin` away.
        margin: distance kept from kinks (and, with `distinct`, between elements).
        distinct: keep elements of each input apart (max/min/sort-like ops tie otherwise).
        second_order: run gradgradcheck too.
        atol, rtol: gradcheck tolerances.
        constant_inputs: positions of inputs that are not differentiable (e.g. a condition).
        make_inputs: overrides value drawing: ``make_inputs(rng, shapes) -> list of arrays``.
    """

    name: str
    fn: Callable[..., Any]
    ref: Callable[..., Any]
    shapes: st.SearchStrategy = field(default_factory=one_shape)
    params: Callable[[tuple], st.SearchStrategy] = no_params
    domain: tuple[float, float] = (-2.0, 2.0)
    kinks: tuple[float, ...] = ()
    margin: float = 1e-2
    distinct: bool = False
    second_order: bool = True
    atol: float = 1e-5
    rtol: float = 1e-3
    constant_inputs: tuple[int, ...] = ()
    make_inputs: Callable[..., list] | None = None

    def __str__(self) -> str:
        return self.name


def draw_values(case: OpCase, shapes: tuple, seed: int) -> list:
    """Host float64 inputs for `case`: uniform in the domain, away from kinks (and ties)."""
    rng = np.random.default_rng(seed)
    if case.make_inputs is not None:
        return case.make_inputs(rng, shapes)
    arrays = []
    low, high = case.domain
    for shape in shapes:
        if case.distinct:
            n = int(np.prod(shape))
            grid = np.linspace(low, high, max(n, 1))[:n]
            x = rng.permutation(grid).reshape(shape)
        else:
            x = rng.uniform(low, high, size=shape)
        for k in case.kinks:
            close = np.abs(x - k) < case.margin
            x = np.where(close, k + np.where(x >= k, case.margin, -case.margin), x)
        arrays.append(np.asarray(x, dtype=np.float64))
    return arrays


def to_tensors(case: OpCase, arrays: list, backend: Any, requires_grad: bool = True) -> list:
    tensors = []
    for i, a in enumerate(arrays):
        differentiable = requires_grad and i not in case.constant_inputs and a.dtype.kind == "f"
        tensors.append(ag.tensor(a, device=backend, requires_grad=differentiable))
    return tensors
