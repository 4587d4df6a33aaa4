"""Scaled dot-product attention: ``softmax(q k^T * scale + mask) v`` as one recorded op.

Fused, and why: attention is the hot spot of a Transformer, and as a composition it records a
matmul, a scale, a mask, a log-softmax, an exp, a dropout and a second matmul, each saving its
own (L, S) array. The fused op keeps one (L, S) array, the probabilities, and its first-order
rule is the attention backward written out (``delta = sum(gy * out)`` per query, as the
FlashAttention paper derives it) on raw arrays. With ``create_graph`` the rule recomputes the
probabilities from q, k and the mask with tensor ops, so that grad-of-grad works.

Fully masked rows (a query that may attend to no key, or no keys at all) give an output of 0
and gradients of 0, as PyTorch's ``scaled_dot_product_attention`` does (no NaN).
"""

from __future__ import annotations

import math
from typing import Any

from backends.kernels import attention as kernels_attention

from ..function import Function
from ..grad_mode import state as _grad_state
from ..inputs import tensor_input
from ..tensor import Tensor
from .arithmetic import where
from .layout import expand_dims
from .reduction import sum as _sum

__all__ = ["scaled_dot_product_attention"]

_OP = "scaled_dot_product_attention"
_NEG_INF = -math.inf

#: Additive causal masks (0 on and below the diagonal, -inf above) by (device, L, S, dtype):
#: built once per shape, so a training step spends no array op on them.
_CAUSAL: dict = {}


def _causal_bias(backend: Any, xp: Any, rows: int, cols: int, dtype: Any) -> Any:
    """The (rows, cols) additive causal mask: query i sees keys 0..i (top-left aligned)."""
    key = (backend.device, rows, cols, str(dtype))
    bias = _CAUSAL.get(key)
    if bias is None:
        if len(_CAUSAL) > 64:
            _CAUSAL.clear()
        allowed = xp.arange(cols).reshape(1, cols) <= xp.arange(rows).reshape(rows, 1)
        bias = xp.where(allowed, 0.0, _NEG_INF).astype(dtype)
        _CAUSAL[key] = bias
    return bias


def _broadcast(a: tuple, b: tuple) -> tuple | None:
    """NumPy's broadcast of two shapes, or None where they do not broadcast."""
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x != y and x != 1 and y != 1:
            return None
        out.append(y if x == 1 else x)
    return tuple(reversed(out))


class ScaledDotProductAttention(Function):
    """y = dropout(softmax(q k^T * scale + bias)) v over the last two axes, batch axes broadcast.

    Inputs: q (..., L, E), k (..., S, E), v (..., S, Ev) and `mask`: None, a bool array (True
    takes part) or an additive float array, broadcastable to (..., L, S). Attributes: `scale`,
    `is_causal`, `dropout_p`.

    With p the probabilities, d the dropout factors (keep / (1 - dropout_p), or 1) and
    ``gp = (gy v^T) d``: gv = (p d)^T gy; gs = p (gp - delta) with
    ``delta = sum_s gp p = sum(gy * y)`` per query; gq = gs k scale; gk = gs^T q scale; an
    additive mask gets gs.
    """

    raw_backward = True

    def forward(self, q, k, v, mask):
        p, drop = _probabilities(self, q, k, mask)
        y = self.xp.matmul(p if drop is None else p * drop, v)
        if self._recording:
            self.save_for_backward(q, k, v, mask, y, p, drop)
        return y

    def backward(self, gy):
        q, k, v, mask, y, p, drop = self.saved_tensors
        needs = _needs(self.needs_input_grad)
        if _grad_state.raw_backend is not None:
            return _raw_grads(self, gy, q, k, v, y, p, drop, needs)
        return _graph_grads(self, gy, q, k, v, mask, p, drop, needs)


def _needs(needs_input_grad: tuple) -> tuple:
    """(q, k, v, mask) flags from an op's needs_input_grad (the mask may be absent)."""
    need_mask = len(needs_input_grad) > 3 and needs_input_grad[3]
    return (*needs_input_grad[:3], need_mask)


def _bias(fn: Function, mask: Any, rows: int, cols: int, dtype: Any) -> Any:
    """The additive mask as an array (bool masks become 0 / -inf), or None."""
    xp = fn.xp
    if fn.is_causal:
        return _causal_bias(fn.backend, xp, rows, cols, dtype)
    if mask is None:
        return None
    if mask.dtype.kind == "b":
        return xp.where(mask, 0.0, _NEG_INF).astype(dtype)
    return mask


def _softmax(xp: Any, s: Any, bias: Any, cols: int) -> Any:
    """The probabilities of scores `s` (..., L, S) plus the additive `bias` (or None), in
    place where `s` keeps its shape."""
    if bias is not None:
        if _broadcast(s.shape, bias.shape) == s.shape:
            s += bias
        else:  # the mask has batch axes that q and k do not: the result grows
            s = s + bias
    if cols == 0:
        return s  # (..., L, 0): nothing to attend to, the output is 0
    top = s.max(axis=-1, keepdims=True)
    if bias is not None:  # a fully masked row: shift by 0, its exps are all 0
        top = xp.where(top == _NEG_INF, 0.0, top)
    s -= top
    p = xp.exp(s, out=s)
    # The row sums as a GEMV with ones: NumPy's sum over a short last axis costs ~5x.
    total = xp.matmul(p, xp.ones((cols, 1), dtype=p.dtype))
    if bias is not None:
        total = xp.where(total > 0, total, 1.0)
    p /= total
    return p


def _probabilities(fn: Function, q: Any, k: Any, mask: Any, out: Any = None) -> tuple:
    """Raw arrays ``(p, drop)``: the attention probabilities of `fn` (an attention op with
    `scale`, `is_causal`, `dropout_p`) and the dropout factors (None without dropout); p is
    written into `out` where given (the scores' shape, and a mask that does not grow it)."""
    xp = fn.xp
    rows, cols = q.shape[-2], k.shape[-2]
    # Scaling q costs (L, E) multiplications instead of (L, S).
    s = xp.matmul(q * fn.scale, xp.swapaxes(k, -1, -2), out=out)
    if (cols and (fn.is_causal or mask is None)
            and kernels_attention.softmax_rows(fn.backend, s, fn.is_causal)):
        p = s  # one C pass per row (host float32): `_softmax`'s steps, equal to rounding
    else:
        p = _softmax(xp, s, _bias(fn, mask, rows, cols, q.dtype), cols)
    drop = None
    if fn.dropout_p > 0:
        if fn.dropout_p >= 1:
            drop = xp.zeros(p.shape, dtype=p.dtype)
        else:
            keep = fn.backend.uniform(0.0, 1.0, p.shape, p.dtype) >= fn.dropout_p
            drop = keep.astype(p.dtype) * (1.0 / (1.0 - fn.dropout_p))
    return p, drop


def _graph_grads(fn: Function, gy, q, k, v, mask, p, drop, needs: tuple) -> tuple:
    """The rule on Tensors (create_graph): the probabilities again, from q, k and the mask with
    tensor ops, so that the rule is itself differentiable. The shift is a constant: softmax
    does not depend on it."""
    need_q, need_k, need_v, need_mask = needs
    s = (q * fn.scale) @ k.swapaxes(-1, -2)
    masked = fn.is_causal or mask is not None
    if fn.is_causal:
        s = s + Tensor._make(_causal_bias(fn.backend, fn.xp, s.shape[-2], s.shape[-1],
                                          s.dtype), fn.backend)
    elif mask is not None:
        s = where(mask, s, _NEG_INF) if mask.dtype.kind == "b" else s + mask
    if s.shape[-1] == 0:
        p = s
    else:
        top = s.array.max(axis=-1, keepdims=True)
        if masked:
            top = fn.xp.where(top == _NEG_INF, 0.0, top)
        e = (s - Tensor._make(top, fn.backend)).exp()
        total = _sum(e, axis=-1, keepdims=True)
        p = e / where(total > 0, total, 1.0) if masked else e / total
    kept = p if drop is None else p * drop
    gv = kept.swapaxes(-1, -2) @ gy if need_v else None
    gq = gk = gs = None
    if need_q or need_k or need_mask:
        gp = gy @ v.swapaxes(-1, -2)
        if drop is not None:
            gp = gp * drop
        gs = p * (gp - _sum(gp * p, axis=-1, keepdims=True))
        if need_q:
            gq = (gs @ k) * fn.scale
        if need_k:
            gk = (gs.swapaxes(-1, -2) @ q) * fn.scale
    return gq, gk, gv, (gs if need_mask else None)


def _raw_grads(fn: Function, gy, q, k, v, y, p, drop, needs: tuple, out: tuple = (None,) * 3):
    """The first-order rule on raw arrays, in place where the arrays are fresh; `out` may hold
    arrays (views) to write gq, gk and gv into."""
    xp = fn.xp
    need_q, need_k, need_v, need_mask = needs
    gv = gq = gk = gs = None
    if need_v:
        kept = p if drop is None else p * drop
        gv = xp.matmul(xp.swapaxes(kept, -1, -2), gy, out=out[2])
    if need_q or need_k or need_mask:
        gs = xp.matmul(gy, xp.swapaxes(v, -1, -2))  # gp, then gs in place
        if drop is not None:
            gs *= drop
        # sum_s gp p = sum_s (gy . v_s) p_s d_s = gy . y: an (L, Ev) product, not (L, S).
        gs -= (gy * y).sum(axis=-1, keepdims=True)
        gs *= p
        if need_q:
            gq = xp.matmul(gs, k, out=out[0])
            gq *= fn.scale
        if need_k:
            gk = xp.matmul(xp.swapaxes(gs, -1, -2), q, out=out[1])
            gk *= fn.scale
    return gq, gk, gv, (gs if need_mask else None)


def _check(q: Tensor, k: Tensor, v: Tensor, mask: Any) -> None:
    for name, t in (("query", q), ("key", k), ("value", v)):
        if t.ndim < 2:
            raise ValueError(f"{_OP}: {name} must have at least 2 dimensions (..., length, "
                             f"features), got shape {t.shape}")
        if t.dtype.kind != "f":
            raise TypeError(f"{_OP}: {name} must be a floating tensor, got dtype {t.dtype}")
    if k.dtype != q.dtype or v.dtype != q.dtype:
        raise TypeError(f"{_OP}: query, key and value must have one dtype, got {q.dtype}, "
                        f"{k.dtype} and {v.dtype}")
    if k.shape[-1] != q.shape[-1]:
        raise ValueError(f"{_OP}: query of shape {q.shape} and key of shape {k.shape} differ "
                         f"in their last (feature) dimension")
    if v.shape[-2] != k.shape[-2]:
        raise ValueError(f"{_OP}: key of shape {k.shape} and value of shape {v.shape} differ "
                         f"in their source length (dimension -2)")
    batch = _broadcast(q.shape[:-2], k.shape[:-2])
    batch = None if batch is None else _broadcast(batch, v.shape[:-2])
    if batch is None:
        raise ValueError(f"{_OP}: the batch dimensions of query {q.shape}, key {k.shape} and "
                         f"value {v.shape} do not broadcast")
    if mask is not None:
        scores = (*batch, q.shape[-2], k.shape[-2])
        if mask.dtype.kind not in "bf" or (mask.dtype.kind == "f" and mask.dtype != q.dtype):
            raise TypeError(f"{_OP}: attn_mask must be bool or have the query's dtype "
                            f"{q.dtype}, got {mask.dtype}")
        if _broadcast(scores, mask.shape) is None:
            raise ValueError(f"{_OP}: attn_mask of shape {mask.shape} does not broadcast to "
                             f"the attention scores' shape {scores}")


def _repeat_heads(t: Tensor, times: int) -> Tensor:
    """Each head (axis -3) repeated `times` times in a row, as ``repeat_interleave``."""
    shape = t.shape
    t = expand_dims(t, -3)
    t = t.broadcast_to((*shape[:-2], times, *shape[-2:]))
    return t.reshape((*shape[:-3], shape[-3] * times, *shape[-2:]))


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Any = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """Attention of `query` over `key`/`value`: ``softmax(q k^T * scale + mask) v``.

    PyTorch's ``torch.nn.functional.scaled_dot_product_attention``, one recorded op.

    Args:
        query: (..., L, E); key: (..., S, E); value: (..., S, Ev). Batch axes broadcast.
        attn_mask: None; a bool tensor, True where a query may attend to a key; or a float
            tensor (the query's dtype) added to the scores (-inf masks, and it gets a
            gradient). It broadcasts to (..., L, S).
        dropout_p: dropout on the attention probabilities, applied whenever it is > 0 (pass
            0.0 in evaluation, as PyTorch's layers do).
        is_causal: query i attends to keys 0..i only (the mask is top-left aligned when
            L != S); cannot be combined with `attn_mask`.
        scale: the factor on q k^T; default ``1 / sqrt(E)``.
        enable_gqa: grouped-query attention: key and value may have fewer heads (axis -3)
            than the query, a divisor of its count; each is shared by consecutive query heads.

    Returns:
        (..., L, Ev). A query that can attend to no key gets an output of 0 (and gradients of
        0), as in PyTorch.

        >>> import autograd as ag
        >>> import nn.functional as F
        >>> q = ag.randn(2, 4, 5, 8)       # (batch, heads, length, head size)
        >>> F.scaled_dot_product_attention(q, q, q, is_causal=True).shape
        (2, 4, 5, 8)
    """
    query = tensor_input(_OP, query, floating=True, name="query")
    key = tensor_input(_OP, key, like=query, floating=True, name="key", like_name="the query")
    value = tensor_input(_OP, value, like=query, floating=True, name="value",
                         like_name="the query")
    if attn_mask is not None:
        attn_mask = tensor_input(_OP, attn_mask, like=query, name="attn_mask",
                                 like_name="the query")
    for name, number in (("dropout_p", dropout_p), ("scale", scale)):
        if number is not None and (isinstance(number, bool)
                                   or not isinstance(number, (int, float))):
            raise TypeError(f"{_OP}: {name} must be a number, got {type(number).__name__}")
    if is_causal and attn_mask is not None:
        raise ValueError(f"{_OP}: pass attn_mask or is_causal=True, not both (the causal mask "
                         "is built from is_causal)")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{_OP}: dropout_p must be in [0, 1], got {dropout_p}")
    if enable_gqa and query.ndim >= 3 and key.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        heads, groups = query.shape[-3], key.shape[-3]
        if groups == 0 or heads % groups or value.ndim < 3 or value.shape[-3] != groups:
            raise ValueError(f"{_OP}: with enable_gqa the query's heads ({heads}, shape "
                             f"{query.shape}) must be a multiple of the key's and value's "
                             f"(shapes {key.shape}, {value.shape})")
        key = _repeat_heads(key, heads // groups)
        value = _repeat_heads(value, heads // groups)
    _check(query, key, value, attn_mask)
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else math.inf
    return ScaledDotProductAttention.apply(query, key, value, attn_mask, scale=float(scale),
                                           is_causal=bool(is_causal),
                                           dropout_p=float(dropout_p))
