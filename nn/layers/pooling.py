"""Pooling layers (PyTorch's names and arguments): max and average pools in 1-D and 2-D,
adaptive average and max pools, max unpooling. NCHW / NCL inputs."""

from __future__ import annotations

from typing import Any

from autograd.ops.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from autograd.ops.pooling_variants import (
    adaptive_avg_pool1d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    max_pool1d,
    max_unpool1d,
    max_unpool2d,
)
from autograd.tensor import Tensor

from .. import arguments
from ..module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "MaxUnpool1d",
           "MaxUnpool2d"]


def _window(cls: str, n: int, kernel_size: Any, stride: Any, padding: Any) -> tuple:
    """Checks a pooling window (kernel >= 1, stride >= 1, 0 <= padding <= kernel / 2) at
    construction; returns them as given (ints stay ints, for the repr); stride None: kernel."""
    kernel = arguments.sizes(cls, "kernel_size", kernel_size, n, minimum=1)
    if stride is not None:
        arguments.sizes(cls, "stride", stride, n, minimum=1)
    pads = arguments.sizes(cls, "padding", padding, n)
    if any(p > k // 2 for p, k in zip(pads, kernel)):
        raise ValueError(f"{cls}: padding {padding!r} must be at most half the kernel "
                         f"{kernel_size!r}")
    return kernel_size, kernel_size if stride is None else stride, padding


class _MaxPoolNd(Module):
    _n = 2

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        cls = type(self).__name__
        self.kernel_size, self.stride, self.padding = _window(cls, self._n, kernel_size,
                                                              stride, padding)
        arguments.sizes(cls, "dilation", dilation, self._n, minimum=1)
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """Max over (kH, kW) windows; stride defaults to the kernel; padding (<= k/2) is -inf.

    Args: kernel_size, stride, padding, dilation, return_indices (forward then returns
    ``(output, indices)``, positions ``row * W + col``), ceil_mode: as PyTorch.

    The gradient goes to the first maximal element of each window (row-major), as PyTorch.

        >>> nn.MaxPool2d(2)(ag.randn(1, 3, 8, 8)).shape
        (1, 3, 4, 4)
    """

    def forward(self, x: Tensor) -> Any:
        return max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)

    def _commutes_with_relu(self) -> bool:
        """Whether `nn.Sequential` may run a ReLU before this pool as pool-then-relu (the
        fused `max_pool2d_relu`): plain windows, no indices."""
        return (not self.return_indices and not self.ceil_mode
                and self.dilation in (1, (1, 1)))


class MaxPool1d(_MaxPoolNd):
    """Max over windows of an (N, C, L) batch; arguments as `MaxPool2d`, single ints.

        >>> nn.MaxPool1d(3, stride=2)(ag.randn(2, 4, 9)).shape
        (2, 4, 4)
    """

    _n = 1

    def forward(self, x: Tensor) -> Any:
        return max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)


class _AvgPoolNd(Module):
    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """Mean over (kH, kW) windows; zero padding counts in the divisor unless
    ``count_include_pad=False``; `ceil_mode` and `divisor_override` as PyTorch."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = _window("AvgPool2d", 2, kernel_size, stride,
                                                              padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)


class AvgPool1d(_AvgPoolNd):
    """Mean over windows of an (N, C, L) batch; arguments as `AvgPool2d` (no divisor
    override), single ints."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = _window("AvgPool1d", 1, kernel_size, stride,
                                                              padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad)


class _Adaptive(Module):
    _n = 2

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        cls = type(self).__name__
        n = self._n
        sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * n
        if len(sizes) != n or not all((v is None and n == 2) or arguments._is_int(v)
                                      for v in sizes):
            raise TypeError(f"{cls}: output_size must be an int{', None' if n == 2 else ''}"
                            f"{' or a pair of them' if n == 2 else ''}, got {output_size!r}")
        if any(v is not None and v < 1 for v in sizes):
            raise ValueError(f"{cls}: output_size must be positive, got {output_size!r}")
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_Adaptive):
    """Averages down to a fixed (OH, OW) whatever the input size (e.g. 1 before a classifier).

        >>> nn.AdaptiveAvgPool2d(1)(ag.randn(2, 8, 7, 5)).shape
        (2, 8, 1, 1)
    """

    def __init__(self, output_size: Any) -> None:
        super().__init__(output_size)

    def forward(self, x: Tensor) -> Tensor:
        return adaptive_avg_pool2d(x, self.output_size)


class AdaptiveAvgPool1d(_Adaptive):
    """Averages an (N, C, L) batch down to `output_size` along L."""

    _n = 1

    def __init__(self, output_size: Any) -> None:
        super().__init__(output_size)

    def forward(self, x: Tensor) -> Tensor:
        return adaptive_avg_pool1d(x, self.output_size)


class AdaptiveMaxPool2d(_Adaptive):
    """Max over adaptive windows down to a fixed (OH, OW); `return_indices` as MaxPool2d."""

    def forward(self, x: Tensor) -> Any:
        return adaptive_max_pool2d(x, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_Adaptive):
    """Max over adaptive windows of an (N, C, L) batch down to `output_size`."""

    _n = 1

    def forward(self, x: Tensor) -> Any:
        return adaptive_max_pool1d(x, self.output_size, self.return_indices)


class _MaxUnpool(Module):
    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(_MaxUnpool):
    """Undoes a `MaxPool2d` with ``return_indices=True``: zeros, with each pooled value put
    back at its position. ``forward(x, indices, output_size=None)``.

        >>> pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
        >>> y, idx = pool(ag.randn(1, 1, 4, 4))
        >>> unpool(y, idx).shape
        (1, 1, 4, 4)
    """

    def forward(self, x: Tensor, indices: Any, output_size: Any = None) -> Tensor:
        return max_unpool2d(x, indices, self.kernel_size, self.stride, self.padding,
                            output_size)


class MaxUnpool1d(_MaxUnpool):
    """Undoes a `MaxPool1d` with ``return_indices=True`` (positions along L)."""

    def forward(self, x: Tensor, indices: Any, output_size: Any = None) -> Tensor:
        return max_unpool1d(x, indices, self.kernel_size, self.stride, self.padding,
                            output_size)
