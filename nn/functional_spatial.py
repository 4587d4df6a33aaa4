"""Resampling and rearranging images (PyTorch's functions): `interpolate`, `pixel_shuffle` /
`pixel_unshuffle`, `unfold` / `fold` and `pad`. `nn.functional` re-exports them.

All are compositions of autograd ops, so differentiable to any order with no rule of their
own: interpolation is a gather of the source rows and columns along each axis (and a blend
for the linear modes), pixel shuffling a reshape and a permutation, unfold/fold the window
gather `Im2Col` and its adjoint `Col2Im`, padding the `Pad` op or a gather (`_pad_source`).
"""

from __future__ import annotations

import math
import operator
from typing import Any

from autograd.inputs import tensor_input
from autograd.ops.im2col import Col2Im, Im2Col, _geometry, _pair
from autograd.ops.indexing import GetItem, GetItemAdvanced, _Slot
from autograd.ops.layout import Transpose
from autograd.ops.padding import Pad, _pad_source
from autograd.tensor import Tensor

__all__ = ["interpolate", "upsample", "pixel_shuffle", "pixel_unshuffle", "unfold", "fold",
           "pad"]

_MODES = {"nearest": None, "nearest-exact": None, "linear": 1, "bilinear": 2}


def _take(x: Tensor, index: Any, axis: int) -> Tensor:
    """x picked at the integer array `index` along `axis` (a gather; its rule adds back)."""
    return GetItemAdvanced.apply(x, index, parts=(slice(None),) * axis + (_Slot(0),))


def _sizes(op: str, x: Tensor, size: Any, scale_factor: Any, k: int,
           recompute_scale_factor: Any) -> tuple:
    """(output sizes, the scales that map output to input positions) of the last k axes."""
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor")
    spatial = tuple(x.shape[-k:])
    if size is not None:
        sizes = (size,) * k if isinstance(size, int) else tuple(size)
        if len(sizes) != k or not all(isinstance(s, int) and s > 0 for s in sizes):
            raise ValueError(f"{op}: size must be a positive int or {k} of them for an input "
                             f"of shape {x.shape}, got {size!r}")
        return sizes, tuple(n / s for n, s in zip(spatial, sizes))
    factors = (scale_factor,) * k if not isinstance(scale_factor, (tuple, list)) \
        else tuple(scale_factor)
    if len(factors) != k or not all(isinstance(f, (int, float)) and f > 0 for f in factors):
        raise ValueError(f"{op}: scale_factor must be a positive number or {k} of them for "
                         f"an input of shape {x.shape}, got {scale_factor!r}")
    sizes = tuple(int(math.floor(n * f)) for n, f in zip(spatial, factors))
    if any(s <= 0 for s in sizes):
        raise ValueError(f"{op}: scale_factor {scale_factor!r} gives an empty output for an "
                         f"input of shape {x.shape}")
    if recompute_scale_factor:
        return sizes, tuple(n / s for n, s in zip(spatial, sizes))
    # PyTorch maps output to input positions with 1 / scale_factor as given
    return sizes, tuple(1.0 / f for f in factors)


def _nearest(xp: Any, n: int, out: int, scale: float, exact: bool) -> Any:
    """Source positions of a nearest-neighbour resampling along one axis (PyTorch's
    ``floor(dst * scale)``, or ``floor((dst + 0.5) * scale)`` for 'nearest-exact')."""
    dst = xp.arange(out, dtype=xp.float64)
    src = xp.floor((dst + 0.5) * scale if exact else dst * scale).astype(xp.int64)
    return xp.minimum(src, n - 1)


def _linear(x: Tensor, axis: int, out: int, scale: float, align_corners: bool) -> Tensor:
    """x resampled along `axis` by linear interpolation between the two nearest sources."""
    xp = x.xp
    n = x.shape[axis]
    dst = xp.arange(out, dtype=xp.float64)
    if align_corners:
        src = dst * ((n - 1) / (out - 1) if out > 1 else 0.0)
    else:  # pixel centres; sources before the first centre clamp to it (PyTorch's rule)
        src = xp.maximum((dst + 0.5) * scale - 0.5, 0.0)
    low = xp.minimum(xp.floor(src).astype(xp.int64), n - 1)
    high = xp.minimum(low + 1, n - 1)
    shape = (out,) + (1,) * (x.ndim - axis - 1)
    weight = Tensor._make((src - low).astype(x.dtype).reshape(shape), x.backend)
    a, b = _take(x, low, axis), _take(x, high, axis)
    return a + (b - a) * weight


def interpolate(input: Any, size: Any = None, scale_factor: Any = None,  # noqa: A002
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Resizes (N, C, L) or (N, C, H, W) batches (PyTorch's ``interpolate``).

    Args:
        input: (N, C, L) for 'nearest' / 'nearest-exact' / 'linear', (N, C, H, W) for
            'nearest' / 'nearest-exact' / 'bilinear'.
        size: output size (an int or one per spatial axis); or
        scale_factor: multiplier(s): the output is ``floor(in * scale_factor)`` and (unless
            `recompute_scale_factor`) output position d reads input position ``d /
            scale_factor``, as PyTorch.
        mode: 'nearest' (``src = floor(d * scale)``), 'nearest-exact' (``floor((d + 0.5) *
            scale)``), 'linear', 'bilinear'.
        align_corners: linear modes only: True maps the corner pixels' centres onto each
            other (``src = d (in - 1) / (out - 1)``); False (default) maps pixel areas
            (``src = (d + 0.5) scale - 0.5``, clamped at 0).

    The gradient of each input pixel sums what it contributed (the adjoint of the gather).

        >>> F.interpolate(ag.randn(1, 3, 8, 8), scale_factor=2, mode="bilinear").shape
        (1, 3, 16, 16)
    """
    op = "interpolate"
    x = tensor_input(op, input, floating=True)
    if mode not in _MODES:
        raise ValueError(f"{op}: mode must be one of {', '.join(_MODES)}, got {mode!r} "
                         "(bicubic, trilinear and area are not implemented)")
    if antialias:
        raise ValueError(f"{op}: antialias=True is not implemented")
    k = x.ndim - 2
    linear = _MODES[mode]
    if k not in (1, 2) or (linear is not None and k != linear):
        expected = {None: "(N, C, L) or (N, C, H, W)", 1: "(N, C, L)", 2: "(N, C, H, W)"}
        raise ValueError(f"{op}: mode {mode!r} expects an input of shape {expected[linear]}, "
                         f"got {x.shape}")
    if linear is None and align_corners is not None:
        raise ValueError(f"{op}: align_corners only goes with the linear modes, not {mode!r}")
    sizes, scales = _sizes(op, x, size, scale_factor, k, recompute_scale_factor)
    y = x
    for i, (out, scale) in enumerate(zip(sizes, scales)):
        axis = 2 + i
        n = x.shape[axis]
        if n == 0:
            raise ValueError(f"{op}: cannot resample the empty axis {axis} of {x.shape}")
        if linear is None:
            if out == n and scale == 1.0:
                continue
            y = _take(y, _nearest(x.xp, n, out, scale, mode == "nearest-exact"), axis)
        else:
            y = _linear(y, axis, out, scale, bool(align_corners))
    return y


def upsample(input: Any, size: Any = None, scale_factor: Any = None,  # noqa: A002
             mode: str = "nearest", align_corners: bool | None = None) -> Tensor:
    """`interpolate` under its older name (PyTorch's deprecated ``F.upsample``)."""
    x = tensor_input("upsample", input, floating=True)  # a careless input's error names us
    return interpolate(x, size, scale_factor, mode, align_corners)


def _shuffle_check(op: str, x: Tensor, factor: Any) -> int:
    if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
        raise ValueError(f"{op}: the factor must be a positive int, got {factor!r}")
    if x.ndim < 3:
        raise ValueError(f"{op}: expected an input of shape (*, C, H, W), got {x.shape}")
    return factor


def pixel_shuffle(input: Any, upscale_factor: int) -> Tensor:  # noqa: A002
    """(*, C r^2, H, W) -> (*, C, H r, W r): each group of r^2 channels becomes an r x r
    block of pixels (PyTorch's ``pixel_shuffle``, sub-pixel convolution's upsampling)."""
    x = tensor_input("pixel_shuffle", input)
    r = _shuffle_check("pixel_shuffle", x, upscale_factor)
    *lead, c, h, w = x.shape
    if c % (r * r):
        raise ValueError(f"pixel_shuffle: {c} channels (input shape {x.shape}) are not "
                         f"divisible by upscale_factor^2 = {r * r}")
    m = len(lead)
    y = x.reshape(*lead, c // (r * r), r, r, h, w)
    y = Transpose.apply(y, axes=(*range(m + 1), m + 3, m + 1, m + 4, m + 2))
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Any, downscale_factor: int) -> Tensor:  # noqa: A002
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse of `pixel_shuffle`."""
    x = tensor_input("pixel_unshuffle", input)
    r = _shuffle_check("pixel_unshuffle", x, downscale_factor)
    *lead, c, h, w = x.shape
    if h % r or w % r:
        raise ValueError(f"pixel_unshuffle: height and width of {x.shape} must be divisible "
                         f"by downscale_factor {r}")
    m = len(lead)
    y = x.reshape(*lead, c, h // r, r, w // r, r)
    y = Transpose.apply(y, axes=(*range(m + 1), m + 2, m + 4, m + 1, m + 3))
    return y.reshape(*lead, c * r * r, h // r, w // r)


def _batched(op: str, x: Tensor, batched: int) -> tuple:
    if x.ndim not in (batched - 1, batched):
        raise ValueError(f"{op}: expected a {batched}-d (batched) or {batched - 1}-d input, got "
                         f"shape {x.shape}")
    return (x, False) if x.ndim == batched else (x.expand_dims(0), True)


def unfold(input: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,  # noqa: A002
           stride: Any = 1) -> Tensor:
    """Every sliding window of an (N, C, H, W) batch as a column: (N, C kh kw, L), L the
    number of windows (PyTorch's ``unfold``, im2col). Row ``c kh kw + i kw + j`` holds
    element (i, j) of channel c's windows. A (C, H, W) input gives (C kh kw, L)."""
    op = "unfold"
    x, single = _batched(op, tensor_input(op, input), 4)
    g = _geometry(op, _pair(kernel_size, "kernel_size", op, 1), stride, padding, dilation)
    oh, ow = g.check(op, x.shape)
    n, c = x.shape[:2]
    cols = Im2Col.apply(x, geometry=g, layout="pool")            # (N, C, OH, OW, K)
    y = Transpose.apply(cols, axes=(0, 1, 4, 2, 3)).reshape(n, c * g.kh * g.kw, oh * ow)
    return y[0] if single else y


def fold(input: Any, output_size: Any, kernel_size: Any, dilation: Any = 1,  # noqa: A002
         padding: Any = 0, stride: Any = 1) -> Tensor:
    """The adjoint of `unfold` (PyTorch's ``fold``, col2im): columns (N, C kh kw, L) summed
    back into an (N, C, H, W) image of `output_size` (H, W); overlaps add up."""
    op = "fold"
    x, single = _batched(op, tensor_input(op, input), 3)
    h, w = _pair(output_size, "output_size", op, 1)
    g = _geometry(op, _pair(kernel_size, "kernel_size", op, 1), stride, padding, dilation)
    oh, ow = g.check(op, (h, w))
    n, ck, length = x.shape
    k = g.kh * g.kw
    if ck % k or length != oh * ow:
        raise ValueError(f"{op}: input of shape {x.shape} does not fit: expected (N, C * {k}, "
                         f"{oh * ow}) for output_size {(h, w)} with this kernel")
    c = ck // k
    cols = Transpose.apply(x.reshape(n, c, k, oh, ow), axes=(0, 1, 3, 4, 2))
    y = Col2Im.apply(cols, geometry=g, layout="pool", in_shape=(n, c, h, w))
    return y[0] if single else y


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
              "circular": "wrap"}


def pad(input: Any, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:  # noqa: A002
    """Pads the last ``len(pad) // 2`` axes (PyTorch's ``F.pad``): `pad` is (left, right) for
    the last axis, then (top, bottom) for the one before, and so on.

    Args:
        mode: 'constant' (fill with `value`, default 0; negative widths crop), 'reflect'
            (mirror without repeating the edge; widths < the axis length), 'replicate'
            (repeat the edge), 'circular' (wrap around; widths <= the axis length).
            The non-constant modes pad the last 1-3 axes of a batched or unbatched input
            ((N, C, ...) or (C, ...)), as PyTorch.

    Each output element copies one input element (or is the fill), so the gradient of an
    input element is the sum over its copies.

        >>> F.pad(ag.ones(1, 1, 2, 2), (1, 1, 0, 2)).shape
        (1, 1, 4, 4)
    """
    op = "pad"
    x = tensor_input(op, input)
    widths = tuple(pad) if isinstance(pad, (tuple, list)) else None
    if widths is None or len(widths) % 2 or len(widths) // 2 > x.ndim:
        raise ValueError(f"{op}: pad must be a sequence of (left, right) pairs, at most one "
                         f"per axis of the input (shape {x.shape}), got {pad!r}")
    widths = tuple(operator.index(v) for v in widths)
    if mode not in _PAD_MODES:
        raise ValueError(f"{op}: mode must be one of {', '.join(_PAD_MODES)}, got {mode!r}")
    k = len(widths) // 2
    pairs = [(0, 0)] * (x.ndim - k) + [(widths[2 * i], widths[2 * i + 1])
                                       for i in range(k - 1, -1, -1)]
    if mode == "constant":
        return _pad_constant(x, pairs, 0.0 if value is None else value)
    if value is not None:
        raise ValueError(f"{op}: mode {mode!r} takes no value (only 'constant' fills)")
    if x.ndim - k not in (1, 2) or k > 3:
        raise ValueError(f"{op}: mode {mode!r} pads the last 1, 2 or 3 axes of a batched "
                         f"(N, C, ...) or unbatched (C, ...) input; got {k} axes to pad for "
                         f"an input of shape {x.shape}")
    y = x
    for axis in range(x.ndim - k, x.ndim):
        before, after = pairs[axis]
        if not before and not after:
            continue
        n = y.shape[axis]
        if mode == "circular" and (before < 0 or after < 0):
            # PyTorch crops first, then wraps the cropped axis
            y = _crop(y, axis, max(-before, 0), max(-after, 0))
            before, after, n = max(before, 0), max(after, 0), y.shape[axis]
        if n == 0 or (mode == "reflect" and max(before, after) >= n) or (
                mode == "circular" and max(before, after) > n):
            rule = {"reflect": "smaller than", "circular": "at most", "replicate": "at most"}
            raise ValueError(f"{op}: {mode} padding {(before, after)} of axis {axis} must be "
                             f"{rule[mode]} its length {n} (input shape {x.shape})")
        y = _take(y, _pad_source(x.xp, n, before, after, _PAD_MODES[mode]), axis)
    return y


def _crop(x: Tensor, axis: int, before: int, after: int) -> Tensor:
    if not before and not after:
        return x
    n = x.shape[axis]
    part = slice(before, max(n - after, before))
    return GetItem.apply(x, parts=(slice(None),) * axis + (part,))


def _pad_constant(x: Tensor, pairs: list, value: float) -> Tensor:
    for axis, (before, after) in enumerate(pairs):
        x = _crop(x, axis, max(-before, 0), max(-after, 0))
    grow = tuple((max(b, 0), max(a, 0)) for b, a in pairs)
    if not any(b or a for b, a in grow):
        return x
    return Pad.apply(x, pad_width=grow, value=value)
