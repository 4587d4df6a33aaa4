"""Functions of feature vectors and labels (PyTorch's): channel dropouts, alpha dropout,
bilinear, cosine_similarity, pairwise_distance and one_hot. `nn.functional` re-exports
them. Compositions of autograd ops (differentiable twice), masks drawn from the input's
backend generator (``ag.manual_seed`` reproduces them).
"""

from __future__ import annotations

from typing import Any

from autograd.inputs import float_input, tensor_input
from autograd.ops import norms as _norms
from autograd.ops.clamping import clamp_min
from autograd.ops.layout import Transpose
from autograd.tensor import Tensor

from . import arguments

__all__ = ["dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
           "bilinear", "cosine_similarity", "pairwise_distance", "one_hot"]

#: -selu_scale * selu_alpha: where SELU saturates for large negative inputs.
_SELU_FLOOR = 1.7580993408473766


def _keep_mask(x: Tensor, p: float, shape: tuple) -> Any:
    """A 0/1 array of `shape` (x's dtype): 1 with probability 1 - p."""
    return (x.backend.uniform(0.0, 1.0, shape, x.dtype) >= p).astype(x.dtype)


def _channel_shape(op: str, x: Tensor, spatial: int) -> tuple:
    """The mask shape of a channel dropout: (N, C, 1, ...) for a batched input, (C, 1, ...)
    for an unbatched one (one axis fewer)."""
    if x.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected a {spatial + 2}-d (batched) or {spatial + 1}-d "
                         f"(unbatched) input, got shape {x.shape}")
    lead = x.ndim - spatial
    return tuple(x.shape[:lead]) + (1,) * spatial


def _channel_dropout(op: str, input: Any, p: float, training: bool, spatial: int) -> Tensor:  # noqa: A002
    p = arguments.number(op, "p", p, low=0.0, high=1.0)
    x = float_input(op, input)
    shape = _channel_shape(op, x, spatial)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    scale = _keep_mask(x, p, shape) * (1.0 / (1.0 - p))
    return x * Tensor._make(scale, x.backend)


def dropout1d(input: Any, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Zeroes whole channels of (N, C, L) or (C, L) inputs with probability `p`, scaling the
    rest by 1/(1-p) (PyTorch's ``dropout1d``); the identity when not training."""
    return _channel_dropout("dropout1d", input, p, training, 1)


def dropout2d(input: Any, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Zeroes whole channels (feature maps) of (N, C, H, W) or (C, H, W) inputs."""
    return _channel_dropout("dropout2d", input, p, training, 2)


def dropout3d(input: Any, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) inputs."""
    return _channel_dropout("dropout3d", input, p, training, 3)


def _alpha(op: str, input: Any, p: float, training: bool, feature: bool) -> Tensor:  # noqa: A002
    p = arguments.number(op, "p", p, low=0.0, high=1.0)
    x = float_input(op, input)
    if not training or p == 0.0 or x.size == 0:
        return x
    if p == 1.0:
        return x * 0.0
    if feature:
        if x.ndim < 2:
            raise ValueError(f"{op}: expected an input (N, C, ...), got shape {x.shape}")
        shape = tuple(x.shape[:2]) + (1,) * (x.ndim - 2)
    else:
        shape = tuple(x.shape)
    keep = _keep_mask(x, p, shape)
    # Dropped units are set to SELU's floor, then an affine map restores mean 0 and
    # variance 1 for standardised inputs (PyTorch's constants).
    a = ((_SELU_FLOOR ** 2 * p + 1.0) * (1.0 - p)) ** -0.5
    shift = (keep - 1.0) * (_SELU_FLOOR * a) + _SELU_FLOOR * a * p
    return x * Tensor._make(keep * a, x.backend) + Tensor._make(shift, x.backend)


def alpha_dropout(input: Any, p: float = 0.5, training: bool = False,  # noqa: A002
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks (PyTorch's ``alpha_dropout``): dropped units take SELU's
    negative saturation value and the result is scaled and shifted so that standardised
    inputs keep mean 0 and variance 1."""
    return _alpha("alpha_dropout", input, p, training, feature=False)


def feature_alpha_dropout(input: Any, p: float = 0.5, training: bool = False,  # noqa: A002
                          inplace: bool = False) -> Tensor:
    """`alpha_dropout` of whole channels (axis 1)."""
    return _alpha("feature_alpha_dropout", input, p, training, feature=True)


def bilinear(input1: Any, input2: Any, weight: Any, bias: Any = None) -> Tensor:
    """``y_k = x1^T W_k x2 + b_k`` (PyTorch's ``bilinear``): x1 (*, in1), x2 (*, in2),
    weight (out, in1, in2), bias (out,); one matrix product and one reduction."""
    op = "bilinear"
    w = tensor_input(op, weight, floating=True, name="weight")
    x1 = tensor_input(op, input1, like=w, floating=True, name="input1")
    x2 = tensor_input(op, input2, like=w, floating=True, name="input2")
    if w.ndim != 3 or x1.ndim < 1 or x2.ndim < 1 or x1.shape[-1] != w.shape[1] or \
            x2.shape[-1] != w.shape[2] or x1.shape[:-1] != x2.shape[:-1]:
        raise ValueError(f"{op}: expected input1 (*, {w.shape[1] if w.ndim == 3 else 'in1'}) "
                         f"and input2 (*, {w.shape[2] if w.ndim == 3 else 'in2'}) with the "
                         f"same leading shape and weight (out, in1, in2); got {x1.shape}, "
                         f"{x2.shape} and {w.shape}")
    out, in1, in2 = w.shape
    rows = Transpose.apply(w, axes=(1, 0, 2)).reshape(in1, out * in2)
    t = (x1 @ rows).reshape(*x1.shape[:-1], out, in2)
    y = (t * x2.expand_dims(-2)).sum(axis=-1)
    if bias is not None:
        b = tensor_input(op, bias, like=w, floating=True, name="bias")
        if tuple(b.shape) != (out,):
            raise ValueError(f"{op}: bias must have shape ({out},), got {b.shape}")
        y = y + b
    return y


def cosine_similarity(x1: Any, x2: Any, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``x1 . x2 / (max(||x1||, eps) max(||x2||, eps))`` along `dim`, after broadcasting
    (PyTorch's ``cosine_similarity``: each norm clamped on its own)."""
    op = "cosine_similarity"
    a = float_input(op, x1)
    b = tensor_input(op, x2, like=a, floating=True, name="x2")
    arguments.axis(op, "dim", dim)
    na = clamp_min(_norms.vector_norm(a, 2, axis=dim, keepdims=True), eps)
    nb = clamp_min(_norms.vector_norm(b, 2, axis=dim, keepdims=True), eps)
    return ((a / na) * (b / nb)).sum(axis=dim)


def pairwise_distance(x1: Any, x2: Any, p: float = 2.0, eps: float = 1e-6,  # noqa: A002
                      keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last axis (PyTorch's ``pairwise_distance``; eps keeps
    the gradient finite where x1 == x2)."""
    op = "pairwise_distance"
    a = float_input(op, x1)
    b = tensor_input(op, x2, like=a, floating=True, name="x2")
    diff = a - b + eps
    if diff.ndim == 0:
        raise ValueError(f"{op}: expected inputs with at least one axis, got {a.shape} and "
                         f"{b.shape}")
    return _norms.vector_norm(diff, p, axis=-1, keepdims=keepdim)


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """(*,) integer labels -> (*, num_classes) int64 one-hot rows (PyTorch's ``one_hot``);
    ``num_classes=-1`` takes the largest label + 1 (a read of the labels). Not
    differentiable (an integer result)."""
    op = "one_hot"
    t = tensor_input(op, tensor)
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected integer class values, got dtype {t.dtype}")
    xp = t.xp
    labels = t.array
    if num_classes == -1:
        if labels.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor; give it")
        num_classes = int(labels.max()) + 1
    num_classes = arguments.size(op, "num_classes", num_classes)
    if not t.backend.is_device and labels.size and (labels.min() < 0
                                                    or labels.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes}), got "
                         f"{int(labels.min())}..{int(labels.max())}")
    hot = (labels[..., None] == xp.arange(num_classes)).astype(xp.int64)
    return Tensor._make(hot, t.backend)
