"""Joining and splitting: concatenate (NumPy's, also as `concat`), `cat` (PyTorch's), stack,
split. Concatenate's rule slices gy back into the inputs' pieces; stack and split are composed
from expand_dims, concatenate and getitem.

The joining functions take NumPy's ``axis=`` and PyTorch's ``dim=`` alike (one or the other).
`concatenate`/`concat` keep NumPy's meaning (``axis=None`` joins the flattened inputs; NumPy's
type promotion); `cat` is PyTorch's (no ``None``; PyTorch's type promotion, see promotion.py).
"""

from __future__ import annotations

import operator
from typing import Any

from .. import promotion
from ..function import Function
from ..tensor import Tensor, _lift
from .indexing import _axis, _is_int, getitem
from .layout import expand_dims, reshape


class Concatenate(Function):
    """y = the inputs joined along `axis`; the rule slices gy back into the inputs' pieces."""

    def forward(self, *xs):
        self.sizes = tuple(x.shape[self.axis] for x in xs)
        return self.xp.concatenate(xs, axis=self.axis)

    def backward(self, gy):
        lead = (slice(None),) * self.axis
        grads = []
        start = 0
        for size, needed in zip(self.sizes, self.needs_input_grad):
            grads.append(getitem(gy, lead + (slice(start, start + size),)) if needed else None)
            start += size
        return tuple(grads)


def _tensors(tensors: Any, op: str) -> list:
    """A non-empty sequence of operands as Tensors on the first Tensor's backend."""
    tensors = list(tensors)
    like = next((t for t in tensors if isinstance(t, Tensor)), None)
    if like is None:
        raise TypeError(f"{op}: expected a non-empty sequence of Tensors, got {tensors!r}")
    return [_lift(t, like, scalar_ok=False) for t in tensors]


def _axis_or_dim(op: str, axis: Any, dim: Any) -> Any:
    """The axis given as NumPy's ``axis=`` or PyTorch's ``dim=`` (both: they must agree)."""
    if dim is None:
        return axis
    if axis not in (0, dim):
        raise TypeError(f"{op}: got axis={axis} and dim={dim}; pass one of them (same meaning)")
    return dim


def concatenate(tensors: Any, axis: int | None = 0, *, dim: int | None = None) -> Tensor:
    """Joins tensors along an existing axis (NumPy's ``concatenate``; also ``ag.concat``).

    Args:
        tensors: a sequence of tensors whose shapes agree except along `axis`.
        axis: the axis to join along (negative counts from the end); None joins the flattened
            tensors, as in NumPy. ``dim=`` is accepted for it.

    Example: ``concatenate([a, b], axis=1)`` with shapes (2, 3) and (2, 1) gives (2, 4).
    """
    axis = _axis_or_dim("concatenate", axis, dim)
    tensors = _tensors(tensors, "concatenate")
    if axis is None:
        return Concatenate.apply(*(reshape(t, (-1,)) for t in tensors), axis=0)
    return _join(tensors, axis, "concatenate")


concat = concatenate


def cat(tensors: Any, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Joins tensors along an existing dimension (PyTorch's ``cat``): tensors of different
    dtypes are joined in PyTorch's result type (int64 with float16 gives float16).

    Args:
        tensors: a sequence of tensors whose shapes agree except along `dim`.
        dim: the dimension to join along (negative counts from the end); ``axis=`` is
            accepted for it.

        >>> ag.cat([ag.zeros(2, 3), ag.ones(2, 1)], dim=1).shape
        (2, 4)
    """
    if axis is not None:
        if dim not in (0, axis):
            raise TypeError(f"cat: got dim={dim} and axis={axis}; pass one of them")
        dim = axis
    tensors = _tensors(tensors, "cat")
    dtype = promotion.result_type(*tensors)
    return _join([promotion.cast(t, dtype) for t in tensors], dim, "cat")


def _join(tensors: list, axis: int, op: str) -> Tensor:
    first = tensors[0]
    if first.ndim == 0:
        raise ValueError(f"{op}: 0-d tensors cannot be concatenated; use stack")
    axis = _axis(axis, first.ndim, op)
    for t in tensors:
        if t.ndim != first.ndim or any(
            a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != axis
        ):
            shapes = ", ".join(str(u.shape) for u in tensors)
            raise ValueError(
                f"{op}: tensors must have the same shape except along axis {axis}, "
                f"got shapes {shapes}"
            )
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors: Any, axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Joins tensors of one shape along a new axis (NumPy's and PyTorch's ``stack``; ``dim=``
    is accepted for `axis`).

    Example: three tensors of shape (2, 3) stacked on ``axis=1`` give shape (2, 3, 3).
    """
    axis = _axis_or_dim("stack", axis, dim)
    tensors = _tensors(tensors, "stack")
    shape = tensors[0].shape
    if any(t.shape != shape for t in tensors):
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise ValueError(f"stack: all tensors must have the same shape, got shapes {shapes}")
    axis = _axis(axis, len(shape) + 1, "stack")
    return Concatenate.apply(*(expand_dims(t, axis) for t in tensors), axis=axis)


def split(x: Tensor, indices_or_sections: Any, axis: int = 0) -> list:
    """Splits `x` along `axis` into a list of views (NumPy's ``split``).

    Args:
        indices_or_sections: a number of equal sections, or the sorted split points
            (``[2, 5]`` gives ``x[:2], x[2:5], x[5:]`` along `axis`).
        axis: the axis to split.

    Returns:
        A list of tensors; each is a view of `x` and gets its own gradient.
    """
    if x.ndim == 0:
        raise ValueError("split: a 0-d tensor cannot be split")
    axis = _axis(axis, x.ndim, "split")
    n = x.shape[axis]
    if _is_int(indices_or_sections):
        sections = operator.index(indices_or_sections)
        if sections <= 0:
            raise ValueError(f"split: the number of sections must be positive, got {sections}")
        if n % sections:
            raise ValueError(
                f"split: axis {axis} of length {n} (shape {x.shape}) cannot be split into "
                f"{sections} equal sections; pass a list of split points instead"
            )
        step = n // sections
        bounds = [i * step for i in range(sections + 1)]
    else:
        bounds = [0, *(operator.index(i) for i in indices_or_sections), n]
    lead = (slice(None),) * axis
    return [getitem(x, lead + (slice(a, b),)) for a, b in zip(bounds[:-1], bounds[1:])]
