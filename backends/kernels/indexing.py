"""Scatter-add over rows: ``target[index] += values`` with repeated indices accumulating (the
rule of ``weight[index]``: an embedding's backward)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..native import host_kernels

_INT64 = np.dtype(np.int64)


def scatter_add_rows(backend: Any, target: Any, index: Any, values: Any) -> bool:
    """Adds ``values[i]`` (shape ``index.shape + target.shape[1:]``) into ``target[index[i]]``
    in index order, with the C loop of backends/csrc/indexing.c: True when done, False where
    it does not apply (not built, not host NumPy arrays, not C-contiguous float data of one
    dtype, an index out of range) and nothing was written; the caller then runs its NumPy
    body, ``np.add.at``, which makes the same additions in the same order (the same bits)
    at ~5x the cost (1024 rows of 128 float32: 1.7 -> 0.3 ms)."""
    if (host_kernels is None or backend.name != "numpy" or index.dtype.kind not in "iu"
            or target.ndim < 1 or values.shape != index.shape + target.shape[1:]):
        return False
    if index.dtype != _INT64:
        index = index.astype(_INT64)
    return host_kernels.scatter_add_rows(target, index, values)
