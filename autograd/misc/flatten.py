"""`flatten`: a nested structure of arrays as one 1-D array, and the function that rebuilds it.

    >>> flat, unflatten = flatten({"w": np.ones((2, 2)), "b": [np.zeros(2)]})
    >>> unflatten(flat)   # the same dict
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..pytree import tree_flatten, tree_unflatten
from ..tensor import Tensor


def _sorted_dicts(value: Any) -> Any:
    # HIPS autograd orders dict entries by key: so does the flat vector here.
    if isinstance(value, dict):
        return {k: _sorted_dicts(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_sorted_dicts(v) for v in value)
    return value


def flatten(value: Any) -> tuple[Any, Callable[[Any], Any]]:
    """``(vector, unflatten)``: every array and scalar in `value` (nested lists, tuples and dicts,
    dicts in key order) raveled into one 1-D array; ``unflatten(vector)`` rebuilds the structure
    (differentiably, when `vector` is a Tensor)."""
    from .. import numpy as anp

    leaves, treedef = tree_flatten(_sorted_dicts(value))
    shapes = [anp.shape(x) for x in leaves]
    scalars = [not isinstance(x, Tensor) and anp.ndim(x) == 0 and not hasattr(x, "shape")
               for x in leaves]
    parts = [anp.ravel(x) for x in leaves]
    flat = anp.concatenate(parts) if parts else anp.array([])

    def unflatten(vector: Any) -> Any:
        pieces = []
        start = 0
        for shape, scalar in zip(shapes, scalars):
            size = 1
            for n in shape:
                size *= n
            piece = anp.reshape(vector[start:start + size], shape)
            pieces.append(piece[()] if scalar and not isinstance(piece, Tensor) else piece)
            start += size
        return tree_unflatten(treedef, pieces)

    return flat, unflatten


def flatten_func(func: Callable, example: Any) -> tuple:
    """``(flat_func, unflatten, flat_example)``: `func` of a structure like `example` as a
    function of one flat vector (its result flattened too)."""
    flat_example, unflatten = flatten(example)

    def flat_func(vector: Any, *args: Any) -> Any:
        return flatten(func(unflatten(vector), *args))[0]

    return flat_func, unflatten, flat_example
