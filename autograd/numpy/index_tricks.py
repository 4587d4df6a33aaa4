"""`r_` and `c_` (NumPy's concatenation by index expressions) that keep Tensors differentiable,
and HIPS autograd's `make_diagonal`.

``np.r_[x, c, 1:4]`` joins along the first axis (slices become ``arange``/``linspace``
constants, scalars 1-element arrays); ``np.c_[a, b]`` joins along the last axis with 1-D
arrays as columns. A leading string sets ``"axis"``, ``"axis,ndmin"`` or
``"axis,ndmin,trans1d"`` as in NumPy. Without Tensors, NumPy's own ``r_``/``c_`` run.
"""

from __future__ import annotations

from typing import Any

from ..ops import arithmetic as _ar
from ..ops import layout as _lay
from ..tensor import Tensor
from .dispatch import as_tensor, cast, like_of, numpy_function, onp, result_dtype, tensors_in
from .shaping import concatenate

__all__ = ["r_", "c_", "make_diagonal"]


class _Concatenator:
    """NumPy's ``r_``/``c_`` for Tensors (see the module docstring)."""

    def __init__(self, axis: int, ndmin: int, trans1d: int, plain: Any) -> None:
        self.axis, self.ndmin, self.trans1d, self.plain = axis, ndmin, trans1d, plain

    def __getitem__(self, key: Any) -> Any:
        items = key if isinstance(key, tuple) else (key,)
        if not tensors_in(items):
            return self.plain[key]
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        if items and isinstance(items[0], str):
            spec = [int(v) for v in items[0].split(",")]
            axis = spec[0]
            ndmin = spec[1] if len(spec) > 1 else ndmin
            trans1d = spec[2] if len(spec) > 2 else trans1d
            items = items[1:]
        like = like_of(*items)
        arrays = []
        for item in items:
            if isinstance(item, slice):
                item = onp.r_[item]
            t = as_tensor(onp.asarray(item) if not isinstance(item, Tensor) else item, like)
            if t.ndim < ndmin:
                extra = (1,) * (ndmin - t.ndim)
                shape = t.shape + extra if trans1d == 0 and t.ndim else extra + t.shape
                t = _lay.Reshape.apply(t, shape=shape)
            elif t.ndim == 0:
                t = _lay.Reshape.apply(t, shape=(1,))
            arrays.append(t)
        dtype = result_dtype(*arrays)
        return concatenate([cast(t, dtype) for t in arrays], axis=axis)

    def __len__(self) -> int:
        return 0


r_ = _Concatenator(0, 1, -1, onp.r_)
c_ = _Concatenator(-1, 2, 0, onp.c_)


def _plain_make_diagonal(D: Any, offset: int = 0, axis1: int = -1, axis2: int = -2) -> Any:
    D = onp.asarray(D)
    return D[..., None] * onp.eye(D.shape[-1], dtype=D.dtype)


@numpy_function(_plain_make_diagonal)
def make_diagonal(D: Any, offset: int = 0, axis1: int = -1, axis2: int = -2) -> Any:
    """HIPS autograd's ``make_diagonal``: (..., n) -> (..., n, n) with D on the diagonal (the
    complement of ``diagonal(x, axis1=-1, axis2=-2)``; only those arguments are supported)."""
    if not (offset == 0 and axis1 in (-1, -2) and axis2 in (-1, -2) and axis1 != axis2):
        raise NotImplementedError("make_diagonal supports only offset=0, axis1=-1, axis2=-2")
    d = as_tensor(D, like_of(D))
    n = d.shape[-1]
    eye = Tensor._make(d.xp.eye(n, dtype=d.array.dtype), d.backend)
    return _ar.Mul.apply(_lay.Reshape.apply(d, shape=d.shape + (1,)), eye)
