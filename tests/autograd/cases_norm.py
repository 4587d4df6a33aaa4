"""Op-table rows for the normalisation functions and the vector functions of issue 16
(group/instance/RMS/local-response norm, normalize, cosine similarity, pairwise distance,
bilinear), with NumPy references from PyTorch's formulas."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import nn.functional_norm as N
import nn.functional_vectors as V

from .op_table import OpCase


def ref_group_norm(x, num_groups, w=None, b=None, eps=1e-5):
    n, c = x.shape[:2]
    g = x.reshape(n, num_groups, -1)
    y = (g - g.mean(axis=2, keepdims=True)) / np.sqrt(g.var(axis=2, keepdims=True) + eps)
    y = y.reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    if w is not None:
        y = y * w.reshape(shape)
    if b is not None:
        y = y + b.reshape(shape)
    return y


def ref_instance_norm(x, w=None, b=None, eps=1e-5):
    axes = tuple(range(2, x.ndim))
    y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    return y * (1 if w is None else w.reshape(shape)) + (0 if b is None else b.reshape(shape))


def ref_rms_norm(x, normalized_shape, w=None, eps=1e-6):
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    y = x / np.sqrt((x * x).mean(axis=axes, keepdims=True) + eps)
    return y if w is None else y * w


def ref_local_response_norm(x, size, alpha=1e-4, beta=0.75, k=1.0):
    c = x.shape[1]
    y = np.zeros_like(x)
    for ch in range(c):
        lo, hi = ch - size // 2, ch + (size - 1) // 2
        total = sum(x[:, j] ** 2 for j in range(max(lo, 0), min(hi, c - 1) + 1))
        y[:, ch] = x[:, ch] / (k + alpha / size * total) ** beta
    return y


def ref_normalize(x, p=2.0, dim=1, eps=1e-12):
    norm = (np.abs(x) ** p).sum(axis=dim, keepdims=True) ** (1 / p)
    return x / np.maximum(norm, eps)


def ref_cosine(a, b, dim=1, eps=1e-8):
    a, b = np.broadcast_arrays(a, b)
    na = np.maximum(np.sqrt((a * a).sum(axis=dim, keepdims=True)), eps)
    nb = np.maximum(np.sqrt((b * b).sum(axis=dim, keepdims=True)), eps)
    return ((a / na) * (b / nb)).sum(axis=dim)


def ref_pairwise(a, b, p=2.0, eps=1e-6, keepdim=False):
    d = np.abs(a - b + eps) ** p
    return d.sum(axis=-1, keepdims=keepdim) ** (1 / p)


def ref_bilinear(x1, x2, w, b=None):
    y = np.einsum("...i,kij,...j->...k", x1, w, x2)
    return y if b is None else y + b


@st.composite
def group_shapes(draw, affine: bool):
    groups, per = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    c = groups * per
    x = (draw(st.integers(1, 2)), c) + tuple(draw(st.lists(st.integers(1, 3), min_size=1,
                                                           max_size=2)))
    return ((x, (c,), (c,)) if affine else (x,)), groups


@st.composite
def instance_shapes(draw, affine: bool):
    c = draw(st.integers(1, 3))
    x = (draw(st.integers(1, 2)), c) + tuple(draw(st.lists(st.integers(2, 3), min_size=1,
                                                           max_size=2)))
    return (x, (c,), (c,)) if affine else (x,)


@st.composite
def rms_shapes(draw):
    lead = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    trail = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    return (lead + trail, trail)


image_like = st.tuples(st.integers(0, 2), st.integers(1, 4), st.integers(1, 3)).map(
    lambda s: (s,))


@st.composite
def pair_shapes(draw):
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=2, max_size=3)))
    other = list(shape)
    other[0] = draw(st.sampled_from([1, shape[0]]))  # broadcast along the first axis
    return (shape, tuple(other))


@st.composite
def bilinear_shapes(draw, bias: bool):
    lead = tuple(draw(st.lists(st.integers(0, 3), min_size=1, max_size=2)))
    i1, i2, o = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shapes = (lead + (i1,), lead + (i2,), (o, i1, i2))
    return shapes + ((o,),) if bias else shapes


def _group_case(name, affine):
    strategy = group_shapes(affine)
    return OpCase(name, lambda x, *wb, num_groups: N.group_norm(x, num_groups, *wb),
                  lambda x, *wb, num_groups: ref_group_norm(x, num_groups, *wb),
                  shapes=strategy.map(lambda s: s[0]),
                  params=lambda shapes: st.sampled_from(
                      [{"num_groups": g} for g in (1, 2) if shapes[0][1] % g == 0]),
                  atol=1e-4)


CASES = [
    _group_case("group_norm", affine=False),
    _group_case("group_norm_affine", affine=True),
    OpCase("instance_norm", lambda x, *wb: N.instance_norm(x, None, None, *wb),
           ref_instance_norm, shapes=instance_shapes(affine=True), atol=1e-4),
    OpCase("rms_norm", lambda x, w: N.rms_norm(x, w.shape, w, eps=1e-6),
           lambda x, w: ref_rms_norm(x, w.shape, w), shapes=rms_shapes(), atol=1e-4),
    OpCase("local_response_norm", N.local_response_norm, ref_local_response_norm,
           shapes=image_like, params=lambda s: st.fixed_dictionaries({
               "size": st.integers(1, 4), "alpha": st.sampled_from([1e-4, 0.5]),
               "beta": st.sampled_from([0.75, 1.5]), "k": st.sampled_from([1.0, 2.0])})),
    OpCase("normalize", N.normalize, ref_normalize, shapes=pair_shapes().map(lambda s: s[:1]),
           params=lambda s: st.fixed_dictionaries({"p": st.sampled_from([1.0, 2.0, 3.0]),
                                                   "dim": st.integers(0, len(s[0]) - 1)}),
           kinks=(0.0,)),
    OpCase("cosine_similarity", V.cosine_similarity, ref_cosine, shapes=pair_shapes(),
           params=lambda s: st.fixed_dictionaries({"dim": st.integers(1, len(s[0]) - 1)})),
    OpCase("pairwise_distance", V.pairwise_distance, ref_pairwise, shapes=pair_shapes(),
           params=lambda s: st.fixed_dictionaries({"p": st.sampled_from([1.5, 2.0, 3.0]),
                                                   "keepdim": st.booleans()})),
    OpCase("bilinear", V.bilinear, ref_bilinear, shapes=bilinear_shapes(bias=True)),
    OpCase("bilinear_nobias", V.bilinear, ref_bilinear, shapes=bilinear_shapes(bias=False)),
]
