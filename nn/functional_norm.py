"""Normalisation functions beyond batch/layer norm (PyTorch's): group_norm, instance_norm,
rms_norm, local_response_norm, and normalize. `nn.functional` re-exports them.

Compositions of autograd ops (mean, centred square, ``** -0.5``, pooling), so differentiable
twice; running statistics are updated in place under no_grad with whole-array ops (no read
back to the host), as batch_norm does.
"""

from __future__ import annotations

from typing import Any

from autograd.autocast_policy import float32_inputs
from autograd.grad_mode import no_grad
from autograd.inputs import float_input, tensor_input
from autograd.ops import norms as _norms
from autograd.ops.clamping import clamp_min
from autograd.ops.pooling import avg_pool2d
from autograd.tensor import Tensor

from . import arguments
from .functional_spatial import pad as _pad

__all__ = ["group_norm", "instance_norm", "rms_norm", "local_response_norm", "normalize"]


def _normalized(x: Tensor, axes: tuple, eps: float) -> tuple:
    """(x - mean) / sqrt(var + eps) over `axes` (biased variance), with mean and var."""
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=axes, keepdims=True)
    return centred * (var + eps) ** -0.5, mean, var


def _affine(op: str, y: Tensor, weight: Any, bias: Any, channels: int) -> Tensor:
    """y * weight + bias with per-channel (axis 1) parameters of shape (C,)."""
    shape = (1, channels) + (1,) * (y.ndim - 2)
    for name, p in (("weight", weight), ("bias", bias)):
        if p is None:
            continue
        p = tensor_input(op, p, like=y, floating=True, name=name)
        if tuple(p.shape) != (channels,):
            raise ValueError(f"{op}: {name} must have shape ({channels},), got {p.shape}")
        y = y * p.reshape(shape) if name == "weight" else y + p.reshape(shape)
    return y


@float32_inputs  # autocast: in float32 (PyTorch's list)
def group_norm(input: Any, num_groups: int, weight: Any = None, bias: Any = None,  # noqa: A002
               eps: float = 1e-5) -> Tensor:
    """Normalises each group of ``C / num_groups`` channels of each sample (over those
    channels and all spatial positions), then scales per channel (PyTorch's ``group_norm``).

    Args:
        input: (N, C, *); num_groups must divide C. weight, bias: optional (C,).
    """
    op = "group_norm"
    x = float_input(op, input)
    groups = arguments.size(op, "num_groups", num_groups, minimum=1)
    if x.ndim < 2 or x.shape[1] % groups:
        raise ValueError(f"{op}: expected an input (N, C, *) with C divisible by num_groups="
                         f"{groups}, got shape {x.shape}")
    n, c = x.shape[:2]
    rest = 1
    for v in x.shape[2:]:
        rest *= v
    grouped = x.reshape(n, groups, (c // groups) * rest)
    y, _, _ = _normalized(grouped, (2,), eps)
    return _affine(op, y.reshape(x.shape), weight, bias, c)


def instance_norm(input: Any, running_mean: Tensor | None = None,  # noqa: A002
                  running_var: Tensor | None = None, weight: Any = None, bias: Any = None,
                  use_input_stats: bool = True, momentum: float = 0.1,
                  eps: float = 1e-5) -> Tensor:
    """Normalises each channel of each sample over its spatial positions (PyTorch's
    ``instance_norm``), then scales per channel.

    With `use_input_stats` the statistics are each instance's own, and given running
    buffers (C,) are updated in place: ``running = (1 - momentum) running + momentum *
    (the batch mean of the instances' means / unbiased variances)``. Without it the running
    statistics normalise.
    """
    op = "instance_norm"
    x = float_input(op, input)
    if x.ndim < 3:
        raise ValueError(f"{op}: expected an input (N, C, *) with spatial axes, got {x.shape}")
    c = x.shape[1]
    axes = tuple(range(2, x.ndim))
    stat_shape = (1, c) + (1,) * (x.ndim - 2)
    if use_input_stats:
        y, mean, var = _normalized(x, axes, eps)
        if running_mean is not None and running_var is not None:
            count = x.size // (x.shape[0] * c) if x.shape[0] * c else 0
            with no_grad():
                batch_mean = mean.detach().mean(axis=0).reshape(c)
                unbiased = var.detach() * (count / max(count - 1, 1))
                batch_var = unbiased.mean(axis=0).reshape(c)
                running_mean.copy_(running_mean + (batch_mean - running_mean) * momentum)
                running_var.copy_(running_var + (batch_var - running_var) * momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(f"{op}: use_input_stats=False needs running_mean and running_var")
        y = (x - running_mean.reshape(stat_shape)) * (running_var.reshape(stat_shape)
                                                      + eps) ** -0.5
    return _affine(op, y, weight, bias, c)


@float32_inputs  # autocast: in float32 (PyTorch's list)
def rms_norm(input: Any, normalized_shape: Any, weight: Any = None,  # noqa: A002
             eps: float | None = None) -> Tensor:
    """``x / sqrt(mean(x^2) + eps) * weight`` over the trailing `normalized_shape` axes
    (PyTorch's ``rms_norm``); `eps` None is the dtype's machine epsilon."""
    op = "rms_norm"
    x = float_input(op, input)
    shape = arguments.shape(op, "normalized_shape", normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != shape:
        raise ValueError(f"{op}: input of shape {x.shape} does not end in normalized_shape "
                         f"{shape}")
    if eps is None:
        eps = float(x.xp.finfo(x.dtype).eps)
    axes = tuple(range(x.ndim - k, x.ndim))
    y = x * ((x * x).mean(axis=axes, keepdims=True) + eps) ** -0.5
    if weight is not None:
        w = tensor_input(op, weight, like=x, floating=True, name="weight")
        if tuple(w.shape) != shape:
            raise ValueError(f"{op}: weight must have shape {shape}, got {w.shape}")
        y = y * w
    return y


def local_response_norm(input: Any, size: int, alpha: float = 1e-4,  # noqa: A002
                        beta: float = 0.75, k: float = 1.0) -> Tensor:
    """``x / (k + alpha / size * sum of x^2 over `size` neighbouring channels) ^ beta``
    (PyTorch's ``local_response_norm``: the window is zero-padded, ``size // 2`` channels
    before and ``(size - 1) // 2`` after)."""
    op = "local_response_norm"
    x = float_input(op, input)
    size = arguments.size(op, "size", size, minimum=1)
    if x.ndim < 3:
        raise ValueError(f"{op}: expected an input (N, C, *) with at least 3 axes, got "
                         f"{x.shape}")
    n, c = x.shape[:2]
    rest = 1
    for v in x.shape[2:]:
        rest *= v
    squares = (x * x).reshape(n, 1, c, rest)
    squares = _pad(squares, (0, 0, size // 2, (size - 1) // 2))
    mean = avg_pool2d(squares, (size, 1), stride=1).reshape(x.shape)
    return x * (mean * alpha + k) ** -beta


@float32_inputs  # autocast: in float32 (PyTorch's list)
def normalize(input: Any, p: float = 2.0, dim: int = 1, eps: float = 1e-12,  # noqa: A002
              out: Any = None) -> Tensor:
    """``x / max(||x||_p, eps)`` along `dim` (PyTorch's ``F.normalize``); where the norm is
    below eps the divisor is the constant eps."""
    op = "normalize"
    if out is not None:
        raise TypeError(f"{op}: out= is not supported; use the returned tensor")
    x = float_input(op, input)
    arguments.axis(op, "dim", dim)
    norm = _norms.vector_norm(x, p, axis=dim, keepdims=True)
    return x / clamp_min(norm, eps)
