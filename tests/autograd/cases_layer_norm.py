"""Op-table rows for the fused layer normalisation, with a NumPy reference row by row."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from autograd.ops.layer_norm import layer_norm

from .op_table import OpCase


def ref_layer_norm(x, w=None, b=None, ndim=1, eps=1e-5):
    lead, norm = x.shape[:x.ndim - ndim], x.shape[x.ndim - ndim:]
    rows = x.reshape(int(np.prod(lead)), *norm)
    out = np.empty(rows.shape)
    for i, row in enumerate(rows):
        out[i] = (row - row.mean()) / np.sqrt(row.var() + eps)
    out = out.reshape(x.shape)
    if w is not None:
        out = out * w
    if b is not None:
        out = out + b
    return out


@st.composite
def layer_norm_shapes(draw, affine: str = "both"):
    """x (lead..., norm...) with 1 or 2 normalised axes, and w, b of the normalised shape."""
    lead = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    norm = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    if affine == "none":
        return ((*lead, *norm),)
    if affine == "weight":
        return ((*lead, *norm), norm)
    return ((*lead, *norm), norm, norm)


def layer_norm_params(shapes):
    # ndim from the weight's shape (else the last axis); eps large enough that near-equal
    # rows keep the finite differences of the gradchecks accurate
    ndim = len(shapes[1]) if len(shapes) > 1 else 1
    return st.fixed_dictionaries({"ndim": st.just(ndim), "eps": st.sampled_from([1e-2, 0.3])})


def _ln(x, w=None, b=None, ndim=1, eps=1e-5):
    return layer_norm(x, ndim, w, b, eps)


CASES = [
    OpCase("layer_norm", _ln, ref_layer_norm, shapes=layer_norm_shapes(),
           params=layer_norm_params),
    OpCase("layer_norm_weight_only", _ln, ref_layer_norm, shapes=layer_norm_shapes("weight"),
           params=layer_norm_params),
    OpCase("layer_norm_no_affine", _ln, ref_layer_norm, shapes=layer_norm_shapes("none"),
           params=layer_norm_params),
]
