"""Argument handling of the PyTorch dialect (Tensor methods, `nn.functional`).

PyTorch names the reduced axes `dim` and the keep flag `keepdim`, and accepts NumPy's `axis` and
`keepdims` as aliases; these helpers resolve either spelling (giving both is an error), so that
the methods can hand the ops plain axes and flags.
"""

from __future__ import annotations

import operator
from typing import Any


class DimError(IndexError, ValueError):
    """A dim out of range: an IndexError as in PyTorch, and a ValueError as NumPy's AxisError
    (and kedja's `autograd` functions) raise, so that either handler catches it."""


def pick_dim(op: str, dim: Any, axis: Any, default: Any = None) -> Any:
    """`dim`, or its alias `axis`; `default` when neither is given."""
    if axis is None:
        return default if dim is None else dim
    if dim is not None:
        raise TypeError(f"{op}: got both dim={dim!r} and its alias axis={axis!r}; give one")
    return axis


def pick_keepdim(op: str, keepdim: Any, keepdims: Any) -> bool:
    """`keepdim`, or its alias `keepdims` (False when neither is given)."""
    if keepdims is None:
        return bool(keepdim)
    if keepdim:
        raise TypeError(f"{op}: got both keepdim and its alias keepdims; give one")
    return bool(keepdims)


def dims_tuple(dims: tuple, op: str) -> tuple:
    """``f(0, 1)``, ``f((0, 1))`` and ``f([0, 1])`` alike, as a tuple of ints."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    try:
        return tuple(operator.index(d) for d in dims)
    except TypeError:
        raise TypeError(f"{op}: dims must be ints, got {dims!r}") from None


def wrap_dim(dim: Any, ndim: int, op: str) -> int:
    """`dim` as a non-negative int; a 0-d tensor accepts dim 0 and -1, as in PyTorch."""
    dim = operator.index(dim)
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise DimError(
            f"{op}: dim {dim} is out of range for a tensor of dimension {ndim} (expected "
            f"a dim in [{-n}, {n - 1}])"
        )
    return dim % n


def reduce_dims(dim: Any, ndim: int, op: str) -> Any:
    """A reduction's `dim` as NumPy's axis: None (all), an int, or a tuple of distinct ints.

    An empty tuple or list means all dims, as in PyTorch's ``amax`` and ``sum(dim=())``.
    """
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        if not dim:
            return None
        axes = tuple(wrap_dim(d, ndim, op) for d in dim)
        if len(set(axes)) != len(axes):
            raise ValueError(f"{op}: dim {tuple(dim)} names a dim more than once")
        return axes if ndim else None
    d = wrap_dim(dim, ndim, op)
    return d if ndim else None
