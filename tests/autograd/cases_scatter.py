"""Op-table rows for selection and scatter (PyTorch's methods): gather, scatter, scatter_add,
scatter_reduce, index_select, index_add, index_fill, index_copy, masked_fill, masked_select,
take_along_dim and where.

The strategies draw indices with repeats on purpose (an element gathered twice, two values
added to one place, two writes to one place), so the exact rules for duplicates are checked
to second order. References are plain NumPy loops written from PyTorch's definitions.
"""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag

from .cases_torch_shape import Drawn, _dim, _drawn, _params, _shape, apart
from .op_table import OpCase

SIDE = 3


def _on(x: ag.Tensor, index: np.ndarray) -> ag.Tensor:
    """An index array as an int64 tensor on x's device."""
    return ag.tensor(index, device=x.device)


def _indices(draw, shape: tuple, n: int) -> np.ndarray:
    """Integer indices in [0, n) of `shape` (0 everywhere when n is 0: then shape is empty)."""
    return draw(hnp.arrays(np.int64, shape, elements=st.integers(0, max(n - 1, 0))))


# -- along a dim: gather, scatter, scatter_add, scatter_reduce ------------------------------
@st.composite
def along_shapes(draw, with_src: bool = True):
    """x's shape, a dim, an index no larger than x off the dim (and than src everywhere)."""
    shape = draw(_shape())
    ndim = len(shape)
    dim = _dim(draw, ndim)
    d = dim % max(ndim, 1)
    if ndim == 0:
        index = np.array(0)
        return _drawn(((), ()) if with_src else ((),), dim=dim, index=index)
    ishape = tuple(draw(st.integers(0, SIDE if k == d else n)) for k, n in enumerate(shape))
    if shape[d] == 0:
        ishape = ishape[:d] + (0,) + ishape[d + 1 :]
    index = _indices(draw, ishape, shape[d])
    if not with_src:
        return _drawn((shape,), dim=dim, index=index)
    sshape = tuple(m + draw(st.integers(0, 1)) for m in ishape)  # src may be larger
    return _drawn((shape, sshape), dim=dim, index=index)


def _grid(index: np.ndarray, dim: int) -> tuple:
    """The NumPy index that reads ``x[i][index[i][j]][k]`` for each position of `index`."""
    d = dim % max(index.ndim, 1)
    return tuple(index if k == d else np.arange(m).reshape((1,) * k + (m,) + (1,) *
                                                            (index.ndim - k - 1))
                 for k, m in enumerate(index.shape))


def _gather_ref(x, dim, index):
    return x[_grid(index, dim)] if x.ndim else x.copy()


def _block(src, index):
    return src[tuple(slice(0, m) for m in index.shape)]


def _positions(x, dim, index):
    """(target position in x, position in index) pairs, in index's C order."""
    d = dim % max(x.ndim, 1)
    for j in itertools.product(*(range(m) for m in index.shape)):
        target = tuple(index[j] if k == d else j[k] for k in range(x.ndim))
        yield target, j


def _scatter_ref(x, src, dim, index):
    y = x.copy()
    if x.ndim == 0:
        return src.copy()
    for target, j in _positions(x, dim, index):
        y[target] = src[j]  # later writes win
    return y


def _scatter_add_ref(x, src, dim, index):
    if x.ndim == 0:
        return x + src
    y = x.copy()
    np.add.at(y, _grid(index, dim), _block(src, index))
    return y


_COMBINE = {"sum": np.add, "prod": np.multiply, "mean": np.add, "amax": np.maximum,
            "amin": np.minimum}


def _scatter_reduce_ref(x, src, dim, index, reduce, include_self):
    if x.ndim == 0:
        x, src, index = x.reshape(1), src.reshape(1), np.array([0])
        return _scatter_reduce_ref(x, src, 0, index, reduce, include_self).reshape(())
    values: dict = {}
    for target, j in _positions(x, dim, index):
        values.setdefault(target, []).append(src[j])
    y = x.copy()
    for target, vs in values.items():
        vs = ([x[target]] if include_self else []) + vs
        out = vs[0]
        for v in vs[1:]:
            out = _COMBINE[reduce](out, v)
        y[target] = out / len(vs) if reduce == "mean" else out
    return y


@st.composite
def scatter_value_shapes(draw):
    drawn = draw(along_shapes(with_src=False))
    return _drawn(tuple(drawn), **drawn.params, value=draw(st.sampled_from([0.0, -1.5, 2.0])))


def _scatter_value_ref(x, dim, index, value):
    return _scatter_ref(x, np.full(index.shape, value), dim, index)


@st.composite
def scatter_reduce_shapes(draw, reduce: str):
    drawn = draw(along_shapes())
    return _drawn(tuple(drawn), **drawn.params, reduce=reduce,
                  include_self=draw(st.booleans()))


# -- index_*: a 1-d index along a dim -------------------------------------------------------
@st.composite
def index_shapes(draw, with_source: bool = False, unique: bool = False):
    """x's shape, a dim, a 1-d index along it (repeats allowed unless `unique`), and for the
    *_add/_copy forms the source's shape (x's with the dim's length the index's)."""
    shape = draw(_shape())
    ndim = len(shape)
    dim = _dim(draw, ndim)
    n = shape[dim % ndim] if ndim else 1
    if unique:
        values = draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=n, unique=True))
        index = np.array(values, dtype=np.int64)
    else:
        index = _indices(draw, (draw(st.integers(0, SIDE)) if n else 0,), n)
    if not ndim:
        index = index[:1] if index.size else np.array([0])
    if not with_source:
        return _drawn((shape,), dim=dim, index=index)
    d = dim % max(ndim, 1)
    source = shape[:d] + (index.size,) + shape[d + 1 :] if ndim else ()
    return _drawn((shape, source), dim=dim, index=index)


def _lead(x, dim, index):
    return (slice(None),) * (dim % x.ndim) + (index,)


def _index_select_ref(x, dim, index):
    return x[_lead(x, dim, index)] if x.ndim else x.reshape(1)[index].reshape(())


def _index_add_ref(x, source, dim, index, alpha):
    if x.ndim == 0:
        return x + alpha * source
    y = x.copy()
    np.add.at(y, _lead(x, dim, index), alpha * source)
    return y


def _index_fill_ref(x, v=None, *, dim, index, value=None):
    fill = value if v is None else v
    if x.ndim == 0:
        return np.asarray(fill, dtype=x.dtype).copy()
    y = x.copy()
    y[_lead(x, dim, index)] = fill
    return y


def _index_copy_ref(x, source, dim, index):
    if x.ndim == 0:
        return source.copy()
    y = x.copy()
    d = dim % x.ndim
    for i, k in enumerate(index):  # later writes win
        y[(slice(None),) * d + (k,)] = np.take(source, i, axis=d)
    return y


@st.composite
def index_fill_shapes(draw):
    drawn = draw(index_shapes())
    if draw(st.booleans()):  # a 0-d tensor value (differentiable) as a second input
        return _drawn((*drawn, ()), **drawn.params)
    return _drawn(tuple(drawn), **drawn.params, value=draw(st.sampled_from([0.0, 1.5])))


def _index_fill(x, v=None, *, dim, index, value=None):
    return x.index_fill(dim, _on(x, index), v if v is not None else value)


# -- masks -------------------------------------------------------------------------------------
@st.composite
def mask_shapes(draw, value_input: bool = True):
    """x's shape and a bool mask that broadcasts to it; maybe a 0-d tensor value."""
    shape = draw(_shape())
    kept = shape[draw(st.integers(0, len(shape))) :]
    mshape = tuple(draw(st.sampled_from([1, n])) for n in kept)
    mask = draw(hnp.arrays(np.bool_, mshape))
    if value_input and draw(st.booleans()):
        return _drawn((shape, ()), mask=mask)
    return _drawn((shape,), mask=mask, value=draw(st.sampled_from([0.0, -2.5])))


def _masked_fill(x, v=None, *, mask, value=None):
    return x.masked_fill(_on(x, mask), v if v is not None else value)


def _masked_fill_ref(x, v=None, *, mask, value=None):
    return np.where(mask, v if v is not None else value, x)


@st.composite
def masked_select_shapes(draw):
    """x and a mask that broadcast together (either may be the larger)."""
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_side=SIDE))
    xshape, mshape = shapes.input_shapes
    return _drawn((xshape,), mask=draw(hnp.arrays(np.bool_, mshape)))


def _masked_select_ref(x, mask):
    xb, mb = np.broadcast_arrays(x, mask)
    return xb[mb]


@st.composite
def take_along_dim_shapes(draw):
    shape = draw(_shape(min_side=1))
    if not shape or draw(st.booleans()):
        n = int(np.prod(shape))
        return _drawn((shape,), indices=_indices(draw, (draw(st.integers(0, SIDE)),), n),
                      dim=None)
    dim = _dim(draw, len(shape))
    d = dim % len(shape)
    ishape = tuple(draw(st.integers(0, SIDE)) if k == d else draw(st.sampled_from([1, n]))
                   for k, n in enumerate(shape))
    return _drawn((shape,), indices=_indices(draw, ishape, shape[d]), dim=dim)


def _take_along_dim_ref(x, indices, dim):
    if dim is None:
        return x.reshape(-1)[indices]
    return np.take_along_axis(x, indices, axis=dim % x.ndim)


@st.composite
def where_shapes(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_side=SIDE))
    xshape, oshape, cshape = shapes.input_shapes
    return _drawn((xshape, oshape), condition=draw(hnp.arrays(np.bool_, cshape)))


def _reduce_row(reduce: str) -> OpCase:
    extreme = reduce in ("amax", "amin")
    return OpCase(
        f"scatter_reduce_{reduce}",
        lambda x, src, dim, index, reduce, include_self: x.scatter_reduce(
            dim, _on(x, index), src, reduce, include_self=include_self),
        _scatter_reduce_ref, shapes=scatter_reduce_shapes(reduce), params=_params,
        # All values apart, across x and src too: no tied extremes (the tie rule has its own
        # exact test); a product's zeros likewise (test_scatter.py).
        make_inputs=apart if extreme else None,
        domain=(0.5, 2.0) if reduce == "prod" else (-2.0, 2.0),
    )


CASES = [
    OpCase("gather", lambda x, dim, index: x.gather(dim, _on(x, index)),
           _gather_ref, shapes=along_shapes(with_src=False), params=_params),
    OpCase("scatter", lambda x, src, dim, index: x.scatter(dim, _on(x, index), src),
           _scatter_ref, shapes=along_shapes(), params=_params),
    OpCase("scatter_value", lambda x, dim, index, value: x.scatter(dim, _on(x, index), value),
           _scatter_value_ref, shapes=scatter_value_shapes(), params=_params),
    OpCase("scatter_add", lambda x, src, dim, index: x.scatter_add(dim, _on(x, index), src),
           _scatter_add_ref, shapes=along_shapes(), params=_params),
    *(_reduce_row(r) for r in ("sum", "prod", "mean", "amax", "amin")),
    OpCase("index_select", lambda x, dim, index: x.index_select(dim, _on(x, index)),
           _index_select_ref, shapes=index_shapes(), params=_params),
    OpCase("index_add", lambda x, s, dim, index: x.index_add(dim, _on(x, index), s, alpha=1.5),
           lambda x, s, dim, index: _index_add_ref(x, s, dim, index, 1.5),
           shapes=index_shapes(with_source=True), params=_params),
    OpCase("index_fill", _index_fill, _index_fill_ref, shapes=index_fill_shapes(),
           params=_params),
    OpCase("index_copy", lambda x, s, dim, index: x.index_copy(dim, _on(x, index), s),
           _index_copy_ref, shapes=index_shapes(with_source=True), params=_params),
    OpCase("masked_fill", _masked_fill, _masked_fill_ref, shapes=mask_shapes(),
           params=_params),
    OpCase("masked_select", lambda x, mask: x.masked_select(_on(x, mask)), _masked_select_ref,
           shapes=masked_select_shapes(), params=_params),
    OpCase("take_along_dim", lambda x, indices, dim: x.take_along_dim(_on(x, indices), dim),
           _take_along_dim_ref, shapes=take_along_dim_shapes(), params=_params),
    OpCase("where_method", lambda x, y, condition: x.where(_on(x, condition), y),
           lambda x, y, condition: np.where(condition, x, y), shapes=where_shapes(),
           params=_params),
]

__all__ = ["CASES", "Drawn"]
