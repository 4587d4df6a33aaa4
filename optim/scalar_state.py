"""Scalar entries of an optimizer state (NAdam's ``mu_product``, ASGD's ``eta`` and ``mu``).

kedja keeps them as Python floats, so a step never reads a device; PyTorch saves them as 0-d
tensors, and a state loaded from PyTorch holds those until the first step reads them here once.
"""

from __future__ import annotations

from typing import Any

from autograd.tensor import Tensor


def python_float(value: Any) -> float:
    """`value` (a number, a 0-d or one-element Tensor or array) as a Python float."""
    if isinstance(value, Tensor):
        value = value._backend.to_numpy(value.array)
    if hasattr(value, "reshape") and hasattr(value, "dtype"):
        import backends

        source = backends.backend_of_array(value)
        host = source.to_numpy(value) if source is not None else value
        return float(host.reshape(()).item())
    return float(value)
