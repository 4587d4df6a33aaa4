"""Convolution as im2col + one GEMM (the geometry and `Im2Col`/`Col2Im` live in `im2col`).

Convolution is im2col + one matrix product. `Im2Col` copies every receptive field of a padded
NCHW image into a row of a contiguous ``(N, OH, OW, kh*kw*C)`` array (one strided gather, no
Python loop over pixels); the convolution is then a single GEMM against the weight seen as a
``(C_out, kh*kw*C)`` matrix, so its gradients are GEMMs too. With groups == 1 the im2col,
the GEMM and the bias are one fused op (`conv_gemm.Conv2dGemm`), which picks the column
layouts on both sides of the GEMM; grouped convolutions compose `Im2Col` and a batched matmul.
The output is an NCHW view of the GEMM's NHWC result (no transpose copy).
`Im2Col` and `Col2Im` (scatter-add of columns back into the image) are each other's adjoint,
which makes each one the other's backward: conv is differentiable to any order.
"""

from __future__ import annotations

from typing import Any

from ..inputs import tensor_input
from ..tensor import Tensor
from .conv_gemm import Conv2dGemm
from .im2col import Im2Col, _check_image, _geometry, col2im, im2col

__all__ = ["conv1d", "conv2d", "im2col", "col2im"]


# -- convolution -----------------------------------------------------------------------------
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
    weight = tensor_input("conv2d", weight, floating=True, name="weight")
    x = _check_image("conv2d", x, like=weight, floating=True)
    if bias is not None:
        bias = tensor_input("conv2d", bias, like=weight, floating=True, name="bias")
    if weight.ndim != 4:
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
    if groups == 1:
        # One fused op: im2col, one GEMM, bias in place (see conv_gemm for why it is fused).
        if bias is None:
            return Conv2dGemm.apply(x, weight, geometry=g)
        return Conv2dGemm.apply(x, weight, bias, geometry=g)
    cols = Im2Col.apply(x, geometry=g, layout="conv", groups=groups)  # (N, OH, OW, K)
    m, k = n * oh * ow, c_in * kh * kw
    # The weight in the columns' order (kh, kw, C/G): a small copy of the weight only.
    w_rows = weight.transpose(0, 2, 3, 1) if c_group > 1 and kh * kw > 1 else weight
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
    weight = tensor_input("conv1d", weight, floating=True, name="weight")
    x = _check_image("conv1d", x, "(N, C, L)", like=weight, floating=True)
    if weight.ndim != 3:
        raise ValueError(f"conv1d: weight must be a 3-D tensor (C_out, C_in/groups, k), got "
                         f"{getattr(weight, 'shape', type(weight).__name__)}")
    for name, v in (("stride", stride), ("dilation", dilation)):
        if not isinstance(v, int) or isinstance(v, bool):
            raise TypeError(f"conv1d: {name} must be an int, got {v!r}")
        if v < 1:
            raise ValueError(f"conv1d: {name} must be >= 1, got {v!r}")
    pad = padding if isinstance(padding, str) else (0, padding)
    try:
        y = conv2d(x.expand_dims(2), weight.expand_dims(2), bias, stride=(1, stride),
                   padding=pad, dilation=(1, dilation), groups=groups)
    except ValueError as e:
        raise ValueError(f"conv1d: {str(e).split(': ', 1)[1]} (input {x.shape}, weight "
                         f"{weight.shape})") from None
    return y.squeeze(2)
