"""Layer normalisation over rows: the forward and the input's gradient on (R, n) arrays.

The NumPy bodies take the row sums as matrix-vector products with a column of ones
(``x (R, n) @ 1 (n, 1)``): NumPy's reductions over a short contiguous last axis cost 4-5x the
GEMV, and a Transformer normalises rows of 128-1024 features. On host float32 arrays the C
loops of backends/csrc/normalization.c do each in one pass per row, the statistics in double
(they agree with the NumPy bodies to float32 rounding; docs/kernels.md states the bound).
The NumPy bodies stay the reference, the fake device's path and the fallback.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..native import host_kernels

_FLOAT32 = np.dtype(np.float32)

#: Columns of ones by (device, n, dtype), for row sums as GEMVs.
_ONES: dict = {}


def ones(backend: Any, n: int, dtype: Any) -> Any:
    """A cached (n, 1) column of ones in `dtype` on `backend`'s device."""
    key = (backend.device, n, str(dtype))
    column = _ONES.get(key)
    if column is None:
        if len(_ONES) > 64:
            _ONES.clear()
        column = _ONES[key] = backend.xp.ones((n, 1), dtype=dtype)
    return column


def _row_means(xp: Any, a: Any, column: Any) -> Any:
    """(R, 1) means of the rows of `a` (R, n): a GEMV with ones, then one division."""
    m = xp.matmul(a, column)
    m /= column.shape[0]
    return m


def _c_loop(backend: Any, *arrays: Any) -> bool:
    """Whether the C loops may take these arrays: built, host NumPy, float32 (the loop declines
    anything else it is given, returning False)."""
    return (host_kernels is not None and backend.name == "numpy"
            and all(a is None or a.dtype == _FLOAT32 for a in arrays))


def layer_norm_rows(backend: Any, rows: Any, w: Any, b: Any, eps: float) -> tuple:
    """``(y, xhat, rstd)`` for `rows` (R, n): ``xhat = (x - mean) * rstd`` with ``rstd =
    (var + eps) ** -0.5`` (biased variance) per row (R, 1), ``y = xhat * w + b``; `w` and `b`
    are (n,) or None."""
    xp = backend.xp
    n = rows.shape[1]
    if _c_loop(backend, rows, w, b):
        y, xhat = xp.empty_like(rows), xp.empty_like(rows)
        rstd = xp.empty((rows.shape[0], 1), dtype=rows.dtype)
        if host_kernels.layer_norm(rows, w, b, eps, y, xhat, rstd):
            return y, xhat, rstd
    column = ones(backend, n, rows.dtype)
    xhat = rows - _row_means(xp, rows, column)
    y = xp.multiply(xhat, xhat)
    var = _row_means(xp, y, column)
    var += eps
    rstd = xp.sqrt(var, out=var)
    rstd = xp.divide(1.0, rstd, out=rstd)
    xhat *= rstd
    if w is not None:
        xp.multiply(xhat, w, out=y)
        if b is not None:
            y += b
    elif b is not None:
        xp.add(xhat, b, out=y)
    else:
        y[...] = xhat
    return y, xhat, rstd


def layer_norm_rows_grad(backend: Any, gy: Any, xhat: Any, w: Any, rstd: Any,
                         need_x: bool = True, need_w: bool = False,
                         need_b: bool = False) -> tuple:
    """``(gx, gw, gb)`` of `layer_norm_rows` (None where not needed): with ``g = gy * w``,
    ``gx = rstd (g - mean(g) - xhat mean(g xhat))`` per row (R, n), ``gw`` and ``gb`` the
    column sums (n,) of ``gy xhat`` and ``gy`` (GEMVs with a row of ones)."""
    xp = backend.xp
    rows, n = gy.shape
    if _c_loop(backend, gy, xhat, w, rstd):
        gx = xp.empty_like(gy) if need_x else None
        gw = xp.empty(n, dtype=gy.dtype) if need_w else None
        gb = xp.empty(n, dtype=gy.dtype) if need_b else None
        if host_kernels.layer_norm_grad(gy, xhat, w, rstd, gx, gw, gb):
            return gx, gw, gb
    gw = gb = gx = None
    if need_w or need_b:
        across = ones(backend, rows, gy.dtype).reshape(1, -1)
        if need_w:
            gw = xp.matmul(across, gy * xhat).reshape(n)
        if need_b:
            gb = xp.matmul(across, gy).reshape(n)
    if need_x:
        column = ones(backend, n, gy.dtype)
        g = gy * w if w is not None else gy.copy()
        t = g * xhat
        mean_gx = _row_means(xp, t, column)  # mean(g xhat) per row
        g -= _row_means(xp, g, column)
        xp.multiply(xhat, mean_gx, out=t)
        g -= t
        g *= rstd.reshape(-1, 1)
        gx = g
    return gx, gw, gb
