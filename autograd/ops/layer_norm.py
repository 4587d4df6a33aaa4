"""Layer normalisation as one recorded op: ``(x - mean) / sqrt(var + eps) * weight + bias``.

Fused for speed: composed from mean, subtract, square, mean, add, power and the affine ops it
records about ten nodes per call, each saving and re-reading a full-size array, and a
Transformer calls it twice per layer. The fused op keeps the normalised input and the
per-row ``1 / std``, and its first-order rule is the layer-norm backward written out on raw
arrays. With ``create_graph`` the rule recomputes the statistics from x with tensor ops, so
grad-of-grad works.

The row path (the common case: float rows of the trailing axes) runs the kernels of
backends/kernels/normalization.py: one C pass per row on host float32 arrays, NumPy's GEMVs with
a column of ones otherwise.
"""

from __future__ import annotations

from typing import Any

from backends.kernels import normalization

from ..function import Function
from ..grad_mode import state as _grad_state
from ..tensor import Tensor
from .reduction import mean as _tensor_mean

__all__: list = []

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
        """The forward on x as (R, n) rows (`normalization.layer_norm_rows`)."""
        n = 1
        for a in self.axes:
            n *= x.shape[a]
        y, xhat, rstd = normalization.layer_norm_rows(
            self.backend, x.reshape(-1, n), None if w is None else w.reshape(n),
            None if b is None else b.reshape(n), self.eps)
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
        """The first-order rule on raw (R, n) rows (`normalization.layer_norm_rows_grad`), gw
        and gb already reduced to the weight's shape."""
        shape = xhat.shape
        n = 1
        for a in self.axes:
            n *= shape[a]
        gx, gw, gb = normalization.layer_norm_rows_grad(
            self.backend, gy.reshape(-1, n), xhat.reshape(-1, n),
            None if w is None else w.reshape(n), rstd.reshape(-1, 1), need_x, need_w, need_b)
        inner = shape[len(shape) - len(self.axes):]
        return (None if gx is None else gx.reshape(shape),
                None if gw is None else gw.reshape(inner),
                None if gb is None else gb.reshape(inner))


def layer_norm(x: Tensor, ndim: int, weight: Tensor | None, bias: Tensor | None,
               eps: float) -> Tensor:
    """Normalises `x` over its last `ndim` axes, then ``* weight + bias`` (either may be None)."""
    axes = tuple(range(x.ndim - ndim, x.ndim))
    return LayerNorm.apply(x, weight, bias, axes=axes, eps=float(eps))
