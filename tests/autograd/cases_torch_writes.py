"""Op-table rows for PyTorch's index writes and extra reductions: index_put (written and
accumulated), put, masked_scatter, aminmax, nansum and nanmean.

Indices are drawn with repeats on purpose (accumulate must add every copy up; a plain write's
winner among repeats is unspecified in PyTorch, so that row draws distinct positions). The
references are NumPy written from PyTorch's definitions.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag

from .cases_torch_shape import _drawn, _params, _shape, apart
from .op_table import OpCase

SIDE = 3


def _on(x: ag.Tensor, index: np.ndarray) -> ag.Tensor:
    return ag.tensor(index, device=x.device)


# -- index_put: a tuple of index arrays into the leading dims -----------------------------------
@st.composite
def index_put_shapes(draw, distinct: bool):
    """x of 1-3 dims, k index arrays (k <= ndim) of one broadcast shape, values' shape."""
    shape = draw(_shape(min_dims=1, min_side=1))
    k = draw(st.integers(1, len(shape)))
    n = draw(st.integers(0, min(SIDE, int(np.prod(shape[:k]))) if distinct else SIDE))
    if distinct:
        flat = draw(st.lists(st.integers(0, int(np.prod(shape[:k])) - 1), min_size=n,
                             max_size=n, unique=True))
    else:
        flat = draw(st.lists(st.integers(0, int(np.prod(shape[:k])) - 1), min_size=n,
                             max_size=n))
    parts = np.unravel_index(np.asarray(flat, dtype=np.int64), shape[:k])
    # Negative aliases for some positions: PyTorch wraps them.
    parts = tuple(np.where(draw(hnp.arrays(np.bool_, (n,))), p - m, p)
                  for p, m in zip(parts, shape[:k]))
    vshape = (n,) + tuple(shape[k:])
    if draw(st.booleans()) and len(vshape) > 1:
        vshape = vshape[1:]  # values broadcast over the index positions
    return _drawn((tuple(shape), vshape), indices=tuple(p.astype(np.int64) for p in parts))


def _index_put(x, v, indices, accumulate):
    return x.index_put(tuple(_on(x, p) for p in indices), v, accumulate=accumulate)


def _index_put_ref(x, v, indices, accumulate):
    out = x.copy()
    k = len(indices)
    v = np.broadcast_to(v, (len(indices[0]),) + x.shape[k:])
    for j in range(len(indices[0])):
        at = tuple(int(p[j]) for p in indices)
        if accumulate:
            out[at] += v[j]
        else:
            out[at] = v[j]
    return out


# -- put: flat positions ------------------------------------------------------------------------
@st.composite
def put_shapes(draw):
    shape = draw(_shape(min_side=1))
    size = int(np.prod(shape))
    n = draw(st.integers(0, SIDE + 1))
    index = draw(hnp.arrays(np.int64, (n,), elements=st.integers(-size, size - 1)))
    return _drawn((tuple(shape), (n,)), index=index)


def _put_ref(x, s, index):
    out = x.copy().reshape(-1)
    np.add.at(out, index, s)
    return out.reshape(x.shape)


# -- masked_scatter -----------------------------------------------------------------------------
@st.composite
def masked_scatter_shapes(draw):
    shape = draw(_shape())
    mshape = shape[draw(st.integers(0, len(shape))):]  # the mask broadcasts to x
    mask = draw(hnp.arrays(np.bool_, mshape))
    count = int(np.broadcast_to(mask, shape).sum())
    return _drawn((tuple(shape), (count + draw(st.integers(0, 2)),)), mask=mask)


def _masked_scatter_ref(x, s, mask):
    out = x.copy()
    full = np.broadcast_to(mask, x.shape)
    out[full] = s[: int(full.sum())]
    return out


# -- reductions ---------------------------------------------------------------------------------
@st.composite
def reduce_shapes(draw):
    shape = draw(_shape(min_side=1))
    ndim = len(shape)
    dim = draw(st.none() | st.integers(-max(ndim, 1), max(ndim, 1) - 1))
    return _drawn((tuple(shape),), dim=dim, keepdim=draw(st.booleans()))


def _aminmax(x, dim, keepdim):
    lo, hi = x.aminmax(dim=dim, keepdim=keepdim)
    return lo * 2.0 + hi  # both outputs checked, each with its own weight


def _aminmax_ref(x, dim, keepdim):
    axis = None if dim is None else dim % max(x.ndim, 1)
    axis = None if x.ndim == 0 else axis
    return (x.min(axis=axis, keepdims=keepdim) * 2.0 + x.max(axis=axis, keepdims=keepdim))


def _axis(x, dim):
    return None if dim is None or x.ndim == 0 else dim % x.ndim


CASES = [
    OpCase("index_put", lambda x, v, indices: _index_put(x, v, indices, False),
           lambda x, v, indices: _index_put_ref(x, v, indices, False),
           shapes=index_put_shapes(distinct=True), params=_params),
    OpCase("index_put_accumulate", lambda x, v, indices: _index_put(x, v, indices, True),
           lambda x, v, indices: _index_put_ref(x, v, indices, True),
           shapes=index_put_shapes(distinct=False), params=_params),
    OpCase("put_accumulate", lambda x, s, index: x.put(_on(x, index), s, accumulate=True),
           _put_ref, shapes=put_shapes(), params=_params),
    OpCase("masked_scatter", lambda x, s, mask: x.masked_scatter(_on(x, mask), s),
           _masked_scatter_ref, shapes=masked_scatter_shapes(), params=_params),
    OpCase("aminmax", _aminmax, _aminmax_ref, shapes=reduce_shapes(), params=_params,
           make_inputs=apart),
    OpCase("nansum_method", lambda x, dim, keepdim: x.nansum(dim, keepdim),
           lambda x, dim, keepdim: np.nansum(x, axis=_axis(x, dim), keepdims=keepdim),
           shapes=reduce_shapes(), params=_params),
    OpCase("nanmean_method", lambda x, dim, keepdim: x.nanmean(dim, keepdim),
           lambda x, dim, keepdim: np.nanmean(x, axis=_axis(x, dim), keepdims=keepdim),
           shapes=reduce_shapes(), params=_params),
]

__all__ = ["CASES"]
