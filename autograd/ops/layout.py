"""Layout ops: reshape, transpose, broadcasting and its inverse sum_to, adding and removing
axes, flatten and flip (the primitives the other shape ops are composed from).
"""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..tensor import Tensor
from .indexing import _axis, _is_int


def _normalize_shape(shape: tuple) -> tuple:
    """Accepts ``f(2, 3)`` and ``f((2, 3))`` alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


class Reshape(Function):
    """y = x reshaped to `shape` (a view where NumPy can make one)."""

    raw_backward = True

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
    if shape == x.array.shape:
        return x if not x.requires_grad else Reshape.apply(x, shape=shape)
    return Reshape.apply(x, shape=shape)


class Transpose(Function):
    """y = x with its axes permuted by `axes`."""

    raw_backward = True

    is_view = True

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy):
        inverse = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            inverse[a] = i
        return Transpose.apply(gy, axes=tuple(inverse))


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

    raw_backward = True

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return self.xp.broadcast_to(x, self.shape)
        except ValueError:
            raise ValueError(
                f"broadcast_to: cannot broadcast shape {tuple(x.shape)} to {self.shape}"
            ) from None

    def backward(self, gy):
        if tuple(gy.shape) == tuple(self.in_shape):
            return gy
        return SumTo.apply(gy, shape=tuple(self.in_shape))


def broadcast_to(x: Tensor, shape: Any) -> Tensor:
    """Broadcasts `x` to `shape` with NumPy's rules."""
    return BroadcastTo.apply(x, shape=tuple(shape))


def sum_to_array(x: Any, shape: tuple) -> Any:
    """Sums a raw array over the axes that broadcasting `shape` to x's shape added or stretched."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1
    )
    y = x.sum(axis=axes, keepdims=True) if axes else x
    return y.reshape(shape) if lead or y.shape != shape else y


class SumTo(Function):
    """y = x summed over the axes that broadcasting to x's shape would have added or stretched."""

    raw_backward = True

    def forward(self, x):
        self.in_shape = x.shape
        return sum_to_array(x, self.shape)

    def backward(self, gy):
        return BroadcastTo.apply(gy, shape=self.in_shape)


def sum_to(x: Tensor, shape: Any) -> Tensor:
    """Sums `x` down to `shape` (the inverse of broadcasting to x's shape)."""
    shape = tuple(shape)
    if x.array.shape == shape:
        return x
    return SumTo.apply(x, shape=shape)


class ExpandDims(Function):
    """y = x with a new axis of length 1 at `axis`."""

    raw_backward = True

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

    raw_backward = True

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


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merges axes `start_dim` .. `end_dim` (inclusive) into one, like ``torch.flatten``.

    A 0-d tensor flattens to shape ``(1,)``. Example: ``flatten(x, 1)`` turns an (N, C, H, W)
    batch into (N, C*H*W).
    """
    shape = x.shape or (1,)
    start = _axis(start_dim, len(shape), "flatten")
    end = _axis(end_dim, len(shape), "flatten")
    if start > end:
        raise ValueError(
            f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a tensor of "
            f"shape {x.shape}"
        )
    merged = 1
    for n in shape[start : end + 1]:
        merged *= n
    return reshape(x, shape[:start] + (merged,) + shape[end + 1 :])


class Flip(Function):
    """y = x reversed along `axis` (a tuple): a view; the rule flips gy back."""

    is_view = True

    def forward(self, x):
        return x[tuple(slice(None, None, -1) if a in self.axis else slice(None)
                       for a in range(x.ndim))]

    def backward(self, gy):
        return Flip.apply(gy, axis=self.axis)


def flip(x: Tensor, axis: Any = None) -> Tensor:
    """Reverses the order of elements along `axis` (an int, a tuple, or None for all axes)."""
    if axis is None:
        axes = tuple(range(x.ndim))
    elif _is_int(axis):
        axes = (_axis(axis, x.ndim, "flip"),)
    else:
        axes = tuple(_axis(a, x.ndim, "flip") for a in axis)
    return Flip.apply(x, axis=axes)
