"""Op-table rows for PyTorch's composed methods (autograd/tensor_aliases.py): rot90, diff, cross,
select, take, sum_to_size, addmv, addr, addbmm, xlogy, float_power, ldexp, quantile.

They are compositions of tested ops; the rows check that each composition means what PyTorch's
method means (NumPy references written from PyTorch's definitions) to second order.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag

from .cases_torch_shape import _drawn, _params, _shape
from .op_table import OpCase

SIDE = 3


@st.composite
def rot90_shapes(draw):
    shape = draw(_shape(min_dims=2))
    d0, d1 = draw(st.permutations(range(len(shape))))[:2]
    return _drawn((shape,), k=draw(st.integers(-3, 5)), dims=(d0, d1))


@st.composite
def diff_shapes(draw):
    shape = draw(_shape(min_dims=1))
    dim = draw(st.integers(0, len(shape) - 1))
    edge = list(shape)
    edge[dim] = draw(st.integers(0, 2))
    with_edges = draw(st.booleans())
    shapes = (shape, tuple(edge), tuple(edge)) if with_edges else (shape,)
    return _drawn(shapes, n=draw(st.integers(0, 2)), dim=dim)


def _diff(x, *edges, n, dim):
    if edges:
        return x.diff(n, dim, prepend=edges[0], append=edges[1])
    return x.diff(n, dim)


def _diff_ref(x, *edges, n, dim):
    if edges:
        x = np.concatenate([edges[0], x, edges[1]], axis=dim)
    return np.diff(x, n=n, axis=dim)


@st.composite
def cross_shapes(draw):
    shape = list(draw(_shape(min_dims=1, min_side=1)))
    dim = draw(st.integers(0, len(shape) - 1))
    shape[dim] = 3
    return _drawn((tuple(shape), tuple(shape)), dim=dim)


@st.composite
def select_shapes(draw):
    shape = draw(_shape(min_dims=1, min_side=1))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[dim]
    return _drawn((shape,), dim=dim, index=draw(st.integers(-n, n - 1)))


@st.composite
def take_shapes(draw):
    shape = draw(_shape(min_side=1))
    size = int(np.prod(shape))
    index = draw(hnp.arrays(np.int64, draw(_shape(max_dims=2)),
                            elements=st.integers(-size, size - 1)))
    return _drawn((shape,), index=index)


@st.composite
def sum_to_size_shapes(draw):
    shape = draw(_shape(min_dims=1))
    k = draw(st.integers(0, len(shape)))
    target = tuple(n if draw(st.booleans()) else 1 for n in shape[k:])
    return _drawn((shape,), size=target)


def _sum_to_size_ref(x, size):
    lead = x.ndim - len(size)
    out = x.sum(axis=tuple(range(lead))) if lead else x
    axes = tuple(i for i, t in enumerate(size) if t == 1)
    return out.sum(axis=axes, keepdims=True) if axes else out


@st.composite
def addmv_shapes(draw):
    n, m = draw(st.integers(0, SIDE)), draw(st.integers(0, SIDE))
    return _drawn(((n,), (n, m), (m,)), beta=draw(st.sampled_from([1.0, 0.5])),
                  alpha=draw(st.sampled_from([1.0, -2.0])))


@st.composite
def addr_shapes(draw):
    n, m = draw(st.integers(0, SIDE)), draw(st.integers(0, SIDE))
    return _drawn(((n, m), (n,), (m,)), beta=draw(st.sampled_from([1.0, 0.5])),
                  alpha=draw(st.sampled_from([1.0, -2.0])))


@st.composite
def addbmm_shapes(draw):
    b, n, k, m = (draw(st.integers(0, SIDE)) for _ in range(4))
    return _drawn(((n, m), (b, n, k), (b, k, m)), beta=draw(st.sampled_from([1.0, 0.5])),
                  alpha=draw(st.sampled_from([1.0, -2.0])))


def _positive_second(rng, shapes):
    """xlogy inputs: any x, a positive second operand (x == 0, where PyTorch's gradient in x is
    0 by definition rather than log y, is checked exactly in test_torch_methods_more.py)."""
    return [rng.uniform(-2.0, 2.0, shapes[0]), rng.uniform(0.3, 2.0, shapes[1])]


def _positive_both(rng, shapes):
    return [rng.uniform(0.3, 2.0, s) for s in shapes]


@st.composite
def quantile_shapes(draw):
    shape = draw(_shape(min_dims=1, min_side=1))
    dim = draw(st.none() | st.integers(0, len(shape) - 1))
    q = draw(st.sampled_from([0.3, 0.5, [0.1, 0.75]]))
    return _drawn((shape,), q=q, dim=dim, keepdim=draw(st.booleans()))


def _quantile(x, q, dim, keepdim):
    q = ag.tensor(q, dtype="float64", device=x.device) if isinstance(q, list) else q
    return x.quantile(q, dim, keepdim)


def _two_shapes():
    return _shape().flatmap(lambda s: st.just((s, s)))


CASES = [
    OpCase("rot90", lambda x, k, dims: x.rot90(k, dims),
           lambda x, k, dims: np.rot90(x, k, dims), shapes=rot90_shapes(), params=_params),
    OpCase("diff_method", _diff, _diff_ref, shapes=diff_shapes(), params=_params),
    OpCase("cross_method", lambda a, b, dim: a.cross(b, dim),
           lambda a, b, dim: np.cross(a, b, axis=dim), shapes=cross_shapes(), params=_params),
    OpCase("select", lambda x, dim, index: x.select(dim, index),
           lambda x, dim, index: np.take(x, index, axis=dim), shapes=select_shapes(),
           params=_params),
    OpCase("take_method", lambda x, index: x.take(ag.tensor(index, device=x.device)),
           lambda x, index: x.reshape(-1)[index], shapes=take_shapes(), params=_params),
    OpCase("sum_to_size", lambda x, size: x.sum_to_size(*size), _sum_to_size_ref,
           shapes=sum_to_size_shapes(), params=_params),
    OpCase("addmv", lambda x, m, v, beta, alpha: x.addmv(m, v, beta=beta, alpha=alpha),
           lambda x, m, v, beta, alpha: beta * x + alpha * (m @ v), shapes=addmv_shapes(),
           params=_params),
    OpCase("addr", lambda x, a, b, beta, alpha: x.addr(a, b, beta=beta, alpha=alpha),
           lambda x, a, b, beta, alpha: beta * x + alpha * np.outer(a, b), shapes=addr_shapes(),
           params=_params),
    OpCase("addbmm", lambda x, a, b, beta, alpha: x.addbmm(a, b, beta=beta, alpha=alpha),
           lambda x, a, b, beta, alpha: beta * x + alpha * np.matmul(a, b).sum(0),
           shapes=addbmm_shapes(), params=_params),
    OpCase("xlogy_method", lambda x, y: x.xlogy(y),
           lambda x, y: np.where(x == 0, 0.0, x * np.log(y)), shapes=_two_shapes(),
           make_inputs=_positive_second),
    OpCase("float_power_method", lambda x, y: x.float_power(y), np.power, shapes=_two_shapes(),
           make_inputs=_positive_both),
    OpCase("ldexp_method", lambda x, y: x.ldexp(y), lambda x, y: x * 2.0**y,
           shapes=_two_shapes()),
    OpCase("quantile_method", _quantile,
           lambda x, q, dim, keepdim: np.quantile(x, q, axis=dim, keepdims=keepdim),
           shapes=quantile_shapes(), params=_params, distinct=True),
]

__all__ = ["CASES"]
