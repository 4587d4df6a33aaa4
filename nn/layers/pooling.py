"""Pooling layers: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d (NCHW)."""

from __future__ import annotations

from typing import Any

from autograd.ops.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from autograd.tensor import Tensor

from .. import arguments
from ..module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]


def _window(cls: str, kernel_size: Any, stride: Any, padding: Any) -> tuple:
    """Checks a pooling window (kernel >= 1, stride >= 1, 0 <= padding <= kernel / 2) at
    construction; returns them as given (ints stay ints, for the repr); stride None: kernel."""
    kernel = arguments.sizes(cls, "kernel_size", kernel_size, 2, minimum=1)
    if stride is not None:
        arguments.sizes(cls, "stride", stride, 2, minimum=1)
    pads = arguments.sizes(cls, "padding", padding, 2)
    if pads[0] > kernel[0] // 2 or pads[1] > kernel[1] // 2:
        raise ValueError(f"{cls}: padding {padding!r} must be at most half the kernel "
                         f"{kernel_size!r}")
    return kernel_size, kernel_size if stride is None else stride, padding


class MaxPool2d(Module):
    """Max over (kH, kW) windows; stride defaults to the kernel; padding (<= k/2) is -inf.

    The gradient goes to the first maximal element of each window (row-major), as PyTorch.

        >>> nn.MaxPool2d(2)(ag.randn(1, 3, 8, 8)).shape
        (1, 3, 4, 4)
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = _window("MaxPool2d", kernel_size, stride,
                                                              padding)

    def forward(self, x: Tensor) -> Tensor:
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """Mean over (kH, kW) windows; zero padding counts in the divisor unless told otherwise."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = _window("AvgPool2d", kernel_size, stride,
                                                              padding)
        self.count_include_pad = count_include_pad

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Averages down to a fixed (OH, OW) whatever the input size (e.g. 1 before a classifier).

        >>> nn.AdaptiveAvgPool2d(1)(ag.randn(2, 8, 7, 5)).shape
        (2, 8, 1, 1)
    """

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
        if len(sizes) != 2 or not all(v is None or arguments._is_int(v) for v in sizes):
            raise TypeError(f"AdaptiveAvgPool2d: output_size must be an int, None or a pair of "
                            f"them, got {output_size!r}")
        if any(v is not None and v < 1 for v in sizes):
            raise ValueError(f"AdaptiveAvgPool2d: output_size must be positive, got "
                             f"{output_size!r}")
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
