"""The helpers of `Module.to`: reading its arguments as a device and/or a dtype, and moving or
casting one parameter or buffer in place (they need no Module, so they sit below nn/module.py).
"""

from __future__ import annotations

from typing import Any

import backends
from autograd.function_base import COMPLEX_ADVICE
from autograd.tensor import Tensor
from backends.device_scope import call_scoped


def _device_and_dtype(device: Any, dtype: Any) -> tuple:
    """Lets ``to("float64")`` mean a dtype, as ``module.to(torch.float64)`` does in PyTorch."""
    if device is None or isinstance(device, backends.Backend):
        return device, dtype
    if isinstance(device, str):
        try:
            backends.canonical_device(device)
            return device, dtype
        except ValueError:
            pass
    try:
        as_dtype = backends.dtype_of(device)
    except TypeError as e:
        raise ValueError(f"to(): {device!r} is neither a device nor a dtype") from e
    if dtype is not None:
        raise ValueError(f"to(): got two dtypes, {device!r} and {dtype!r}")
    return None, as_dtype


def _move_in_place(t: Tensor, backend: backends.Backend | None, dtype: Any) -> None:
    """Re-points `t` at its data on `backend` and/or cast to `dtype` (floating tensors only)."""
    moved = t
    if backend is not None and backend is not t.backend:
        moved = moved.to(backend)
    if dtype is not None and t.dtype.kind == "f" and moved.dtype != backends.dtype_of(dtype):
        moved = call_scoped(moved._backend, moved.astype, dtype)  # on the current device
    if moved is not t:
        # A new array gets a new version counter, as an in-place rebind does.
        t.array = moved.array
        t._backend = moved._backend
        t._version = [0]


def _refuse_complex_cast(module: Any, dtype: Any) -> None:
    """Raises before anything is cast if `dtype` is complex and a parameter requires grad."""
    if dtype is None or backends.dtype_of(dtype).kind != "c":
        return
    for name, p in module.named_parameters():
        if p.requires_grad and p.dtype.kind == "f":
            raise TypeError(
                f"to(): cannot cast parameter {name!r} (shape {p.shape}, {p.dtype}), which "
                f"requires grad, to {backends.dtype_of(dtype)}: complex tensors cannot require "
                f"grad; {COMPLEX_ADVICE}"
            )

