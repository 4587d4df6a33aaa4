"""Shape ops: reshape, transpose, squeeze, broadcasting; their rules are each other's inverses."""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..tensor import Tensor

__all__ = [
    "reshape", "transpose", "swapaxes", "permute", "broadcast_to", "sum_to", "expand_dims",
    "squeeze",
]


def _normalize_shape(shape: tuple) -> tuple:
    """Accepts ``f(2, 3)`` and ``f((2, 3))`` alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


class Reshape(Function):
    """y = x reshaped to `shape` (a view where NumPy can make one)."""

    is_view = True

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {tuple(x.shape)} "
                f"({x.size} elements) into shape {self.shape}"
            ) from None

    def backward(self, gy):
        return gy.reshape(self.in_shape)


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """The same data in a new shape (one axis may be -1)."""
    shape = _normalize_shape(shape)
    if shape == x.data.shape:
        return x if not x.requires_grad else Reshape.apply(x, shape=shape)
    return Reshape.apply(x, shape=shape)


class Transpose(Function):
    """y = x with its axes permuted by `axes`."""

    is_view = True

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy):
        inverse = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            inverse[a] = i
        return gy.transpose(tuple(inverse))


def transpose(x: Tensor, *axes: Any) -> Tensor:
    """Permutes the axes (reverses them when none are given), like ``numpy.transpose``."""
    axes = _normalize_shape(axes)
    ndim = x.ndim
    if not axes or axes == (None,):
        axes = tuple(range(ndim - 1, -1, -1))
    if sorted(a % ndim if ndim else a for a in axes) != list(range(ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of a {ndim}-d tensor's")
    return Transpose.apply(x, axes=tuple(a % ndim for a in axes))


def swapaxes(x: Tensor, axis1: int, axis2: int) -> Tensor:
    """Exchanges two axes."""
    axes = list(range(x.ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return Transpose.apply(x, axes=tuple(axes))


def permute(x: Tensor, *axes: Any) -> Tensor:
    """PyTorch's name for `transpose` with explicit axes."""
    return transpose(x, *axes)


class BroadcastTo(Function):
    """y = x broadcast to `shape` (a read-only view); the rule sums back to x's shape."""

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return self.xp.broadcast_to(x, self.shape)
        except ValueError:
            raise ValueError(
                f"broadcast_to: cannot broadcast shape {tuple(x.shape)} to {self.shape}"
            ) from None

    def backward(self, gy):
        return sum_to(gy, self.in_shape)


def broadcast_to(x: Tensor, shape: Any) -> Tensor:
    """Broadcasts `x` to `shape` with NumPy's rules."""
    return BroadcastTo.apply(x, shape=tuple(shape))


class SumTo(Function):
    """y = x summed over the axes that broadcasting to x's shape would have added or stretched."""

    def forward(self, x):
        self.in_shape = x.shape
        shape = self.shape
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1
        )
        y = x.sum(axis=axes, keepdims=True) if axes else x
        return y.reshape(shape) if lead or y.shape != shape else y

    def backward(self, gy):
        return broadcast_to(gy, self.in_shape)


def sum_to(x: Tensor, shape: Any) -> Tensor:
    """Sums `x` down to `shape` (the inverse of broadcasting to x's shape)."""
    shape = tuple(shape)
    if x.data.shape == shape:
        return x
    return SumTo.apply(x, shape=shape)


class ExpandDims(Function):
    """y = x with a new axis of length 1 at `axis`."""

    is_view = True

    def forward(self, x):
        return self.xp.expand_dims(x, self.axis)

    def backward(self, gy):
        return gy.squeeze(self.axis)


def expand_dims(x: Tensor, axis: Any) -> Tensor:
    """Inserts axes of length 1 (NumPy's ``expand_dims``; PyTorch's ``unsqueeze``)."""
    return ExpandDims.apply(x, axis=axis)


class Squeeze(Function):
    """y = x without the axes of length 1 in `axis` (all such axes when None)."""

    is_view = True

    def forward(self, x):
        self.in_shape = x.shape
        axis = self.axis
        if axis is None:
            axis = tuple(i for i, n in enumerate(x.shape) if n == 1)
        elif isinstance(axis, int):
            axis = (axis,)
        for a in axis:
            if x.shape[a] != 1:
                raise ValueError(
                    f"squeeze: cannot squeeze axis {a} of shape {tuple(x.shape)}: its length "
                    f"is {x.shape[a]}, not 1"
                )
        return x.squeeze(axis=tuple(axis))

    def backward(self, gy):
        return gy.reshape(self.in_shape)


def squeeze(x: Tensor, axis: Any = None) -> Tensor:
    """Removes axes of length 1."""
    return Squeeze.apply(x, axis=axis)
