"""Op-table rows for the activations of issue 16 (smooth, piecewise and composed), with NumPy
references; values are drawn away from each kink (the kinks' conventions are tested in
tests/nn/test_activations_extended.py)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import nn.functional_activation as A

from .op_table import OpCase, broadcast_shapes, one_shape

ALPHA, SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def ref_selu(x):
    return SCALE * np.where(x > 0, x, ALPHA * np.expm1(np.minimum(x, 0)))


def ref_celu(x, alpha=1.0):
    return np.maximum(x, 0) + np.minimum(0, alpha * np.expm1(np.minimum(x, 0) / alpha))


def ref_hardswish(x):
    return x * np.clip(x + 3, 0, 6) / 6


def ref_softshrink(x, lambd=0.5):
    return np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0.0))


def ref_softmin(x, dim):
    if x.size == 0:
        return x.copy()
    e = np.exp(-x - (-x).max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def ref_prelu(x, w):
    w = w.reshape((w.size,) + (1,) * (x.ndim - 2)) if w.size > 1 else w.reshape(())
    return np.where(x > 0, x, w * x)


def ref_glu(x, dim=-1):
    a, b = np.split(x, 2, axis=dim)
    return a * _sigmoid(b)


def dim_params(shapes: tuple) -> st.SearchStrategy:
    ndim = len(shapes[0])
    return st.fixed_dictionaries({"dim": st.integers(-ndim, ndim - 1)})


@st.composite
def prelu_shapes(draw):
    c = draw(st.integers(1, 3))
    x = (draw(st.integers(0, 2)), c) + tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    return (x, (draw(st.sampled_from([1, c])),))


@st.composite
def glu_shapes(draw):
    shape = list(draw(st.lists(st.integers(0, 3), min_size=1, max_size=3)))
    axis = draw(st.integers(0, len(shape) - 1))
    shape[axis] = 2 * draw(st.integers(0, 2))
    return (tuple(shape),), axis


def _nonempty_dims(shapes):
    return st.fixed_dictionaries({"dim": st.integers(-len(shapes[0]), len(shapes[0]) - 1)})


CASES = [
    OpCase("silu", A.silu, lambda x: x * _sigmoid(x), domain=(-6, 6)),
    OpCase("mish", A.mish, lambda x: x * np.tanh(np.logaddexp(0, x)), domain=(-6, 6)),
    OpCase("selu", A.selu, ref_selu, kinks=(0.0,)),
    OpCase("celu", A.celu, ref_celu, kinks=(0.0,),
           params=lambda s: st.fixed_dictionaries({"alpha": st.sampled_from([0.5, 1.0, 2.0])})),
    OpCase("hardtanh", A.hardtanh, lambda x, min_val=-1.0, max_val=1.0:
           np.clip(x, min_val, max_val), kinks=(-1.0, 1.0, -0.5, 1.5),
           params=lambda s: st.sampled_from([{}, {"min_val": -0.5, "max_val": 1.5}])),
    OpCase("relu6", A.relu6, lambda x: np.clip(x, 0, 6), domain=(-2, 8), kinks=(0.0, 6.0)),
    OpCase("hardsigmoid", A.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1),
           domain=(-5, 5), kinks=(-3.0, 3.0)),
    OpCase("hardswish", A.hardswish, ref_hardswish, domain=(-5, 5), kinks=(-3.0, 3.0)),
    OpCase("logsigmoid", A.logsigmoid, lambda x: -np.logaddexp(0, -x), domain=(-8, 8)),
    OpCase("softsign", A.softsign, lambda x: x / (1 + np.abs(x)), kinks=(0.0,)),
    OpCase("tanhshrink", A.tanhshrink, lambda x: x - np.tanh(x)),
    OpCase("softshrink", A.softshrink, ref_softshrink, kinks=(-0.5, 0.5)),
    OpCase("hardshrink", A.hardshrink, lambda x: np.where(np.abs(x) > 0.5, x, 0.0),
           kinks=(-0.5, 0.5)),
    OpCase("threshold", lambda x: A.threshold(x, 0.3, -1.5),
           lambda x: np.where(x > 0.3, x, -1.5), kinks=(0.3,)),
    OpCase("softmin", A.softmin, ref_softmin,
           shapes=one_shape(min_dims=1), params=_nonempty_dims),
    OpCase("prelu", A.prelu, ref_prelu, shapes=prelu_shapes(), kinks=(0.0,)),
    OpCase("glu", lambda x, dim: A.glu(x, dim), ref_glu,
           shapes=glu_shapes().map(lambda s: s[0]),
           params=lambda shapes: st.just({"dim": _even_axis(shapes[0])})),
    # broadcast against a parameter: the slope of prelu is shared by all channels
    OpCase("prelu_shared", A.prelu, ref_prelu,
           shapes=broadcast_shapes(1, min_dims=2).map(lambda s: (s[0], (1,))), kinks=(0.0,)),
]


def _even_axis(shape: tuple) -> int:
    """The last axis of even length (glu halves it)."""
    return max(i for i, n in enumerate(shape) if n % 2 == 0)
