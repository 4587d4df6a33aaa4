"""Fused softmax cross-entropy: log-softmax statistics, the gradient and its reduction kernel."""

from __future__ import annotations

import functools
import math
import types
from typing import Any

import numpy as np

from ..native import host_kernels
from . import common
from .common import _C_NAMES, CudaSpec, _compute, _kernel, _launch, _new, _on_cupy

_reductions: dict = {}
_FLOAT32 = np.dtype(np.float32)


def _sum_exp_kernel(compute: str, backend: Any = None) -> Any:
    """``sum(exp(x - m))`` over the reduced axes, with `m` broadcast: one read of `x`."""
    fake = backend is not None and backend.name == "fake"
    key = (compute, backend.device) if fake else compute
    k = _reductions.get(key)
    if k is None:
        if fake:  # the same body as host C++ (backends/fake_kernels.py)
            cupy: Any = types.SimpleNamespace(ReductionKernel=functools.partial(
                backend.reduction_kernel))
        else:
            import cupy

        k = _reductions[key] = cupy.ReductionKernel(
            "T x, T m", "T s", "exp((acc_t)x - (acc_t)m)", "a + b", "s = T(a)", "0",
            name=f"kedja_sum_exp_{compute}", reduce_type=_C_NAMES[compute],
            preamble=f"typedef {_C_NAMES[compute]} acc_t;",
        )
    return k


def log_softmax_stats(backend: Any, x: Any, axis: int = 1) -> tuple:
    """``(shift, log_total)``, both with `axis` kept: ``shift = max(x)``, ``log_total =
    log(sum(exp(x - shift)))``, so ``log_softmax(x) = (x - shift) - log_total``.

    Kept as two terms (not ``lse = shift + log_total``) so that ``(shift - x) + log_total`` is
    exact at the maximum even for logits of 1e4 in float32. On CuPy: the max, one fused
    exp-and-sum reduction (no ``exp(x - shift)`` array is written) and a log of the small result.
    """
    xp = backend.xp
    shift = x.max(axis=axis, keepdims=True)  # the method: no Python wrapper per call
    if _on_cupy(backend):
        common.launches += 1  # the counter lives in .common, next to _launch
        kernel = _sum_exp_kernel(_compute(x.dtype), backend)
        if backend.needs_device_scope:
            with backend.device_scope():
                total = kernel(x, shift, axis=axis, keepdims=True)
        else:
            total = kernel(x, shift, axis=axis, keepdims=True)
    else:
        e = xp.subtract(x, shift, out=_new(xp, x))
        xp.exp(e, out=e)
        total = e.sum(axis=axis, keepdims=True)
    return shift, xp.log(total, out=total)


def _host_rows(backend: Any, x: Any, target: Any) -> bool:
    """Whether the C loops of softmax.c take these operands: built, host NumPy arrays, logits
    (N, C >= 1) C-contiguous in float32 and int64 class indices, contiguous, both aligned.

    Float32 only: the loops compute in double, more accurately than the float32 NumPy body
    (they agree to 4 units in the last place). Float64 logits take the NumPy body, so float64
    results are the same bits with and without the C loops."""
    return (host_kernels is not None and backend.name == "numpy" and x.ndim == 2
            and x.shape[1] > 0 and x.dtype == _FLOAT32 and x.flags.c_contiguous
            and x.flags.aligned and isinstance(target, np.ndarray) and target.dtype == np.int64
            and target.flags.c_contiguous and target.flags.aligned
            and target.size == x.shape[0])


def softmax_xent_nll(backend: Any, x: Any, target: Any) -> tuple | None:
    """``(shift, log_total, nll)`` of host logits `x` (N, C) against class indices `target`
    (N,): the statistics of `log_softmax_stats` (N, 1) and ``nll = -log softmax(x)[n,
    target[n]]`` (N,). None where a target is out of [0, C) (the caller's general path then
    ignores or reports it) and on a device (whose range check would read device memory).

    The C loop (backends/csrc/softmax.c, float32 logits) does it in one pass per row, in
    double; the NumPy body in ~12 array operations in the logits' dtype (in float32 the two
    agree to 4 units in the last place of max(1, |value|); see docs/kernels.md).
    """
    if backend.is_device:
        return None
    xp = backend.xp
    n, n_classes = x.shape[0], x.shape[1]
    if _host_rows(backend, x, target):
        shift = xp.empty((n, 1), dtype=x.dtype)
        log_total = xp.empty((n, 1), dtype=x.dtype)
        nll = xp.empty((n,), dtype=x.dtype)
        if host_kernels.softmax_xent(x, target, shift, log_total, nll):
            return shift, log_total, nll
        return None
    if target.size and (target.min() < 0 or target.max() >= n_classes):
        return None
    shift, log_total = log_softmax_stats(backend, x, axis=1)
    return shift, log_total, picked_nll(xp, x, target, shift, log_total)


def picked_nll(xp: Any, x: Any, target: Any, shift: Any, log_total: Any) -> Any:
    """``-log softmax(x)`` at each sample's class (`target` (N, d1, ...), all in range), from
    `log_softmax_stats`: ``(shift - x[target]) + log_total``, exact at the maximum."""
    if x.ndim == 2:  # plain fancy indexing (take_along_axis is slow)
        picked = x[xp.arange(x.shape[0]), target][:, None]
    else:
        picked = xp.take_along_axis(x, target[:, None], axis=1)
    return ((shift - picked) + log_total)[:, 0]


_SOFTMAX_XENT_GRAD = CudaSpec(
    "softmax_xent_grad",
    "T x, T shift, T log_total, I target, T scale, T hot, T smooth, T w, int64 n_class, "
    "int64 inner",
    "T gx",
    """
    const long long c = ((long long)i / inner) % n_class;
    acc_t v = (acc_t)scale * exp(((acc_t)x - (acc_t)shift) - (acc_t)log_total);
    if (c == (long long)target) v -= (acc_t)hot;
    gx = T(v - (acc_t)smooth * (acc_t)w);
    """,
)


def _dense(xp: Any, a: Any) -> Any:
    """`a` itself if it is 0-d or C-contiguous, else a C-contiguous copy."""
    return a if a.ndim == 0 or a.flags.c_contiguous else xp.ascontiguousarray(a)


def softmax_xent_grad(backend: Any, x: Any, shift: Any, log_total: Any, target: Any,
                      scale: Any, hot: Any, smooth: Any = None, weight: Any = None) -> Any:
    """The gradient of a softmax cross-entropy over axis 1 in one pass over the logits::

        gx[n, c, ...] = scale[n] * softmax(x)[n, c] - hot[n] * (c == target[n])
                        - smooth[n] * weight[c]

    Args:
        x: logits (N, C, d1, ...).
        shift, log_total: from `log_softmax_stats` (N, 1, d1, ...).
        target: class indices (N, 1, d1, ...), all in range.
        scale, hot, smooth: per-sample coefficients (N, 1, d1, ...) in x's dtype, or 0-d
            (one for every sample; `scale` and `hot` only); `smooth`
            None means 0 (no label smoothing).
        weight: per-class factor of `smooth`, shaped (1, C, 1, ...); None means 1.
    """
    xp = backend.xp
    if _on_cupy(backend):
        n_class = x.shape[1]
        inner = math.prod(x.shape[2:])
        w = 1.0 if weight is None else weight.astype(x.dtype, copy=False)
        s = 0.0 if smooth is None else smooth
        gx = xp.empty(x.shape, dtype=x.dtype)
        _launch(backend, _kernel(_SOFTMAX_XENT_GRAD, _compute(x.dtype)), x, shift, log_total,
                target, scale, hot, s, w, n_class, inner, gx)
        return gx
    if (smooth is None and target.ndim == 2 and _host_rows(backend, x, target[:, 0])
            and getattr(scale, "dtype", None) == x.dtype
            and getattr(hot, "dtype", None) == x.dtype):
        # The C loop (backends/csrc/softmax.c): one pass, in double (float32 logits only).
        # Per-sample coefficients made from a broadcast upstream gradient (the gradient of
        # ``loss.sum()`` with reduction="none") are strided views: the loop reads dense rows.
        scale, hot = _dense(xp, scale), _dense(xp, hot)
        gx = xp.empty(x.shape, dtype=x.dtype)
        host_kernels.softmax_xent_grad(x, target, shift, log_total, scale, hot, gx)
        return gx
    gx = xp.subtract(x, shift, out=_new(xp, x))
    xp.subtract(gx, log_total, out=gx)
    xp.exp(gx, out=gx)
    xp.multiply(gx, scale, out=gx)
    if smooth is not None:
        xp.subtract(gx, smooth if weight is None else xp.multiply(smooth, weight), out=gx)
    if gx.ndim == 2:  # the common case, by plain fancy indexing (take/put_along_axis are slow)
        rows = xp.arange(gx.shape[0])
        gx[rows, target[:, 0]] -= hot[:, 0] if hot.ndim else hot
        return gx
    picked = xp.take_along_axis(gx, target, axis=1)
    xp.subtract(picked, hot, out=picked)
    xp.put_along_axis(gx, target, picked, axis=1)
    return gx
