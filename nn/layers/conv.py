"""Convolution layers: Conv1d and Conv2d (im2col + one GEMM, see autograd.ops.conv)."""

from __future__ import annotations

from typing import Any

from autograd.creation import empty
from autograd.ops.conv import conv1d, conv2d
from autograd.tensor import Tensor

from .. import arguments, init
from ..module import Module
from ..parameter import Parameter

__all__ = ["Conv1d", "Conv2d"]


class _ConvBase(Module):
    """Shared by every convolution layer (Conv1d/2d, ConvTranspose1d/2d): the channel, kernel,
    stride and dilation arguments, the parameters, PyTorch's default init, repr."""

    _n = 0

    def _set_sizes(self, in_channels: Any, out_channels: Any, kernel_size: Any, stride: Any,
                   dilation: Any, groups: Any) -> None:
        cls = type(self).__name__
        in_channels = arguments.size(cls, "in_channels", in_channels)
        out_channels = arguments.size(cls, "out_channels", out_channels)
        groups = arguments.size(cls, "groups", groups, minimum=1)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{cls}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must be divisible by groups ({groups})")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = arguments.sizes(cls, "kernel_size", kernel_size, self._n, minimum=1)
        self.stride = arguments.sizes(cls, "stride", stride, self._n, minimum=1)
        self.dilation = arguments.sizes(cls, "dilation", dilation, self._n, minimum=1)
        self.groups = groups

    def _make_parameters(self, shape: tuple, bias: bool, device: Any, dtype: Any) -> None:
        self.weight = Parameter(empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(self.out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) weight, bias U(+-1/sqrt(fan_in)),
        fan_in = weight.shape[1] * kernel area."""
        init._reset_layer(self.weight, self.bias)

    def extra_repr(self) -> str:
        one = lambda t: t[0] if isinstance(t, tuple) and self._n == 1 else t  # noqa: E731
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={one(self.kernel_size)}, "
             f"stride={one(self.stride)}")
        for name, default in (("padding", 0), ("output_padding", 0), ("dilation", 1)):
            value = getattr(self, name, None)  # output_padding: transposed layers only
            if value is not None and value != (default,) * self._n:
                s += f", {name}={one(value)}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class _ConvNd(_ConvBase):
    """Shared by Conv1d / Conv2d: the padding argument and the weight's shape."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        cls = type(self).__name__
        self._set_sizes(in_channels, out_channels, kernel_size, stride, dilation, groups)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"{cls}: padding must be 'valid', 'same' or ints, got "
                                 f"{padding!r}")
            if padding == "same" and self.stride != (1,) * self._n:
                raise ValueError(f"{cls}: padding='same' needs stride 1, got stride "
                                 f"{self.stride}")
            self.padding = padding
        else:
            self.padding = arguments.sizes(cls, "padding", padding, self._n)
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self._make_parameters(shape, bias, device, dtype)


class Conv2d(_ConvNd):
    """2-D convolution over an NCHW batch (cross-correlation, as PyTorch's Conv2d).

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size, stride, padding, dilation: ints or (h, w) pairs; padding may also be
            'valid' or 'same' (stride 1).
        groups: split channels into independent groups (groups == in_channels: depthwise).
        bias: whether to add a learned per-channel bias.
        device / dtype: where and how the parameters are made (default: the default dtype).

    Attributes:
        weight: (out_channels, in_channels / groups, kH, kW), ``kaiming_uniform_(a=sqrt(5))``.
        bias: (out_channels,), U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in/groups*kH*kW.

        >>> conv = nn.Conv2d(3, 16, 3, padding=1)
        >>> conv(ag.randn(8, 3, 32, 32)).shape
        (8, 16, 32, 32)
    """

    _n = 2

    def forward(self, x: Tensor) -> Tensor:
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)


class Conv1d(_ConvNd):
    """1-D convolution over an NCL batch (as PyTorch's Conv1d); arguments as `Conv2d`, ints.

        >>> nn.Conv1d(4, 8, 5, padding=2)(ag.randn(2, 4, 100)).shape
        (2, 8, 100)
    """

    _n = 1

    def forward(self, x: Tensor) -> Tensor:
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        return conv1d(x, self.weight, self.bias, self.stride[0], padding, self.dilation[0],
                      self.groups)
