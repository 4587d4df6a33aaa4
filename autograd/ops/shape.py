"""Shape ops: reshape, transpose, broadcasting, joining, splitting, padding, flipping, repeating.

Their rules are each other's inverses: concatenate's rule slices (getitem, in `indexing.py`,
whose rule scatters back), pad's crops. Ops that only move elements (flatten, stack, split,
repeat, tile, non-constant pad) are composed from these primitives and indexing, so they get
their derivatives, and second derivatives, for free.

This module is the family's one import place; the ops live by kind in `layout.py` (reshape,
transpose, broadcast_to, sum_to, expand_dims, squeeze, flatten, flip), `joining.py`
(concatenate, stack, split), `padding.py` (pad) and `repeating.py` (repeat, tile).
"""

from __future__ import annotations

# Everything below stays importable from here, as before the split: the wrappers in __all__,
# the op classes (reduction.py takes BroadcastTo), sum_to_array (the engine's) and the helpers.
from .joining import (  # noqa: F401
    Concatenate,
    _tensors,
    cat,
    concat,
    concatenate,
    split,
    stack,
)
from .layout import (  # noqa: F401
    BroadcastTo,
    ExpandDims,
    Flip,
    Reshape,
    Squeeze,
    SumTo,
    Transpose,
    _normalize_shape,
    broadcast_to,
    expand_dims,
    flatten,
    flip,
    permute,
    reshape,
    squeeze,
    sum_to,
    sum_to_array,
    swapaxes,
    transpose,
)
from .padding import _PAD_MODES, Pad, _pad_pairs, _pad_source, pad  # noqa: F401
from .repeating import repeat, tile

__all__ = [
    "reshape", "transpose", "swapaxes", "permute", "broadcast_to", "sum_to", "expand_dims",
    "squeeze", "flatten", "concatenate", "concat", "cat", "stack", "split", "pad", "flip",
    "repeat", "tile",
]
