"""Op-table rows for binary arithmetic and matmul."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import autograd as ag
from autograd.ops.linalg import Linear

from .op_table import OpCase, broadcast_shapes

SIDE = 3


def matmul_shapes() -> st.SearchStrategy:
    """Operand shapes for matmul: 1-D, 2-D, batched, and broadcast batch axes."""

    @st.composite
    def draw(draw_):
        m, k, n = (draw_(st.integers(0 if i == 1 else 1, SIDE)) for i in range(3))
        a_kind = draw_(st.sampled_from(["vec", "mat", "batch"]))
        b_kind = draw_(st.sampled_from(["vec", "mat", "batch"]))
        batch = draw_(st.lists(st.integers(1, 2), min_size=1, max_size=2))
        a = {"vec": (k,), "mat": (m, k), "batch": (*batch, m, k)}[a_kind]
        b_batch = [draw_(st.sampled_from([1, d])) for d in batch]
        b = {"vec": (k,), "mat": (k, n), "batch": (*b_batch, k, n)}[b_kind]
        return (a, b)

    return draw()


def linear_shapes(bias: bool = True) -> st.SearchStrategy:
    """(input, weight[, bias]) shapes for linear: 1-D, 2-D and batched inputs."""

    @st.composite
    def draw(draw_):
        n_in, n_out = draw_(st.integers(1, SIDE)), draw_(st.integers(1, SIDE))
        lead = tuple(draw_(st.lists(st.integers(0, SIDE), max_size=2)))
        shapes = ((*lead, n_in), (n_out, n_in))
        return (*shapes, (n_out,)) if bias else shapes

    return draw()


CASES = [
    OpCase("add", lambda a, b: a + b, np.add, shapes=broadcast_shapes(2)),
    OpCase("sub", lambda a, b: a - b, np.subtract, shapes=broadcast_shapes(2)),
    OpCase("mul", lambda a, b: a * b, np.multiply, shapes=broadcast_shapes(2)),
    OpCase("div", lambda a, b: a / b, np.divide, shapes=broadcast_shapes(2), kinks=(0.0,),
           margin=0.3),
    OpCase("rsub_scalar", lambda a: 2.5 - a, lambda a: 2.5 - a),
    OpCase("rdiv_scalar", lambda a: 1.5 / a, lambda a: 1.5 / a, kinks=(0.0,), margin=0.3),
    OpCase("neg", lambda a: -a, np.negative),
    OpCase("pow_tensor", lambda a, b: a**b, np.power, shapes=broadcast_shapes(2),
           domain=(0.2, 2.0)),
    OpCase("pow_scalar", lambda a: a**3, lambda a: a**3),
    OpCase("pow_fraction", lambda a: a**1.5, lambda a: a**1.5, domain=(0.2, 2.0)),
    OpCase("rpow_scalar", lambda a: 2.0**a, lambda a: 2.0**a),
    OpCase("maximum", ag.maximum, np.maximum, shapes=broadcast_shapes(2)),
    OpCase("minimum", ag.minimum, np.minimum, shapes=broadcast_shapes(2)),
    OpCase(
        "where",
        lambda c, a, b: ag.where(c > 0, a, b),
        lambda c, a, b: np.where(c > 0, a, b),
        shapes=broadcast_shapes(3),
        kinks=(0.0,),
        constant_inputs=(0,),
    ),
    OpCase("matmul", lambda a, b: a @ b, np.matmul, shapes=matmul_shapes()),
    OpCase("linear", lambda x, w, b: Linear.apply(x, w, b), lambda x, w, b: x @ w.T + b,
           shapes=linear_shapes()),
    OpCase("linear_nobias", lambda x, w: Linear.apply(x, w), lambda x, w: x @ w.T,
           shapes=linear_shapes(bias=False)),
]
