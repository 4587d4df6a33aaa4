"""Op-table rows for structure ops: triangles and diagonals, roll, sorting and selection
(values; their indices are checked in test_structure_ops.py), cumulative ops (cumprod also with
exact zeros), norms, and NumPy's statistics (nansum/nanmean with NaN inputs, average with
weights, median, quantiles by method, ptp).

Sorting-like rows draw distinct values (a tie is a kink); the tie conventions are pinned
exactly in test_structure_ops.py.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag

from .op_table import OpCase, one_shape

SIDE = 4


def _shape(min_dims=0, max_dims=3, min_side=0):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=SIDE)


def _axis_of(shapes, allow_none=False):
    ndim = len(shapes[0])
    choices = [st.integers(-ndim, ndim - 1)] if ndim else []
    if allow_none or not ndim:
        choices.append(st.none())
    return st.one_of(*choices)


def _k_param(shapes):
    return st.fixed_dictionaries({"k": st.integers(-3, 3)})


def _diagonal_params(shapes):
    ndim = len(shapes[0])
    pairs = [(i, j) for i in range(ndim) for j in range(ndim) if i != j]
    return st.fixed_dictionaries({"offset": st.integers(-2, 2),
                                  "axes": st.sampled_from(pairs)})


def _roll_params(shapes):
    ndim = len(shapes[0])
    if not ndim:
        return st.fixed_dictionaries({"shift": st.integers(-5, 5), "axis": st.none()})
    return st.one_of(
        st.fixed_dictionaries({"shift": st.integers(-5, 5), "axis": st.none()}),
        st.fixed_dictionaries({"shift": st.integers(-5, 5),
                               "axis": st.integers(-ndim, ndim - 1)}))


def _dim_param(shapes):
    return st.fixed_dictionaries({"dim": st.integers(-max(len(shapes[0]), 1),
                                                     max(len(shapes[0]), 1) - 1)})


def _axis_param(shapes):
    return st.fixed_dictionaries({"axis": _axis_of(shapes, allow_none=True)})


def _axis_keep(shapes):
    ndim = len(shapes[0])
    axis = st.one_of(st.none(), *([st.integers(-ndim, ndim - 1),
                                   st.lists(st.integers(0, ndim - 1), min_size=1,
                                            max_size=ndim, unique=True).map(tuple)]
                                  if ndim else []))
    return st.fixed_dictionaries({"axis": axis, "keepdims": st.booleans()})


def _kth_param(shapes):
    ndim = len(shapes[0])
    return st.integers(-ndim, ndim - 1).flatmap(
        lambda a: st.fixed_dictionaries({"axis": st.just(a),
                                         "kth": st.integers(0, shapes[0][a] - 1)}))


def _topk_params(shapes):
    ndim = max(len(shapes[0]), 1)
    size = shapes[0] or (1,)
    return st.integers(-ndim, ndim - 1).flatmap(
        lambda d: st.fixed_dictionaries({"dim": st.just(d),
                                         "k": st.integers(0 if shapes[0] else 1, size[d]),
                                         "largest": st.booleans()}))


def _kthvalue_params(shapes):
    ndim = max(len(shapes[0]), 1)
    size = shapes[0] or (1,)
    return st.integers(-ndim, ndim - 1).flatmap(
        lambda d: st.fixed_dictionaries({"dim": st.just(d), "k": st.integers(1, size[d]),
                                         "keepdim": st.booleans()}))


def _median_dim(shapes):
    ndim = max(len(shapes[0]), 1)
    return st.fixed_dictionaries({"dim": st.integers(-ndim, ndim - 1),
                                  "keepdim": st.booleans()})


def _quantile_params(shapes):
    return st.fixed_dictionaries({
        "q": st.one_of(st.floats(0, 1), st.lists(st.floats(0, 1), min_size=1, max_size=3)),
        "method": st.sampled_from(["linear", "lower", "higher", "nearest", "midpoint"]),
        "axis": _axis_of(shapes, allow_none=True),
        "keepdims": st.booleans()})


def _norm_params(shapes):
    ndim = len(shapes[0])
    dim = st.one_of(st.none(), *([st.integers(-ndim, ndim - 1)] if ndim else []))
    return st.fixed_dictionaries({"p": st.sampled_from([1, 2, 3, 1.5, float("inf"),
                                                        -float("inf"), "fro"]),
                                  "dim": dim, "keepdim": st.booleans()})


def _norm_ref(x, p, dim, keepdim):
    axes = tuple(range(x.ndim)) if dim is None else (dim % x.ndim,)
    a = np.abs(x)
    if p == float("inf"):
        return np.max(a, axis=axes, keepdims=keepdim)
    if p == -float("inf"):
        return np.min(a, axis=axes, keepdims=keepdim)
    p = 2.0 if p == "fro" else p
    return np.sum(a ** p, axis=axes, keepdims=keepdim) ** (1.0 / p)


def _with_zeros(rng, shapes):
    """Inputs with exact zeros (about one in three entries): cumprod's hard case."""
    x = rng.uniform(-2.0, 2.0, size=shapes[0])
    x[rng.random(x.shape) < 0.35] = 0.0
    return [x]


def _with_nan(rng, shapes):
    x = rng.uniform(-2.0, 2.0, size=shapes[0])
    x[rng.random(x.shape) < 0.3] = np.nan
    return [x]


def _with_nan_after_first_row(rng, shapes):
    """NaN anywhere but the first row: every column keeps a number (an all-NaN column has a NaN
    median, which would make every finite difference NaN)."""
    x = rng.uniform(-2.0, 2.0, size=shapes[0])
    x[1:][rng.random(x[1:].shape) < 0.4] = np.nan
    return [x]


def _distinct_magnitudes(rng, shapes):
    """Nonzero values whose |x| all differ: the inf-norms' ties and 0 are kinks."""
    n = int(np.prod(shapes[0]))
    mags = rng.permutation(np.linspace(0.2, 2.0, max(n, 1))[:n])
    return [(mags * rng.choice([-1.0, 1.0], size=n)).reshape(shapes[0])]


def _checkered_nan(rng, shapes):
    """NaN where the coordinates sum to an odd number: with every side >= 2 no slice along any
    axis is all NaN (whose mean would be NaN and spoil every finite difference)."""
    x = rng.uniform(-2.0, 2.0, size=shapes[0])
    odd = np.indices(x.shape).sum(axis=0) % 2 == 1 if x.ndim else np.zeros((), bool)
    return [np.where(odd, np.nan, x)]


def _weights(rng, shapes):
    return [rng.uniform(-2.0, 2.0, size=shapes[0]), rng.uniform(0.5, 2.0, size=shapes[0])]


def _weights_1d(rng, shapes):
    x = rng.uniform(-2.0, 2.0, size=shapes[0])
    return [x, rng.uniform(0.5, 2.0, size=(shapes[0][1],))]


def _lower_median(x, dim, keepdim):
    s = np.sort(x, axis=dim)
    n = x.shape[dim]
    return np.take(s, [(n - 1) // 2], axis=dim) if keepdim else np.take(s, (n - 1) // 2,
                                                                          axis=dim)


def _median_ref(x, dim, keepdim):
    if x.ndim == 0:
        return x.copy()
    return _lower_median(x, dim, keepdim)


def _kth_values(t, kth, axis):
    return t[(slice(None),) * (axis % t.ndim) + (kth,)]


def _cum_ref(fn):
    def ref(x, dim):
        return fn(x.reshape(1) if x.ndim == 0 else x, axis=dim).reshape(x.shape)
    return ref


def _logcumsumexp_ref(x, dim):
    x1 = x.reshape(1) if x.ndim == 0 else x
    return np.log(np.cumsum(np.exp(x1), axis=dim)).reshape(x.shape)


def _cummax_ref(x, dim):
    x1 = x.reshape(1) if x.ndim == 0 else x
    return np.maximum.accumulate(x1, axis=dim).reshape(x.shape)


def _cummin_ref(x, dim):
    x1 = x.reshape(1) if x.ndim == 0 else x
    return np.minimum.accumulate(x1, axis=dim).reshape(x.shape)


def _topk_ref(x, dim, k, largest):
    x1 = x.reshape(1) if x.ndim == 0 else x
    s = np.sort(x1, axis=dim)
    if largest:
        s = np.flip(s, axis=dim)
    out = np.take(s, np.arange(k), axis=dim)
    return out.reshape(()) if x.ndim == 0 else out


def _kthvalue_ref(x, dim, k, keepdim):
    x1 = x.reshape(1) if x.ndim == 0 else x
    out = np.take(np.sort(x1, axis=dim), [k - 1], axis=dim)
    if x.ndim == 0:
        return out.reshape(())
    return out if keepdim else np.squeeze(out, axis=dim)


def _partition_check(x, axis, kth):
    # The arrangement around kth is unspecified: compare what partition promises.
    return np.sort(np.partition(x, kth, axis=axis), axis=axis)


_MATRICES = st.tuples(_shape(min_dims=2))
_NONEMPTY = one_shape(min_side=1)
_VECTORS = one_shape(min_dims=1, min_side=1)

CASES = [
    OpCase("tril", ag.tril, np.tril, shapes=_MATRICES, params=_k_param),
    OpCase("triu_method", lambda x, k: x.triu(k), lambda x, k: np.triu(x, k), shapes=_MATRICES,
           params=_k_param),
    OpCase("diagonal", lambda x, offset, axes: ag.diagonal(x, offset, *axes),
           lambda x, offset, axes: np.diagonal(x, offset, *axes), shapes=_MATRICES,
           params=_diagonal_params),
    OpCase("diag_vector", ag.diag, np.diag, shapes=one_shape(1, 1), params=_k_param),
    OpCase("diag_matrix_method", lambda x, k: x.diag(k), lambda x, k: np.diag(x, k),
           shapes=one_shape(2, 2), params=_k_param),
    OpCase("diag_embed", lambda x: x.diag_embed(1, 0, 2),
           lambda x: np.moveaxis(np.stack([np.diag(r, 1) for r in x.reshape(-1, x.shape[-1])])
                                 .reshape(x.shape[:-1] + (x.shape[-1] + 1,) * 2), (-2, -1),
                                 (0, 2)),
           shapes=one_shape(2, 2, min_side=1)),
    OpCase("trace", lambda x, offset, axes: ag.trace(x, offset, *axes),
           lambda x, offset, axes: np.trace(x, offset, *axes), shapes=_MATRICES,
           params=_diagonal_params),
    OpCase("trace_method", lambda x: x.trace(), np.trace, shapes=one_shape(2, 2)),
    OpCase("roll", ag.roll, np.roll, params=_roll_params),
    # -- sorting and selection (values; distinct: ties are kinks) --------------------------------
    OpCase("sort", ag.sort, np.sort, params=_axis_param, distinct=True),
    OpCase("sort_method_descending", lambda x, dim: x.sort(dim, descending=True).values,
           lambda x, dim: np.flip(np.sort(x.reshape(1) if x.ndim == 0 else x, axis=dim),
                                  axis=dim).reshape(x.shape),
           params=_dim_param, distinct=True),
    OpCase("partition_sorted", lambda x, axis, kth: ag.sort(ag.partition(x, kth, axis), axis),
           _partition_check, shapes=_VECTORS, params=_kth_param, distinct=True),
    OpCase("partition_kth", lambda x, axis, kth: _kth_values(ag.partition(x, kth, axis), kth,
                                                             axis),
           lambda x, axis, kth: np.take(np.sort(x, axis=axis), kth, axis=axis),
           shapes=_VECTORS, params=_kth_param, distinct=True),
    OpCase("topk", lambda x, dim, k, largest: ag.topk(x, k, dim, largest)[0], _topk_ref,
           params=_topk_params, distinct=True),
    OpCase("kthvalue_method", lambda x, dim, k, keepdim: x.kthvalue(k, dim, keepdim).values,
           _kthvalue_ref, shapes=_NONEMPTY, params=_kthvalue_params, distinct=True),
    OpCase("median_method_dim", lambda x, dim, keepdim: x.median(dim, keepdim).values,
           _median_ref, shapes=_NONEMPTY, params=_median_dim, distinct=True),
    OpCase("median_method_all", lambda x: x.median(),
           lambda x: np.sort(x.reshape(-1))[(x.size - 1) // 2], shapes=_NONEMPTY,
           distinct=True),
    OpCase("nanmedian_method", lambda x: x.nanmedian(0).values,
           lambda x: np.array([np.sort(c[~np.isnan(c)])[(np.sum(~np.isnan(c)) - 1) // 2]
                               if np.any(~np.isnan(c)) else np.nan for c in x.T]),
           shapes=one_shape(1, 1, min_side=1).map(lambda s: ((s[0][0], 3),)),
           make_inputs=_with_nan_after_first_row),
    # -- cumulative ------------------------------------------------------------------------------
    OpCase("cumsum", ag.cumsum, np.cumsum, params=_axis_param),
    OpCase("cumsum_method", lambda x, dim: x.cumsum(dim), _cum_ref(np.cumsum), params=_dim_param),
    OpCase("cumprod", ag.cumprod, np.cumprod, params=_axis_param),
    OpCase("cumprod_zeros", lambda x, dim: x.cumprod(dim), _cum_ref(np.cumprod),
           params=_dim_param, make_inputs=_with_zeros),
    OpCase("cummax_method", lambda x, dim: x.cummax(dim).values, _cummax_ref, params=_dim_param,
           distinct=True),
    OpCase("cummin", lambda x, dim: ag.cummin(x, dim)[0], _cummin_ref, params=_dim_param,
           distinct=True),
    OpCase("logcumsumexp_method", lambda x, dim: x.logcumsumexp(dim), _logcumsumexp_ref,
           params=_dim_param, domain=(-3.0, 3.0)),
    OpCase("logcumsumexp", ag.logcumsumexp, lambda x, axis: _logcumsumexp_ref(
        x.reshape(-1) if axis is None else x, 0 if axis is None else axis),
        params=lambda s: st.fixed_dictionaries({"axis": _axis_of(s, allow_none=True)})),
    # -- norms -----------------------------------------------------------------------------------
    OpCase("norm_method", lambda x, p, dim, keepdim: x.norm(p, dim, keepdim), _norm_ref,
           shapes=_NONEMPTY, params=_norm_params, make_inputs=_distinct_magnitudes),
    OpCase("dist_method", lambda a, b: a.dist(b, 3), lambda a, b: np.sum(np.abs(a - b) ** 3)
           ** (1 / 3), shapes=st.tuples(_shape(min_side=1)).map(lambda s: (s[0], s[0])),
           make_inputs=lambda rng, shapes: [rng.uniform(-2, 2, shapes[0]),
                                            rng.uniform(-2, 2, shapes[1]) + 5.0]),
    # -- NumPy statistics -----------------------------------------------------------------------
    OpCase("nansum", ag.nansum, np.nansum, params=_axis_keep, make_inputs=_with_nan),
    OpCase("nanmean", ag.nanmean, np.nanmean, shapes=one_shape(min_side=2), params=_axis_keep,
           make_inputs=_checkered_nan),
    OpCase("average_weights", lambda x, w, axis: ag.average(x, axis, w),
           lambda x, w, axis: np.average(x, axis, w), shapes=st.tuples(_shape(min_side=1)).map(
               lambda s: (s[0], s[0])), params=_axis_param, make_inputs=_weights),
    OpCase("average_1d_weights", lambda x, w: ag.average(x, 1, w, keepdims=True),
           lambda x, w: np.average(x, 1, w, keepdims=True),
           shapes=st.tuples(_shape(min_dims=2, min_side=1)).map(lambda s: (s[0], s[0])),
           make_inputs=_weights_1d),
    OpCase("average_returned", lambda x: ag.average(x, 0, returned=True)[0] +
           ag.average(x, 0, returned=True)[1], lambda x: np.sum(np.average(
               x, 0, returned=True), axis=0), shapes=one_shape(1, min_side=1)),
    OpCase("median", ag.median, np.median, shapes=_NONEMPTY, params=_axis_keep,
           distinct=True),
    OpCase("quantile", ag.quantile, np.quantile, shapes=_NONEMPTY, params=_quantile_params,
           distinct=True),
    OpCase("percentile", lambda x: ag.percentile(x, [10, 50, 95], axis=-1),
           lambda x: np.percentile(x, [10, 50, 95], axis=-1), shapes=one_shape(1, min_side=1),
           distinct=True),
    OpCase("ptp", ag.ptp, np.ptp, shapes=_NONEMPTY, params=_axis_keep, distinct=True),
]
