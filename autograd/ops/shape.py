"""Shape ops: reshape, transpose, broadcasting, joining, splitting, padding, flipping, repeating.

Their rules are each other's inverses: concatenate's rule slices (getitem, in `indexing.py`,
whose rule scatters back), pad's crops. Ops that only move elements (flatten, stack, split,
repeat, tile, non-constant pad) are composed from these primitives and indexing, so they get
their derivatives, and second derivatives, for free.
"""

from __future__ import annotations

import operator
from typing import Any

from ..function import Function
from ..tensor import Tensor, _lift
from .indexing import GetItemAdvanced, _axis, _is_int, _Slot, getitem

__all__ = [
    "reshape", "transpose", "swapaxes", "permute", "broadcast_to", "sum_to", "expand_dims",
    "squeeze", "flatten", "concatenate", "stack", "split", "pad", "flip", "repeat", "tile",
]


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
    if shape == x.data.shape:
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
    if x.data.shape == shape:
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


# -- joining and splitting -------------------------------------------------------------------
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


def concatenate(tensors: Any, axis: int = 0) -> Tensor:
    """Joins tensors along an existing axis (NumPy's ``concatenate``).

    Args:
        tensors: a sequence of tensors whose shapes agree except along `axis`.
        axis: the axis to join along (negative counts from the end).

    Example: ``concatenate([a, b], axis=1)`` with shapes (2, 3) and (2, 1) gives (2, 4).
    """
    tensors = _tensors(tensors, "concatenate")
    first = tensors[0]
    if first.ndim == 0:
        raise ValueError("concatenate: 0-d tensors cannot be concatenated; use stack")
    axis = _axis(axis, first.ndim, "concatenate")
    for t in tensors:
        if t.ndim != first.ndim or any(
            a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != axis
        ):
            shapes = ", ".join(str(u.shape) for u in tensors)
            raise ValueError(
                f"concatenate: tensors must have the same shape except along axis {axis}, "
                f"got shapes {shapes}"
            )
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors: Any, axis: int = 0) -> Tensor:
    """Joins tensors of one shape along a new axis (NumPy's ``stack``).

    Example: three tensors of shape (2, 3) stacked on ``axis=1`` give shape (2, 3, 3).
    """
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


# -- padding, flipping, repeating ------------------------------------------------------------
class Pad(Function):
    """y = x surrounded by `value` (``pad_width`` pairs per axis); the rule crops gy."""

    def forward(self, x):
        self.in_shape = x.shape
        shape = tuple(b + n + a for (b, a), n in zip(self.pad_width, x.shape))
        y = self.xp.full(shape, self.value, dtype=x.dtype)
        y[self._interior()] = x
        return y

    def _interior(self) -> tuple:
        return tuple(slice(b, b + n) for (b, _), n in zip(self.pad_width, self.in_shape))

    def backward(self, gy):
        return getitem(gy, self._interior())


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def _pad_pairs(pad_width: Any, ndim: int) -> tuple:
    """NumPy's pad_width forms (int, (n,), (before, after), one pair per axis) as pairs."""

    def pair(p: Any) -> tuple:
        if isinstance(p, (tuple, list)):
            if len(p) not in (1, 2):
                raise ValueError(f"pad: cannot read pad_width {pad_width!r}")
            return (operator.index(p[0]), operator.index(p[-1]))
        return (operator.index(p), operator.index(p))

    if not isinstance(pad_width, (tuple, list)):
        pairs = [pair(pad_width)] * ndim
    elif not any(isinstance(p, (tuple, list)) for p in pad_width):
        pairs = [pair(pad_width)] * ndim
    elif len(pad_width) == 1:
        pairs = [pair(pad_width[0])] * ndim
    elif len(pad_width) == ndim:
        pairs = [pair(p) for p in pad_width]
    else:
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not fit a {ndim}-d tensor (give an int, one "
            f"(before, after) pair, or {ndim} pairs)"
        )
    if any(v < 0 for p in pairs for v in p):
        raise ValueError(f"pad: pad widths must be non-negative, got {pad_width!r}")
    return tuple(pairs)


def _pad_source(xp: Any, n: int, before: int, after: int, mode: str) -> Any:
    """For each position of a padded axis, the position of x it copies (NumPy's modes)."""
    i = xp.arange(-before, n + after)
    if mode == "edge":
        return xp.clip(i, 0, n - 1)
    if mode == "wrap":
        return i % n
    if mode == "symmetric":  # mirrored with the edge repeated: period 2n
        m = i % (2 * n)
        return xp.where(m >= n, 2 * n - 1 - m, m)
    if n == 1:  # reflect about a single element
        return i * 0
    period = 2 * (n - 1)  # mirrored without repeating the edge
    m = i % period
    return xp.where(m >= n, period - m, m)


def pad(x: Tensor, pad_width: Any, mode: str = "constant", constant_values: float = 0) -> Tensor:
    """Pads `x` (NumPy's ``pad``).

    Args:
        pad_width: an int, ``(before, after)`` for every axis, or one pair per axis.
        mode: ``"constant"`` (fill with `constant_values`), ``"edge"``, ``"reflect"``,
            ``"symmetric"`` or ``"wrap"``. The other modes copy elements of x, so their
            gradient adds up over every copy (they are a gather along each axis); they need
            a non-empty axis wherever padding is added.
        constant_values: one scalar fill value (per-axis values are not supported).

    Example: ``pad(x, ((0, 0), (1, 1)))`` adds a zero column on each side of a matrix.
    """
    pairs = _pad_pairs(pad_width, x.ndim)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: unsupported mode {mode!r}; use one of {', '.join(_PAD_MODES)}")
    if mode == "constant":
        if isinstance(constant_values, (tuple, list)) or getattr(constant_values, "ndim", 0):
            raise ValueError("pad: constant_values must be one scalar (per-axis values are "
                             "not supported)")
        if not any(v for p in pairs for v in p):
            return x
        return Pad.apply(x, pad_width=pairs, value=constant_values)
    y = x
    for axis, (before, after) in enumerate(pairs):
        if not before and not after:
            continue
        n = x.shape[axis]
        if n == 0:
            raise ValueError(
                f"pad: mode {mode!r} cannot pad the empty axis {axis} of shape {x.shape}"
            )
        source = _pad_source(x.xp, n, before, after, mode)
        y = GetItemAdvanced.apply(y, source, parts=(slice(None),) * axis + (_Slot(0),))
    return y


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


def repeat(x: Tensor, repeats: Any, axis: int | None = None) -> Tensor:
    """Repeats each element `repeats` times along `axis` (NumPy's ``repeat``).

    Args:
        repeats: an int, or one count per element along `axis`.
        axis: the axis to repeat along; None repeats the flattened tensor.

    Example: ``repeat(t, [1, 0, 2])`` on ``[a, b, c]`` gives ``[a, c, c]``. Every copy
    passes its gradient back, so an element's gradient sums over its copies.
    """
    if axis is None:
        x = reshape(x, (-1,))
        axis = 0
    else:
        axis = _axis(axis, x.ndim, "repeat")
    n = x.shape[axis]
    if isinstance(repeats, Tensor):
        repeats = repeats.tolist()
    elif hasattr(repeats, "tolist"):
        repeats = repeats.tolist()
    if isinstance(repeats, (tuple, list)) and len(repeats) == 1:
        repeats = repeats[0]  # NumPy broadcasts one count to every element
    if _is_int(repeats):
        r = operator.index(repeats)
        if r < 0:
            raise ValueError(f"repeat: repeats must be non-negative, got {r}")
        # A new axis of length r after `axis`, broadcast and merged: the rule is a sum.
        shape = x.shape
        y = broadcast_to(expand_dims(x, axis + 1), shape[: axis + 1] + (r,) + shape[axis + 1 :])
        return reshape(y, shape[:axis] + (n * r,) + shape[axis + 1 :])
    counts = [operator.index(c) for c in repeats]
    if len(counts) != n:
        raise ValueError(
            f"repeat: got {len(counts)} repeats for axis {axis} of length {n} (shape {x.shape})"
        )
    if any(c < 0 for c in counts):
        raise ValueError(f"repeat: repeats must be non-negative, got {counts}")
    source = x.backend.asarray([i for i, c in enumerate(counts) for _ in range(c)], dtype="int64")
    return GetItemAdvanced.apply(x, source, parts=(slice(None),) * axis + (_Slot(0),))


def tile(x: Tensor, reps: Any) -> Tensor:
    """Repeats the whole of `x` `reps` times along each axis (NumPy's ``tile``).

    `reps` and x's shape are padded with leading 1s to the same length. Example: a tensor
    ``[a, b]`` tiled by ``(2, 2)`` gives ``[[a, b, a, b], [a, b, a, b]]``.
    """
    reps = (operator.index(reps),) if _is_int(reps) else tuple(operator.index(r) for r in reps)
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: reps must be non-negative, got {reps}")
    ndim = max(len(reps), x.ndim)
    reps = (1,) * (ndim - len(reps)) + reps
    shape = (1,) * (ndim - x.ndim) + x.shape
    # Interleave a block axis before each axis: (r0, n0, r1, n1, ...) merges to (r0*n0, ...).
    blocks, target, out = [], [], []
    for r, n in zip(reps, shape):
        blocks += [1, n]
        target += [r, n]
        out.append(r * n)
    y = broadcast_to(reshape(x, tuple(blocks)), tuple(target))
    return reshape(y, tuple(out))
