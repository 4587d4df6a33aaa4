"""Functional forms of the layers (``import nn.functional as F``), PyTorch's names and arguments.

Everything here is a composition of autograd ops, so it is differentiable (twice, too) on every
backend. The modules in `nn.layers` hold parameters and call these functions.

    >>> import nn.functional as F
    >>> y = F.relu(F.linear(x, w, b))
    >>> y = F.dropout(y, p=0.2, training=True)
"""

from __future__ import annotations

from typing import Any

from autograd.grad_mode import no_grad
from autograd.ops import linalg as _linalg
from autograd.ops.activation import elu, gelu, leaky_relu, relu, sigmoid, softplus
from autograd.ops.arithmetic import where
from autograd.ops.unary import tanh
from autograd.tensor import Tensor

__all__ = [
    "linear", "dropout", "batch_norm", "layer_norm", "embedding",
    "relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softplus", "softmax",
    "log_softmax",
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d",
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "max_unpool1d",
    "max_unpool2d",
    "mse_loss", "l1_loss", "huber_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
]


def _pick_axis(name: str, dim: Any, axis: Any, default: Any = None) -> Any:
    """PyTorch's `dim` and NumPy's `axis` name the same argument; accept either, not both."""
    if dim is not None and axis is not None:
        raise TypeError(f"{name}: give dim or axis, not both")
    if dim is None and axis is None:
        if default is None:
            raise TypeError(f"{name}: missing the axis to normalise over (dim=...)")
        return default
    return dim if dim is not None else axis


def softmax(input: Tensor, dim: int | None = None, axis: int | None = None) -> Tensor:  # noqa: A002
    """Softmax over `dim` (alias `axis`): each slice sums to 1."""
    return input.softmax(_pick_axis("softmax", dim, axis))


def log_softmax(input: Tensor, dim: int | None = None, axis: int | None = None) -> Tensor:  # noqa: A002
    """Log of the softmax over `dim` (alias `axis`), computed stably."""
    return input.log_softmax(_pick_axis("log_softmax", dim, axis))


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input @ weight.T + bias``; `weight` has shape (out_features, in_features).

    The fused op checks the shapes (an error names both).
    """
    return _linalg.linear(input, weight, bias)


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:  # noqa: A002
    """Inverted dropout: zeroes each element with probability `p`, scales the rest by 1/(1-p).

    The identity when not `training` or ``p == 0``. The mask is drawn from the input's backend
    generator (``ag.manual_seed`` reproduces it).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    backend = input.backend
    keep = backend.uniform(0.0, 1.0, input.shape, input.dtype) >= p
    scale = keep.astype(input.dtype) * (1.0 / (1.0 - p))
    return input * Tensor._make(scale, backend)


def _normalize(x: Tensor, axes: tuple, eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """(x - mean) / sqrt(var + eps) over `axes`, with the (biased) mean and var kept."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    return centered * (var + eps) ** -0.5, mean, var


def batch_norm(
    input: Tensor,  # noqa: A002
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float | Tensor = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation over every axis but the channel axis 1: (N, C), (N, C, L), (N, C, H, W).

    Training (or no running statistics): normalises with the batch mean and biased variance,
    and, where running buffers are given, updates them in place (not recorded) with
    ``running = (1 - momentum) * running + momentum * batch`` using the unbiased variance.
    Evaluation: normalises with the running statistics. `momentum` may be a 0-d tensor (the
    cumulative average BatchNorm uses for ``momentum=None``).
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, ...), got {input.shape}")
    channels = input.shape[1]
    axes = (0, *range(2, input.ndim))
    stat_shape = (1, channels) + (1,) * (input.ndim - 2)
    if training or running_mean is None or running_var is None:
        count = input.size // channels if channels else 0
        if training and count <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input "
                f"of shape {input.shape}"
            )
        y, mean, var = _normalize(input, axes, eps)
        if training and running_mean is not None and running_var is not None:
            with no_grad():
                unbiased = var.detach().reshape(channels) * (count / (count - 1))
                running_mean.copy_(
                    running_mean + (mean.detach().reshape(channels) - running_mean) * momentum
                )
                running_var.copy_(running_var + (unbiased - running_var) * momentum)
    else:
        y = (input - running_mean.reshape(stat_shape)) * (
            running_var.reshape(stat_shape) + eps
        ) ** -0.5
    if weight is not None:
        y = y * weight.reshape(stat_shape)
    if bias is not None:
        y = y + bias.reshape(stat_shape)
    return y


def layer_norm(
    input: Tensor,  # noqa: A002
    normalized_shape: int | tuple,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalises over the trailing `normalized_shape` axes (biased variance), then scales."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or input.shape[input.ndim - k:] != shape:
        raise ValueError(
            f"layer_norm: input of shape {input.shape} does not end in normalized_shape {shape}"
        )
    y, _, _ = _normalize(input, tuple(range(input.ndim - k, input.ndim)), eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:  # noqa: A002
    """Rows of `weight` picked by the integer indices `input`: shape ``input.shape + (dim,)``.

    Repeated indices accumulate their gradients into the same row. The row at `padding_idx`
    gets no gradient (it is returned as a constant).
    """
    index = input if isinstance(input, Tensor) else Tensor(input, device=weight.backend)
    if index.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {index.dtype}")
    if index.backend is not weight.backend:
        raise RuntimeError(
            f"embedding: indices on {index.device} and weight on {weight.device}; move them to "
            "the same device"
        )
    out = weight[index]
    if padding_idx is not None:
        if padding_idx < 0:
            padding_idx += weight.shape[0]
        is_pad = Tensor._make((index.array == padding_idx)[..., None], weight.backend)
        out = where(is_pad, out.detach(), out)
    return out


# -- convolution, pooling and losses live with their ops; F re-exports them ------------------
from autograd.ops.conv import conv1d, conv2d  # noqa: E402
from autograd.ops.conv_transpose import conv_transpose1d, conv_transpose2d  # noqa: E402
from autograd.ops.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d  # noqa: E402
from autograd.ops.pooling_variants import (  # noqa: E402
    adaptive_avg_pool1d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    max_pool1d,
    max_unpool1d,
    max_unpool2d,
)

from .losses import (  # noqa: E402
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
)
