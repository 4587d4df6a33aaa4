"""Transposed convolution (PyTorch's ``conv_transpose1d/2d``): the adjoint of conv2d in x.

A transposed convolution's forward is a convolution's input gradient and its input gradient
is a convolution's forward, so `ConvTranspose2dGemm` is built from conv_gemm's pieces run the
other way round: forward = ``x_rows @ w_rows`` and the col2im adds (`conv_gemm.input_grad`:
chunked GEMMs and the C col2im loop on the host, one GEMM and one col2im on a device); the
input gradient = `Conv2dGemm` on gy; the weight gradient = ``x_rows^T @ im2col(gy)``
(`conv_gemm.weight_grad`). No second col2im is written.

Geometry: with kernel k, stride s, padding p, dilation d and output padding op along an axis,
``out = (in - 1) s - 2 p + d (k - 1) + 1 + op``; the convolution whose adjoint this is reads
an image of that size with padding p before and ``p - op`` after (when ``op > p``, the last
``op - p`` rows get no contribution at all: zeros).
"""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..inputs import tensor_input
from ..tensor import Tensor
from .conv_gemm import Conv2dGemm, _weight_from_rows, input_grad, weight_grad
from .im2col import Col2Im, Im2Col, _check_image, _Geometry, _pair
from .layout import Transpose
from .padding import pad

__all__ = ["conv_transpose1d", "conv_transpose2d", "output_padding_for"]


def _rows(x: Any) -> Any:
    """An (N, C, H, W) image as (N*H*W, C) rows (free for channels-last memory); a Tensor or
    an array inside a raw rule."""
    n, c, h, w = x.shape
    return Transpose.apply(x, axes=(0, 2, 3, 1)).reshape(n * h * w, c)


class ConvTranspose2dGemm(Function):
    """y = conv_transpose2d(x, w) + b (groups 1); x (N, C_in, H, W), w (C_in, C_out, kh, kw).

    `geometry` is the adjoint convolution's; `image_hw` the size it spans, `extra` the zero
    rows and columns after it (output padding beyond the padding). gx = conv2d(gy, w),
    gw = x_rows^T @ im2col(gy), gb = sums of gy.
    """

    raw_backward = True

    def forward(self, x, w, b=None):
        xp = self.xp
        n, c_in, h, wd = x.shape
        c_out = w.shape[1]
        oh, ow = self.image_hw
        rows = x.transpose(0, 2, 3, 1).reshape(n * h * wd, c_in)
        y = input_grad(self.backend, rows, w, self.geometry, (n, c_out, oh, ow))
        if y.dtype != xp.result_type(x.dtype, w.dtype):
            y = y.astype(xp.result_type(x.dtype, w.dtype))
        eh, ew = self.extra
        if eh or ew:  # rows and columns no input reaches: zeros (then the bias)
            full = xp.zeros((n, oh + eh, ow + ew, c_out), dtype=y.dtype).transpose(0, 3, 1, 2)
            full[:, :, :oh, :ow] = y
            y = full
        if b is not None:
            xp.add(y, b.reshape(-1, 1, 1), out=y)
        self.save_for_backward(x, w)
        return y

    def backward(self, gy):
        x, w = self.saved_tensors
        g = self.geometry
        need = self.needs_input_grad
        oh, ow = self.image_hw
        gx = gw = gb = None
        if len(need) == 3 and need[2]:
            gb = gy.sum(axis=(0, 2, 3))
        if self.extra != (0, 0):
            gy = gy[:, :, :oh, :ow]  # the extra rows hold only the bias
        if need[0]:
            gx = Conv2dGemm.apply(gy, w, geometry=g)  # arrays inside a raw rule, else Tensors
        if need[1]:
            rows = _rows(x)
            if isinstance(gy, Tensor):  # create_graph: differentiable in x and gy
                k = w.shape[1] * g.kh * g.kw
                cols = Im2Col.apply(gy, geometry=g, layout="conv").reshape(rows.shape[0], k)
                gw = _weight_from_rows(rows.T @ cols, tuple(w.shape))
            else:
                gw = weight_grad(self.backend, rows, gy, w, g)
        return (gx, gw) if len(need) == 2 else (gx, gw, gb)


def _transpose_geometry(op: str, in_hw: tuple, kernel: tuple, stride: Any, padding: Any,
                        output_padding: Any, dilation: Any) -> tuple:
    """(the adjoint convolution's geometry, the image size it spans, the extra zero rows and
    columns after it) for a transposed convolution of an input of spatial size `in_hw`."""
    stride = _pair(stride, "stride", op, 1)
    dilation = _pair(dilation, "dilation", op, 1)
    padding = _pair(padding, "padding", op, 0)
    extra_pad = _pair(output_padding, "output_padding", op, 0)
    pads, image, extra = [], [], []
    for n, k, s, p, d, e in zip(in_hw, kernel, stride, padding, dilation, extra_pad):
        if e >= max(s, d):
            raise ValueError(f"{op}: output_padding {tuple(extra_pad)} must be smaller than "
                             f"either stride {stride} or dilation {dilation}")
        out = (n - 1) * s - 2 * p + d * (k - 1) + 1 + e
        if out <= 0:
            raise ValueError(f"{op}: the output size {out} (from input size {tuple(in_hw)}, "
                             f"kernel {kernel}, stride {stride}, padding {padding}, dilation "
                             f"{dilation}, output_padding {tuple(extra_pad)}) is not positive")
        pads += [p, max(p - e, 0)]
        extra.append(max(e - p, 0))
        image.append(out - extra[-1])
    g = _Geometry(kernel, stride, dilation, (pads[0], pads[1], pads[2], pads[3]))
    return g, tuple(image), tuple(extra)


def output_padding_for(op: str, in_hw: tuple, output_size: Any, kernel: tuple, stride: tuple,
                       padding: tuple, dilation: tuple) -> tuple:
    """The output padding that makes a transposed convolution's output `output_size` (its
    trailing len(in_hw) entries), checked to lie in [smallest, smallest + stride - 1]."""
    k = len(in_hw)
    size = tuple(int(v) for v in output_size)
    if len(size) not in (k, k + 2):
        raise ValueError(f"{op}: output_size must have {k} or {k + 2} entries, got "
                         f"{tuple(output_size)}")
    size = size[-k:]
    extra = []
    for n, want, kk, s, p, d in zip(in_hw, size, kernel, stride, padding, dilation):
        smallest = (n - 1) * s - 2 * p + d * (kk - 1) + 1
        if not smallest <= want <= smallest + s - 1:
            raise ValueError(f"{op}: requested an output size of {size}, but valid sizes "
                             f"range from {smallest} to {smallest + s - 1} along an axis of "
                             f"input size {n} (input spatial size {tuple(in_hw)})")
        extra.append(want - smallest)
    return tuple(extra)


def conv_transpose2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """2-D transposed convolution of an NCHW batch (PyTorch's ``conv_transpose2d``): the
    gradient of `conv2d` with respect to its input, as a layer (upsampling by `stride`).

    Args:
        x: input (N, C_in, H, W).
        weight: (C_in, C_out / groups, kH, kW) (PyTorch's layout: in-channels first).
        bias: optional (C_out,).
        stride, padding, output_padding, dilation: ints or (h, w) pairs. `padding` is the
            padding of the convolution this is the adjoint of: it removes that many rows and
            columns from each side of the full output. `output_padding` (smaller than stride
            or dilation) adds rows and columns at the bottom and right, picking one of the
            output sizes that convolve back to (H, W).
        groups: in and out channels split into independent groups.

    Returns:
        (N, C_out, OH, OW) with ``OH = (H - 1) sH - 2 pH + dH (kH - 1) + opH + 1``, an NCHW
        view of channels-last memory.

        >>> y = conv_transpose2d(ag.randn(2, 8, 7, 7), ag.randn(8, 4, 4, 4), stride=2,
        ...                      padding=1)   # (2, 4, 14, 14)
    """
    weight = tensor_input("conv_transpose2d", weight, floating=True, name="weight")
    x = _check_image("conv_transpose2d", x, like=weight, floating=True)
    if bias is not None:
        bias = tensor_input("conv_transpose2d", bias, like=weight, floating=True, name="bias")
    if weight.ndim != 4:
        raise ValueError(f"conv_transpose2d: weight must be a 4-D tensor (C_in, "
                         f"C_out/groups, kH, kW), got "
                         f"{getattr(weight, 'shape', type(weight).__name__)}")
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"conv_transpose2d: groups must be a positive int, got {groups!r}")
    n, c_in, h, wd = x.shape
    w_in, c_group, kh, kw = weight.shape
    if w_in != c_in:
        raise ValueError(f"conv_transpose2d: input of shape {x.shape} has {c_in} channels, "
                         f"but weight of shape {weight.shape} expects {w_in} (weight is "
                         "(C_in, C_out/groups, kH, kW))")
    if c_in % groups:
        raise ValueError(f"conv_transpose2d: in channels ({c_in}) must be divisible by "
                         f"groups={groups}")
    c_out = c_group * groups
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise ValueError(f"conv_transpose2d: bias must have shape ({c_out},), got "
                         f"{tuple(bias.shape)}")
    if kh == 0 or kw == 0:
        raise ValueError(f"conv_transpose2d: weight of shape {weight.shape} has an empty kernel")
    g, image, extra = _transpose_geometry("conv_transpose2d", (h, wd), (kh, kw), stride,
                                          padding, output_padding, dilation)
    if groups == 1:
        args = (x, weight) if bias is None else (x, weight, bias)
        return ConvTranspose2dGemm.apply(*args, geometry=g, image_hw=image, extra=extra)
    # Grouped: per group x_rows @ w_rows as one batched GEMM, then one grouped col2im.
    c_ig = c_in // groups
    taps = kh * kw
    rows = _rows(x).reshape(n * h * wd, groups, c_ig)
    rows = Transpose.apply(rows, axes=(1, 0, 2))                         # (G, M, C_in/G)
    w_rows = Transpose.apply(weight, axes=(0, 2, 3, 1)).reshape(groups, c_ig, taps * c_group)
    cols = Transpose.apply(rows @ w_rows, axes=(1, 0, 2))                 # (M, G, taps*Cg)
    cols = cols.reshape(n, h, wd, groups * taps * c_group)
    y = Col2Im.apply(cols, geometry=g, layout="conv", in_shape=(n, c_out, *image),
                     groups=groups)
    if extra != (0, 0):
        y = pad(y, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])))
    if bias is not None:
        y = y + bias.reshape(c_out, 1, 1)
    return y


def conv_transpose1d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """1-D transposed convolution of an NCL batch (PyTorch's ``conv_transpose1d``):
    `conv_transpose2d` with height 1.

    Args:
        x: (N, C_in, L); weight: (C_in, C_out / groups, k); bias: optional (C_out,).
        stride, padding, output_padding, dilation: ints.

    Returns:
        (N, C_out, OL) with ``OL = (L - 1) s - 2 p + d (k - 1) + op + 1``.
    """
    weight = tensor_input("conv_transpose1d", weight, floating=True, name="weight")
    x = _check_image("conv_transpose1d", x, "(N, C, L)", like=weight, floating=True)
    if weight.ndim != 3:
        raise ValueError(f"conv_transpose1d: weight must be a 3-D tensor (C_in, C_out/groups, "
                         f"k), got {getattr(weight, 'shape', type(weight).__name__)}")
    values = {"stride": stride, "padding": padding, "output_padding": output_padding,
              "dilation": dilation}
    for name, v in values.items():
        if isinstance(v, (tuple, list)) and len(v) == 1:
            values[name] = v = v[0]
        if not isinstance(v, int) or isinstance(v, bool):
            raise TypeError(f"conv_transpose1d: {name} must be an int, got {v!r}")
    try:
        y = conv_transpose2d(x.expand_dims(2), weight.expand_dims(2), bias,
                             stride=(1, values["stride"]), padding=(0, values["padding"]),
                             output_padding=(0, values["output_padding"]), groups=groups,
                             dilation=(1, values["dilation"]))
    except ValueError as e:
        raise ValueError(f"conv_transpose1d: {str(e).split(': ', 1)[1]} (input {x.shape}, "
                         f"weight {weight.shape})") from None
    return y.squeeze(2)
