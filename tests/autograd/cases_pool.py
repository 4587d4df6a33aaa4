"""Op-table rows for the pooling options and variants (dilation, ceil_mode, divisors, 1-D,
adaptive max, unpooling), with naive references that follow PyTorch's formulas."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from autograd.ops.pooling import avg_pool2d, max_pool2d
from autograd.ops.pooling_variants import (
    adaptive_avg_pool1d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    max_pool1d,
    max_unpool2d,
)

from .op_table import OpCase


def pool_out(size: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    """PyTorch's pooled size: floor or ceil, and a ceil window may not start in the padding."""
    span = d * (k - 1) + 1
    out = (-(-(size + 2 * p - span) // s) if ceil else (size + 2 * p - span) // s) + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


def _windows_see_pixels(n: int, k: int, s: int, p: int, d: int, ceil: bool) -> bool:
    """At least one window, and each touches a real pixel (a dilated window over the padding
    alone is -inf for max pooling, in PyTorch too: no gradient to check there)."""
    out = pool_out(n, k, s, p, d, ceil)
    return out >= 1 and all(any(0 <= o * s - p + j * d < n for j in range(k))
                            for o in range(out))


def _two(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def ref_max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    (kh, kw), (ph, pw), (dh, dw) = _two(kernel_size), _two(padding), _two(dilation)
    sh, sw = _two(kernel_size if stride is None else stride)
    n, c, h, w = x.shape
    oh, ow = pool_out(h, kh, sh, ph, dh, ceil_mode), pool_out(w, kw, sw, pw, dw, ceil_mode)
    y = np.full((n, c, oh, ow), -np.inf)
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    r, q = i * sh - ph + a * dh, j * sw - pw + b * dw
                    if 0 <= r < h and 0 <= q < w:
                        y[:, :, i, j] = np.maximum(y[:, :, i, j], x[:, :, r, q])
    return y


def ref_avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                   count_include_pad=True, divisor_override=None):
    """PyTorch's avg_pool2d: the divisor counts the window within the padded image
    (count_include_pad), or the real pixels, or is overridden."""
    (kh, kw), (ph, pw) = _two(kernel_size), _two(padding)
    sh, sw = _two(kernel_size if stride is None else stride)
    n, c, h, w = x.shape
    oh, ow = pool_out(h, kh, sh, ph, 1, ceil_mode), pool_out(w, kw, sw, pw, 1, ceil_mode)
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * sh - ph, j * sw - pw
            h1, w1 = min(h0 + kh, h + ph), min(w0 + kw, w + pw)
            size = (h1 - h0) * (w1 - w0)
            h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, h), min(w1, w)
            total = x[:, :, h0:h1, w0:w1].sum(axis=(2, 3))
            if divisor_override:
                divisor = divisor_override
            else:
                divisor = size if count_include_pad else (h1 - h0) * (w1 - w0)
            y[:, :, i, j] = total / divisor
    return y


def ref_adaptive_max_pool2d(x, output_size):
    oh, ow = output_size
    h, w = x.shape[2:]
    y = np.zeros((*x.shape[:2], oh, ow))
    for i in range(oh):
        for j in range(ow):
            hs, he = (i * h) // oh, -((-(i + 1) * h) // oh)
            ws, we = (j * w) // ow, -((-(j + 1) * w) // ow)
            y[:, :, i, j] = x[:, :, hs:he, ws:we].max(axis=(2, 3))
    return y


def _unpool_indices(shape: tuple, k: int, w_out: int) -> np.ndarray:
    """A fixed choice per pooled output of one position in its k x k window (row * W + col):
    what max_pool2d's indices look like."""
    n, c, oh, ow = shape
    i = np.arange(oh).reshape(oh, 1)
    j = np.arange(ow)
    pick = (i + 2 * j + np.arange(n * c).reshape(n, c, 1, 1)) % (k * k)
    return (i * k + pick // k) * w_out + j * k + pick % k


def _max_unpool2d(x, kernel_size):
    k = kernel_size
    index = _unpool_indices(x.shape, k, x.shape[3] * k)
    return max_unpool2d(x, index, k)


def ref_max_unpool2d(x, kernel_size):
    k = kernel_size
    n, c, oh, ow = x.shape
    index = _unpool_indices(x.shape, k, ow * k)
    y = np.zeros((n, c, oh * k * ow * k))
    for a in range(n):
        for b in range(c):
            y[a, b, index[a, b].reshape(-1)] = x[a, b].reshape(-1)
    return y.reshape(n, c, oh * k, ow * k)


image_shapes = st.tuples(st.integers(0, 2), st.integers(1, 2), st.integers(1, 5),
                         st.integers(1, 5)).map(lambda s: (s,))
line_shapes = st.tuples(st.integers(0, 2), st.integers(1, 2), st.integers(1, 6)).map(
    lambda s: (s,))


def window_params(shapes: tuple, avg: bool = False, one_d: bool = False) -> st.SearchStrategy:
    """kernel, stride, padding (<= k/2), dilation (max only), ceil_mode, and for averages
    count_include_pad and divisor_override, with at least one output."""
    sizes = shapes[0][2:]

    @st.composite
    def draw(draw_):
        k = draw_(st.integers(1, 3))
        s = draw_(st.integers(1, 3))
        p = draw_(st.integers(0, k // 2))
        d = 1 if avg else draw_(st.integers(1, 2))
        ceil = draw_(st.booleans())
        if not all(_windows_see_pixels(n, k, s, p, d, ceil) for n in sizes):
            k, s, p, d, ceil = 1, 1, 0, 1, False
        params = {"kernel_size": k, "stride": s, "padding": p, "ceil_mode": ceil}
        if not avg:
            params["dilation"] = d
        else:
            params["count_include_pad"] = draw_(st.booleans())
            if not one_d:
                params["divisor_override"] = draw_(st.sampled_from([None, None, 3]))
        return params

    return draw()


def _line(ref2d):
    def ref(x, **params):
        for name in ("kernel_size", "stride", "padding", "dilation"):
            if name in params:
                params[name] = (1 if name != "padding" else 0, params[name])
        return ref2d(x[:, :, None], **params)[:, :, 0]

    return ref


def adaptive_params(shapes: tuple) -> st.SearchStrategy:
    h, w = shapes[0][2:]
    return st.fixed_dictionaries({"output_size": st.tuples(st.integers(1, h + 1),
                                                           st.integers(1, w + 1))})


def adaptive_line_params(shapes: tuple) -> st.SearchStrategy:
    return st.fixed_dictionaries({"output_size": st.integers(1, shapes[0][2] + 1)})


def ref_adaptive_avg_line(x, output_size):
    from .cases_nn import ref_adaptive_avg_pool2d

    return ref_adaptive_avg_pool2d(x[:, :, None], (1, output_size))[:, :, 0]


unpool_shapes = st.tuples(st.integers(0, 2), st.integers(1, 2), st.integers(1, 3),
                          st.integers(1, 3)).map(lambda s: (s,))
nonempty_images = st.tuples(st.integers(0, 2), st.integers(1, 2), st.integers(1, 5),
                            st.integers(1, 5)).map(lambda s: (s,))

CASES = [
    OpCase("max_pool2d_dilation_ceil", max_pool2d, ref_max_pool2d, shapes=image_shapes,
           params=window_params, distinct=True),
    OpCase("avg_pool2d_ceil_divisor", avg_pool2d, ref_avg_pool2d, shapes=image_shapes,
           params=lambda s: window_params(s, avg=True)),
    OpCase("max_pool1d", max_pool1d, _line(ref_max_pool2d), shapes=line_shapes,
           params=lambda s: window_params(s, one_d=True), distinct=True),
    OpCase("avg_pool1d", avg_pool1d, _line(ref_avg_pool2d), shapes=line_shapes,
           params=lambda s: window_params(s, avg=True, one_d=True)),
    OpCase("adaptive_avg_pool1d", adaptive_avg_pool1d, ref_adaptive_avg_line,
           shapes=line_shapes, params=lambda s: st.fixed_dictionaries(
               {"output_size": st.integers(1, s[0][2])})),
    OpCase("adaptive_max_pool2d", adaptive_max_pool2d, ref_adaptive_max_pool2d,
           shapes=nonempty_images, params=adaptive_params, distinct=True),
    OpCase("adaptive_max_pool1d", adaptive_max_pool1d,
           lambda x, output_size: ref_adaptive_max_pool2d(x[:, :, None], (1, output_size))[:, :, 0],
           shapes=line_shapes, params=adaptive_line_params, distinct=True),
    OpCase("max_unpool2d", _max_unpool2d, ref_max_unpool2d, shapes=unpool_shapes,
           params=lambda s: st.fixed_dictionaries({"kernel_size": st.integers(1, 3)})),
]
