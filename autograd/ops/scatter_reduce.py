"""scatter_reduce: x with the values of `src` combined into the positions `index` points at
(sum, prod, mean, amax or amin), and, with ``include_self=False``, x's own value left out where
anything lands.

sum and mean are composed from the exact scatter-add; prod and amax/amin are primitives over a
segmented reduction (`_segment_reduce`: sort by target, then a log-depth scan, the same array
ops on every backend). Their rules are exact where values repeat or vanish: tied extremes share
the gradient evenly (PyTorch's rule), and a product's derivative is the product of the others,
computed with zeros counted apart so that it needs no division by zero (as `Prod`'s rule).
"""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..tensor import Tensor
from .arithmetic import where
from .indexing import GetItemAdvanced, ScatterAdd, _Slot
from .layout import reshape

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _segment_reduce(xp: Any, ids: Any, values: Any, how: str, size: int) -> tuple:
    """(out, touched) over `size` flat positions: out[p] combines (multiply, maximum or minimum)
    the values whose id is p; touched[p] says whether any did (out is 0 elsewhere)."""
    touched = xp.zeros(size, dtype=bool)
    out = xp.zeros(size, dtype=values.dtype)
    n = ids.shape[0]
    if n == 0:
        return out, touched
    touched[ids] = True
    order = xp.argsort(ids)
    ids, v = ids[order], values[order]
    start = xp.searchsorted(ids, ids)  # where each value's run of equal ids begins
    combine = {"prod": xp.multiply, "amax": xp.maximum, "amin": xp.minimum}[how]
    position = xp.arange(n)
    step = 1
    while step < n:  # inclusive scan within runs: v[i] combines v[max(start, i - 2 step + 1)..i]
        inside = position[step:] - step >= start[step:]
        v = xp.concatenate([v[:step], xp.where(inside, combine(v[step:], v[:-step]), v[step:])])
        step *= 2
    last = xp.concatenate([ids[1:] != ids[:-1], xp.ones(1, dtype=bool)])
    out[ids[last]] = v[last]
    return out, touched


def _gather(t: Tensor, ids: Any) -> Tensor:
    """t's entries at the flat positions `ids` (a raw int array), differentiable."""
    return GetItemAdvanced.apply(reshape(t, (-1,)), ids, parts=(_Slot(0),))


def _scatter_sum(v: Tensor, ids: Any, shape: tuple) -> Tensor:
    """Zeros of `shape` with v added at the flat positions `ids`, differentiable."""
    size = 1
    for n in shape:
        size *= n
    return reshape(ScatterAdd.apply(v, ids, parts=(_Slot(0),), shape=(size,)), shape)


class ScatterExtreme(Function):
    """y = x with each position's maximum (`how` "amax") or minimum ("amin") of the src values
    that `ids` send there, and of x itself if `include_self`.

    Tied extremes share the gradient evenly; x is an extreme also where nothing lands.
    """

    def forward(self, x, src, ids):
        xp = self.xp
        red, touched = _segment_reduce(xp, ids.reshape(-1), src.reshape(-1), self.how, x.size)
        red, touched = red.reshape(x.shape), touched.reshape(x.shape)
        if self.include_self:
            red = (xp.maximum if self.how == "amax" else xp.minimum)(x, red)
        y = xp.where(touched, red, x)
        self.save_for_backward(x, src, ids, touched, y)
        return y

    def backward(self, gy):
        x, src, ids, touched, y = self.saved_tensors
        ids = ids.array
        hit_x = (x == y).astype(gy.dtype)
        if not self.include_self:
            hit_x = where(touched, 0.0, hit_x)
        hit_src = (src == _gather(y.detach(), ids)).astype(gy.dtype)
        ties = hit_x + _scatter_sum(hit_src, ids, x.shape)
        share = gy / where(ties == 0, 1.0, ties)
        gx = share * hit_x if self.needs_input_grad[0] else None
        gsrc = _gather(share, ids) * hit_src if self.needs_input_grad[1] else None
        return gx, gsrc, None


class ScatterProd(Function):
    """y = x times the product of the src values that `ids` send to each position.

    Each factor's derivative is the product of the other factors at its position: the nonzero
    others as ``(product of nonzero factors) / factor``, times the zero others, counted apart
    (with one zero z the others get ``... * z``, 0 in value and slope 1 in z; with two, each
    zero gets the other; with three or more, 0), so that it is exact with zeros, to any order.
    """

    def forward(self, x, src, ids):
        red, touched = _segment_reduce(self.xp, ids.reshape(-1), src.reshape(-1), "prod", x.size)
        y = self.xp.where(touched.reshape(x.shape), x * red.reshape(x.shape), x)
        self.save_for_backward(x, src, ids)
        return y

    def backward(self, gy):
        x, src, ids = self.saved_tensors
        ids = ids.array
        shape = x.shape
        zero_x, zero_src = x == 0, src == 0
        n_zero = zero_x.astype(x.dtype) + _scatter_sum(zero_src.astype(src.dtype), ids, shape)
        safe_x, safe_src = where(zero_x, 1.0, x), where(zero_src, 1.0, src)
        nonzero = ScatterProd.apply(safe_x, safe_src, ids)  # the product of the nonzero factors
        # The zero factors' sum at each position: 0 in value, slope 1 in each zero.
        zero_sum = where(zero_x, x, 0.0) + _scatter_sum(where(zero_src, src, 0.0), ids, shape)
        gx = gsrc = None
        if self.needs_input_grad[0]:
            gx = gy * (nonzero / safe_x) * _zero_others(zero_x, x, n_zero, zero_sum)
        if self.needs_input_grad[1]:
            others = _zero_others(zero_src, src, _gather(n_zero, ids), _gather(zero_sum, ids))
            gsrc = _gather(gy * nonzero, ids) / safe_src * others
        return gx, gsrc, None


def _zero_others(zero: Tensor, v: Tensor, n_zero: Tensor, zero_sum: Tensor) -> Tensor:
    """The product of the zero factors other than each factor v itself (see `ScatterProd`)."""
    at_zero = where(n_zero == 1, 1.0, where(n_zero == 2, zero_sum - v, 0.0))
    at_nonzero = where(n_zero == 0, 1.0, where(n_zero == 1, zero_sum, 0.0))
    return where(zero, at_zero, at_nonzero)


def scatter_reduce(x: Tensor, dim: int, index: Any, src: Tensor, reduce: str,
                   include_self: bool = True) -> Tensor:
    """x with ``src[i][j]`` combined into ``[i][index[i][j]]`` (dim 1) by `reduce`: "sum",
    "prod", "mean", "amax" or "amin"; without `include_self`, x's value is left out where
    anything lands (and kept where nothing does)."""
    from ..dialect import wrap_dim
    from .scatter import _along_dim, _as_tensor, _block, _flat_ids, _integer_index, _wrap

    if reduce not in _REDUCTIONS:
        raise ValueError(f"scatter_reduce: reduce must be one of {_REDUCTIONS}, got {reduce!r}")
    index = _integer_index(index, x, "scatter_reduce")
    src = _as_tensor(src, x)
    if x.ndim == 0:
        out = scatter_reduce(reshape(x, (1,)), 0, reshape(_wrap(index, x), (-1,)),
                             reshape(src, (-1,)), reduce, include_self)
        return reshape(out, ())
    d = wrap_dim(dim, x.ndim, "scatter_reduce")
    arrays, _parts = _along_dim(x, d, index, "scatter_reduce")
    ids = _flat_ids(x)[tuple(a.array if isinstance(a, Tensor) else a for a in arrays)]
    src = _block(src, tuple(index.shape), "scatter_reduce")
    if reduce in ("amax", "amin"):
        return ScatterExtreme.apply(x, src, ids, how=reduce, include_self=include_self)
    xp = x.xp
    counts = xp.zeros(x.numel(), dtype=x.dtype)
    x.backend.scatter_add(counts, ids.reshape(-1), xp.ones(ids.size, dtype=x.dtype))
    touched = Tensor._make((counts > 0).reshape(x.shape), x.backend)
    base = x if include_self else where(touched, 0.0 if reduce != "prod" else 1.0, x)
    if reduce == "prod":
        return ScatterProd.apply(base, src, ids)
    total = base + _scatter_sum(src, ids, x.shape)
    if reduce == "sum":
        return total
    count = Tensor._make(counts.reshape(x.shape) + (1 if include_self else 0), x.backend)
    if x.dtype.kind in "iu":  # PyTorch's integer mean rounds down
        return Tensor._make(xp.where(touched.array, total.array // xp.maximum(count.array, 1),
                                     x.array), x.backend)
    return where(touched, total / where(count == 0, 1.0, count), x)
