"""Questions PyTorch programs ask of objects: `is_tensor`, `numel`."""

from __future__ import annotations

from typing import Any

from .tensor import Tensor

__all__ = ["is_tensor", "numel"]


def is_tensor(obj: Any) -> bool:
    """True if `obj` is a kedja Tensor (a Parameter too); arrays and numbers are not."""
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:  # noqa: A002 - PyTorch's name
    """The number of elements of a tensor (1 for a 0-d tensor, 0 for an empty one)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"numel: expected a Tensor, got {type(input).__name__}")
    return int(input.array.size)
