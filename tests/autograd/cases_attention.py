"""Op-table rows for scaled dot-product attention, with a NumPy reference written row by row.

Drawn shapes include size-0 batches, queries and keys (no key at all: the output is 0), and
batch axes that broadcast between query, key, value and mask. Bool masks leave some queries
with no key to attend to (their output and gradients are 0, as in PyTorch).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from autograd.ops.attention import scaled_dot_product_attention
from autograd.ops.attention_packed import packed_self_attention

from .op_table import OpCase


def ref_attention(q, k, v, mask=None, scale=None, is_causal=False, enable_gqa=False):
    """softmax(q k^T * scale + mask) v, one query row at a time; a row with nothing to attend
    to gives 0."""
    if enable_gqa and k.shape[-3] != q.shape[-3]:
        times = q.shape[-3] // k.shape[-3]
        k, v = np.repeat(k, times, axis=-3), np.repeat(v, times, axis=-3)
    rows, cols = q.shape[-2], k.shape[-2]
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    s = np.matmul(q, np.swapaxes(k, -1, -2)) * scale
    if is_causal:
        mask = np.tril(np.ones((rows, cols), dtype=bool))
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
    batch = np.broadcast_shapes(s.shape[:-2], v.shape[:-2])
    s = np.broadcast_to(s, (*batch, rows, cols))
    v = np.broadcast_to(v, (*batch, cols, v.shape[-1]))
    out = np.zeros((*batch, rows, v.shape[-1]))
    for index in np.ndindex(*batch, rows):
        row = s[index]
        if row.size == 0 or np.all(row == -np.inf):
            continue
        p = np.exp(row - row.max())
        out[index] = (p / p.sum()) @ v[index[:-1]]
    return out


@st.composite
def attention_shapes(draw, mask: bool = False, broadcast: bool = True):
    """(q, k, v[, mask]) shapes: (..., L, E), (..., S, E), (..., S, Ev), mask to (..., L, S)."""
    batch = tuple(draw(st.lists(st.integers(0, 2), max_size=2)))
    rows, cols = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    e, ev = draw(st.integers(1, 3)), draw(st.integers(1, 3))

    def squeezed(shape: tuple) -> tuple:
        # a broadcastable variant of a batch shape: axes set to 1 or dropped from the front
        if not broadcast or not shape:
            return shape
        shape = tuple(1 if draw(st.booleans()) else n for n in shape)
        return shape[draw(st.integers(0, len(shape))):]

    shapes = [(*batch, rows, e), (*squeezed(batch), cols, e), (*squeezed(batch), cols, ev)]
    if mask:
        m = squeezed((*batch, rows, cols))
        shapes.append(m)
    return tuple(shapes)


def bool_mask_inputs(rng, shapes):
    arrays = [rng.uniform(-2, 2, size=s) for s in shapes[:3]]
    arrays.append(rng.uniform(size=shapes[3]) > 0.3)
    return arrays


def _gqa_shapes():
    @st.composite
    def draw(draw_):
        n, groups, times = (draw_(st.integers(1, 2)) for _ in range(3))
        rows, cols = draw_(st.integers(1, 3)), draw_(st.integers(1, 3))
        e = draw_(st.integers(1, 2))
        return ((n, groups * times, rows, e), (n, groups, cols, e), (n, groups, cols, e))

    return draw()


def _attention(q, k, v, mask=None, **params):
    return scaled_dot_product_attention(q, k, v, attn_mask=mask, **params)


def _ref(q, k, v, mask=None, **params):
    return ref_attention(q, k, v, mask, **params)


def _packed_grid(a, parts, heads, batch, batch_first):
    """(N, H, L, D) arrays of the column blocks of token rows `a` (N * L or L * N, parts * E)."""
    tokens, width = a.shape
    d = width // (parts * heads)
    if batch_first:
        grid = a.reshape(batch, tokens // batch, parts, heads, d)
    else:
        grid = a.reshape(tokens // batch, batch, parts, heads, d).transpose(1, 0, 2, 3, 4)
    return [grid[:, :, i].transpose(0, 2, 1, 3) for i in range(parts)], d


def _packed(qkv, mask=None, heads=1, batch=1, batch_first=True, is_causal=False):
    d = qkv.shape[1] // (3 * heads)
    return packed_self_attention(qkv, mask, heads, batch, batch_first, 1.0 / math.sqrt(d),
                                 is_causal)


def _ref_packed(qkv, mask=None, heads=1, batch=1, batch_first=True, is_causal=False):
    """The packed op's reference: unpack the heads, `ref_attention`, pack the output."""
    (q, k, v), d = _packed_grid(qkv, 3, heads, batch, batch_first)
    out = ref_attention(q, k, v, mask, is_causal=is_causal).transpose(0, 2, 1, 3)  # (N, L, H, D)
    if not batch_first:
        out = out.transpose(1, 0, 2, 3)
    return out.reshape(qkv.shape[0], qkv.shape[1] // 3)


@st.composite
def packed_shapes(draw, mask: bool = False):
    """(qkv[, mask]) shapes for `packed_self_attention`: (N * L, 3 H D), mask (N, H, L, L)."""
    n, rows = draw(st.integers(1, 2)), draw(st.integers(0, 3))
    heads, d = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    qkv = (n * rows, 3 * heads * d)
    return (qkv, (n, heads, rows, rows)) if mask else (qkv, (n, heads))


def _packed_params(shapes, causal=False):
    n, heads = shapes[1][:2]
    return st.fixed_dictionaries({"heads": st.just(heads), "batch": st.just(n),
                                  "batch_first": st.booleans(), "is_causal": st.just(causal)})


def _packed_no_mask(fn):
    """`fn` of qkv alone: the second drawn shape only carries (N, H) to the parameters."""
    return lambda qkv, _unused, **params: fn(qkv, **params)


def _packed_inputs(rng, shapes):
    return [rng.uniform(-2, 2, size=shapes[0]), np.zeros(shapes[1])]


CASES = [
    OpCase("attention", _attention, _ref, shapes=attention_shapes()),
    OpCase("attention_scale", _attention, _ref, shapes=attention_shapes(),
           params=lambda s: st.fixed_dictionaries({"scale": st.sampled_from([0.3, 2.0])})),
    OpCase("attention_causal", _attention, _ref, shapes=attention_shapes(),
           params=lambda s: st.just({"is_causal": True})),
    # an additive mask is differentiable (its gradient is the scores')
    OpCase("attention_float_mask", _attention, _ref, shapes=attention_shapes(mask=True)),
    OpCase("attention_bool_mask", _attention, _ref, shapes=attention_shapes(mask=True),
           make_inputs=bool_mask_inputs, constant_inputs=(3,)),
    OpCase("attention_gqa", _attention, _ref, shapes=_gqa_shapes(),
           params=lambda s: st.just({"enable_gqa": True})),
    # the packed self-attention of nn.MultiheadAttention (q, k, v as column blocks of qkv)
    OpCase("attention_packed", _packed_no_mask(_packed), _packed_no_mask(_ref_packed),
           shapes=packed_shapes(), params=_packed_params, make_inputs=_packed_inputs,
           constant_inputs=(1,)),
    OpCase("attention_packed_causal", _packed_no_mask(_packed), _packed_no_mask(_ref_packed),
           shapes=packed_shapes(), params=lambda s: _packed_params(s, causal=True),
           make_inputs=_packed_inputs, constant_inputs=(1,)),
    OpCase("attention_packed_float_mask", _packed, _ref_packed, shapes=packed_shapes(mask=True),
           params=_packed_params),
]
