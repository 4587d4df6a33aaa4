"""Residual blocks (He et al. 2015, "basic" block) and a small ResNet for images."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from autograd.ops.activation import relu
from autograd.tensor import Tensor

from ..containers import Sequential
from ..module import Module
from .basic import Flatten, Linear
from .conv import Conv2d
from .normalization import BatchNorm2d
from .pooling import AdaptiveAvgPool2d

__all__ = ["ResidualBlock", "ResNet"]


class ResidualBlock(Module):
    """``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`` with 3x3 convolutions.

    The shortcut is the identity, or a 1x1 conv (stride `stride`) + BatchNorm when the
    channels or the resolution change. Convs have no bias (BatchNorm follows each).

    Args:
        in_channels, out_channels: channels in and out.
        stride: stride of the first 3x3 conv (2 halves the resolution).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.conv1 = Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False, **kw)
        self.bn1 = BatchNorm2d(out_channels, **kw)
        self.conv2 = Conv2d(out_channels, out_channels, 3, 1, padding=1, bias=False, **kw)
        self.bn2 = BatchNorm2d(out_channels, **kw)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = Sequential(
                Conv2d(in_channels, out_channels, 1, stride, bias=False, **kw),
                BatchNorm2d(out_channels, **kw),
            )
        else:
            self.shortcut = None

    def forward(self, x: Tensor) -> Tensor:
        y = relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return relu(y + (x if self.shortcut is None else self.shortcut(x)))


class ResNet(Module):
    """A small ResNet: stem conv3x3-BN-ReLU, one stage per width, global average pool, linear.

    Stage i has `blocks_per_stage` ResidualBlocks with ``widths[i]`` channels; every stage
    after the first starts with stride 2.

    Args:
        in_channels: image channels (1 for grayscale).
        num_classes: outputs (logits).
        widths: channels per stage.
        blocks_per_stage: residual blocks per stage.

        >>> model = nn.ResNet(in_channels=1, num_classes=10)       # for 8x8 digits or MNIST
        >>> model(ag.randn(4, 1, 28, 28)).shape
        (4, 10)
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10,
                 widths: Sequence[int] = (16, 32), blocks_per_stage: int = 1,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if not widths or blocks_per_stage < 1:
            raise ValueError(f"ResNet: need at least one stage and one block per stage, got "
                             f"widths={widths!r}, blocks_per_stage={blocks_per_stage}")
        kw = {"device": device, "dtype": dtype}
        self.stem = Sequential(
            Conv2d(in_channels, widths[0], 3, padding=1, bias=False, **kw),
            BatchNorm2d(widths[0], **kw),
        )
        blocks = []
        channels = widths[0]
        for i, width in enumerate(widths):
            for j in range(blocks_per_stage):
                stride = 2 if i > 0 and j == 0 else 1
                blocks.append(ResidualBlock(channels, width, stride, **kw))
                channels = width
        self.stages = Sequential(*blocks)
        self.pool = AdaptiveAvgPool2d(1)
        self.flatten = Flatten()
        self.fc = Linear(channels, num_classes, **kw)

    def forward(self, x: Tensor) -> Tensor:
        x = self.stages(relu(self.stem(x)))
        return self.fc(self.flatten(self.pool(x)))
