"""The activations beyond relu/sigmoid/tanh (PyTorch's functions): silu, mish, selu, celu,
hardtanh, relu6, hardsigmoid, hardswish, logsigmoid, softsign, tanhshrink, softshrink,
hardshrink, threshold, softmin, prelu and glu. `nn.functional` re-exports them.

The elementwise ones are ops of `autograd.ops.activation_smooth` / `activation_piecewise`
(exact first and second derivatives, PyTorch's gradient at each kink); softmin, prelu, glu
and tanhshrink are compositions. `inplace=True` is accepted where PyTorch has it and computes
out of place: the same values, without the memory saving (the input is left unchanged).
"""

from __future__ import annotations

from typing import Any

from autograd.inputs import float_input, tensor_input
from autograd.ops import activation_piecewise as _piecewise
from autograd.ops import activation_smooth as _smooth
from autograd.ops.activation import sigmoid as _sigmoid
from autograd.ops.arithmetic import where
from autograd.ops.indexing import GetItem
from autograd.ops.reduction import softmax as _softmax
from autograd.ops.unary import tanh as _tanh
from autograd.tensor import Tensor

from . import arguments

__all__ = ["silu", "mish", "selu", "celu", "hardtanh", "relu6", "hardsigmoid", "hardswish",
           "logsigmoid", "softsign", "tanhshrink", "softshrink", "hardshrink", "threshold",
           "softmin", "prelu", "glu"]


def silu(input: Any, inplace: bool = False) -> Tensor:  # noqa: A002
    """``x * sigmoid(x)`` (swish)."""
    return _smooth.silu(float_input("silu", input))


def mish(input: Any, inplace: bool = False) -> Tensor:  # noqa: A002
    """``x * tanh(softplus(x))``."""
    return _smooth.mish(float_input("mish", input))


def selu(input: Any, inplace: bool = False) -> Tensor:  # noqa: A002
    """``scale * (x if x > 0 else alpha * (exp(x) - 1))``, alpha = 1.6733, scale = 1.0507;
    gradient at 0: ``scale * alpha`` (the left-hand one, as PyTorch)."""
    return _smooth.selu(float_input("selu", input))


def celu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    alpha = arguments.number("celu", "alpha", alpha)
    return _smooth.celu(float_input("celu", input), alpha)


def hardtanh(input: Any, min_val: float = -1.0, max_val: float = 1.0,  # noqa: A002
             inplace: bool = False) -> Tensor:
    """``clip(x, min_val, max_val)``; gradient 1 strictly between the bounds, 0 at them."""
    min_val = arguments.number("hardtanh", "min_val", min_val)
    max_val = arguments.number("hardtanh", "max_val", max_val)
    return _piecewise.hardtanh(float_input("hardtanh", input), min_val, max_val)


def relu6(input: Any, inplace: bool = False) -> Tensor:  # noqa: A002
    """``min(max(x, 0), 6)``; gradient 0 at 0 and at 6."""
    return _piecewise.relu6(float_input("relu6", input))


def hardsigmoid(input: Any, inplace: bool = False) -> Tensor:  # noqa: A002
    """``relu6(x + 3) / 6``; gradient 1/6 on (-3, 3), 0 elsewhere."""
    return _piecewise.hardsigmoid(float_input("hardsigmoid", input))


def hardswish(input: Any, inplace: bool = False) -> Tensor:  # noqa: A002
    """``x * relu6(x + 3) / 6``; gradient ``x / 3 + 1/2`` on (-3, 3), 0 at and below -3,
    1 at and above 3."""
    return _piecewise.hardswish(float_input("hardswish", input))


def logsigmoid(input: Any) -> Tensor:  # noqa: A002
    """``log(sigmoid(x))``, stable for large ``|x|``."""
    return _smooth.logsigmoid(float_input("logsigmoid", input))


def softsign(input: Any) -> Tensor:  # noqa: A002
    """``x / (1 + |x|)``."""
    return _smooth.softsign(float_input("softsign", input))


def tanhshrink(input: Any) -> Tensor:  # noqa: A002
    """``x - tanh(x)``."""
    x = float_input("tanhshrink", input)
    return x - _tanh(x)


def softshrink(input: Any, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """``x - lambd`` above `lambd`, ``x + lambd`` below ``-lambd``, 0 between."""
    lambd = arguments.number("softshrink", "lambd", lambd, low=0.0)
    return _piecewise.softshrink(float_input("softshrink", input), lambd)


def hardshrink(input: Any, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """`x` where ``|x| > lambd``, else 0."""
    lambd = arguments.number("hardshrink", "lambd", lambd)
    return _piecewise.hardshrink(float_input("hardshrink", input), lambd)


def threshold(input: Any, threshold: float, value: float,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """`x` where ``x > threshold``, else `value`."""
    threshold = arguments.number("threshold", "threshold", threshold)
    value = arguments.number("threshold", "value", value)
    return _piecewise.threshold(float_input("threshold", input), threshold, value)


def softmin(input: Any, dim: int | None = None) -> Tensor:  # noqa: A002
    """``softmax(-x, dim)``: weights that favour the smallest entries along `dim`."""
    x = float_input("softmin", input)
    if dim is None:
        raise TypeError("softmin: give the axis to normalise over (dim=...)")
    arguments.axis("softmin", "dim", dim)
    return _softmax(-x, axis=dim)


def prelu(input: Any, weight: Any) -> Tensor:  # noqa: A002
    """`x` where positive, ``weight * x`` elsewhere (the gradient at 0 is `weight`); `weight`
    has one entry, or one per channel (axis 1 of the input)."""
    w = tensor_input("prelu", weight, floating=True, name="weight")
    x = tensor_input("prelu", input, like=w, floating=True)
    if w.ndim > 1 or (w.size != 1 and (x.ndim < 2 or w.size != x.shape[1])):
        raise ValueError(f"prelu: weight of shape {w.shape} must have one entry or one per "
                         f"channel (axis 1) of the input of shape {x.shape}")
    if w.size != 1:
        w = w.reshape((w.size,) + (1,) * (x.ndim - 2))
    elif w.ndim:
        w = w.reshape(())
    return where(x > 0, x, w * x)


def glu(input: Any, dim: int = -1) -> Tensor:  # noqa: A002
    """Gated linear unit: the first half of `dim` times sigmoid of the second half."""
    x = float_input("glu", input)
    arguments.axis("glu", "dim", dim)
    if x.ndim == 0:
        raise ValueError("glu: expected a tensor with at least one axis, got a 0-d tensor")
    axis = dim % x.ndim if -x.ndim <= dim < x.ndim else None
    if axis is None or x.shape[axis] % 2:
        raise ValueError(f"glu: axis {dim} of the input of shape {x.shape} must exist and "
                         "have an even length")
    half = x.shape[axis] // 2
    before = (slice(None),) * axis
    a = GetItem.apply(x, parts=before + (slice(0, half),))
    b = GetItem.apply(x, parts=before + (slice(half, None),))
    return a * _sigmoid(b)
