"""Transposed convolution layers: ConvTranspose1d and ConvTranspose2d (see
autograd.ops.conv_transpose: the convolution's input gradient, run as a layer)."""

from __future__ import annotations

from typing import Any

from autograd.ops.conv_transpose import conv_transpose1d, conv_transpose2d, output_padding_for
from autograd.tensor import Tensor

from .. import arguments
from .conv import _ConvBase

__all__ = ["ConvTranspose1d", "ConvTranspose2d"]


class _ConvTransposeNd(_ConvBase):
    """Shared by ConvTranspose1d / 2d: padding, output padding and the weight's shape."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        cls = type(self).__name__
        self._set_sizes(in_channels, out_channels, kernel_size, stride, dilation, groups)
        if padding_mode != "zeros":
            raise ValueError(f"{cls}: only padding_mode='zeros' is supported for transposed "
                             f"convolutions (as in PyTorch), got {padding_mode!r}")
        self.padding = arguments.sizes(cls, "padding", padding, self._n)
        self.output_padding = arguments.sizes(cls, "output_padding", output_padding, self._n)
        if any(o >= max(s, d) for o, s, d in zip(self.output_padding, self.stride,
                                                  self.dilation)):
            raise ValueError(f"{cls}: output_padding {self.output_padding} must be smaller "
                             f"than either stride {self.stride} or dilation {self.dilation}")
        self.padding_mode = padding_mode
        # weight (in_channels, out_channels / groups, *kernel): fan_in = out_channels / groups
        # * kernel area
        shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        self._make_parameters(shape, bias, device, dtype)

    def _output_padding(self, x: Tensor, output_size: Any) -> tuple:
        if output_size is None:
            return self.output_padding
        op = f"{type(self).__name__}.forward"
        if x.ndim < self._n:
            raise ValueError(f"{op}: input of shape {x.shape} has fewer than {self._n} "
                             "spatial axes")
        return output_padding_for(op, tuple(x.shape[-self._n:]), output_size,
                                  self.kernel_size, self.stride, self.padding, self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over an NCHW batch (PyTorch's ConvTranspose2d): upsamples
    by `stride`; the gradient of a Conv2d with the same arguments with respect to its input.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, output_padding, groups,
        bias, dilation: as PyTorch (ints or (h, w) pairs); only ``padding_mode="zeros"``.
        device / dtype: where and how the parameters are made (default: the default dtype).

    Attributes:
        weight: (in_channels, out_channels / groups, kH, kW).
        bias: (out_channels,).

    ``forward(x, output_size=None)``: `output_size` ((H, W), or with N and C in front)
    picks the output padding that gives that size.

        >>> up = nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1)
        >>> up(ag.randn(2, 16, 7, 7)).shape
        (2, 8, 14, 14)
    """

    _n = 2

    def forward(self, x: Tensor, output_size: Any = None) -> Tensor:
        return conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(x, output_size), self.groups,
                                self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over an NCL batch (PyTorch's ConvTranspose1d); arguments
    as `ConvTranspose2d`, ints.

        >>> nn.ConvTranspose1d(4, 2, 3, stride=2)(ag.randn(1, 4, 10)).shape
        (1, 2, 21)
    """

    _n = 1

    def forward(self, x: Tensor, output_size: Any = None) -> Tensor:
        return conv_transpose1d(x, self.weight, self.bias, self.stride[0], self.padding[0],
                                self._output_padding(x, output_size)[0], self.groups,
                                self.dilation[0])
