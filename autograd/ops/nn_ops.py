"""Convolution, pooling and fused losses: the few neural-network primitives worth fusing.

Convolution is im2col + one matrix product. `Im2Col` copies every receptive field of a padded
NCHW image into a row of a contiguous ``(N, OH, OW, kh*kw*C)`` array (one strided gather, no
Python loop over pixels); the convolution is then a single GEMM against the weight seen as a
``(C_out, kh*kw*C)`` matrix, so its gradients are GEMMs too and come from `matmul`'s rule.
The output is an NCHW view of the GEMM's NHWC result (no transpose copy).
`Im2Col` and `Col2Im` (scatter-add of columns back into the image) are each other's adjoint,
which makes each one the other's backward: conv is differentiable to any order.

Fused primitives, and why:

- `SoftmaxCrossEntropy`: log-softmax + NLL in one pass over the logits with the max shift, so
  large logits (1e4) neither overflow nor lose the gradient, and the backward is ``p - t``.
- `BinaryCrossEntropyWithLogits`: ``max(x, 0) - x y + log1p(exp(-|x|))`` never overflows.
- `MaxPool2d` / `AvgPool2d`: reduce over a strided window view without materialising columns.
"""

from __future__ import annotations

import math
from typing import Any

from backends import kernels

from ..function import Function
from ..grad_mode import state as _grad_state
from ..tensor import Tensor
from . import linalg as _linalg
from . import unary as _unary

__all__ = [
    "conv1d", "conv2d", "im2col", "col2im", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
    "softmax_cross_entropy", "binary_cross_entropy_with_logits",
]


# -- geometry --------------------------------------------------------------------------------
def _pair(value: Any, name: str, op: str, minimum: int) -> tuple:
    """An int or a pair of ints as a pair, each at least `minimum`."""
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in pair):
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return pair


def _out_size(size: int, kernel: int, stride: int, pad: int, dilation: int) -> int:
    return (size + pad - dilation * (kernel - 1) - 1) // stride + 1


class _Geometry:
    """Kernel, stride, dilation and (top, bottom, left, right) padding of a 2-D window op."""

    __slots__ = ("kh", "kw", "sh", "sw", "dh", "dw", "pt", "pb", "pl", "pr")

    def __init__(self, kernel: tuple, stride: tuple, dilation: tuple, pads: tuple) -> None:
        self.kh, self.kw = kernel
        self.sh, self.sw = stride
        self.dh, self.dw = dilation
        self.pt, self.pb, self.pl, self.pr = pads

    def out_hw(self, h: int, w: int) -> tuple:
        return (_out_size(h, self.kh, self.sh, self.pt + self.pb, self.dh),
                _out_size(w, self.kw, self.sw, self.pl + self.pr, self.dw))

    @property
    def padded(self) -> bool:
        return bool(self.pt or self.pb or self.pl or self.pr)

    @property
    def overlapping(self) -> bool:
        """Whether two windows can share a pixel (then col2im must accumulate)."""
        return self.sh < self.dh * (self.kh - 1) + 1 or self.sw < self.dw * (self.kw - 1) + 1

    def check(self, op: str, shape: tuple) -> tuple:
        """The output (OH, OW) for an input of `shape`; raises if the kernel does not fit."""
        h, w = shape[-2:]
        oh, ow = self.out_hw(h, w)
        if oh <= 0 or ow <= 0:
            raise ValueError(
                f"{op}: kernel ({self.kh}, {self.kw}) with dilation ({self.dh}, {self.dw}) spans "
                f"({self.dh * (self.kh - 1) + 1}, {self.dw * (self.kw - 1) + 1}), larger than "
                f"the padded input ({h + self.pt + self.pb}, {w + self.pl + self.pr}) "
                f"(input shape {tuple(shape)}, padding ({self.pt}, {self.pb}, {self.pl}, "
                f"{self.pr}))"
            )
        return oh, ow


def _pad_raw(xp: Any, x: Any, g: _Geometry, value: float = 0.0) -> Any:
    if not g.padded:
        return x
    widths = ((0, 0), (0, 0), (g.pt, g.pb), (g.pl, g.pr))
    return xp.pad(x, widths, mode="constant", constant_values=value)


def _windows(xp: Any, xpad: Any, g: _Geometry, oh: int, ow: int) -> Any:
    """A read-only strided view (N, C, OH, OW, kh, kw) of every window of a padded image."""
    n, c = xpad.shape[:2]
    s_n, s_c, s_h, s_w = xpad.strides
    return xp.lib.stride_tricks.as_strided(
        xpad,
        shape=(n, c, oh, ow, g.kh, g.kw),
        strides=(s_n, s_c, s_h * g.sh, s_w * g.sw, s_h * g.dh, s_w * g.dw),
    )


def _col2im_raw(xp: Any, cols6: Any, in_shape: tuple, g: _Geometry) -> Any:
    """Sums windows (N, C, OH, OW, kh, kw) back into an (N, C, H, W) image."""
    n, c, h, w = in_shape
    oh, ow = cols6.shape[2:4]
    hp, wp = h + g.pt + g.pb, w + g.pl + g.pr
    image = xp.zeros((n, c, hp, wp), dtype=cols6.dtype)
    if not g.overlapping:
        # Windows are disjoint: one strided assignment writes them all (pooling, 1x1 convs).
        view = _windows(xp, image, g, oh, ow)
        view[...] = cols6
    else:
        # Overlapping windows accumulate: one strided add per kernel offset, vectorised over
        # batch, channels and output pixels.
        h_end, w_end = g.sh * (oh - 1) + 1, g.sw * (ow - 1) + 1
        for i in range(g.kh):
            top = i * g.dh
            for j in range(g.kw):
                left = j * g.dw
                image[:, :, top:top + h_end:g.sh, left:left + w_end:g.sw] += cols6[..., i, j]
    if g.padded:
        image = image[:, :, g.pt:g.pt + h, g.pl:g.pl + w]
    return image


# -- im2col / col2im ------------------------------------------------------------------------
# layout "conv": columns (N, OH, OW, G*kh*kw*Cg), one GEMM row per output pixel, ordered
#   (group, kernel row, kernel column, channel): channels innermost, so both the gather and
#   the scatter move runs of contiguous channels (~20x faster in NumPy than channel-major
#   rows, whose innermost run is only kw long). Images are staged channels-last (NHWC).
# layout "pool": columns (N, C, OH, OW, kh*kw), one window per (channel, output pixel).
def _channels_last_padded(xp: Any, x: Any, g: _Geometry) -> Any:
    """x (N, C, H, W) zero-padded, as an NCHW view of channels-last memory."""
    n, c, h, w = x.shape
    if not g.padded and x.strides[1] == x.itemsize:
        return x  # already channels-last
    buffer = xp.zeros((n, h + g.pt + g.pb, w + g.pl + g.pr, c), dtype=x.dtype)
    image = buffer.transpose(0, 3, 1, 2)
    image[:, :, g.pt:g.pt + h, g.pl:g.pl + w] = x
    return image


def _group_windows(xp: Any, image: Any, g: _Geometry, groups: int, oh: int, ow: int) -> Any:
    """A strided view (N, G, C/G, OH, OW, kh, kw) of every window of a (padded) image."""
    n, c = image.shape[:2]
    s_n, s_c, s_h, s_w = image.strides
    return xp.lib.stride_tricks.as_strided(
        image,
        shape=(n, groups, c // groups, oh, ow, g.kh, g.kw),
        strides=(s_n, s_c * (c // groups), s_c, s_h * g.sh, s_w * g.sw, s_h * g.dh,
                 s_w * g.dw),
    )


class Im2Col(Function):
    """cols = every (zero-padded) window of x as a contiguous row; its adjoint is `Col2Im`."""

    groups = 1

    def forward(self, x):
        g = self.geometry
        self.in_shape = x.shape
        n, c = x.shape[:2]
        oh, ow = g.out_hw(*x.shape[2:])
        if self.layout == "pool":
            view = _windows(self.xp, _pad_raw(self.xp, x, g), g, oh, ow)
            return view.reshape(n, c, oh, ow, g.kh * g.kw)
        image = _channels_last_padded(self.xp, x, g)
        view = _group_windows(self.xp, image, g, self.groups, oh, ow)
        # (N, OH, OW, G, kh, kw, Cg): the reshape is the one copy.
        return view.transpose(0, 3, 4, 1, 5, 6, 2).reshape(n, oh, ow, c * g.kh * g.kw)

    def backward(self, gy):
        return Col2Im.apply(gy, geometry=self.geometry, layout=self.layout,
                            in_shape=self.in_shape, groups=self.groups)


class Col2Im(Function):
    """image = columns scattered back to their windows, overlaps summed; adjoint of `Im2Col`."""

    groups = 1

    def forward(self, cols):
        g = self.geometry
        xp = self.xp
        n, c, h, w = self.in_shape
        if self.layout == "pool":
            oh, ow = cols.shape[2:4]
            return _col2im_raw(xp, cols.reshape(n, c, oh, ow, g.kh, g.kw), self.in_shape, g)
        oh, ow = cols.shape[1:3]
        groups = self.groups
        cols7 = cols.reshape(n, oh, ow, groups, g.kh, g.kw, c // groups)
        hp, wp = h + g.pt + g.pb, w + g.pl + g.pr
        buffer = xp.zeros((n, hp, wp, c), dtype=cols.dtype)   # channels-last accumulator
        image = buffer.transpose(0, 3, 1, 2)
        if not g.overlapping:
            # Windows are disjoint: one strided assignment writes them all (e.g. 1x1, stride 2).
            view = _group_windows(xp, image, g, groups, oh, ow)
            view[...] = cols7.transpose(0, 3, 6, 1, 2, 4, 5)
        else:
            # Overlapping windows accumulate: one strided add per kernel offset, each moving
            # (N, OH, OW, C) with channels contiguous on both sides.
            acc = buffer.reshape(n, hp, wp, groups, c // groups)
            h_end, w_end = g.sh * (oh - 1) + 1, g.sw * (ow - 1) + 1
            for i in range(g.kh):
                top = i * g.dh
                for j in range(g.kw):
                    left = j * g.dw
                    acc[:, top:top + h_end:g.sh, left:left + w_end:g.sw] += cols7[:, :, :, :, i, j]
        if g.padded:
            image = image[:, :, g.pt:g.pt + h, g.pl:g.pl + w]
        return image

    def backward(self, gy):
        return Im2Col.apply(gy, geometry=self.geometry, layout=self.layout, groups=self.groups)


def _geometry(op: str, kernel: tuple, stride: Any, padding: Any, dilation: Any) -> _Geometry:
    stride = _pair(stride, "stride", op, 1)
    dilation = _pair(dilation, "dilation", op, 1)
    if padding == "valid":
        pads = (0, 0, 0, 0)
    elif padding == "same":
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
        # PyTorch's rule: the odd extra pixel goes to the bottom / right.
        th, tw = dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)
        pads = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    elif isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same', got "
                         f"{padding!r}")
    else:
        ph, pw = _pair(padding, "padding", op, 0)
        pads = (ph, ph, pw, pw)
    return _Geometry(kernel, stride, dilation, pads)


def im2col(x: Tensor, kernel_size: Any, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1) -> Tensor:
    """The receptive fields of an (N, C, H, W) image as rows of an (N, OH, OW, kh*kw*C) tensor.

    Row ``[n, i, j]`` holds window ``(i, j)`` of image ``n``, flattened channels-last
    (``(di * kw + dj) * C + c``), matching ``weight.transpose(0, 2, 3, 1).reshape(C_out, -1)``.
    """
    _check_image("im2col", x)
    g = _geometry("im2col", _pair(kernel_size, "kernel_size", "im2col", 1), stride, padding,
                  dilation)
    g.check("im2col", x.shape)
    return Im2Col.apply(x, geometry=g, layout="conv")


def col2im(cols: Tensor, output_size: Any, kernel_size: Any, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1) -> Tensor:
    """The adjoint of `im2col`: adds each row of (N, OH, OW, kh*kw*C) back into its window.

    Args:
        output_size: the image's (N, C, H, W).
    """
    n, c, h, w = output_size
    g = _geometry("col2im", _pair(kernel_size, "kernel_size", "col2im", 1), stride, padding,
                  dilation)
    expected = (n, *g.check("col2im", (h, w)), c * g.kh * g.kw)
    if tuple(cols.shape) != expected:
        raise ValueError(f"col2im: columns of shape {tuple(cols.shape)} do not match image "
                         f"{tuple(output_size)} with this geometry; expected {expected}")
    return Col2Im.apply(cols, geometry=g, layout="conv", in_shape=(n, c, h, w))


# -- convolution -----------------------------------------------------------------------------
def _check_image(op: str, x: Tensor, what: str = "(N, C, H, W)") -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor input, got {type(x).__name__}")
    if x.ndim != len(what.split(",")):
        raise ValueError(f"{op}: expected an input of shape {what}, got shape {x.shape}")


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation of an NCHW batch (PyTorch's ``conv2d``), as im2col + one GEMM.

    Args:
        x: input (N, C_in, H, W).
        weight: filters (C_out, C_in / groups, kH, kW).
        bias: optional (C_out,).
        stride, padding, dilation: ints or (h, w) pairs; padding may be 'valid' or 'same'
            (stride 1; an odd extra pixel goes to the bottom/right, as in PyTorch).
        groups: C_in and C_out are split into `groups` independent convolutions.

    Returns:
        (N, C_out, OH, OW) with ``OH = (H + 2 ph - dh (kH - 1) - 1) // sh + 1``. The result is
        an NCHW view of NHWC memory (the GEMM's natural layout; no transpose copy is made).

        >>> y = conv2d(ag.randn(8, 3, 32, 32), ag.randn(16, 3, 3, 3), padding=1)  # (8, 16, 32, 32)
    """
    _check_image("conv2d", x)
    if not isinstance(weight, Tensor) or weight.ndim != 4:
        raise ValueError(f"conv2d: weight must be a 4-D tensor (C_out, C_in/groups, kH, kW), "
                         f"got {getattr(weight, 'shape', type(weight).__name__)}")
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"conv2d: groups must be a positive int, got {groups!r}")
    n, c_in = x.shape[:2]
    c_out, c_group, kh, kw = weight.shape
    if c_group * groups != c_in:
        raise ValueError(
            f"conv2d: input of shape {x.shape} has {c_in} channels, but weight of shape "
            f"{weight.shape} with groups={groups} expects {c_group * groups}"
        )
    if c_out % groups:
        raise ValueError(f"conv2d: out channels ({c_out}, weight shape {weight.shape}) must be "
                         f"divisible by groups={groups}")
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise ValueError(f"conv2d: bias must have shape ({c_out},), got {tuple(bias.shape)}")
    if kh == 0 or kw == 0:
        raise ValueError(f"conv2d: weight of shape {weight.shape} has an empty kernel")
    g = _geometry("conv2d", (kh, kw), stride, padding, dilation)
    oh, ow = g.check("conv2d", x.shape)
    cols = Im2Col.apply(x, geometry=g, layout="conv", groups=groups)  # (N, OH, OW, K)
    m, k = n * oh * ow, c_in * kh * kw
    # The weight in the columns' order (kh, kw, C/G): a small copy of the weight only.
    w_rows = weight.transpose(0, 2, 3, 1) if c_group > 1 and kh * kw > 1 else weight
    if groups == 1:
        # (M, C_out): one GEMM with the bias added in place, as the fused linear layer does
        # (its weight gradient also comes out in the weight's own layout).
        y = _linalg.linear(cols.reshape(m, k), w_rows.reshape(c_out, k), bias)
        return y.reshape(n, oh, ow, c_out).transpose(0, 3, 1, 2)
    else:
        k_g, o_g = k // groups, c_out // groups
        cols_g = cols.reshape(m, groups, k_g).transpose(1, 0, 2)        # (G, M, Kg)
        w_g = w_rows.reshape(groups, o_g, k_g).transpose(0, 2, 1)       # (G, Kg, Og)
        y = (cols_g @ w_g).transpose(1, 0, 2).reshape(m, c_out)         # one batched GEMM
    if bias is not None:
        y = y + bias
    return y.reshape(n, oh, ow, c_out).transpose(0, 3, 1, 2)


def conv1d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation of an NCL batch (PyTorch's ``conv1d``): `conv2d` with height 1.

    Args:
        x: input (N, C_in, L); weight: (C_out, C_in / groups, k); bias: optional (C_out,).
        stride, padding, dilation: ints (padding may be 'valid' or 'same').

    Returns:
        (N, C_out, OL) with ``OL = (L + 2 p - d (k - 1) - 1) // s + 1``.
    """
    _check_image("conv1d", x, "(N, C, L)")
    if not isinstance(weight, Tensor) or weight.ndim != 3:
        raise ValueError(f"conv1d: weight must be a 3-D tensor (C_out, C_in/groups, k), got "
                         f"{getattr(weight, 'shape', type(weight).__name__)}")
    for name, v in (("stride", stride), ("dilation", dilation)):
        if not isinstance(v, int):
            raise TypeError(f"conv1d: {name} must be an int, got {v!r}")
    pad = padding if isinstance(padding, str) else (0, padding)
    try:
        y = conv2d(x.expand_dims(2), weight.expand_dims(2), bias, stride=(1, stride),
                   padding=pad, dilation=(1, dilation), groups=groups)
    except ValueError as e:
        raise ValueError(f"conv1d: {str(e).split(': ', 1)[1]} (input {x.shape}, weight "
                         f"{weight.shape})") from None
    return y.squeeze(2)


# -- pooling ---------------------------------------------------------------------------------
def _pool_geometry(op: str, x: Tensor, kernel_size: Any, stride: Any, padding: Any) -> tuple:
    _check_image(op, x)
    kernel = _pair(kernel_size, "kernel_size", op, 1)
    ph, pw = _pair(padding, "padding", op, 0)
    if ph > kernel[0] // 2 or pw > kernel[1] // 2:
        raise ValueError(f"{op}: padding {(ph, pw)} must be at most half the kernel {kernel}")
    g = _geometry(op, kernel, kernel if stride is None else stride, (ph, pw), 1)
    return g, g.check(op, x.shape)


class MaxPool2d(Function):
    """y = max over each window; the gradient goes to the window's first maximal element.

    Padding counts as -inf. Ties pick the first maximum in row-major window order, as PyTorch.
    """

    def forward(self, x):
        xp = self.xp
        g = self.geometry
        n, c = x.shape[:2]
        oh, ow = g.out_hw(*x.shape[2:])
        self.in_shape = x.shape
        low = -math.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).min
        view = _windows(xp, _pad_raw(xp, x, g, low), g, oh, ow)
        windows = view.reshape(n, c, oh, ow, g.kh * g.kw)
        index = windows.argmax(axis=-1)[..., None]
        self.save_for_backward(index)
        return xp.take_along_axis(windows, index, axis=-1)[..., 0]

    def backward(self, gy):
        (index,) = self.saved_tensors
        xp = self.xp
        g = self.geometry
        hot = xp.arange(g.kh * g.kw) == index.data                 # (N, C, OH, OW, K) constant
        cols = gy.expand_dims(-1) * Tensor._make(hot.astype(gy.dtype), self.backend)
        return Col2Im.apply(cols, geometry=g, layout="pool", in_shape=self.in_shape)


class AvgPool2d(Function):
    """y = mean over each window; padding counts as zeros unless count_include_pad is False."""

    def forward(self, x):
        xp = self.xp
        g = self.geometry
        oh, ow = g.out_hw(*x.shape[2:])
        self.in_shape = x.shape
        total = _windows(xp, _pad_raw(xp, x, g), g, oh, ow).sum(axis=(-2, -1))
        if self.count_include_pad or not g.padded:
            return total * (1.0 / (g.kh * g.kw))
        counts = self._counts(x.shape, oh, ow, x.dtype)
        return total / counts

    def _counts(self, shape: tuple, oh: int, ow: int, dtype: Any) -> Any:
        """How many real (non-padding) pixels each window covers, shape (OH, OW)."""
        xp = self.xp
        g = self.geometry
        ones = xp.ones((1, 1, *shape[2:]), dtype=dtype)
        return _windows(xp, _pad_raw(xp, ones, g), g, oh, ow).sum(axis=(-2, -1))[0, 0]

    def backward(self, gy):
        g = self.geometry
        oh, ow = gy.shape[2:]
        if self.count_include_pad or not g.padded:
            share = gy * (1.0 / (g.kh * g.kw))
        else:
            counts = self._counts(self.in_shape, oh, ow, gy.dtype)
            share = gy / Tensor._make(counts, self.backend)
        cols = share.expand_dims(-1).broadcast_to((*gy.shape, g.kh * g.kw))
        return Col2Im.apply(cols, geometry=g, layout="pool", in_shape=self.in_shape)


class BlockMaxPool2d(Function):
    """y = max over disjoint (kh, kw) blocks tiling the image (stride = kernel, no padding).

    The common pooling layer, done without materialising windows: the image is seen as
    channels-last blocks (a free view when the input is an NCHW view of NHWC memory, as conv
    outputs are) and the max is a chain of elementwise maxima over the kh*kw block offsets.
    Backward finds each block's first maximum again (PyTorch's tie rule) from x and y, so
    nothing but the input and output is kept.
    """

    raw_backward = True

    def forward(self, x):
        xp = self.xp
        kh, kw = self.kernel
        blocks = _blocks(xp, x, kh, kw)                      # (N, OH, kh, OW, kw, C)
        best = blocks[:, :, 0, :, 0, :].copy()
        for k in range(1, kh * kw):
            xp.maximum(best, blocks[:, :, k // kw, :, k % kw, :], out=best)
        y = best.transpose(0, 3, 1, 2)                       # NCHW view of NHWC memory
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, y = self.saved_tensors
        return _BlockScatter.apply(gy, x, y, kernel=self.kernel)


def _first_hits(xp: Any, x: Any, y: Any, kernel: tuple) -> Any:
    """For each block offset k, where x equals the block's max y and no earlier offset did."""
    kh, kw = kernel
    blocks = _blocks(xp, x, kh, kw)
    best = y.transpose(0, 2, 3, 1)                           # (N, OH, OW, C)
    free = None
    for k in range(kh * kw):
        hit = blocks[:, :, k // kw, :, k % kw, :] == best
        if free is None:
            free = ~hit
        else:
            hit &= free
            free &= ~hit
        yield k, hit


class _BlockScatter(Function):
    """gx = gy placed at each block's first maximum, zeros elsewhere (linear in gy; x and y
    only locate the maxima)."""

    raw_backward = True

    def forward(self, gy, x, y):
        self.save_for_backward(x, y)
        xp = self.xp
        kh, kw = self.kernel
        n, c, oh, ow = gy.shape
        g = gy.transpose(0, 2, 3, 1)                         # (N, OH, OW, C)
        out = xp.empty((n, oh, kh, ow, kw, c), dtype=gy.dtype)
        for k, hit in _first_hits(xp, x, y, self.kernel):
            xp.multiply(g, hit, out=out[:, :, k // kw, :, k % kw, :])
        return out.reshape(n, oh * kh, ow * kw, c).transpose(0, 3, 1, 2)

    def backward(self, ggx):
        x, y = self.saved_tensors
        return _BlockGather.apply(ggx, x, y, kernel=self.kernel), None, None


class _BlockGather(Function):
    """y = the block-max position's value of an image: the adjoint of `_BlockScatter`."""

    raw_backward = True

    def forward(self, image, x, y):
        self.save_for_backward(x, y)
        xp = self.xp
        kh, kw = self.kernel
        blocks = _blocks(xp, image, kh, kw)
        out = xp.zeros(y.transpose(0, 2, 3, 1).shape, dtype=image.dtype)
        for k, hit in _first_hits(xp, x, y, self.kernel):
            out += blocks[:, :, k // kw, :, k % kw, :] * hit
        return out.transpose(0, 3, 1, 2)

    def backward(self, gy):
        x, y = self.saved_tensors
        return _BlockScatter.apply(gy, x, y, kernel=self.kernel), None, None


def _blocks(xp: Any, x: Any, kh: int, kw: int) -> Any:
    """An (N, C, H, W) image as channels-last blocks (N, H/kh, kh, W/kw, kw, C)."""
    n, c, h, w = x.shape
    nhwc = x.transpose(0, 2, 3, 1)
    return nhwc.reshape(n, h // kh, kh, w // kw, kw, c)   # free for NHWC memory, else one copy


def max_pool2d(x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """Max over (kH, kW) windows of an NCHW batch (PyTorch's ``max_pool2d``, ceil_mode=False).

    Args:
        kernel_size: int or pair; stride: defaults to kernel_size; padding: at most half the
            kernel, filled with -inf.

    Kink convention: the gradient goes only to the first maximal element of each window
    (row-major order), like PyTorch, not split among ties.
    """
    g, _ = _pool_geometry("max_pool2d", x, kernel_size, stride, padding)
    h, w = x.shape[2:]
    if (g.sh, g.sw) == (g.kh, g.kw) and not g.padded and h % g.kh == 0 and w % g.kw == 0 \
            and x.dtype.kind == "f":
        return BlockMaxPool2d.apply(x, kernel=(g.kh, g.kw))
    return MaxPool2d.apply(x, geometry=g)


def avg_pool2d(x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               count_include_pad: bool = True) -> Tensor:
    """Mean over (kH, kW) windows of an NCHW batch (PyTorch's ``avg_pool2d``, ceil_mode=False).

    With ``count_include_pad=True`` (PyTorch's default) zero padding counts in the divisor.
    """
    g, _ = _pool_geometry("avg_pool2d", x, kernel_size, stride, padding)
    return AvgPool2d.apply(x, geometry=g, count_include_pad=bool(count_include_pad))


def _adaptive_matrix(xp: Any, size: int, out: int, dtype: Any) -> Any:
    """(out, size) averaging matrix: row i averages [floor(i size/out), ceil((i+1) size/out))."""
    i = xp.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    j = xp.arange(size)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return inside.astype(dtype) / (end - start)[:, None].astype(dtype)


def adaptive_avg_pool2d(x: Tensor, output_size: Any) -> Tensor:
    """Averages an NCHW batch down to `output_size` (PyTorch's ``adaptive_avg_pool2d``).

    Window i along an axis of length L covers ``[floor(i L / out), ceil((i + 1) L / out))``.
    When the sizes divide this is a reshape and a mean; otherwise (variable windows) it is
    two small averaging matrices, ``A_h @ x @ A_w^T``. An entry of `output_size` may be None
    (keep that axis).
    """
    _check_image("adaptive_avg_pool2d", x)
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size, output_size)
    n, c, h, w = x.shape
    oh, ow = (h if output_size[0] is None else output_size[0],
              w if output_size[1] is None else output_size[1])
    if oh <= 0 or ow <= 0 or (h == 0 and oh) or (w == 0 and ow):
        raise ValueError(f"adaptive_avg_pool2d: cannot pool an input of shape {x.shape} to "
                         f"({oh}, {ow})")
    if (oh, ow) == (1, 1):
        return x.mean(axis=(2, 3), keepdims=True)
    if h % oh == 0 and w % ow == 0:
        return x.reshape(n, c, oh, h // oh, ow, w // ow).mean(axis=(3, 5))
    xp = x.xp
    a_h = Tensor._make(_adaptive_matrix(xp, h, oh, x.dtype), x.backend)
    a_w = Tensor._make(_adaptive_matrix(xp, w, ow, x.dtype), x.backend)
    return (a_h @ x) @ a_w.T


# -- fused losses ----------------------------------------------------------------------------
class SoftmaxCrossEntropy(Function):
    """Per-sample ``-sum_c t_c log softmax(x)_c`` over axis 1 for class-index targets.

    The target distribution is ``t = (1 - eps) w_y onehot(y) + eps / C * w`` (w = class
    weights, 1 without them), zero where ``y == ignore_index``. With ``q = sum_c t_c`` the
    gradient is ``gx = gy (q softmax(x) - t)``. Computed with the max shift, so any finite
    logits are safe.
    """

    def forward(self, x, target, weight):
        xp = self.xp
        n_classes = x.shape[1]
        # log softmax(x) = (x - shift) - log_total; no (N, C) array is written (backends/kernels)
        shift, log_total = kernels.log_softmax_stats(self.backend, x, axis=1)
        valid = target != self.ignore_index
        bad = valid & ((target < 0) | (target >= n_classes))
        if not self.backend.is_device:
            if bad.any():
                wrong = target[bad]
                raise IndexError(
                    f"cross_entropy: target {wrong.reshape(-1)[0]} is out of range for "
                    f"{n_classes} classes (input shape {tuple(x.shape)}); class indices must "
                    f"be in [0, {n_classes}) or equal ignore_index={self.ignore_index}"
                )
        safe = xp.where(valid & ~bad, target, 0)
        picked = xp.take_along_axis(x, xp.expand_dims(safe, 1), axis=1)
        nll = ((shift - picked) + log_total)[:, 0]  # -log softmax(x)_y, exact at the max
        eps = self.label_smoothing
        w_y = 1.0 if weight is None else weight[safe]
        loss = (1.0 - eps) * w_y * nll
        if eps:
            # -sum_c w_c log softmax(x)_c = sum_c w_c (shift - x_c) + log_total sum_c w_c
            if weight is None:
                smooth = (shift - x.mean(axis=1, keepdims=True) + log_total) * n_classes
            else:
                w = weight.reshape((1, -1) + (1,) * (x.ndim - 2))
                smooth = ((shift - x) * w).sum(axis=1, keepdims=True) + log_total * w.sum()
            loss = loss + (eps / n_classes) * smooth[:, 0]
        loss = xp.where(valid, loss, 0).astype(x.dtype, copy=False)
        if self.backend.is_device:
            # No host read on a device: an out-of-range class makes its loss NaN instead.
            loss = xp.where(bad, math.nan, loss)
        if self._recording:
            self.save_for_backward(x, safe, valid, weight, shift, log_total)
        return loss

    def _target_distribution(self, safe: Any, valid: Any, weight: Any, shape: tuple,
                             dtype: Any) -> tuple:
        xp = self.xp
        n_classes = shape[1]
        classes = xp.arange(n_classes).reshape((1, -1) + (1,) * (len(shape) - 2))
        hot = (classes == xp.expand_dims(safe, 1)).astype(dtype)
        eps = self.label_smoothing
        if weight is None:
            t = hot * (1.0 - eps) + eps / n_classes
        else:
            w = weight.astype(dtype).reshape(classes.shape)
            t = hot * ((1.0 - eps) * xp.expand_dims(weight.astype(dtype)[safe], 1))
            t = t + (eps / n_classes) * w
        t = t * xp.expand_dims(valid, 1)
        return t, t.sum(axis=1, keepdims=True)

    def backward(self, gy):
        x, safe, valid, weight, shift, log_total = self.saved_tensors
        if not _grad_state.enabled:
            return self._fused_grad(gy.data, x.data, safe.data, valid.data,
                                    None if weight is None else weight.data, shift.data,
                                    log_total.data), None, None
        # Building a graph (create_graph): softmax from x itself, so the rule is
        # differentiable. The shift is a constant: softmax does not depend on it.
        t, q = self._target_distribution(safe.data, valid.data,
                                         None if weight is None else weight.data,
                                         x.shape, gy.dtype)
        e = (x - shift).exp()
        p = e / e.sum(axis=1, keepdims=True)
        t = Tensor._make(t, self.backend)
        q = Tensor._make(q, self.backend)
        return gy.expand_dims(1) * (p * q - t), None, None

    def _fused_grad(self, gy, x, safe, valid, weight, shift, log_total) -> Tensor:
        """``gy (q softmax(x) - t)`` in one pass over the logits (first order only).

        Per sample: ``gy q`` scales the softmax, ``gy (1 - eps) w_y`` comes off the target
        class and ``gy eps / C`` times ``w_c`` off every class (see `_target_distribution`).
        """
        xp = self.xp
        dtype = x.dtype
        n_classes = x.shape[1]
        eps = self.label_smoothing
        g = xp.expand_dims(xp.where(valid, gy, 0).astype(dtype, copy=False), 1)
        w_y = 1.0 if weight is None else xp.expand_dims(weight.astype(dtype)[safe], 1)
        w = None if weight is None else weight.astype(dtype).reshape(
            (1, -1) + (1,) * (x.ndim - 2))
        hot = g * ((1.0 - eps) * w_y)
        smooth = g * (eps / n_classes) if eps else None
        total_w = n_classes if weight is None else w.sum()
        scale = hot + g * (eps / n_classes) * total_w if eps else hot
        gx = kernels.softmax_xent_grad(self.backend, x, shift, log_total,
                                       xp.expand_dims(safe, 1), scale, hot, smooth, w)
        return Tensor._make(gx, self.backend)


def softmax_cross_entropy(x: Tensor, target: Tensor, weight: Tensor | None = None,
                          ignore_index: int = -100, label_smoothing: float = 0.0) -> Tensor:
    """Per-sample cross-entropy of logits `x` (N, C, d1, ...) against class indices (N, d1, ...).

    Fused log-softmax + NLL: stable for any finite logits. Returns the unreduced losses
    (N, d1, ...), zero where ``target == ignore_index``. With class `weight` (C,) the loss of a
    sample is scaled as in PyTorch (``w[y]`` for the NLL part, ``w_c`` inside the smoothing part).

    Class indices out of range raise IndexError on the CPU; on a device the check would need a
    host read, so the affected losses are NaN instead.
    """
    if not isinstance(target, Tensor):
        raise TypeError(f"cross_entropy: target must be a Tensor, got {type(target).__name__}")
    if x.ndim < 2:
        raise ValueError(f"cross_entropy: input must be (N, C, ...), got shape {x.shape}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: class-index target must have an integer dtype, got "
                        f"{target.dtype} (shape {target.shape}); for class probabilities pass "
                        f"a float target of the input's shape {x.shape}")
    expected = (x.shape[0], *x.shape[2:])
    if target.shape != expected:
        raise ValueError(f"cross_entropy: target of shape {target.shape} does not match input "
                         f"of shape {x.shape}; expected target shape {expected}")
    if x.shape[1] == 0:
        raise ValueError(f"cross_entropy: input of shape {x.shape} has no classes")
    if weight is not None and tuple(weight.shape) != (x.shape[1],):
        raise ValueError(f"cross_entropy: weight must have shape ({x.shape[1]},), got "
                         f"{tuple(weight.shape)}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    return SoftmaxCrossEntropy.apply(x, target, weight, ignore_index=int(ignore_index),
                                     label_smoothing=float(label_smoothing))


class BinaryCrossEntropyWithLogits(Function):
    """loss = (1 - y) x + (1 + (pw - 1) y) softplus(-x), elementwise with broadcasting.

    That is ``-[pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))]``, with
    ``softplus(-x) = max(-x, 0) + log1p(exp(-|x|))`` so that no exp overflows.
    gx = gy ((1 + (pw - 1) y) sigmoid(x) - pw y); gy_target = gy ((pw - 1) softplus(-x) - x);
    g_pw = gy y softplus(-x).
    """

    def forward(self, x, y, pos_weight):
        xp = self.xp
        soft_neg = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        if pos_weight is None:
            loss = (1 - y) * x + soft_neg
        else:
            loss = (1 - y) * x + (1 + (pos_weight - 1) * y) * soft_neg
        self.save_for_backward(x, y, pos_weight)
        return loss.astype(xp.result_type(x, y), copy=False)

    def backward(self, gy):
        x, y, pw = self.saved_tensors
        need_x, need_y = self.needs_input_grad[:2]
        need_pw = len(self.needs_input_grad) > 2 and self.needs_input_grad[2]
        gx = gtarget = gpw = None
        if need_x:
            s = _unary.sigmoid(x)
            gx = gy * (s - y) if pw is None else gy * ((1 + (pw - 1) * y) * s - pw * y)
        if need_y or need_pw:
            # threshold=inf: the exact softplus, smooth everywhere (second order included).
            soft_neg = _unary.softplus(-x, threshold=math.inf)
            if need_y:
                gtarget = -gy * x if pw is None else gy * ((pw - 1) * soft_neg - x)
            if need_pw:
                gpw = gy * y * soft_neg
        return gx, gtarget, gpw


def binary_cross_entropy_with_logits(x: Tensor, target: Any, pos_weight: Any = None) -> Tensor:
    """Elementwise ``-[pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))]``, stable for any x.

    Computed as ``max(x, 0) - x y + log1p(exp(-|x|))`` (and its pos_weight form), never
    overflowing. `target` and `pos_weight` broadcast against `x`; no reduction.
    """
    from ..tensor import _lift

    target = _lift(target, x)
    if isinstance(target, Tensor) and target.dtype.kind not in "fc":
        target = target.astype(x.dtype)
    if pos_weight is not None:
        pos_weight = _lift(pos_weight, x)
    return BinaryCrossEntropyWithLogits.apply(x, target, pos_weight)
