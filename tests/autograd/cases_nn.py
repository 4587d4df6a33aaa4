"""Op-table rows for convolution, pooling and the fused losses, with naive NumPy references."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from autograd.ops.conv import conv1d, conv2d, im2col
from autograd.ops.loss_ops import binary_cross_entropy_with_logits, softmax_cross_entropy
from autograd.ops.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d, max_pool2d_relu

from .op_table import OpCase

# -- naive references: loops over output pixels, written to be obviously right -------------


def _pad(x: np.ndarray, ph: int, pw: int, value: float = 0.0) -> np.ndarray:
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _out(size: int, k: int, s: int, p: int, d: int) -> int:
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def ref_conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    dh, dw = (dilation, dilation) if isinstance(dilation, int) else dilation
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    oh, ow = _out(h, kh, sh, ph, dh), _out(wd, kw, sw, pw, dw)
    xp = _pad(x, ph, pw)
    y = np.zeros((n, o, oh, ow))
    per_group = o // groups
    for co in range(o):
        g = co // per_group
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, g * cg:(g + 1) * cg,
                           i * sh:i * sh + dh * (kh - 1) + 1:dh,
                           j * sw:j * sw + dw * (kw - 1) + 1:dw]
                y[:, co, i, j] = (patch * w[co]).sum(axis=(1, 2, 3))
    if b is not None:
        y += b[None, :, None, None]
    return y


def ref_conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    y = ref_conv2d(x[:, :, None], w[:, :, None], b, (1, stride), (0, padding), (1, dilation),
                   groups)
    return y[:, :, 0]


def _pool(x, kernel_size, stride, padding, value, reduce):
    k = kernel_size
    s = k if stride is None else stride
    n, c, h, w = x.shape
    oh, ow = _out(h, k, s, padding, 1), _out(w, k, s, padding, 1)
    xp = _pad(x, padding, padding, value)
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            y[:, :, i, j] = reduce(xp[:, :, i * s:i * s + k, j * s:j * s + k], i, j)
    return y


def ref_max_pool2d(x, kernel_size, stride=None, padding=0):
    return _pool(x, kernel_size, stride, padding, -np.inf, lambda v, i, j: v.max(axis=(2, 3)))


def ref_avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    ones = _pad(np.ones((1, 1, *x.shape[2:])), padding, padding)
    s = kernel_size if stride is None else stride
    k = kernel_size

    def mean(v, i, j):
        count = k * k if count_include_pad else ones[0, 0, i * s:i * s + k, j * s:j * s + k].sum()
        return v.sum(axis=(2, 3)) / count

    return _pool(x, kernel_size, stride, padding, 0.0, mean)


def ref_adaptive_avg_pool2d(x, output_size):
    oh, ow = output_size
    h, w = x.shape[2:]
    y = np.zeros((*x.shape[:2], oh, ow))
    for i in range(oh):
        for j in range(ow):
            hs, he = (i * h) // oh, -((-(i + 1) * h) // oh)
            ws, we = (j * w) // ow, -((-(j + 1) * w) // ow)
            y[:, :, i, j] = x[:, :, hs:he, ws:we].mean(axis=(2, 3))
    return y


def ref_softmax_cross_entropy(x, target, weight=None, ignore_index=-100, label_smoothing=0.0,
                              reduction="none"):
    """Per-sample losses, one sample (and class) at a time, then the reduction."""
    c = x.shape[1]
    xs = np.moveaxis(x, 1, -1).reshape(-1, c)
    ts = target.reshape(-1)
    w = np.ones(c) if weight is None else weight
    out = np.zeros(len(ts))
    for k, (row, t) in enumerate(zip(xs, ts)):
        if t == ignore_index:
            continue
        logp = row - row.max() - np.log(np.exp(row - row.max()).sum())
        out[k] = -(1 - label_smoothing) * w[t] * logp[t]
        out[k] -= label_smoothing / c * (w * logp).sum()
    if reduction == "sum":
        return out.sum()
    if reduction == "mean":  # divided by the summed weights of the non-ignored samples
        return out.sum() / sum(w[t] for t in ts if t != ignore_index)
    return out.reshape(target.shape)


def ref_bce_with_logits(x, y, pos_weight=None):
    pw = 1.0 if pos_weight is None else pos_weight
    log_sig = -np.logaddexp(0, -x)
    log_one_minus = -np.logaddexp(0, x)
    return -(pw * y * log_sig + (1 - y) * log_one_minus)


# -- shapes and parameters -------------------------------------------------------------------


@st.composite
def conv2d_shapes(draw, bias: bool = True, one_d: bool = False):
    """(x, w[, b]) with the kernel no larger than the input, and channels split in groups."""
    groups = draw(st.sampled_from([1, 1, 2]))
    cg = draw(st.integers(1, 2))
    og = draw(st.integers(1, 2))
    n = draw(st.integers(0, 2))
    kw = draw(st.integers(1, 3))
    w_len = draw(st.integers(kw, 4))
    if one_d:
        x, w = (n, cg * groups, w_len), (og * groups, cg, kw)
    else:
        kh = draw(st.integers(1, 3))
        h = draw(st.integers(kh, 4))
        x, w = (n, cg * groups, h, w_len), (og * groups, cg, kh, kw)
    return (x, w, (og * groups,)) if bias else (x, w)


def conv_params(shapes: tuple) -> st.SearchStrategy:
    """stride, padding, dilation with the dilated kernel fitting the padded input."""
    x, w = shapes[0], shapes[1]
    groups = x[1] // w[1]
    spatial = list(zip(x[2:], w[2:]))

    @st.composite
    def draw(draw_):
        padding = draw_(st.integers(0, 1))
        fits = [d for d in (1, 2) if all(n + 2 * padding >= d * (k - 1) + 1 for n, k in spatial)]
        return {
            "stride": draw_(st.integers(1, 2)),
            "padding": padding,
            "dilation": draw_(st.sampled_from(fits)),
            "groups": groups,
        }

    return draw()


image_shapes = st.tuples(st.integers(0, 2), st.integers(1, 2), st.integers(1, 4),
                         st.integers(1, 4)).map(lambda s: (s,))


def block_pool_case() -> st.SearchStrategy:
    """Image shapes that disjoint k x k blocks tile exactly: max_pool2d's fast path."""

    @st.composite
    def draw(draw_):
        k = draw_(st.integers(1, 3))
        n, c = draw_(st.integers(0, 2)), draw_(st.integers(1, 2))
        return ((n, c, k * draw_(st.integers(1, 2)), k * draw_(st.integers(1, 2))),)

    return draw()


def block_pool_params(shapes: tuple) -> st.SearchStrategy:
    """A block size that tiles the drawn image (a common divisor of H and W, at most 3)."""
    h, w = shapes[0][2:]
    sizes = [k for k in range(1, 4) if h % k == 0 and w % k == 0]
    return st.sampled_from(sizes).map(lambda k: {"kernel_size": k})


def pool_params(shapes: tuple, avg: bool = False) -> st.SearchStrategy:
    h, w = shapes[0][2:]

    @st.composite
    def draw(draw_):
        k = draw_(st.integers(1, min(3, h, w)))
        params = {
            "kernel_size": k,
            "stride": draw_(st.sampled_from([None, 1, 2])),
            "padding": draw_(st.integers(0, k // 2)),
        }
        if avg:
            params["count_include_pad"] = draw_(st.booleans())
        return params

    return draw()


def adaptive_params(shapes: tuple) -> st.SearchStrategy:
    h, w = shapes[0][2:]
    return st.fixed_dictionaries({"output_size": st.tuples(st.integers(1, h), st.integers(1, w))})


@st.composite
def cross_entropy_shapes(draw, weighted: bool = False):
    n, c = draw(st.integers(0, 3)), draw(st.integers(1, 4))
    extra = draw(st.lists(st.integers(1, 2), max_size=1))
    shapes = ((n, c, *extra), (n, *extra))
    return (*shapes, (c,)) if weighted else shapes


def cross_entropy_inputs(rng, shapes):
    logits = rng.uniform(-3, 3, size=shapes[0])
    c = shapes[0][1]
    target = rng.integers(0, c, size=shapes[1])
    target = np.where(rng.uniform(size=shapes[1]) < 0.2, -100, target)
    if target.size:
        # One sample always counts: a mean over no samples is 0/0 (NaN, as in PyTorch), and
        # central differences of NaN cannot check a gradient.
        target.flat[0] = rng.integers(0, c)
    arrays = [logits, target.astype(np.int64)]
    if len(shapes) > 2:
        arrays.append(rng.uniform(0.2, 2.0, size=shapes[2]))
    return arrays


def cross_entropy_params(shapes: tuple) -> st.SearchStrategy:
    return st.fixed_dictionaries({"label_smoothing": st.sampled_from([0.0, 0.1, 0.5]),
                                  "reduction": st.sampled_from(["none", "sum", "mean"])})


@st.composite
def bce_shapes(draw, pos_weight: bool = False):
    x = tuple(draw(st.lists(st.integers(0, 3), min_size=0, max_size=2)))
    y = x[draw(st.integers(0, len(x))):]  # a broadcastable suffix
    if pos_weight:
        return (x, x, x[-1:])
    return (x, y) if draw(st.booleans()) else (x, x)


def bce_inputs(rng, shapes):
    arrays = [rng.uniform(-4, 4, size=shapes[0]), rng.uniform(0, 1, size=shapes[1])]
    if len(shapes) > 2:
        arrays.append(rng.uniform(0.5, 3, size=shapes[2]))
    return arrays


def _conv2d(x, w, b=None, **params):
    return conv2d(x, w, b, **params)


def _conv1d(x, w, b=None, **params):
    return conv1d(x, w, b, **params)


def _im2col(x, **params):
    return im2col(x, params.pop("kernel_size"), **params)


def ref_im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    k = kernel_size
    c_in = x.shape[1]
    w = np.zeros((k * k * c_in, c_in, k, k))
    for c in range(c_in):  # an identity filter bank picks each window element, channels-last
        for i in range(k):
            for j in range(k):
                w[(i * k + j) * c_in + c, c, i, j] = 1.0
    return ref_conv2d(x, w, None, stride, padding, dilation).transpose(0, 2, 3, 1)


def im2col_params(shapes: tuple) -> st.SearchStrategy:
    h, w = shapes[0][2:]
    return st.fixed_dictionaries({
        "kernel_size": st.integers(1, min(2, h, w)),
        "stride": st.integers(1, 2),
        "padding": st.integers(0, 1),
    })


CASES = [
    OpCase("conv2d", _conv2d, ref_conv2d, shapes=conv2d_shapes(), params=conv_params),
    OpCase("conv2d_nobias", _conv2d, ref_conv2d, shapes=conv2d_shapes(bias=False),
           params=conv_params),
    OpCase("conv1d", _conv1d, ref_conv1d, shapes=conv2d_shapes(one_d=True), params=conv_params),
    OpCase("im2col", _im2col, ref_im2col, shapes=image_shapes, params=im2col_params),
    OpCase("max_pool2d", max_pool2d, ref_max_pool2d, shapes=image_shapes, params=pool_params,
           distinct=True),
    OpCase("max_pool2d_blocks", max_pool2d, ref_max_pool2d, shapes=block_pool_case(),
           params=block_pool_params, distinct=True),
    # relu then block pooling: the pool's backward skips relu's (its fused path).
    OpCase("relu_max_pool2d_blocks", lambda x, **p: max_pool2d(x.relu(), **p),
           lambda x, **p: ref_max_pool2d(np.maximum(x, 0.0), **p), shapes=block_pool_case(),
           params=block_pool_params, distinct=True, kinks=(0.0,)),
    # block pooling then relu, fused in one op (what nn.Sequential runs for ReLU, MaxPool2d);
    # other windows pool, then relu.
    OpCase("max_pool2d_relu_blocks", max_pool2d_relu,
           lambda x, **p: np.maximum(ref_max_pool2d(x, **p), 0.0), shapes=block_pool_case(),
           params=block_pool_params, distinct=True, kinks=(0.0,)),
    OpCase("max_pool2d_relu", max_pool2d_relu,
           lambda x, **p: np.maximum(ref_max_pool2d(x, **p), 0.0), shapes=image_shapes,
           params=pool_params, distinct=True, kinks=(0.0,)),
    OpCase("avg_pool2d", avg_pool2d, ref_avg_pool2d, shapes=image_shapes,
           params=lambda s: pool_params(s, avg=True)),
    OpCase("adaptive_avg_pool2d", adaptive_avg_pool2d, ref_adaptive_avg_pool2d,
           shapes=image_shapes, params=adaptive_params),
    OpCase("softmax_cross_entropy", softmax_cross_entropy, ref_softmax_cross_entropy,
           shapes=cross_entropy_shapes(), params=cross_entropy_params,
           make_inputs=cross_entropy_inputs, constant_inputs=(1,)),
    OpCase("softmax_cross_entropy_weighted", softmax_cross_entropy, ref_softmax_cross_entropy,
           shapes=cross_entropy_shapes(weighted=True), params=cross_entropy_params,
           make_inputs=cross_entropy_inputs, constant_inputs=(1, 2)),
    OpCase("bce_with_logits", binary_cross_entropy_with_logits, ref_bce_with_logits,
           shapes=bce_shapes(), make_inputs=bce_inputs),
    OpCase("bce_with_logits_pos_weight", binary_cross_entropy_with_logits, ref_bce_with_logits,
           shapes=bce_shapes(pos_weight=True), make_inputs=bce_inputs),
]
