"""Normalisation layers: BatchNorm1d, BatchNorm2d, LayerNorm.

The normalisation is a composition of autograd ops (mean, centred square, ``** -0.5``), so it
is differentiable twice. Running statistics are updated in place under no_grad with whole-array
ops: nothing is read back to the host, so they work on device arrays.
"""

from __future__ import annotations

from typing import Any

from autograd.creation import ones, tensor, zeros
from autograd.grad_mode import no_grad
from autograd.inputs import float_input
from autograd.tensor import Tensor

from .. import arguments, init
from .. import functional as F
from ..module import Module
from ..parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


class _NormBase(Module):
    """Shared by the batch, instance and group norms: the affine weight (ones) and bias (zeros)
    per channel, the running statistics, their resets and repr."""

    track_running_stats = False  # (GroupNorm keeps none)

    def _make_affine(self, n: int, affine: bool, device: Any, dtype: Any) -> None:
        self.affine = affine
        if affine:
            self.weight = Parameter(ones(n, dtype=dtype, device=device))
            self.bias = Parameter(zeros(n, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def _make_running_stats(self, n: int, track: bool, device: Any, dtype: Any) -> None:
        self.track_running_stats = track
        if track:
            self.register_buffer("running_mean", zeros(n, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(n, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", tensor(0, dtype="int64", device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, batch count 0."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Resets the running statistics, weight to 1 and bias to 0."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    """Shared by BatchNorm1d/2d: normalises each channel (axis 1) over the other axes."""

    _ndims: tuple = ()
    _layout: str = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        cls = type(self).__name__
        self.num_features = arguments.size(cls, "num_features", num_features)
        self.eps = arguments.number(cls, "eps", eps, low=0.0)
        if momentum is not None:
            momentum = arguments.number(cls, "momentum", momentum, low=0.0, high=1.0)
        self.momentum = momentum
        self._make_affine(self.num_features, affine, device, dtype)
        self._make_running_stats(self.num_features, track_running_stats, device, dtype)

    def forward(self, x: Tensor) -> Tensor:
        weight = self.weight  # (read once: parameters are found by Module.__getattr__)
        x = float_input(type(self).__name__, x,
                        weight if weight is not None else self.running_mean)
        if x.ndim not in self._ndims:
            raise ValueError(
                f"{type(self).__name__}: expected a {self._layout} input, got shape {x.shape}"
            )
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}: expected {self.num_features} channels on axis 1, "
                f"got input of shape {x.shape}"
            )
        momentum: Any = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked += 1
                if self.momentum is None:
                    # Cumulative average: factor 1/n as a 0-d tensor (no read to the host).
                    momentum = 1.0 / self.num_batches_tracked.astype(self.running_mean.dtype)
        # Batch statistics in training, and in eval when no running statistics are kept.
        use_batch = self.training or self.running_mean is None
        keep = not self.training or self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean if keep else None,
            self.running_var if keep else None,
            weight,
            self.bias,
            training=use_batch,
            momentum=momentum,
            eps=self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel C.

    Training: normalises with the batch mean and (biased) variance over N (and L), and updates
    ``running_mean`` / ``running_var`` (unbiased) with `momentum` (None: cumulative average).
    Eval: uses the running statistics. Then ``y * weight + bias`` when `affine`.

        >>> bn = nn.BatchNorm1d(16)
        >>> y = bn(ag.randn(32, 16))     # training mode: batch statistics
        >>> bn.eval(); y = bn(x)         # running statistics
    """

    _ndims = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs, per channel C (see BatchNorm1d)."""

    _ndims = (4,)
    _layout = "(N, C, H, W)"


class LayerNorm(Module):
    """Normalises over the trailing `normalized_shape` axes of each sample, then scales.

    Args:
        normalized_shape: an int or a tuple: the trailing shape to normalise over.
        eps: added to the variance.
        elementwise_affine: learn a `weight` (ones) and a `bias` (zeros) of that shape.
        bias: with `elementwise_affine`, whether to learn the bias.

        >>> ln = nn.LayerNorm(64)
        >>> ln(ag.randn(8, 10, 64)).shape
        (8, 10, 64)
    """

    def __init__(
        self,
        normalized_shape: int | tuple,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.normalized_shape = arguments.shape("LayerNorm", "normalized_shape", normalized_shape)
        self.eps = arguments.number("LayerNorm", "eps", eps, low=0.0)
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(zeros(self.normalized_shape, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """Weight to 1, bias to 0."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
