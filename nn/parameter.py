"""`Parameter`: the Tensor subclass that a `Module` registers when it is assigned to it.

It has a file of its own so that layers and the Module's mixins can import it without the Module.
"""

from __future__ import annotations

from typing import Any

from autograd import dtypes
from autograd.tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A tensor that a `Module` registers as a parameter when assigned to it.

    Args:
        data: a Tensor (its array is shared, not copied), an array, nested lists or a scalar.
            Integer and boolean data become the default dtype, float32 (only floating tensors
            take gradients).
        requires_grad: whether optimizers should train it (default True).
        dtype / device: as for `Tensor`.
    """

    __slots__ = ()

    def __init__(
        self,
        data: Any = None,
        requires_grad: bool = True,
        dtype: Any = None,
        device: Any = None,
    ) -> None:
        if data is None:
            data = []
        super().__init__(data, requires_grad=False, dtype=dtype, device=device)
        if not dtypes.is_floating(self.array.dtype):
            self.array = self.array.astype(dtypes.default_float())
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> Parameter:
        # The backend is shared (a Backend holds a device and a generator, never copied).
        p = Parameter._make(self.array.copy(), self._backend)
        p.requires_grad = self.requires_grad
        memo[id(self)] = p
        return p
