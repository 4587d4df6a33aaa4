"""Layer normalisation as one recorded op: ``(x - mean) / sqrt(var + eps) * weight + bias``.

Fused for speed: composed from mean, subtract, square, mean, add, power and the affine ops it
records about ten nodes per call, each saving and re-reading a full-size array, and a
Transformer calls it twice per layer. The fused op keeps the normalised input and the
per-row ``1 / std``, and its first-order rule is the layer-norm backward written out on raw
arrays. With ``create_graph`` the rule recomputes the statistics from x with tensor ops, so
grad-of-grad works.

Row sums are matrix-vector products with a vector of ones (``x (R, n) @ 1 (n, 1)``): NumPy's
reductions over a short contiguous last axis cost 4-5x the GEMV, and a Transformer normalises
rows of 128-1024 features.
"""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..grad_mode import state as _grad_state
from ..tensor import Tensor
from .reduction import mean as _tensor_mean

__all__: list = []

#: Columns of ones by (device, n, dtype), for row sums as GEMVs (`_row_sums`).
_ONES: dict = {}


def _ones(backend: Any, n: int, dtype: Any) -> Any:
    key = (backend.device, n, str(dtype))
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) > 64:
            _ONES.clear()
        ones = _ONES[key] = backend.xp.ones((n, 1), dtype=dtype)
    return ones


def _row_means(xp: Any, a: Any, ones: Any) -> Any:
    """(R, 1) means of the rows of `a` (R, n): a GEMV with ones, then one division."""
    m = xp.matmul(a, ones)
    m /= ones.shape[0]
    return m


def _mean(a: Any, axes: tuple) -> Any:
    """The mean over `axes`, kept: of a Tensor (the recorded rule) or a raw array."""
    if isinstance(a, Tensor):
        return _tensor_mean(a, axis=axes, keepdims=True)
    return a.mean(axis=axes, keepdims=True)


class LayerNorm(Function):
    """y = xhat * w + b with ``xhat = (x - mean) * rstd``, ``rstd = (var + eps) ** -0.5``,
    mean and biased var over the trailing `axes`; w and b (or None) broadcast against x.

    With ``g = gy * w``: ``gx = rstd (g - mean(g) - xhat mean(g xhat))``, ``gw = gy xhat`` and
    ``gb = gy``, summed to their shapes by the engine.
    """

    raw_backward = True

    def forward(self, x, w, b):
        if self._fast(x, w, b):
            return self._rows_forward(x, w, b)
        xp = self.xp
        axes = self.axes
        xhat = x - x.mean(axis=axes, keepdims=True)
        var = xp.square(xhat).mean(axis=axes, keepdims=True)
        var += self.eps
        rstd = xp.sqrt(var, out=var)
        rstd = xp.divide(1.0, rstd, out=rstd)
        xhat *= rstd
        if w is not None:
            y = xhat * w
            if b is not None:
                y += b
        elif b is not None:
            y = xhat + b
        else:
            y = xhat.copy()
        if self._recording:
            self.save_for_backward(x, w, b, xhat, rstd)
        return y

    def _fast(self, x, w, b) -> bool:
        """Whether the row path applies: float32/64 rows of the trailing axes, non-empty, and
        weight and bias (if any) of exactly the normalised shape."""
        inner = x.shape[x.ndim - len(self.axes):]
        return (x.dtype.kind == "f" and x.dtype.itemsize >= 4 and x.size > 0
                and all(a is None or (a.shape == inner and a.dtype == x.dtype) for a in (w, b)))

    def _rows_forward(self, x, w, b):
        """The forward on x as (R, n) rows, sums as GEMVs (see the module docstring)."""
        xp = self.xp
        n = 1
        for a in self.axes:
            n *= x.shape[a]
        rows = x.reshape(-1, n)
        ones = _ones(self.backend, n, x.dtype)
        xhat = rows - _row_means(xp, rows, ones)
        y = xp.multiply(xhat, xhat)
        var = _row_means(xp, y, ones)
        var += self.eps
        rstd = xp.sqrt(var, out=var)
        rstd = xp.divide(1.0, rstd, out=rstd)
        xhat *= rstd
        if w is not None:
            xp.multiply(xhat, w.reshape(n), out=y)
            if b is not None:
                y += b.reshape(n)
        elif b is not None:
            xp.add(xhat, b.reshape(n), out=y)
        else:
            y[...] = xhat
        stats = (*x.shape[:x.ndim - len(self.axes)], *(1 for _ in self.axes))
        if self._recording:
            self.save_for_backward(x, w, b, xhat.reshape(x.shape), rstd.reshape(stats))
        return y.reshape(x.shape)

    def backward(self, gy):
        x, w, b, xhat, rstd = self.saved_tensors
        need_x, need_w = self.needs_input_grad[:2]
        need_b = len(self.needs_input_grad) > 2 and self.needs_input_grad[2]
        axes = self.axes
        if _grad_state.raw_backend is not None and self._fast(x, w, b) and gy.shape == x.shape:
            return self._rows_backward(gy, w, xhat, rstd, need_x, need_w, need_b)
        if _grad_state.raw_backend is None:
            # Building a graph: the statistics again from x with tensor ops (differentiable).
            centered = x - _mean(x, axes)
            rstd = (_mean(centered * centered, axes) + self.eps) ** -0.5
            xhat = centered * rstd
        gw = gy * xhat if need_w else None
        gb = gy if need_b else None
        gx = None
        if need_x:
            g = gy if w is None else gy * w
            gx = g - _mean(g, axes)
            gx = gx - xhat * _mean(g * xhat, axes)
            gx = gx * rstd
        return gx, gw, gb

    def _rows_backward(self, gy, w, xhat, rstd, need_x, need_w, need_b) -> tuple:
        """The first-order rule on raw (R, n) rows: sums as GEMVs, gw and gb already reduced
        to the weight's shape (a GEMV with a row of ones each)."""
        xp = self.xp
        shape = xhat.shape
        n = 1
        for a in self.axes:
            n *= shape[a]
        gy2, xh = gy.reshape(-1, n), xhat.reshape(-1, n)
        gw = gb = gx = None
        if need_w or need_b:
            across = _ones(self.backend, gy2.shape[0], gy2.dtype).reshape(1, -1)
            if need_w:
                gw = xp.matmul(across, gy2 * xh).reshape(w.shape)
            if need_b:
                gb = xp.matmul(across, gy2).reshape(shape[len(shape) - len(self.axes):])
        if need_x:
            ones = _ones(self.backend, n, gy2.dtype)
            g = gy2 * w.reshape(n) if w is not None else gy2.copy()
            t = g * xh
            mean_gx = _row_means(xp, t, ones)  # mean(g xhat) per row
            g -= _row_means(xp, g, ones)
            xp.multiply(xh, mean_gx, out=t)
            g -= t
            g *= rstd.reshape(-1, 1)
            gx = g.reshape(shape)
        return gx, gw, gb


def layer_norm(x: Tensor, ndim: int, weight: Tensor | None, bias: Tensor | None,
               eps: float) -> Tensor:
    """Normalises `x` over its last `ndim` axes, then ``* weight + bias`` (either may be None)."""
    axes = tuple(range(x.ndim - ndim, x.ndim))
    return LayerNorm.apply(x, weight, bias, axes=axes, eps=float(eps))
