"""Resampling and padding layers (PyTorch's names): Upsample, PixelShuffle / PixelUnshuffle,
Unfold / Fold and the padding modules, over the functions of `nn.functional_spatial`."""

from __future__ import annotations

from typing import Any

from autograd.tensor import Tensor

from .. import arguments
from .. import functional_spatial as S
from ..module import Module

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle",
           "PixelUnshuffle", "Unfold", "Fold", "ZeroPad1d", "ZeroPad2d", "ConstantPad1d",
           "ConstantPad2d", "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d",
           "ReplicationPad2d", "CircularPad1d", "CircularPad2d"]


class Upsample(Module):
    """Resizes (N, C, L) or (N, C, H, W) batches: `F.interpolate` as a layer.

    Args: size or scale_factor, mode ('nearest', 'nearest-exact', 'linear', 'bilinear'),
    align_corners, recompute_scale_factor: as PyTorch.

        >>> nn.Upsample(scale_factor=2)(ag.randn(1, 1, 4, 4)).shape
        (1, 1, 8, 8)
    """

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError(f"{type(self).__name__}: give exactly one of size and "
                             "scale_factor")
        self.size = size
        self.scale_factor = scale_factor
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x: Tensor) -> Tensor:
        return S.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self) -> str:
        what = f"size={self.size}" if self.size is not None else \
            f"scale_factor={self.scale_factor}"
        return f"{what}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """`Upsample` with mode 'nearest' (PyTorch's older name)."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, "nearest")


class UpsamplingBilinear2d(Upsample):
    """`Upsample` with mode 'bilinear' and ``align_corners=True`` (PyTorch's older name)."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, "bilinear", align_corners=True)


class PixelShuffle(Module):
    """(*, C r^2, H, W) -> (*, C, H r, W r) (`F.pixel_shuffle`).

        >>> nn.PixelShuffle(2)(ag.randn(1, 8, 3, 3)).shape
        (1, 2, 6, 6)
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = arguments.size("PixelShuffle", "upscale_factor", upscale_factor,
                                             minimum=1)

    def forward(self, x: Tensor) -> Tensor:
        return S.pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r^2, H, W) (`F.pixel_unshuffle`)."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = arguments.size("PixelUnshuffle", "downscale_factor",
                                               downscale_factor, minimum=1)

    def forward(self, x: Tensor) -> Tensor:
        return S.pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class Unfold(Module):
    """Sliding windows as columns, (N, C, H, W) -> (N, C kh kw, L) (`F.unfold`)."""

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                 stride: Any = 1) -> None:
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, x: Tensor) -> Tensor:
        return S.unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Columns summed back into images, (N, C kh kw, L) -> (N, C, H, W) (`F.fold`)."""

    def __init__(self, output_size: Any, kernel_size: Any, dilation: Any = 1,
                 padding: Any = 0, stride: Any = 1) -> None:
        super().__init__()
        self.output_size, self.kernel_size, self.dilation = output_size, kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, x: Tensor) -> Tensor:
        return S.fold(x, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")


class _PadNd(Module):
    """Pads the last `_n` axes by `padding` (an int for every side, or 2 * _n ints in
    F.pad's order: last axis first)."""

    _n = 1
    _mode = "constant"

    def __init__(self, padding: Any, value: float = 0.0) -> None:
        super().__init__()
        cls = type(self).__name__
        if arguments._is_int(padding):
            padding = (int(padding),) * (2 * self._n)
        padding = tuple(padding)
        if len(padding) != 2 * self._n or not all(arguments._is_int(p) for p in padding):
            raise TypeError(f"{cls}: padding must be an int or {2 * self._n} ints, got "
                            f"{padding!r}")
        self.padding = tuple(int(p) for p in padding)
        self.value = value

    def forward(self, x: Tensor) -> Tensor:
        value = self.value if self._mode == "constant" else None
        return S.pad(x, self.padding, self._mode, value)

    def extra_repr(self) -> str:
        if self._mode == "constant":
            return f"padding={self.padding}, value={self.value}"
        return f"padding={self.padding}"


def _pad_class(name: str, n: int, mode: str, doc: str, takes_value: bool) -> type:
    if takes_value:
        def __init__(self, padding: Any, value: float) -> None:  # noqa: N807
            _PadNd.__init__(self, padding, value)
    else:
        def __init__(self, padding: Any) -> None:  # noqa: N807
            _PadNd.__init__(self, padding, 0.0)
    return type(name, (_PadNd,), {"_n": n, "_mode": mode, "__doc__": doc,
                                  "__init__": __init__, "__module__": __name__})


ZeroPad1d = _pad_class("ZeroPad1d", 1, "constant", "Pads the last axis with zeros.", False)
ZeroPad2d = _pad_class("ZeroPad2d", 2, "constant",
                       "Pads the last two axes with zeros: padding (left, right, top, bottom).",
                       False)
ConstantPad1d = _pad_class("ConstantPad1d", 1, "constant",
                           "Pads the last axis with `value`.", True)
ConstantPad2d = _pad_class("ConstantPad2d", 2, "constant",
                           "Pads the last two axes with `value`.", True)
ReflectionPad1d = _pad_class("ReflectionPad1d", 1, "reflect",
                             "Pads the last axis with its mirror image (edge not repeated).",
                             False)
ReflectionPad2d = _pad_class("ReflectionPad2d", 2, "reflect",
                             "Pads the last two axes with their mirror images.", False)
ReplicationPad1d = _pad_class("ReplicationPad1d", 1, "replicate",
                              "Pads the last axis by repeating its edge values.", False)
ReplicationPad2d = _pad_class("ReplicationPad2d", 2, "replicate",
                              "Pads the last two axes by repeating their edges.", False)
CircularPad1d = _pad_class("CircularPad1d", 1, "circular",
                           "Pads the last axis by wrapping around.", False)
CircularPad2d = _pad_class("CircularPad2d", 2, "circular",
                           "Pads the last two axes by wrapping around.", False)
