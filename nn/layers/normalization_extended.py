"""More normalisation layers (PyTorch's names and arguments): GroupNorm, InstanceNorm1d/2d,
RMSNorm and LocalResponseNorm, over the functions of `nn.functional_norm`."""

from __future__ import annotations

from typing import Any

from autograd.creation import ones
from autograd.grad_mode import no_grad
from autograd.inputs import float_input
from autograd.tensor import Tensor

from .. import arguments, init
from .. import functional_norm as N
from ..module import Module
from ..parameter import Parameter
from .normalization import _NormBase

__all__ = ["GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "RMSNorm", "LocalResponseNorm"]


class GroupNorm(_NormBase):
    """Normalises groups of channels of each sample (`F.group_norm`), then an affine map
    per channel.

    Args:
        num_groups: must divide num_channels. eps: added to the variance.
        affine: learn `weight` (ones) and `bias` (zeros) of shape (num_channels,).

        >>> nn.GroupNorm(4, 16)(ag.randn(2, 16, 8, 8)).shape
        (2, 16, 8, 8)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.num_groups = arguments.size("GroupNorm", "num_groups", num_groups, minimum=1)
        self.num_channels = arguments.size("GroupNorm", "num_channels", num_channels)
        if self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.eps = arguments.number("GroupNorm", "eps", eps, low=0.0)
        self._make_affine(self.num_channels, affine, device, dtype)

    def forward(self, x: Tensor) -> Tensor:
        x = float_input("GroupNorm", x, self.weight)
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected {self.num_channels} channels on axis 1, got "
                             f"input of shape {x.shape}")
        return N.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class _InstanceNorm(_NormBase):
    """Shared by InstanceNorm1d/2d: per-instance, per-channel normalisation; unbatched
    inputs (one axis fewer) are taken as a batch of one."""

    _spatial = 1

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        cls = type(self).__name__
        self.num_features = arguments.size(cls, "num_features", num_features)
        self.eps = arguments.number(cls, "eps", eps, low=0.0)
        self.momentum = arguments.number(cls, "momentum", 0.1 if momentum is None
                                         else momentum, low=0.0, high=1.0)
        dtype = dtype
        self._make_affine(self.num_features, affine, device, dtype)
        self._make_running_stats(self.num_features, track_running_stats, device, dtype)

    def forward(self, x: Tensor) -> Tensor:
        cls = type(self).__name__
        like = self.weight if self.weight is not None else self.running_mean
        x = float_input(cls, x, like)
        batched = 2 + self._spatial
        if x.ndim not in (batched, batched - 1):
            raise ValueError(f"{cls}: expected a {batched}-d (batched) or {batched - 1}-d "
                             f"input, got shape {x.shape}")
        single = x.ndim == batched - 1
        if single:
            x = x.expand_dims(0)
        if x.shape[1] != self.num_features:
            raise ValueError(f"{cls}: expected {self.num_features} channels, got input of "
                             f"shape {x.shape}")
        use_input_stats = self.training or not self.track_running_stats
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked += 1
        y = N.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_input_stats, self.momentum, self.eps)
        return y.squeeze(0) if single else y


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) (or unbatched (C, L)) inputs: each channel of
    each sample over L. PyTorch's defaults: ``affine=False``, ``track_running_stats=False``;
    with running statistics, eval mode normalises with them."""

    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) (or unbatched (C, H, W)) inputs: each channel
    of each sample over H and W (style transfer, GAN generators).

        >>> nn.InstanceNorm2d(3, affine=True)(ag.randn(2, 3, 8, 8)).shape
        (2, 3, 8, 8)
    """

    _spatial = 2


class RMSNorm(Module):
    """``x / sqrt(mean(x^2) + eps) * weight`` over the trailing `normalized_shape` axes.

    Args:
        normalized_shape: an int or a tuple. eps: None is the dtype's machine epsilon.
        elementwise_affine: learn a `weight` (ones) of that shape.

        >>> nn.RMSNorm(64)(ag.randn(4, 10, 64)).shape
        (4, 10, 64)
    """

    def __init__(self, normalized_shape: Any, eps: float | None = None,
                 elementwise_affine: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.normalized_shape = arguments.shape("RMSNorm", "normalized_shape", normalized_shape)
        self.eps = None if eps is None else arguments.number("RMSNorm", "eps", eps, low=0.0)
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, dtype=dtype,
                                         device=device))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self) -> None:
        """Weight to 1."""
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        return N.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class LocalResponseNorm(Module):
    """Normalises each channel by the squares of its `size` neighbouring channels
    (`F.local_response_norm`, AlexNet's LRN)."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1.0) -> None:
        super().__init__()
        self.size = arguments.size("LocalResponseNorm", "size", size, minimum=1)
        self.alpha = arguments.number("LocalResponseNorm", "alpha", alpha)
        self.beta = arguments.number("LocalResponseNorm", "beta", beta)
        self.k = arguments.number("LocalResponseNorm", "k", k)

    def forward(self, x: Tensor) -> Tensor:
        return N.local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
