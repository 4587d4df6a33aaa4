"""The 2-D window geometry that convolution and pooling share, and `Im2Col`/`Col2Im`.

`Im2Col` copies every receptive field of a padded NCHW image into a row of a contiguous
``(N, OH, OW, kh*kw*C)`` array (one strided gather, no Python loop over pixels); `Col2Im`
scatter-adds such columns back into the image. The two are each other's adjoint, which makes
each one the other's backward: whatever is built from them is differentiable to any order.
"""

from __future__ import annotations

from typing import Any

from backends import kernels

from ..function import Function
from ..inputs import tensor_input
from ..tensor import Tensor

__all__ = ["im2col", "col2im"]


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
    def window(self) -> Any:
        """The same geometry as plain numbers, for the host kernels (`kernels.Window`)."""
        return kernels.Window(self.kh, self.kw, self.sh, self.sw, self.dh, self.dw, self.pt,
                              self.pb, self.pl, self.pr)

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
    # A filled buffer and one slice assignment: xp.pad's generality costs ~0.1 ms a call.
    n, c, h, w = x.shape
    image = xp.full((n, c, h + g.pt + g.pb, w + g.pl + g.pr), value, dtype=x.dtype)
    image[:, :, g.pt:g.pt + h, g.pl:g.pl + w] = x
    return image


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


def im2col_raw(xp: Any, x: Any, g: _Geometry, groups: int = 1) -> Any:
    """The conv-layout columns (N, OH, OW, G*kh*kw*Cg) of an (N, C, H, W) image: `Im2Col`'s
    forward on arrays."""
    n, c = x.shape[:2]
    oh, ow = g.out_hw(*x.shape[2:])
    image = _channels_last_padded(xp, x, g)
    view = _group_windows(xp, image, g, groups, oh, ow)
    # (N, OH, OW, G, kh, kw, Cg): the reshape is the one copy.
    return view.transpose(0, 3, 4, 1, 5, 6, 2).reshape(n, oh, ow, c * g.kh * g.kw)


def col2im_raw(xp: Any, cols: Any, in_shape: tuple, g: _Geometry, groups: int = 1) -> Any:
    """Conv-layout columns (N, OH, OW, G*kh*kw*Cg) added back into an (N, C, H, W) image
    (an NCHW view of channels-last memory): `Col2Im`'s forward on arrays."""
    n, c, h, w = in_shape
    oh, ow = cols.shape[1:3]
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
        return im2col_raw(self.xp, x, g, self.groups)

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
        return col2im_raw(xp, cols, self.in_shape, g, self.groups)

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
    x = _check_image("im2col", x)
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


def _check_image(op: str, x: Any, what: str = "(N, C, H, W)", like: Tensor | None = None,
                 floating: bool = False) -> Tensor:
    """`x` as a Tensor of rank `what` (lists and arrays converted, see autograd.inputs)."""
    x = tensor_input(op, x, like, floating=floating, allow_bool=False)
    if x.ndim != len(what.split(",")):
        raise ValueError(f"{op}: expected an input of shape {what}, got shape {x.shape}")
    return x
