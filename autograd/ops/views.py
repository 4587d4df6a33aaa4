"""Views composed from the layout and indexing primitives: moveaxis, narrow, unbind, unflatten,
sliding windows (unfold) and splitting into given sizes.

Each is written with plain, non-negative axes (the dialects' wrappers resolve `dim`/`axis`), and
is composed from ops that have rules, so it is differentiable to any order.
"""

from __future__ import annotations

import operator
from typing import Any

from ..tensor import Tensor
from .indexing import GetItemAdvanced, _Slot, getitem
from .layout import reshape, transpose


def moveaxis(x: Tensor, source: tuple, destination: tuple) -> Tensor:
    """Moves the axes `source` to the positions `destination` (both tuples of non-negative
    ints), keeping the other axes in order (NumPy's ``moveaxis``, PyTorch's ``movedim``)."""
    if len(source) != len(destination):
        raise ValueError(
            f"moveaxis: source {source} and destination {destination} differ in length"
        )
    for name, axes in (("source", source), ("destination", destination)):
        if len(set(axes)) != len(axes):
            raise ValueError(f"moveaxis: repeated axis in {name} {axes}")
    if x.ndim == 0:
        return x
    rest = [a for a in range(x.ndim) if a not in source]
    order = [None] * x.ndim
    for s, d in zip(source, destination):
        order[d] = s
    it = iter(rest)
    order = tuple(next(it) if a is None else a for a in order)
    if order == tuple(range(x.ndim)):
        return x
    return transpose(x, order)


def narrow(x: Tensor, axis: int, start: int, length: int) -> Tensor:
    """The view ``x[..., start:start + length, ...]`` along `axis` (start may be negative)."""
    n = x.shape[axis]
    start = operator.index(start)
    length = operator.index(length)
    if not -n <= start <= n:
        raise IndexError(
            f"narrow: start {start} is out of range for dim {axis} of size {n} (shape {x.shape})"
        )
    start %= n if n else 1
    if length < 0 or start + length > n:
        raise ValueError(
            f"narrow: start ({start}) + length ({length}) exceeds dim {axis} of size {n} "
            f"(shape {x.shape})"
        )
    return getitem(x, (slice(None),) * axis + (slice(start, start + length),))


def unbind(x: Tensor, axis: int) -> tuple:
    """The slices of `x` along `axis`, each without that axis (views)."""
    lead = (slice(None),) * axis
    return tuple(getitem(x, lead + (i,)) for i in range(x.shape[axis]))


def unflatten(x: Tensor, axis: int, sizes: tuple) -> Tensor:
    """Axis `axis` split into axes of `sizes` (one of them may be -1)."""
    n = x.shape[axis]
    sizes = tuple(operator.index(s) for s in sizes)
    if not sizes:
        raise ValueError("unflatten: sizes must not be empty")
    if sizes.count(-1) > 1 or any(s < -1 for s in sizes):
        raise ValueError(f"unflatten: sizes {sizes} may hold one -1 and no other negatives")
    known = 1
    for s in sizes:
        known *= s if s != -1 else 1
    if -1 in sizes:
        if known == 0 or n % known:
            raise ValueError(f"unflatten: cannot split dim {axis} of size {n} into {sizes}")
        sizes = tuple(n // known if s == -1 else s for s in sizes)
    elif known != n:
        raise ValueError(
            f"unflatten: sizes {sizes} multiply to {known}, not to the size {n} of dim {axis} "
            f"(shape {x.shape})"
        )
    return reshape(x, x.shape[:axis] + sizes + x.shape[axis + 1 :])


def unfold(x: Tensor, axis: int, size: int, step: int) -> Tensor:
    """All windows of `size` elements, `step` apart, along `axis` (PyTorch's ``unfold``).

    Axis `axis` becomes the window count ``(n - size) // step + 1`` and a new last axis holds
    each window. Overlapping windows share elements, whose gradients then add up.
    """
    n = x.shape[axis] if x.ndim else 1
    size, step = operator.index(size), operator.index(step)
    if step <= 0:
        raise ValueError(f"unfold: step must be positive, got {step}")
    if not 0 <= size <= n:
        raise ValueError(
            f"unfold: size {size} does not fit dim {axis} of size {n} (shape {x.shape})"
        )
    if x.ndim == 0:  # a 0-d tensor has one window of its one element (or an empty one)
        return getitem(reshape(x, (1,)), slice(0, size))
    xp = x.xp
    count = (n - size) // step + 1
    windows = xp.arange(count).reshape(count, 1) * step + xp.arange(size).reshape(1, size)
    picked = GetItemAdvanced.apply(x, windows, parts=(slice(None),) * axis + (_Slot(0),))
    return moveaxis(picked, (axis + 1,), (picked.ndim - 1,))


def split_sizes(x: Tensor, sizes: Any, axis: int) -> tuple:
    """Consecutive views of `x` along `axis` with the given lengths (which must add up)."""
    sizes = [operator.index(s) for s in sizes]
    n = x.shape[axis]
    if any(s < 0 for s in sizes) or sum(sizes) != n:
        raise ValueError(
            f"split: sizes {sizes} must be non-negative and add up to the size {n} of dim "
            f"{axis} (shape {x.shape})"
        )
    lead = (slice(None),) * axis
    out, start = [], 0
    for s in sizes:
        out.append(getitem(x, lead + (slice(start, start + s),)))
        start += s
    return tuple(out)
