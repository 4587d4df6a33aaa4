"""Parameter initialisation, with PyTorch's names and formulas.

Every function fills its tensor in place (not recorded by autograd) and returns it. Draws come
from the tensor's own backend generator, so ``ag.manual_seed(s)`` makes them reproducible on
every device.

    >>> w = nn.Parameter(ag.empty(256, 128))
    >>> nn.init.kaiming_normal_(w, nonlinearity="relu")   # std = sqrt(2 / 128)
    >>> nn.init.orthogonal_(w)
"""

from __future__ import annotations

import math
from typing import Any

from autograd.tensor import Tensor
from autograd.tensor_inplace import write as _write

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "zeros_", "ones_", "constant_",
    "eye_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
    "orthogonal_",
]

_LINEAR_LIKE = {
    "linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "sigmoid",
}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (scales the std of the init).

    linear / conv / sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu: sqrt(2 / (1 + slope^2))
    with ``param`` the negative slope (default 0.01); selu: 3/4.
    """
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _fill(tensor: Tensor, array: Any) -> Tensor:
    """Writes `array` into `tensor` in place: same array object, version bumped."""
    _write(tensor, array)
    return tensor


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: Linear (out, in); conv (out, in, *kernel)."""
    if tensor.ndim < 2:
        raise ValueError(
            f"fan in and fan out can not be computed for a tensor with fewer than 2 dimensions "
            f"(got shape {tensor.shape})"
        )
    receptive = 1
    for n in tensor.shape[2:]:
        receptive *= n
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _reset_layer(weight: Tensor, bias: Tensor | None) -> None:
    """PyTorch's default for Linear and Conv: ``kaiming_uniform_(a=sqrt(5))`` weight and a
    ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` bias (weight first, so seeded draws match)."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in = _calculate_fan_in_and_fan_out(weight)[0]
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound)


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fills with draws from U(a, b)."""
    return _fill(tensor, tensor.backend.uniform(a, b, tensor.shape, tensor.dtype))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fills with draws from N(mean, std^2)."""
    return _fill(tensor, tensor.backend.normal(mean, std, tensor.shape, tensor.dtype))


def trunc_normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0
) -> Tensor:
    """Fills with N(mean, std^2) draws restricted to [a, b] (out-of-range draws are redrawn).

    The bounds `a`, `b` are absolute values, as in PyTorch (not multiples of `std`).
    """
    if not a < b:
        raise ValueError(f"trunc_normal_: need a < b, got a={a}, b={b}")
    backend, xp = tensor.backend, tensor.xp
    x = backend.normal(mean, std, tensor.shape, tensor.dtype)
    # Whole-array rounds; each redraws only what fell outside (a shrinking fraction).
    for _ in range(100):
        outside = (x < a) | (x > b)
        if not bool(outside.any()):
            break
        x = xp.where(outside, backend.normal(mean, std, tensor.shape, tensor.dtype), x)
    return _fill(tensor, xp.clip(x, a, b))


def zeros_(tensor: Tensor) -> Tensor:
    """Fills with zeros."""
    return _fill(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fills with ones."""
    return _fill(tensor, 1)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fills with `val`."""
    return _fill(tensor, val)


def eye_(tensor: Tensor) -> Tensor:
    """Fills a 2-D tensor with the identity (ones on the diagonal)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {tensor.shape}")
    return _fill(tensor, tensor.xp.eye(*tensor.shape, dtype=tensor.dtype))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).

    ``kaiming_uniform_(w, a=math.sqrt(5))`` is the default init of Linear and Conv weights.
    """
    fan = _fan(tensor, mode)
    if fan == 0:
        return tensor  # nothing to draw for a zero-size weight
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """He normal: N(0, std^2) with std = gain / sqrt(fan)."""
    fan = _fan(tensor, mode)
    if fan == 0:
        return tensor
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan))


def orthogonal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Fills with a (semi-)orthogonal matrix times `gain`; trailing axes are flattened.

    For a weight of shape (rows, cols...): rows <= cols gives orthonormal rows, else orthonormal
    columns. Drawn as the Q of a QR decomposition of a Gaussian matrix, with the signs of R's
    diagonal folded in so that Q is uniformly (Haar) distributed.
    """
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, "
                         f"got shape {tensor.shape}")
    if tensor.numel() == 0:
        return tensor
    xp = tensor.xp
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    # float64 for the factorisation: QR in float32 loses orthogonality on large matrices.
    flat = tensor.backend.normal(0.0, 1.0, (rows, cols), "float64")
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    signs = xp.sign(xp.diagonal(r))
    q = q * xp.where(signs == 0, 1.0, signs)
    if rows < cols:
        q = q.T
    return _fill(tensor, (q * gain).reshape(tensor.shape).astype(tensor.dtype))
