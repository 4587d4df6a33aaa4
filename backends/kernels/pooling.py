"""Block max pooling's two passes (stride = kernel, no padding): the max with its first-max
offset, and the adjoint scatter of a gradient to those offsets.

Both work on channels-last blocks, ``(N, OH, kh, OW, kw, C)`` (a free view of an NCHW view of
NHWC memory, as convolution outputs are). Two bodies each, computing the same values:

- on the host, where the C extension is built (backends/native.py), one C loop over memory
  (``backends/csrc/pooling.c``): a single pass instead of about four array passes per block
  offset, without the GIL (the caller may run two halves of a batch at once);
- otherwise (the fake device, CuPy, other dtypes, no compiler), whole-array `xp` calls, the
  reference the C loop follows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..native import host_kernels
from .common import C_FLOATS

_INDEX = (np.dtype(np.uint8), np.dtype(np.int32))


def _host_c(backend: Any, values: tuple, index: Any) -> bool:
    """Whether the C loop takes these arrays: host NumPy, float32/float64 values of one dtype,
    a uint8/int32 index (or none), contiguous channel axes, aligned data."""
    if host_kernels is None or backend.name != "numpy":
        return False
    dtype = values[0].dtype
    if dtype not in C_FLOATS or (index is not None and index.dtype not in _INDEX):
        return False
    arrays = values if index is None else (*values, index)
    return all(a.dtype == dtype or a is index for a in arrays) and all(
        a.strides[-1] == a.itemsize and a.flags.aligned for a in arrays)


def block_max(backend: Any, blocks: Any, best: Any, index: Any, relu: bool = False) -> None:
    """best = the max over the blocks' kh*kw offsets (NaN propagates); index (unless None) =
    the first maximum's offset k = i * kw + j (ties to the earlier offset; a NaN is never it).
    With `relu`, best = max(that max, 0) (relu after the pool: the two commute).

    The first maximum is where the running max last rose strictly (a tie does not raise it):
    index = max over k of k * (tap_k > running max). NumPy body: with a uint8 index the
    comparison is written into a reused boolean buffer and scaled by k in place as bytes (no
    casts, no new temporaries: ~25 % less time than casting bool to uint8 per offset).
    """
    if blocks.ndim == 6 and (blocks.shape[2] < 1 or blocks.shape[4] < 1):  # as pooling.c
        raise ValueError(f"block_max: blocks of {blocks.shape[2]} x {blocks.shape[4]} offsets "
                         "have no maximum")
    if _host_c(backend, (blocks, best), index):
        host_kernels.block_max(blocks, best, index, relu)
        return
    xp = backend.xp
    kh, kw = blocks.shape[2], blocks.shape[4]
    best[...] = blocks[:, :, 0, :, 0, :]
    small = index is not None and index.dtype == xp.uint8
    if small:
        step = xp.empty(best.shape, dtype=xp.bool_)
        rise = step.view(xp.uint8)
    if index is not None and not (small and kh * kw > 1):
        index.fill(0)
    for k in range(1, kh * kw):
        tap = blocks[:, :, k // kw, :, k % kw, :]
        if small and k == 1:
            xp.greater(tap, best, out=index.view(xp.bool_))    # 1 * rise
        elif small:
            xp.greater(tap, best, out=step)
            xp.multiply(rise, k, out=rise)
            xp.maximum(index, rise, out=index)
        elif index is not None:
            rose = xp.multiply(xp.greater(tap, best), k, dtype=index.dtype)
            xp.maximum(index, rose, out=index)
        xp.maximum(best, tap, out=best)
    if relu:
        xp.maximum(best, 0, out=best)


def block_scatter(backend: Any, g: Any, index: Any, out: Any, gate: Any = None) -> None:
    """out[:, :, i, :, j, :] = g * (index == i * kw + j): `g` (N, OH, OW, C) at each block's
    first maximum and zeros elsewhere, as a product (a NaN or inf in g reaches its whole
    block, as PyTorch's scatter would not: kept for one rule on every path); an index outside
    [0, kh*kw) marks no offset (zeros). With a `gate` (relu's output, like g), g is multiplied
    by ``gate > 0`` first (relu's gradient)."""
    xp = backend.xp
    # Contiguous once: the array body reads g kh*kw times and the C loop wants it so (an NCHW
    # g, e.g. from a flatten, is copied; a convolution's NHWC-memory gradient already is).
    g = xp.ascontiguousarray(g)
    gate = None if gate is None else xp.ascontiguousarray(gate)
    if _host_c(backend, (g, out) if gate is None else (g, out, gate), index):
        host_kernels.block_scatter(g, index, gate, out)
        return
    if gate is not None:
        g = xp.multiply(g, xp.greater(gate, 0))  # as relu_grad
    kh, kw = out.shape[2], out.shape[4]
    for k in range(kh * kw):
        xp.multiply(g, index == k, out=out[:, :, k // kw, :, k % kw, :])
