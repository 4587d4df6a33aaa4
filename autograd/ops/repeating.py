"""Repeating: repeat (each element) and tile (the whole tensor), composed from broadcasting,
reshape and gathers, so every copy passes its gradient back.
"""

from __future__ import annotations

import operator
from typing import Any

from ..tensor import Tensor
from .indexing import GetItemAdvanced, _axis, _is_int, _Slot
from .layout import broadcast_to, expand_dims, reshape


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
