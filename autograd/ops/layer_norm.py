"""Layer normalisation as one recorded op: ``(x - mean) / sqrt(var + eps) * weight + bias``.

Fused for speed: composed from mean, subtract, square, mean, add, power and the affine ops it
records about ten nodes per call, each saving and re-reading a full-size array, and a
Transformer calls it twice per layer. The fused op keeps the normalised input and the
per-row ``1 / std``, and its first-order rule is the layer-norm backward written out on raw
arrays. With ``create_graph`` the rule recomputes the statistics from x with tensor ops, so
grad-of-grad works.
"""

from __future__ import annotations

from typing import Any

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

    def backward(self, gy):
        x, w, b, xhat, rstd = self.saved_tensors
        need_x, need_w = self.needs_input_grad[:2]
        need_b = len(self.needs_input_grad) > 2 and self.needs_input_grad[2]
        axes = self.axes
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


def layer_norm(x: Tensor, ndim: int, weight: Tensor | None, bias: Tensor | None,
               eps: float) -> Tensor:
    """Normalises `x` over its last `ndim` axes, then ``* weight + bias`` (either may be None)."""
    axes = tuple(range(x.ndim - ndim, x.ndim))
    return LayerNorm.apply(x, weight, bias, axes=axes, eps=float(eps))
