"""`ShapeMixin`: Tensor's shape and indexing methods (``x.reshape(2, 3)``, ``x.T``, ``x[i]``,
``x[i] = v``, ``len(x)``, ...), which forward to the ops; a base class of `Tensor`, to keep
autograd/tensor.py short.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .grad_mode import state as _grad_state

# Tensor and the op modules import autograd/tensor.py, which imports this file: tensor.py binds
# them here once it has defined and loaded them (an import from this file would close a circle).
Tensor: Any = None
_lift: Any = None
_indexing: Any = None
_shape: Any = None


class ShapeMixin:
    """`Tensor`'s shape methods (views, axis moves, repeats, splits), indexing and iteration."""

    __slots__ = ()

    # -- shape --------------------------------------------------------------------------------
    @property
    def T(self) -> Tensor:
        """The tensor with its axes reversed (NumPy's ``.T``)."""
        return _shape.transpose(self)

    @property
    def mT(self) -> Tensor:
        """The last two axes swapped (a batch of matrices transposed)."""
        return _shape.swapaxes(self, -1, -2)

    def reshape(self, *shape: Any) -> Tensor:
        return _shape.reshape(self, *shape)

    view = reshape

    def transpose(self, *axes: Any) -> Tensor:
        return _shape.transpose(self, *axes)

    def permute(self, *axes: Any) -> Tensor:
        return _shape.transpose(self, *axes)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        return _shape.swapaxes(self, axis1, axis2)

    def squeeze(self, axis: Any = None) -> Tensor:
        return _shape.squeeze(self, axis)

    def expand_dims(self, axis: Any) -> Tensor:
        return _shape.expand_dims(self, axis)

    unsqueeze = expand_dims

    def broadcast_to(self, shape: Any) -> Tensor:
        return _shape.broadcast_to(self, shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return _shape.flatten(self, start_dim, end_dim)

    def flip(self, axis: Any = None) -> Tensor:
        return _shape.flip(self, axis)

    def repeat(self, repeats: Any, axis: int | None = None) -> Tensor:
        return _shape.repeat(self, repeats, axis)

    def tile(self, reps: Any) -> Tensor:
        return _shape.tile(self, reps)

    def split(self, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
        return _shape.split(self, indices_or_sections, axis)

    # -- indexing and iteration ---------------------------------------------------------------
    def __len__(self) -> int:
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, index: Any) -> Tensor:
        return _indexing.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        value = _lift(value, self)
        recorded = _grad_state.enabled and (
            self.requires_grad or (isinstance(value, Tensor) and value.requires_grad)
        )
        if not recorded:
            _indexing.check_raw_index(self, index, "setitem")
            with self._backend.device_scope():  # a raw write runs on the current device
                self.array[_indexing.raw_index(index)] = (
                    value.array if isinstance(value, Tensor) else value
                )
            self._version[0] += 1
            return
        # Recorded: computed out of place and rebound, as Tensor's in-place operators do.
        if self.grad_fn is None and self.requires_grad:
            raise RuntimeError(
                f"__setitem__ on a leaf tensor that requires grad (shape {self.shape}) would "
                "change it behind autograd's back; wrap it in `with no_grad():` or build a new "
                "tensor (e.g. with where)"
            )
        self._rebind(_indexing.setitem(self, index, value))

    def take_along_axis(self, indices: Any, axis: int) -> Tensor:
        return _indexing.take_along_axis(self, indices, axis)
