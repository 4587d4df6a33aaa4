"""Op-table rows for reductions: sum, mean, var, std, prod, max, min, logsumexp, (log_)softmax.

References are written independently of kedja's algorithms where NumPy has no function (the
naive ``log(sum(exp(x)))`` is accurate on the drawn domain). max/min draw distinct values so
that no ties occur (the exact tie rule is tested in test_reduction_semantics.py); std draws
distinct values too, since it has a kink where a slice is constant.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import autograd as ag

from .op_table import OpCase, axis_params, one_shape


def ddof_params(shapes: tuple) -> st.SearchStrategy:
    """``axis``, ``keepdims`` and ``ddof`` in {0, 1} (shapes must have every side >= 2)."""
    return st.tuples(axis_params(shapes), st.integers(0, 1)).map(
        lambda pair: {**pair[0], "ddof": pair[1]}
    )


def softmax_params(shapes: tuple) -> st.SearchStrategy:
    return axis_params(shapes, keepdims=False)


def _logsumexp(x, axis=None, keepdims=False):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


def _softmax(x, axis=-1):
    e = np.exp(x)
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    return x - np.log(np.sum(np.exp(x), axis=axis, keepdims=True))


# Every side >= 2: n - ddof >= 1 for ddof = 1, so var stays finite and differentiable.
_WIDE = one_shape(min_dims=1, min_side=2)

CASES = [
    OpCase("sum", ag.sum, np.sum, params=axis_params),
    OpCase("mean", ag.mean, np.mean, params=axis_params),
    OpCase("var", ag.var, np.var, params=axis_params),
    OpCase("var_ddof", ag.var, np.var, shapes=_WIDE, params=ddof_params),
    OpCase("std", ag.std, np.std, params=axis_params, distinct=True),
    OpCase("std_ddof", ag.std, np.std, shapes=_WIDE, params=ddof_params, distinct=True),
    OpCase("prod", ag.prod, np.prod, params=axis_params),
    OpCase("max", ag.max, np.max, shapes=one_shape(min_side=1), params=axis_params,
           distinct=True),
    OpCase("min", ag.min, np.min, shapes=one_shape(min_side=1), params=axis_params,
           distinct=True),
    OpCase("logsumexp", ag.logsumexp, _logsumexp, params=axis_params),
    OpCase("softmax", ag.softmax, _softmax, params=softmax_params),
    OpCase("log_softmax", ag.log_softmax, _log_softmax, params=softmax_params),
]
