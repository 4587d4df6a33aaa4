"""Argument handling shared by the distributions: everything as Tensors on one device once any
argument is a Tensor (so that operators combine Tensors), plain data left as it is."""

from __future__ import annotations

from typing import Any

from ...numpy.dispatch import as_tensor, onp, tensors_in


def lift(*args: Any) -> list:
    """The arguments as float Tensors on the first Tensor's device, if any is a Tensor; else
    as float64 NumPy arrays."""
    found = tensors_in(args)
    if not found:
        return [onp.asarray(a, dtype=float) for a in args]
    like = found[0]
    out = []
    for a in args:
        t = as_tensor(a if not isinstance(a, (int, float)) else onp.asarray(float(a)), like)
        out.append(t.astype("float64") if t.array.dtype.kind in "biu" else t)
    return out
