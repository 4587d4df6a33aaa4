"""Functional forms of the layers (``import nn.functional as F``), PyTorch's names and arguments.

Everything here is a composition of autograd ops, so it is differentiable (twice, too) on every
backend. The modules in `nn.layers` hold parameters and call these functions.

    >>> import nn.functional as F
    >>> y = F.relu(F.linear(x, w, b))
    >>> y = F.dropout(y, p=0.2, training=True)
"""

from __future__ import annotations

import warnings
from typing import Any

from autograd.autocast_policy import float32_inputs, float32_inside
from autograd.grad_mode import no_grad
from autograd.inputs import _BOOL, float_input, tensor_input
from autograd.ops import activation as _activation
from autograd.ops import linalg as _linalg
from autograd.ops import unary as _unary
from autograd.ops.arithmetic import where
from autograd.ops.layer_norm import layer_norm as _layer_norm
from autograd.tensor import Tensor

from . import arguments
from .device_scope import scope_functions

__all__ = [
    "linear", "dropout", "batch_norm", "layer_norm", "embedding",
    "relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softplus", "softmax",
    "log_softmax",
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d",
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "max_unpool1d",
    "max_unpool2d",
    "mse_loss", "l1_loss", "huber_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "scaled_dot_product_attention",
]


# Every function takes what ag.tensor accepts where it takes a tensor (nested lists, numbers,
# arrays): `tensor_input` converts it once at the entry (`float_input` where a floating input is
# needed: a floating Tensor passes after three cheap tests) and raises, naming the function,
# for anything else.


def _pick_axis(name: str, dim: Any, axis: Any, ndim: int, stacklevel: int) -> Any:
    """PyTorch's `dim` (alias `axis`; not both); where neither is given, PyTorch's implicit
    choice, with its deprecation warning: dim 0 for 0-, 1- and 3-d input, else dim 1."""
    if dim is not None and axis is not None:
        raise TypeError(f"{name}: give dim or axis, not both")
    if dim is None and axis is None:
        warnings.warn(
            f"Implicit dimension choice for {name} has been deprecated. Change the call to "
            "include dim=X as an argument.", UserWarning, stacklevel=stacklevel,
        )
        return 0 if ndim in (0, 1, 3) else 1
    return arguments.axis(name, "dim", dim if dim is not None else axis)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
            dtype: Any = None, *, axis: int | None = None) -> Tensor:
    """Softmax over `dim` (alias `axis`): each slice sums to 1. Without a dim, PyTorch's
    deprecated implicit choice (dim 0 for 0-, 1- and 3-d input, else 1) with its warning."""
    input = float_input("softmax", input)  # noqa: A001
    dim = _pick_axis("softmax", dim, axis, input.ndim, _stacklevel)
    return input.softmax(dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
                dtype: Any = None, *, axis: int | None = None) -> Tensor:
    """Log of the softmax over `dim` (alias `axis`), computed stably; without a dim, PyTorch's
    implicit choice and warning, as `softmax`."""
    input = float_input("log_softmax", input)  # noqa: A001
    dim = _pick_axis("log_softmax", dim, axis, input.ndim, _stacklevel)
    return input.log_softmax(dim, dtype)


# -- activations: the autograd ops, behind the conversion of their input -----------------------
def relu(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise ``max(x, 0)`` (gradient 0 at 0); integer tensors stay integer."""
    if input.__class__ is not Tensor or input.array.dtype is _BOOL:  # the usual case passes
        input = tensor_input("relu", input, allow_bool=False)  # noqa: A001
    return _activation.relu(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:  # noqa: A002
    """`x` where positive, ``negative_slope * x`` elsewhere (gradient `negative_slope` at 0)."""
    slope = arguments.number("leaky_relu", "negative_slope", negative_slope)
    return _activation.leaky_relu(float_input("leaky_relu", input), slope)


def elu(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """`x` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    alpha = arguments.number("elu", "alpha", alpha)
    return _activation.elu(float_input("elu", input), alpha)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """``x * Phi(x)``; ``approximate="tanh"`` uses the tanh approximation."""
    return _activation.gelu(float_input("gelu", input), approximate)


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """``1 / (1 + exp(-x))`` elementwise, stable for large ``|x|``."""
    return _activation.sigmoid(float_input("sigmoid", input))


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """Elementwise hyperbolic tangent."""
    return _unary.tanh(float_input("tanh", input))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """``log(1 + exp(beta x)) / beta``; `x` itself where ``beta x > threshold``."""
    beta = arguments.number("softplus", "beta", beta, low=0.0, low_open=True)
    threshold = arguments.number("softplus", "threshold", threshold)
    return _activation.softplus(float_input("softplus", input), beta, threshold)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """``input @ weight.T + bias``; `weight` has shape (out_features, in_features).

    The fused op checks the shapes (an error names both).
    """
    weight = tensor_input("linear", weight, floating=True, name="weight")
    if bias is not None:
        bias = tensor_input("linear", bias, like=weight, floating=True, name="bias")
    return _linalg.linear(float_input("linear", input, weight), weight, bias)


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:  # noqa: A002
    """Inverted dropout: zeroes each element with probability `p`, scales the rest by 1/(1-p).

    The identity when not `training` or ``p == 0``. The mask is drawn from the input's backend
    generator (``ag.manual_seed`` reproduces it).
    """
    p = arguments.number("dropout", "p", p, low=0.0, high=1.0)
    input = float_input("dropout", input)  # noqa: A001
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    backend = input.backend
    with backend.device_scope():  # raw array operators run on the current device (cuda:N)
        keep = backend.uniform(0.0, 1.0, input.shape, input.dtype) >= p
        scale = keep.astype(input.dtype) * (1.0 / (1.0 - p))
    return input * Tensor._make(scale, backend)


def _normalize(x: Tensor, axes: tuple, eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """(x - mean) / sqrt(var + eps) over `axes`, with the (biased) mean and var kept."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    return centered * (var + eps) ** -0.5, mean, var


@float32_inside  # float32 statistics, output in the input's dtype (PyTorch's autocast)
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
    like = weight if isinstance(weight, Tensor) else running_mean
    like = like if isinstance(like, Tensor) else None
    input = tensor_input("batch_norm", input, like=like, floating=True)  # noqa: A001
    running_mean, running_var, weight, bias = (
        None if t is None else tensor_input("batch_norm", t, like=input, floating=True,
                                            name=name, like_name="the input")
        for t, name in ((running_mean, "running_mean"), (running_var, "running_var"),
                        (weight, "weight"), (bias, "bias")))
    eps = arguments.number("batch_norm", "eps", eps, low=0.0)
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, ...), got {input.shape}")
    channels = input.shape[1]
    axes = (0, *range(2, input.ndim))
    stat_shape = (1, channels) + (1,) * (input.ndim - 2)
    if training or running_mean is None or running_var is None:
        count = input.numel() // channels if channels else 0
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


@float32_inputs  # autocast: in float32 (PyTorch's list)
def layer_norm(
    input: Tensor,  # noqa: A002
    normalized_shape: int | tuple,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalises over the trailing `normalized_shape` axes (biased variance), then scales."""
    like = weight if isinstance(weight, Tensor) else None
    input = tensor_input("layer_norm", input, like=like, floating=True)  # noqa: A001
    weight, bias = (
        None if t is None else tensor_input("layer_norm", t, like=input, floating=True,
                                            name=name, like_name="the input")
        for t, name in ((weight, "weight"), (bias, "bias")))
    eps = arguments.number("layer_norm", "eps", eps, low=0.0)
    shape = arguments.shape("layer_norm", "normalized_shape", normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or input.shape[input.ndim - k:] != shape:
        raise ValueError(
            f"layer_norm: input of shape {input.shape} does not end in normalized_shape {shape}"
        )
    return _layer_norm(input, k, weight, bias, eps)  # one fused op (autograd/ops/layer_norm.py)


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:  # noqa: A002
    """Rows of `weight` picked by the integer indices `input`: shape ``input.shape + (dim,)``.

    Repeated indices accumulate their gradients into the same row. The row at `padding_idx`
    gets no gradient (it is returned as a constant). An index outside
    ``[0, num_embeddings)`` raises IndexError, as in PyTorch (negative indices do not count
    from the end); see `check_indices` for how this is checked on a device.
    """
    weight = tensor_input("embedding", weight, floating=True, name="weight")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got "
                         f"shape {weight.shape}")
    index = input if isinstance(input, Tensor) else tensor_input(
        "embedding", input, like=weight, name="indices")
    if index.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {index.dtype}")
    if index.backend is not weight.backend:
        raise RuntimeError(
            f"embedding: indices on {index.device} and weight on {weight.device}; move them to "
            "the same device"
        )
    index, bad = check_indices("embedding", index, weight.shape[0], "num_embeddings")
    out = weight[index]
    if bad is not None:
        # A device: rows of out-of-range indices become NaN (no read back; see check_indices).
        out = where(Tensor._make(bad[..., None], weight.backend), float("nan"), out)
    if padding_idx is not None:
        padding_idx = arguments.axis("embedding", "padding_idx", padding_idx)
        if not -weight.shape[0] <= padding_idx < weight.shape[0]:
            raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for "
                             f"num_embeddings={weight.shape[0]}")
        if padding_idx < 0:
            padding_idx += weight.shape[0]
        is_pad = Tensor._make((index.array == padding_idx)[..., None], weight.backend)
        out = where(is_pad, out.detach(), out)
    return out


def check_indices(op: str, index: Tensor, n: int, what: str) -> tuple[Tensor, Any]:
    """Checks that integer `index` lies in ``[0, n)``; returns ``(index to use, bad mask)``.

    On the host this is a min/max over the indices (no copy); an index out of range raises
    IndexError naming it and `n`, and the mask is None. On a device the check would read device
    memory on every step (a synchronisation), so nothing is read back: out-of-range indices are
    replaced by 0 and their mask is returned, for the caller to turn their results into NaN
    (the same contract as cross_entropy's targets). This is the hook for device-side index
    assertions (issue 17): a kernel that traps on a bad index can replace the device branch.
    """
    a = index.array
    if not index.backend.is_device:
        if a.size and (a.min() < 0 or a.max() >= n):
            wrong = a[(a < 0) | (a >= n)].reshape(-1)[0]
            raise IndexError(
                f"{op}: index {int(wrong)} is out of range for {what}={n} (indices shape "
                f"{tuple(a.shape)}); indices must be in [0, {n})"
            )
        return index, None
    xp = index.xp
    bad = (a < 0) | (a >= n)
    return Tensor._make(xp.where(bad, 0, a), index.backend), bad


# -- convolution, pooling, attention and losses live with their ops; F re-exports them -------
# Raw array operators inside these run on the current device: on cuda:N, run them there.
scope_functions(globals(), __all__)

from autograd.ops.attention import scaled_dot_product_attention  # noqa: E402
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

# -- issue 16's toolbox: resampling, more activations, normalisation, losses ------------------
from .functional_spatial import (  # noqa: E402
    fold,
    interpolate,
    pad,
    pixel_shuffle,
    pixel_unshuffle,
    unfold,
    upsample,
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

__all__ += [
    "interpolate", "upsample", "pixel_shuffle", "pixel_unshuffle", "unfold", "fold", "pad",
]

from .functional_activation import (  # noqa: E402
    celu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    logsigmoid,
    mish,
    prelu,
    relu6,
    selu,
    silu,
    softmin,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
)

__all__ += [
    "silu", "mish", "selu", "celu", "hardtanh", "relu6", "hardsigmoid", "hardswish",
    "logsigmoid", "softsign", "tanhshrink", "softshrink", "hardshrink", "threshold", "softmin",
    "prelu", "glu",
]

from .functional_norm import (  # noqa: E402
    group_norm,
    instance_norm,
    local_response_norm,
    normalize,
    rms_norm,
)

__all__ += ["group_norm", "instance_norm", "rms_norm", "local_response_norm", "normalize"]

from .functional_vectors import (  # noqa: E402
    alpha_dropout,
    bilinear,
    cosine_similarity,
    dropout1d,
    dropout2d,
    dropout3d,
    feature_alpha_dropout,
    one_hot,
    pairwise_distance,
)

__all__ += [
    "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
    "bilinear", "cosine_similarity", "pairwise_distance", "one_hot",
]

from .losses_extended import (  # noqa: E402
    cosine_embedding_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    kl_div,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    smooth_l1_loss,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)

__all__ += [
    "smooth_l1_loss", "kl_div", "cosine_embedding_loss", "margin_ranking_loss",
    "triplet_margin_loss", "triplet_margin_with_distance_loss", "hinge_embedding_loss",
    "soft_margin_loss", "multilabel_soft_margin_loss", "poisson_nll_loss",
    "gaussian_nll_loss", "multi_margin_loss",
]
