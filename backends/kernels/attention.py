"""The attention's softmax over rows of scores, as a host C loop where it applies."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..native import host_kernels

_FLOAT32 = np.dtype(np.float32)


def softmax_rows(backend: Any, s: Any, causal: bool) -> bool:
    """Turns float32 scores `s` (..., L, S) into probabilities in place with the C loop of
    backends/csrc/attention.c (with `causal`, query i sees keys 0..i): True when done; False
    where it does not apply (not built, not host NumPy, not C-contiguous aligned float32, an
    empty axis) and nothing was written: the caller then runs its NumPy body
    (autograd/ops/attention.py `_probabilities`), from which it differs by rounding only
    (docs/kernels.md states the bound)."""
    if host_kernels is None or backend.name != "numpy" or s.dtype != _FLOAT32:
        return False
    return host_kernels.softmax_rows(s, causal)
