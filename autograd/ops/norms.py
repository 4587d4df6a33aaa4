"""Vector norms (PyTorch's ``Tensor.norm(p, dim)`` and ``Tensor.dist``; NumPy's
``linalg.norm`` lives in the numpy namespace and may build on `vector_norm`).

`VectorNorm` is one op: ``(sum |x|^p)^(1/p)`` over the given axes, with p = inf / -inf the
largest / smallest |x| and p = 0 the count of nonzeros. Conventions at kinks (PyTorch's): the
gradient at x = 0 is 0 (a subgradient; never 0/0 = NaN), tied extremes of the inf-norms share
the gradient evenly, p = 0 has a zero gradient.
"""

from __future__ import annotations

import math
from typing import Any

from ..function import Function
from ..tensor import Tensor
from .arithmetic import where
from .reduction import _axes, _keepdims_shape

__all__: list = []

_INF = math.inf


class VectorNorm(Function):
    """y = the p-norm of x over `axes` (a tuple) with `keepdims`."""

    def forward(self, x):
        xp = self.xp
        self.in_shape = x.shape
        p, axes = self.p, self.axes
        a = xp.abs(x)
        if p == _INF:
            y = a.max(axis=axes, keepdims=True) if a.size else xp.zeros(
                _keepdims_shape(x.shape, axes), dtype=a.dtype)
        elif p == -_INF:
            y = a.min(axis=axes, keepdims=True)
        elif p == 0:
            y = (a != 0).sum(axis=axes, keepdims=True).astype(a.dtype)
        elif p == 1:
            y = a.sum(axis=axes, keepdims=True)
        elif p == 2:
            y = xp.sqrt((x * x).sum(axis=axes, keepdims=True))
        else:
            y = (a ** p).sum(axis=axes, keepdims=True) ** (1.0 / p)
        if not self.keepdims:
            y = y.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, y = self.saved_tensors
        p = self.p
        if not self.keepdims:
            shape = _keepdims_shape(self.in_shape, self.axes)
            gy, y = gy.reshape(shape), y.reshape(shape)
        if p == 0:
            return x * 0.0 * gy
        sign = x.sign()
        if p == 1:
            return gy * sign
        if p in (_INF, -_INF):
            hit = (x.abs() == y.detach()).astype(x.dtype)
            return gy * sign * hit / hit.sum(axis=self.axes, keepdims=True)
        zero = y == 0
        safe_y = where(zero, 1.0, y)
        if p == 2:
            return where(zero, 0.0, gy / safe_y) * x
        a = x.abs()
        nonzero = a != 0
        ratio = where(nonzero, where(nonzero, a, 1.0) / safe_y, 0.0)
        return where(zero, 0.0, gy) * sign * ratio ** (p - 1)


def _order(p: Any, op: str) -> float:
    if isinstance(p, str):
        if p == "fro":
            return 2.0
        if p in ("inf", "-inf"):
            return float(p)
        raise ValueError(f"{op}: unsupported norm {p!r}; this is a vector norm: use a number, "
                         "inf, -inf or 'fro' (the nuclear norm needs the SVD of "
                         "autograd.numpy.linalg)")
    return float(p)


def vector_norm(x: Tensor, p: Any = 2, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The p-norm of `x` over `axis` (all axes for None); ``p='fro'`` is the 2-norm.

    Gradient conventions: 0 at x = 0, ties of the inf-norms split evenly, p = 0 has none.
    """
    if x.dtype.kind not in "fc":
        x = x.astype("float32")
    axes = _axes(axis, x.ndim)
    if x.ndim == 0:
        axes = ()
    p = _order(p, "norm")
    if p == -_INF and any(x.shape[a] == 0 for a in axes):
        raise ValueError(f"norm: the -inf norm of an empty slice is undefined (shape {x.shape})")
    return VectorNorm.apply(x, p=p, axes=axes, keepdims=keepdims)
