"""Multi-head attention: `MultiheadAttention`, PyTorch's layer with its parameter names.

Masks follow PyTorch's layer convention, which is the opposite of
``scaled_dot_product_attention``'s for bool masks: here True means "may NOT attend" (a padded
key, a future position); float masks are added to the scores in both.

Without attention weights (``need_weights=False``, as the Transformer layers call it) the heads
run through the fused ``scaled_dot_product_attention`` op: a query whose keys are all masked
gets an output of 0. With ``need_weights=True`` (the default, as in PyTorch) the weights are
computed explicitly with a softmax, so such a query gets NaN, as PyTorch's layer gives too.
"""

from __future__ import annotations

import math
from typing import Any

from autograd.creation import empty, zeros
from autograd.ops import linalg as _linalg
from autograd.ops.arithmetic import where
from autograd.ops.attention import scaled_dot_product_attention
from autograd.ops.attention_packed import packed_self_attention
from autograd.ops.layout import expand_dims, swapaxes
from autograd.ops.reduction import mean, softmax
from autograd.ops.shape import concatenate
from autograd.tensor import Tensor

from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from .basic import Linear

__all__ = ["MultiheadAttention"]

_NEG_INF = -math.inf


def _mask_tensor(mask: Any, like: Tensor, name: str) -> Tensor | None:
    """`mask` as a Tensor on `like`'s device: bool, or a float mask in `like`'s dtype."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        mask = Tensor(mask, device=like.backend)
    if mask.dtype.kind == "b":
        return mask
    if mask.dtype.kind != "f":
        raise TypeError(f"MultiheadAttention: only bool and float {name} are supported, got "
                        f"dtype {mask.dtype}")
    return mask if mask.dtype == like.dtype else mask.astype(like.dtype)


def _pad_key(mask: Tensor | None) -> Tensor | None:
    """One more key column (the added bias or zero key), not masked: False / 0."""
    if mask is None:
        return None
    pad = zeros(*mask.shape[:-1], 1, dtype=mask.dtype, device=mask.backend)
    return concatenate([mask, pad], axis=-1)


def _merge(masks: list, like: Tensor) -> Tensor | None:
    """PyTorch-convention masks (True: masked; float: added) broadcast to (N, H, L, S), merged
    into one mask in ``scaled_dot_product_attention``'s convention (True: attends)."""
    allowed = None  # raw bool array: where every bool mask allows
    added = None    # Tensor: the sum of the float masks (they may need a gradient)
    for m in masks:
        if m is None:
            continue
        if m.dtype.kind == "b":
            ok = m.xp.logical_not(m.array)
            allowed = ok if allowed is None else allowed & ok
        else:
            added = m if added is None else added + m
    if allowed is None:
        return added
    backend = like.backend
    if added is None:
        return Tensor._make(allowed, backend)
    bias = backend.xp.where(allowed, 0.0, _NEG_INF).astype(like.dtype)
    return added + Tensor._make(bias, backend)


class MultiheadAttention(Module):
    """Attention with `num_heads` heads over `embed_dim` features (PyTorch's layer).

    Args:
        embed_dim: features of the query and the output (divisible by `num_heads`).
        num_heads: heads; each attends with ``embed_dim // num_heads`` features.
        dropout: dropout on the attention weights (training mode only).
        bias: learn ``in_proj_bias`` and ``out_proj.bias``.
        add_bias_kv: learn ``bias_k``/``bias_v`` (1, 1, E), appended to the keys and values.
        add_zero_attn: append a zero key and value (after the projection) to every sequence.
        kdim / vdim: features of the key and value (default `embed_dim`); when they differ
            from it, the projections are ``q_proj_weight``, ``k_proj_weight``,
            ``v_proj_weight`` instead of the packed ``in_proj_weight`` (3E, E).
        batch_first: inputs and output are (N, L, E) instead of (L, N, E).

    Parameters are PyTorch's (names, shapes, init: xavier-uniform projections, zero biases),
    so a state_dict moves between kedja and PyTorch.

        >>> mha = nn.MultiheadAttention(16, 4, batch_first=True)
        >>> x = ag.randn(2, 5, 16)
        >>> out, weights = mha(x, x, x)
        >>> out.shape, weights.shape
        ((2, 5, 16), (2, 5, 5))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False,
                 kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be positive, "
                             f"got {embed_dim} and {num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} must be divisible by "
                             f"num_heads {num_heads}")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads

        def param(*shape: int) -> Parameter:
            return Parameter(empty(*shape, dtype=dtype, device=device))

        if self._qkv_same_embed_dim:
            self.in_proj_weight = param(3 * embed_dim, embed_dim)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = param(embed_dim, embed_dim)
            self.k_proj_weight = param(embed_dim, self.kdim)
            self.v_proj_weight = param(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = param(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = param(1, 1, embed_dim)
            self.bias_v = param(1, 1, embed_dim)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's init: xavier-uniform projections, zero biases, xavier-normal bias_k/v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _projections(self, query: Tensor, key: Tensor, value: Tensor) -> tuple:
        """q, k, v: the inputs (N, L, *) projected to (N, L, E) each."""
        e = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:e], b[e:2 * e], b[2 * e:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            wq, wk, wv = w[:e], w[e:2 * e], w[2 * e:]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        return (_linalg.linear(query, wq, bq), _linalg.linear(key, wk, bk),
                _linalg.linear(value, wv, bv))

    def _check(self, query: Tensor, key: Tensor, value: Tensor, batched: bool) -> None:
        want = 3 if batched else 2
        if key.ndim != want or value.ndim != want:
            raise ValueError(f"MultiheadAttention: query of shape {query.shape} is "
                             f"{'batched' if batched else 'unbatched'}, so key and value must "
                             f"be {want}-D, got shapes {key.shape} and {value.shape}")
        dims = [(query, self.embed_dim, "query", "embed_dim"), (key, self.kdim, "key", "kdim"),
                (value, self.vdim, "value", "vdim")]
        for t, size, name, arg in dims:
            if t.shape[-1] != size:
                raise ValueError(f"MultiheadAttention: {name} of shape {t.shape} must have "
                                 f"{size} features ({arg}={size})")
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(f"MultiheadAttention: key of shape {key.shape} and value of shape "
                             f"{value.shape} must agree in every dimension but the last")
        if batched:
            axis = 0 if self.batch_first else 1
            if key.shape[axis] != query.shape[axis]:
                raise ValueError(f"MultiheadAttention: query of shape {query.shape} and key of "
                                 f"shape {key.shape} have different batch sizes "
                                 f"(batch_first={self.batch_first})")

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Any = None, need_weights: bool = True, attn_mask: Any = None,
                average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        """Attends from `query` over `key`/`value`; returns ``(output, weights or None)``.

        Args:
            query: (L, N, E), or (N, L, E) with batch_first, or (L, E) unbatched.
            key / value: (S, N, kdim / vdim), likewise.
            key_padding_mask: (N, S) or (S,): True (or -inf) for keys to ignore (padding).
            need_weights: also return the attention weights, (N, L, S) averaged over heads
                or (N, H, L, S) with ``average_attn_weights=False`` (after dropout, as
                PyTorch returns them).
            attn_mask: (L, S) or (N * num_heads, L, S): True (or -inf) where a query may not
                attend to a key; float masks are added to the scores.
            is_causal: a hint that `attn_mask` is the causal mask (it must be given, as in
                PyTorch); without key padding and weights the causal mask is then built
                inside the attention op instead of being read.

        Returns:
            The output (the query's layout with E features) and the weights, or None.
        """
        batched = query.ndim == 3
        if query.ndim not in (2, 3):
            raise ValueError(f"MultiheadAttention: query must be (L, N, E), (N, L, E) or "
                             f"(L, E), got shape {query.shape}")
        self._check(query, key, value, batched)
        if is_causal and attn_mask is None:
            raise ValueError("MultiheadAttention: is_causal=True is a hint that needs "
                             "attn_mask as well; nn.Transformer.generate_square_subsequent_mask"
                             "(L) makes the causal mask")
        # Self-attention of a batch: one packed projection and one fused op (`_packed`).
        packed = query if batched and query is key and key is value else None
        if not batched:
            query, key, value = (expand_dims(t, 0) for t in (query, key, value))
        elif not self.batch_first:
            query, key, value = (swapaxes(t, 0, 1) for t in (query, key, value))
        n, tgt_len = query.shape[0], query.shape[1]
        src_len = key.shape[1]
        heads, head_dim = self.num_heads, self.head_dim
        attn_mask = _mask_tensor(attn_mask, query, "attn_mask")
        key_padding_mask = _mask_tensor(key_padding_mask, query, "key_padding_mask")
        attn_mask = self._attn_mask_4d(attn_mask, n, tgt_len, src_len, batched)
        key_padding_mask = self._padding_mask_4d(key_padding_mask, n, src_len, batched)
        dropout_p = self.dropout if self.training else 0.0
        if (packed is not None and not need_weights and self._qkv_same_embed_dim
                and self.bias_k is None and not self.add_zero_attn):
            return self._packed(packed, attn_mask, key_padding_mask, is_causal, dropout_p), None

        q, k, v = self._projections(query, key, value)
        if self.bias_k is not None:
            k = concatenate([k, self.bias_k.broadcast_to((n, 1, self.embed_dim))], axis=1)
            v = concatenate([v, self.bias_v.broadcast_to((n, 1, self.embed_dim))], axis=1)
            attn_mask, key_padding_mask = _pad_key(attn_mask), _pad_key(key_padding_mask)
        # (N, L, E) -> (N, H, L, head_dim)
        q, k, v = (swapaxes(t.reshape(n, t.shape[1], heads, head_dim), 1, 2) for t in (q, k, v))
        if self.add_zero_attn:
            zero = zeros(n, heads, 1, head_dim, dtype=k.dtype, device=k.backend)
            k = concatenate([k, zero], axis=2)
            v = concatenate([v, zero], axis=2)
            attn_mask, key_padding_mask = _pad_key(attn_mask), _pad_key(key_padding_mask)

        if need_weights:
            mask = _merge([attn_mask, key_padding_mask], q)
            out, weights = self._explicit(q, k, v, mask, dropout_p)
        else:
            if is_causal and key_padding_mask is None:
                mask = None  # the hint: the op builds the causal mask itself
            else:
                is_causal = False
                mask = _merge([attn_mask, key_padding_mask], q)
            out = scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p,
                                               is_causal=is_causal)
            weights = None
        out = swapaxes(out, 1, 2).reshape(n, tgt_len, self.embed_dim)
        out = self.out_proj(out)
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = swapaxes(out, 0, 1)
        if weights is not None:
            if average_attn_weights:
                weights = mean(weights, axis=1)
            if not batched:
                weights = weights.squeeze(0)
        return out, weights

    def _packed(self, x: Tensor, attn_mask: Tensor | None, key_padding_mask: Tensor | None,
                is_causal: bool, dropout_p: float) -> Tensor:
        """Self-attention of `x` (N, L, E) or (L, N, E) as three ops: the packed projection
        (tokens, 3E) as one GEMM, `PackedSelfAttention` (no per-head copies, one (tokens, 3E)
        gradient) and the output projection, on token rows."""
        e = self.embed_dim
        rows = x.reshape(-1, e)
        qkv = _linalg.linear(rows, self.in_proj_weight, self.in_proj_bias)
        if is_causal and key_padding_mask is None:
            mask = None  # the hint: the op builds the causal mask itself
        else:
            is_causal = False
            mask = _merge([attn_mask, key_padding_mask], x)
        n = x.shape[0 if self.batch_first else 1]
        out = packed_self_attention(qkv, mask, self.num_heads, n, self.batch_first,
                                    1.0 / math.sqrt(self.head_dim), is_causal, dropout_p)
        return self.out_proj(out).reshape(x.shape)

    def _attn_mask_4d(self, mask: Tensor | None, n: int, tgt_len: int, src_len: int,
                      batched: bool) -> Tensor | None:
        if mask is None:
            return None
        if mask.ndim == 2:
            if mask.shape != (tgt_len, src_len):
                raise ValueError(f"MultiheadAttention: a 2-D attn_mask must be (L, S) = "
                                 f"{(tgt_len, src_len)}, got {mask.shape}")
            return mask
        stacked = n * self.num_heads if batched else self.num_heads
        if mask.ndim != 3 or mask.shape != (stacked, tgt_len, src_len):
            raise ValueError(f"MultiheadAttention: attn_mask must be (L, S) = "
                             f"{(tgt_len, src_len)} or (N * num_heads, L, S) = "
                             f"{(stacked, tgt_len, src_len)}, got {mask.shape}")
        return mask.reshape(n, self.num_heads, tgt_len, src_len)

    def _padding_mask_4d(self, mask: Tensor | None, n: int, src_len: int,
                         batched: bool) -> Tensor | None:
        if mask is None:
            return None
        want = (n, src_len) if batched else (src_len,)
        if mask.shape != want:
            layout = "(N, S)" if batched else "(S,) for unbatched input"
            raise ValueError(f"MultiheadAttention: key_padding_mask must be {layout} = {want}, "
                             f"got {mask.shape}")
        return mask.reshape(n, 1, 1, src_len)

    def _explicit(self, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None,
                  dropout_p: float) -> tuple[Tensor, Tensor]:
        """The heads with the weights computed explicitly (PyTorch's need_weights path)."""
        scores = (q * (1.0 / math.sqrt(self.head_dim))) @ swapaxes(k, -1, -2)
        if mask is not None:
            scores = where(mask, scores, _NEG_INF) if mask.dtype.kind == "b" else scores + mask
        weights = F.dropout(softmax(scores, axis=-1), dropout_p, training=dropout_p > 0)
        return weights @ v, weights

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}, batch_first={self.batch_first}")
