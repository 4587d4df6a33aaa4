"""Op-table rows for resampling and rearranging: interpolate, pixel (un)shuffle, unfold, fold
and F.pad, with references written from PyTorch's documented formulas, one pixel at a time."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from nn.functional_spatial import fold, interpolate, pad, pixel_shuffle, pixel_unshuffle, unfold

from .op_table import OpCase


def _source(d: int, n: int, out: int, scale: float, mode: str, align: bool) -> tuple:
    """(low, high, weight of high) of output position d along an axis of length n."""
    if mode == "nearest":
        return min(math.floor(d * scale), n - 1), 0, 0.0
    if mode == "nearest-exact":
        return min(math.floor((d + 0.5) * scale), n - 1), 0, 0.0
    if align:
        src = d * (n - 1) / (out - 1) if out > 1 else 0.0
    else:
        src = max((d + 0.5) * scale - 0.5, 0.0)
    low = min(math.floor(src), n - 1)
    return low, min(low + 1, n - 1), src - low


def ref_interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None):
    k = x.ndim - 2
    spatial = x.shape[2:]
    if size is not None:
        sizes = (size,) * k if isinstance(size, int) else tuple(size)
        scales = [n / s for n, s in zip(spatial, sizes)]
    else:
        factors = (scale_factor,) * k if not isinstance(scale_factor, tuple) else scale_factor
        sizes = [int(math.floor(n * f)) for n, f in zip(spatial, factors)]
        scales = [1.0 / f for f in factors]
    y = x
    for i in range(k):  # separable: one axis at a time
        axis = 2 + i
        n, out = spatial[i], sizes[i]
        moved = np.moveaxis(y, axis, -1)
        res = np.zeros(moved.shape[:-1] + (out,))
        for d in range(out):
            low, high, w = _source(d, n, out, scales[i], mode, bool(align_corners))
            res[..., d] = moved[..., low] * (1 - w) + moved[..., high] * w
        y = np.moveaxis(res, -1, axis)
    return y


def ref_pixel_shuffle(x, upscale_factor):
    r = upscale_factor
    n, c, h, w = x.shape
    y = np.zeros((n, c // (r * r), h * r, w * r))
    for ch in range(c):
        for i in range(h):
            for j in range(w):
                y[:, ch // (r * r), i * r + (ch % (r * r)) // r, j * r + ch % r] = x[:, ch, i, j]
    return y


def ref_pixel_unshuffle(x, downscale_factor):
    r = downscale_factor
    n, c, h, w = x.shape
    y = np.zeros((n, c * r * r, h // r, w // r))
    for ch in range(c * r * r):
        for i in range(h // r):
            for j in range(w // r):
                y[:, ch, i, j] = x[:, ch // (r * r), i * r + (ch % (r * r)) // r,
                                   j * r + ch % r]
    return y


def ref_unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    k, d, p, s = kernel_size, dilation, padding, stride
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    oh, ow = (h + 2 * p - d * (k - 1) - 1) // s + 1, (w + 2 * p - d * (k - 1) - 1) // s + 1
    y = np.zeros((n, c * k * k, oh * ow))
    for ch in range(c):
        for a in range(k):
            for b in range(k):
                for i in range(oh):
                    for j in range(ow):
                        y[:, ch * k * k + a * k + b, i * ow + j] = xp[:, ch, i * s + a * d,
                                                                       j * s + b * d]
    return y


def ref_fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    k, d, p, s = kernel_size, dilation, padding, stride
    h, w = output_size
    n, ck, _ = x.shape
    c = ck // (k * k)
    oh, ow = (h + 2 * p - d * (k - 1) - 1) // s + 1, (w + 2 * p - d * (k - 1) - 1) // s + 1
    y = np.zeros((n, c, h + 2 * p, w + 2 * p))
    for ch in range(c):
        for a in range(k):
            for b in range(k):
                for i in range(oh):
                    for j in range(ow):
                        y[:, ch, i * s + a * d, j * s + b * d] += x[:, ch * k * k + a * k + b,
                                                                     i * ow + j]
    return y[:, :, p:p + h, p:p + w]


def ref_pad(x, pad, mode="constant", value=None):
    """Each output position reads the input position PyTorch's rule names, axis by axis."""
    y = x
    k = len(pad) // 2
    for i in range(k):
        axis = x.ndim - 1 - i
        before, after = pad[2 * i], pad[2 * i + 1]
        n = y.shape[axis]
        moved = np.moveaxis(y, axis, -1)
        if mode == "circular" and (before < 0 or after < 0):
            moved = moved[..., max(-before, 0):n - max(-after, 0)]
            before, after, n = max(before, 0), max(after, 0), moved.shape[-1]
        out = n + before + after
        res = np.full(moved.shape[:-1] + (out,), 0.0 if value is None else value)
        for j in range(out):
            src = j - before
            if mode == "constant":
                if 0 <= src < n:
                    res[..., j] = moved[..., src]
                continue
            if mode == "reflect":
                while src < 0 or src >= n:
                    src = -src if src < 0 else 2 * (n - 1) - src
            elif mode == "replicate":
                src = min(max(src, 0), n - 1)
            else:
                src %= n
            res[..., j] = moved[..., src]
        y = np.moveaxis(res, -1, axis)
    return y


image_shapes = st.tuples(st.integers(0, 2), st.integers(1, 2), st.integers(1, 4),
                         st.integers(1, 4)).map(lambda s: (s,))
line_shapes = st.tuples(st.integers(0, 2), st.integers(1, 2), st.integers(1, 5)).map(
    lambda s: (s,))


def interpolate_params(shapes: tuple, linear: bool) -> st.SearchStrategy:
    k = len(shapes[0]) - 2
    mode_names = (["linear"] if k == 1 else ["bilinear"]) if linear else \
        ["nearest", "nearest-exact"]

    @st.composite
    def draw(draw_):
        params = {"mode": draw_(st.sampled_from(mode_names))}
        if draw_(st.booleans()):
            params["size"] = tuple(draw_(st.integers(1, 6)) for _ in range(k))
        else:
            params["scale_factor"] = tuple(
                draw_(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0])) for _ in range(k))
            if any(math.floor(n * f) < 1 for n, f in zip(shapes[0][2:],
                                                         params["scale_factor"])):
                params["scale_factor"] = (2.0,) * k
        if linear:
            params["align_corners"] = draw_(st.booleans())
        return params

    return draw()


@st.composite
def shuffle_shapes(draw, unshuffle: bool = False):
    r = draw(st.integers(1, 2))
    n, c = draw(st.integers(0, 2)), draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shape = (n, c, h * r, w * r) if unshuffle else (n, c * r * r, h, w)
    return (shape,), r


def _shuffle_case(name, fn, ref, unshuffle):
    key = "downscale_factor" if unshuffle else "upscale_factor"
    strategy = shuffle_shapes(unshuffle)
    return OpCase(name, lambda x, **p: fn(x, p[key]), lambda x, **p: ref(x, p[key]),
                  shapes=strategy.map(lambda s: s[0]),
                  params=lambda shapes: st.just({key: _factor(shapes, unshuffle)}))


def _factor(shapes: tuple, unshuffle: bool) -> int:
    """The largest factor (1 or 2) the drawn shape allows."""
    n, c, h, w = shapes[0]
    if unshuffle:
        return 2 if h % 2 == 0 and w % 2 == 0 else 1
    return 2 if c % 4 == 0 else 1


def unfold_params(shapes: tuple) -> st.SearchStrategy:
    h, w = shapes[0][2:]

    @st.composite
    def draw(draw_):
        p = draw_(st.integers(0, 1))
        d = draw_(st.integers(1, 2))
        fits = [k for k in (1, 2) if min(h, w) + 2 * p >= d * (k - 1) + 1]
        return {"kernel_size": draw_(st.sampled_from(fits)), "dilation": d, "padding": p,
                "stride": draw_(st.integers(1, 2))}

    return draw()


@st.composite
def fold_case(draw):
    k, d, p, s = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(0, 1)), \
        draw(st.integers(1, 2))
    span = d * (k - 1) + 1
    h = draw(st.integers(max(span - 2 * p, 1), 4))
    w = draw(st.integers(max(span - 2 * p, 1), 4))
    oh, ow = (h + 2 * p - span) // s + 1, (w + 2 * p - span) // s + 1
    n, c = draw(st.integers(0, 2)), draw(st.integers(1, 2))
    return (n, c * k * k, oh * ow), {"output_size": (h, w), "kernel_size": k, "dilation": d,
                                     "padding": p, "stride": s}


def pad_params(shapes: tuple) -> st.SearchStrategy:
    """PyTorch's pad tuples for the last one or two axes, per mode within its limits."""
    shape = shapes[0]

    @st.composite
    def draw(draw_):
        mode = draw_(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
        # non-constant modes pad all but the batch and channel axes, as PyTorch
        k = draw_(st.integers(1, 2)) if mode == "constant" else len(shape) - 2
        widths = []
        for i in range(k):
            n = shape[-1 - i]
            if mode == "constant":
                # negative pads crop (one element a side at most), never below size 0
                left = draw_(st.integers(-min(n, 1), 2))
                widths += [left, draw_(st.integers(max(-min(n, 1), -(n + left)), 2))]
            elif mode == "reflect":
                widths += [draw_(st.integers(0, n - 1)), draw_(st.integers(0, n - 1))]
            else:
                widths += [draw_(st.integers(0, n)), draw_(st.integers(0, n))]
        return {"pad": tuple(widths), "mode": mode}

    return draw()


pad_shapes = st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 3),
                       st.integers(1, 3)).map(lambda s: (s,))

CASES = [
    OpCase("interpolate_nearest", interpolate, ref_interpolate,
           shapes=st.one_of(image_shapes, line_shapes),
           params=lambda s: interpolate_params(s, linear=False)),
    OpCase("interpolate_bilinear", interpolate, ref_interpolate, shapes=image_shapes,
           params=lambda s: interpolate_params(s, linear=True)),
    OpCase("interpolate_linear", interpolate, ref_interpolate, shapes=line_shapes,
           params=lambda s: interpolate_params(s, linear=True)),
    _shuffle_case("pixel_shuffle", pixel_shuffle, ref_pixel_shuffle, unshuffle=False),
    _shuffle_case("pixel_unshuffle", pixel_unshuffle, ref_pixel_unshuffle, unshuffle=True),
    OpCase("unfold", unfold, ref_unfold, shapes=image_shapes, params=unfold_params),
    OpCase("fold", lambda x, **p: fold(x, **p), lambda x, **p: ref_fold(x, **p),
           shapes=fold_case().map(lambda c: (c[0],)),
           params=lambda shapes: _fold_params(shapes)),
    OpCase("pad_torch", pad, ref_pad, shapes=pad_shapes, params=pad_params),
]


def _fold_params(shapes: tuple) -> st.SearchStrategy:
    """The geometry that produced the drawn column shape: search for one that fits."""
    n, ck, length = shapes[0]
    options = []
    for k in (1, 2):
        if ck % (k * k):
            continue
        for d in (1, 2):
            for p in (0, 1):
                for s in (1, 2):
                    span = d * (k - 1) + 1
                    for h in range(max(span - 2 * p, 1), 5):
                        for w in range(max(span - 2 * p, 1), 5):
                            oh = (h + 2 * p - span) // s + 1
                            ow = (w + 2 * p - span) // s + 1
                            if oh * ow == length:
                                options.append({"output_size": (h, w), "kernel_size": k,
                                                "dilation": d, "padding": p, "stride": s})
    return st.sampled_from(options)
