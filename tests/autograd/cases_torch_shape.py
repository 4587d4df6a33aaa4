"""Op-table rows for the PyTorch-dialect Tensor methods: reductions with `dim`/`keepdim`,
``max(dim)``, unbiased var/std, and the shape and view methods (repeat, split, chunk, unbind,
transpose, permute, squeeze, expand, narrow, unflatten, unfold, movedim, ...), plus indexing
under PyTorch's rule.

Each row calls the method as a PyTorch program would and checks it against NumPy written the
PyTorch way (``x.repeat(2, 1)`` against ``np.tile``, ``x.var(d)`` against ``np.var(ddof=1)``).
The shape strategies draw a method's arguments together with the shapes (`Drawn`), so that
arguments that depend on the shape (dims, split sizes, window sizes) always fit.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag

from .op_table import OpCase

SIDE = 3


class Drawn(tuple):
    """Input shapes that carry the method arguments drawn with them."""

    params: dict = {}


def _drawn(shapes: tuple, **params) -> Drawn:
    out = Drawn(shapes)
    out.params = params
    return out


def _params(shapes: Drawn) -> st.SearchStrategy:
    return st.just(shapes.params)


def _shape(min_dims: int = 0, max_dims: int = 3, min_side: int = 0) -> st.SearchStrategy:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=SIDE)


def _dim(draw, ndim: int) -> int:
    """A dim of an `ndim`-d tensor, as itself or its negative alias (0-d: 0 or -1)."""
    n = max(ndim, 1)
    d = draw(st.integers(0, n - 1))
    return draw(st.sampled_from([d, d - n]))


def _weighted(pieces, x) -> ag.Tensor:
    """Pieces flattened and joined, each scaled differently (a rule mixing them up fails)."""
    return ag.concatenate([p.reshape(-1) * float(i + 1) for i, p in enumerate(pieces)]
                          + [x.reshape(-1)[:0]], axis=0)


def _weighted_ref(pieces) -> np.ndarray:
    return np.concatenate([p.reshape(-1) * float(i + 1) for i, p in enumerate(pieces)]
                          + [np.zeros(0)])


def apart(rng, shapes) -> list:
    """Inputs whose values are all distinct, across inputs too (no ties between operands)."""
    sizes = [int(np.prod(s)) for s in shapes]
    grid = rng.permutation(np.linspace(-2.0, 2.0, max(sum(sizes), 1)))
    out, start = [], 0
    for shape, n in zip(shapes, sizes):
        out.append(grid[start : start + n].reshape(shape))
        start += n
    return out


# -- reductions ------------------------------------------------------------------------------
@st.composite
def reduce_shapes(draw, min_side: int = 0, tuples: bool = True, min_dims: int = 0):
    """A shape and `dim` (None, one dim, or a tuple) and `keepdim`."""
    shape = draw(_shape(min_side=min_side, min_dims=min_dims))
    kind = draw(st.sampled_from(["none", "int", "tuple"] if tuples and shape else
                                ["none", "int"]))
    if kind == "none":
        dim = None
    elif kind == "int":
        dim = _dim(draw, len(shape))
    else:
        dim = tuple(draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1,
                                  max_size=len(shape), unique_by=lambda d: d % len(shape))))
    return _drawn((shape,), dim=dim, keepdim=draw(st.booleans()))


def _np_axis(dim, ndim: int):
    if dim is None or dim == () or ndim == 0:
        return None
    return tuple(d % ndim for d in dim) if isinstance(dim, tuple) else dim % ndim


@st.composite
def var_shapes(draw):
    """dim/keepdim with every side >= 2 (n - correction >= 1), and unbiased or correction."""
    drawn = draw(reduce_shapes(min_side=2, min_dims=1))
    form = draw(st.sampled_from(["default", "unbiased", "correction"]))
    extra = {"default": {}, "unbiased": {"unbiased": draw(st.booleans())},
             "correction": {"correction": draw(st.integers(0, 1))}}[form]
    return _drawn(tuple(drawn), **drawn.params, **extra)


def _ddof(unbiased=None, correction=None) -> int:
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


@st.composite
def one_dim_shapes(draw, min_side: int = 0, min_dims: int = 0):
    shape = draw(_shape(min_side=min_side, min_dims=min_dims))
    return _drawn((shape,), dim=_dim(draw, len(shape)), keepdim=draw(st.booleans()))


def _max_dim_ref(x, dim, keepdim, op=np.max):
    return op(x, axis=dim % x.ndim if x.ndim else None, keepdims=keepdim and bool(x.ndim))


# -- shape methods ---------------------------------------------------------------------------
@st.composite
def repeat_shapes(draw):
    shape = draw(_shape(max_dims=2))
    sizes = tuple(draw(st.lists(st.integers(0, 2), min_size=len(shape), max_size=len(shape) + 1)))
    return _drawn((shape,), sizes=sizes)


@st.composite
def repeat_interleave_shapes(draw):
    shape = draw(_shape())
    dim = None if not shape or draw(st.booleans()) else _dim(draw, len(shape))
    n = int(np.prod(shape)) if dim is None else shape[dim]
    repeats = draw(st.one_of(st.integers(0, 3), st.lists(st.integers(0, 2), min_size=n,
                                                         max_size=n)))
    return _drawn((shape,), repeats=repeats, dim=dim)


def _repeat_interleave(x, repeats, dim):
    r = ag.tensor(repeats, device=x.device) if isinstance(repeats, list) else repeats
    return x.repeat_interleave(r, dim=dim)


def _repeat_interleave_ref(x, repeats, dim):
    return np.repeat(x, repeats, axis=None if dim is None else dim % x.ndim)


@st.composite
def split_shapes(draw):
    """A dim and either a piece size or a list of sizes adding up to its length."""
    shape = draw(_shape(min_dims=1))
    dim = _dim(draw, len(shape))
    n = shape[dim]
    if draw(st.booleans()):
        size = draw(st.integers(1, SIDE + 1)) if n else draw(st.integers(0, 2))
        return _drawn((shape,), split_size_or_sections=size, dim=dim)
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
    sizes = [b - a for a, b in zip([0, *cuts], [*cuts, n])]
    return _drawn((shape,), split_size_or_sections=sizes, dim=dim)


def _split_ref(x, split_size_or_sections, dim):
    n = x.shape[dim]
    if isinstance(split_size_or_sections, list):
        points = np.cumsum(split_size_or_sections)[:-1]
    elif n == 0:
        return [x]
    else:
        points = list(range(split_size_or_sections, n, split_size_or_sections))
    return np.split(x, points, axis=dim)


@st.composite
def chunk_shapes(draw):
    shape = draw(_shape(min_dims=1))
    return _drawn((shape,), chunks=draw(st.integers(1, SIDE + 1)), dim=_dim(draw, len(shape)))


def _chunk_ref(x, chunks, dim):
    n = x.shape[dim]
    if n == 0:
        return [x] * chunks
    size = -(-n // chunks)
    return np.split(x, list(range(size, n, size)), axis=dim)


@st.composite
def two_dims_shapes(draw):
    shape = draw(_shape())
    return _drawn((shape,), dim0=_dim(draw, len(shape)), dim1=_dim(draw, len(shape)))


def _transpose_ref(x, dim0, dim1):
    return np.swapaxes(x, dim0, dim1) if x.ndim else x


@st.composite
def permute_shapes(draw):
    shape = draw(_shape(max_dims=4))
    dims = draw(st.permutations(range(len(shape))))
    return _drawn((shape,), dims=tuple(d - len(shape) if draw(st.booleans()) else d
                                       for d in dims))


@st.composite
def squeeze_shapes(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=2))
    form = draw(st.sampled_from(["none", "int", "tuple"])) if shape else "none"
    if form == "none":
        return _drawn((shape,), dim=None)
    if form == "int":
        return _drawn((shape,), dim=_dim(draw, len(shape)))
    dims = draw(st.lists(st.integers(0, len(shape) - 1), unique=True, max_size=len(shape)))
    return _drawn((shape,), dim=tuple(dims))


def _squeeze_ref(x, dim):
    if dim is None:
        return np.squeeze(x)
    dims = dim if isinstance(dim, tuple) else (dim,)
    return np.squeeze(x, axis=tuple(d % x.ndim for d in dims if x.shape[d] == 1))


@st.composite
def unsqueeze_shapes(draw):
    shape = draw(_shape())
    n = len(shape) + 1
    return _drawn((shape,), dim=draw(st.integers(-n, n - 1)))


@st.composite
def expand_shapes(draw):
    """A shape with length-1 dims, expanded (-1 keeps a dim) with up to two new leading dims."""
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=2))
    lead = tuple(draw(st.lists(st.integers(0, SIDE), max_size=2)))
    sizes = tuple(draw(st.sampled_from([-1, n] if n != 1 else [-1, 0, 1, SIDE]))
                  for n in shape)
    return _drawn((shape,), sizes=lead + sizes)


def _expand_ref(x, sizes):
    lead = len(sizes) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return np.broadcast_to(x, shape)


@st.composite
def narrow_shapes(draw):
    shape = draw(_shape(min_dims=1))
    dim = _dim(draw, len(shape))
    n = shape[dim]
    start = draw(st.integers(-n, n)) if n else 0
    length = draw(st.integers(0, n - start % n if n and start != n else 0))
    return _drawn((shape,), dim=dim, start=start, length=length)


def _narrow_ref(x, dim, start, length):
    n = x.shape[dim]
    start = start % n if n else 0
    index = [slice(None)] * x.ndim
    index[dim] = slice(start, start + length)
    return x[tuple(index)]


@st.composite
def unbind_shapes(draw):
    shape = draw(_shape(min_dims=1))
    return _drawn((shape,), dim=_dim(draw, len(shape)))


@st.composite
def unflatten_shapes(draw):
    inner = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=2))
    outer = draw(_shape(max_dims=2))
    dim = draw(st.integers(0, len(outer)))
    shape = outer[:dim] + (int(np.prod(inner)),) + outer[dim:]
    sizes = list(inner)
    if draw(st.booleans()):
        sizes[draw(st.integers(0, len(sizes) - 1))] = -1
    return _drawn((shape,), dim=dim, sizes=tuple(sizes))


def _unflatten_ref(x, dim, sizes):
    n = x.shape[dim]
    known = int(np.prod([s for s in sizes if s != -1]))
    sizes = tuple(n // known if s == -1 else s for s in sizes)
    return x.reshape(x.shape[:dim] + sizes + x.shape[dim + 1 :])


@st.composite
def unfold_shapes(draw):
    shape = draw(_shape(max_dims=3))
    dim = _dim(draw, len(shape))
    n = shape[dim % len(shape)] if shape else 1
    size = draw(st.integers(0, n))
    return _drawn((shape,), dimension=dim, size=size, step=draw(st.integers(1, 3)))


def _unfold_ref(x, dimension, size, step):
    if x.ndim == 0:
        return x.reshape(1)[:size]
    d = dimension % x.ndim
    n = x.shape[d]
    windows = [np.take(x, np.arange(s, s + size), axis=d) for s in range(0, n - size + 1, step)]
    stacked = np.stack(windows, axis=d) if windows else np.zeros(
        x.shape[:d] + (0,) + x.shape[d + 1 :] + (size,))
    return np.moveaxis(stacked, d + 1, -1) if windows else stacked


@st.composite
def movedim_shapes(draw):
    shape = draw(_shape(max_dims=4))
    ndim = len(shape)
    if not ndim:
        return _drawn((shape,), source=0, destination=-1)
    k = draw(st.integers(1, ndim))
    source = draw(st.permutations(range(ndim)))[:k]
    destination = draw(st.permutations(range(ndim)))[:k]
    if k == 1 and draw(st.booleans()):
        return _drawn((shape,), source=source[0], destination=destination[0] - ndim)
    return _drawn((shape,), source=tuple(source), destination=tuple(destination))


def _movedim_ref(x, source, destination):
    return np.moveaxis(x, source, destination) if x.ndim else x


@st.composite
def tensor_split_shapes(draw):
    shape = draw(_shape(min_dims=1))
    dim = _dim(draw, len(shape))
    if draw(st.booleans()):
        return _drawn((shape,), indices_or_sections=draw(st.integers(1, SIDE + 1)), dim=dim)
    points = draw(st.lists(st.integers(0, shape[dim] + 1), max_size=3))
    return _drawn((shape,), indices_or_sections=points, dim=dim)


# -- indexing under PyTorch's rule -----------------------------------------------------------
@st.composite
def torch_index_shapes(draw):
    """An index mixing ints, slices, None and one or two index arrays, where PyTorch's and
    NumPy's rules may disagree (an int separated from the arrays by a slice)."""
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=SIDE))
    length = draw(st.integers(0, 2))  # the arrays' lengths broadcast: `length` or 1
    items = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "array"]))
        if kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            items.append(draw(st.slices(n)))
        else:
            items.append(draw(hnp.arrays(np.int64, draw(st.sampled_from([length, 1])),
                                         elements=st.integers(-n, n - 1))))
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), None)
    return _drawn((shape,), index=tuple(items))


def torch_index_ref(x, index):
    """PyTorch's rule in NumPy terms: select with the ints first, then index the rest."""
    ints = tuple(i if isinstance(i, int) else slice(None) for i in index if i is not None)
    rest = tuple(i for i in index if not isinstance(i, int))
    return x[ints][rest]


def _index_on_device(x, index):
    return tuple(ag.tensor(i, device=x.device) if isinstance(i, np.ndarray) else i
                 for i in index)


# -- the rows --------------------------------------------------------------------------------
def _method(name):
    return lambda x, **kw: getattr(x, name)(**kw)


CASES = [
    OpCase("method_sum", _method("sum"), lambda x, dim, keepdim: np.sum(
        x, axis=_np_axis(dim, x.ndim), keepdims=keepdim), shapes=reduce_shapes(),
        params=_params),
    OpCase("method_mean_axis_alias", lambda x, dim, keepdim: x.mean(axis=dim, keepdims=keepdim),
           lambda x, dim, keepdim: np.mean(x, axis=_np_axis(dim, x.ndim), keepdims=keepdim),
           shapes=reduce_shapes(min_side=1), params=_params),
    OpCase("method_prod", lambda x, dim, keepdim: x.prod(dim, keepdim),
           lambda x, dim, keepdim: np.prod(x, axis=_np_axis(dim, x.ndim), keepdims=keepdim),
           shapes=reduce_shapes(), params=_params),
    OpCase("method_var", _method("var"),
           lambda x, dim, keepdim, **kw: np.var(x, axis=_np_axis(dim, x.ndim), keepdims=keepdim,
                                                ddof=_ddof(**kw)),
           shapes=var_shapes(), params=_params),
    OpCase("method_std", _method("std"),
           lambda x, dim, keepdim, **kw: np.std(x, axis=_np_axis(dim, x.ndim), keepdims=keepdim,
                                                ddof=_ddof(**kw)),
           shapes=var_shapes(), params=_params, distinct=True),
    OpCase("method_amax", _method("amax"),
           lambda x, dim, keepdim: np.max(x, axis=_np_axis(dim, x.ndim), keepdims=keepdim),
           shapes=reduce_shapes(min_side=1), params=lambda s: st.just(
               {**s.params, "dim": () if s.params["dim"] is None else s.params["dim"]}),
           distinct=True),
    OpCase("method_amin", _method("amin"),
           lambda x, dim, keepdim: np.min(x, axis=_np_axis(dim, x.ndim), keepdims=keepdim),
           shapes=reduce_shapes(min_side=1), params=lambda s: st.just(
               {**s.params, "dim": () if s.params["dim"] is None else s.params["dim"]}),
           distinct=True),
    OpCase("method_max_dim", lambda x, dim, keepdim: x.max(dim, keepdim).values,
           _max_dim_ref, shapes=one_dim_shapes(min_side=1), params=_params, distinct=True),
    OpCase("method_min_dim", lambda x, dim, keepdim: x.min(dim=dim, keepdim=keepdim).values,
           lambda x, dim, keepdim: _max_dim_ref(x, dim, keepdim, np.min),
           shapes=one_dim_shapes(min_side=1), params=_params, distinct=True),
    OpCase("method_max_other", lambda x, y: x.max(y), np.maximum,
           shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_side=SIDE).map(
               lambda b: tuple(b.input_shapes)), make_inputs=apart),
    OpCase("method_logsumexp", lambda x, dim, keepdim: x.logsumexp(dim, keepdim),
           lambda x, dim, keepdim: np.log(np.sum(np.exp(x), axis=_np_axis(dim, x.ndim),
                                                 keepdims=keepdim)),
           shapes=reduce_shapes(), params=_params),
    OpCase("method_softmax", lambda x, dim, keepdim: x.softmax(dim),
           lambda x, dim, keepdim: np.exp(x) / np.sum(np.exp(x), axis=_np_axis(dim, x.ndim),
                                                      keepdims=True),
           shapes=one_dim_shapes(), params=_params),
    OpCase("method_log_softmax", lambda x, dim, keepdim: x.log_softmax(dim=dim),
           lambda x, dim, keepdim: x - np.log(np.sum(np.exp(x), axis=_np_axis(dim, x.ndim),
                                                     keepdims=True)),
           shapes=one_dim_shapes(), params=_params),
    OpCase("method_repeat", lambda x, sizes: x.repeat(*sizes),
           lambda x, sizes: np.tile(x, sizes), shapes=repeat_shapes(), params=_params),
    OpCase("method_repeat_interleave", _repeat_interleave, _repeat_interleave_ref,
           shapes=repeat_interleave_shapes(), params=_params),
    OpCase("method_split", lambda x, **kw: _weighted(x.split(**kw), x),
           lambda x, **kw: _weighted_ref(_split_ref(x, **kw)), shapes=split_shapes(),
           params=_params),
    OpCase("method_chunk", lambda x, **kw: _weighted(x.chunk(**kw), x),
           lambda x, **kw: _weighted_ref(_chunk_ref(x, **kw)), shapes=chunk_shapes(),
           params=_params),
    OpCase("method_tensor_split", lambda x, **kw: _weighted(x.tensor_split(**kw), x),
           lambda x, indices_or_sections, dim: _weighted_ref(np.array_split(
               x, indices_or_sections, axis=dim)), shapes=tensor_split_shapes(), params=_params),
    OpCase("method_unbind", lambda x, dim: _weighted(x.unbind(dim), x),
           lambda x, dim: _weighted_ref(list(np.moveaxis(x, dim, 0))), shapes=unbind_shapes(),
           params=_params),
    OpCase("method_transpose", _method("transpose"), _transpose_ref, shapes=two_dims_shapes(),
           params=_params),
    OpCase("method_permute", lambda x, dims: x.permute(*dims),
           lambda x, dims: np.transpose(x, [d % x.ndim for d in dims]) if x.ndim else x,
           shapes=permute_shapes(), params=_params),
    OpCase("method_t", lambda x: x.t(), lambda x: x.T,
           shapes=_shape(max_dims=2).map(lambda s: (s,))),
    OpCase("method_squeeze", _method("squeeze"), _squeeze_ref, shapes=squeeze_shapes(),
           params=_params),
    OpCase("method_unsqueeze", _method("unsqueeze"),
           lambda x, dim: np.expand_dims(x, dim % (x.ndim + 1)), shapes=unsqueeze_shapes(),
           params=_params),
    OpCase("method_expand", lambda x, sizes: x.expand(*sizes), _expand_ref,
           shapes=expand_shapes(), params=_params),
    OpCase("method_narrow", _method("narrow"), _narrow_ref, shapes=narrow_shapes(),
           params=_params),
    OpCase("method_unflatten", _method("unflatten"), _unflatten_ref, shapes=unflatten_shapes(),
           params=_params),
    OpCase("method_unfold", _method("unfold"), _unfold_ref, shapes=unfold_shapes(),
           params=_params),
    OpCase("method_movedim", _method("movedim"), _movedim_ref, shapes=movedim_shapes(),
           params=_params),
    OpCase("method_ravel_of_transpose", lambda x: x.mT.ravel() if x.ndim >= 2 else x.ravel(),
           lambda x: np.swapaxes(x, -1, -2).ravel() if x.ndim >= 2 else x.ravel(),
           shapes=_shape().map(lambda s: (s,))),
    OpCase("method_contiguous", lambda x: x.mT.contiguous() if x.ndim >= 2 else x.contiguous(),
           lambda x: np.swapaxes(x, -1, -2).copy() if x.ndim >= 2 else x,
           shapes=_shape().map(lambda s: (s,))),
    OpCase("getitem_torch_rule", lambda x, index: x[_index_on_device(x, index)],
           torch_index_ref, shapes=torch_index_shapes(), params=_params),
]
