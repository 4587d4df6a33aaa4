"""Ops with several outputs (eigh's w and V, svd's U, S and Vh, qr's Q and R) in a one-output
engine: the op returns its outputs packed along one last axis, the wrapper unpacks them with
getitem and reshape. Each unpacked output is then an ordinary differentiable view of the packed
array, and the op's rule receives the packed upstream gradient (zeros for unused outputs).
"""

from __future__ import annotations

import math
from typing import Any

from ..function import Function
from ..tensor import Tensor
from .indexing import getitem
from .layout import Reshape


class PackedFunction(Function):
    """Base of multi-output ops: subclasses define ``compute(*arrays) -> tuple of arrays`` and
    ``backward_parts(gy_parts, y_parts, *inputs)``; `apply` takes ``batch`` (the outputs' common
    leading axes) and ``tails`` (each output's remaining shape), which the wrapper knows."""

    def compute(self, *arrays: Any) -> tuple:
        raise NotImplementedError

    def forward(self, *arrays: Any) -> Any:
        parts = self.compute(*arrays)
        batch = self.batch
        flat = [p.reshape(batch + (math.prod(tail),)) for p, tail in zip(parts, self.tails)]
        y = self.xp.concatenate(flat, axis=-1)
        self.save_for_backward(*arrays, y)
        return y

    def backward(self, gy: Tensor) -> Any:
        *inputs, y = self.saved_tensors
        return self.backward_parts(unpack(gy, self.batch, self.tails),
                                   unpack(y, self.batch, self.tails), *inputs)

    def backward_parts(self, gy_parts: list, y_parts: list, *inputs: Tensor) -> Any:
        raise NotImplementedError


def unpack(packed: Tensor, batch: tuple, tails: tuple) -> list:
    """The outputs packed by a `PackedFunction`, as Tensors (differentiable views)."""
    batch, tails = tuple(batch), tuple(tuple(t) for t in tails)
    parts = []
    start = 0
    for tail in tails:
        size = math.prod(tail)
        piece = getitem(packed, (Ellipsis, slice(start, start + size)))
        parts.append(Reshape.apply(piece, shape=batch + tail))
        start += size
    return parts


def apply_unpacked(cls: type, *inputs: Tensor, batch: tuple, tails: tuple,
                   **params: Any) -> list:
    """Runs the packed op `cls` and returns its outputs as a list of Tensors."""
    batch, tails = tuple(batch), tuple(tuple(t) for t in tails)
    packed = cls.apply(*inputs, batch=batch, tails=tails, **params)
    return unpack(packed, batch, tails)
