"""Self-attention over packed projections: the heads of ``qkv`` (tokens, 3E) in one recorded op.

Fused, and why: `nn.MultiheadAttention` projects a self-attention's input once, with its packed
``in_proj_weight`` (3E, E), into q, k and v side by side. Split with views, each head reshaped
and transposed to (N, H, L, D), and the output transposed back and copied to (N, L, E), the
layer records a dozen nodes, and their backward makes zero-filled (3E, ...) gradients for each
slice, adds them up and copies every transposed gradient. This op reads q, k and v as strided
views of ``qkv``, writes its output straight in the (tokens, E) layout that the output
projection takes, and its first-order rule writes gq, gk and gv into one (tokens, 3E) gradient.
The attention itself is `ScaledDotProductAttention`'s (same probabilities, masks, dropout and
rules: `attention._probabilities`, `_raw_grads`, `_graph_grads`).
"""

from __future__ import annotations

from typing import Any

from backends.host_threads import SPLIT_BYTES, halves

from ..function import Function
from ..grad_mode import state as _grad_state
from ..tensor import Tensor
from .attention import _graph_grads, _needs, _probabilities, _raw_grads
from .joining import stack
from .layout import swapaxes

__all__: list = []


class PackedSelfAttention(Function):
    """y (B0 * B1, E) = the attention of the heads packed in ``qkv`` (B0 * B1, 3E).

    Rows are tokens, batch-major ((N, L) with ``batch_first``) or time-major ((L, N));
    columns are q, k, v, each `heads` heads of D = E / heads features (PyTorch's packed
    ``in_proj_weight`` order). `mask` is as for `ScaledDotProductAttention`, broadcastable to
    (N, heads, L, L). Attributes: `heads`, `batch` (N), `batch_first`, `scale`, `is_causal`,
    `dropout_p`.
    """

    raw_backward = True

    def _views(self, a: Any, parts: int) -> list:
        """(N, H, L, D) views of the `parts` column blocks of `a` (B0 * B1, parts * E)."""
        n = self.batch
        rows, width = a.shape
        d = width // (parts * self.heads)
        if self.batch_first:
            grid = a.reshape(n, rows // n, parts, self.heads, d)
            order = (0, 2, 1, 3)  # (N, L, H, D) -> (N, H, L, D)
        else:
            grid = a.reshape(rows // n, n, parts, self.heads, d)
            order = (1, 2, 0, 3)  # (L, N, H, D) -> (N, H, L, D)
        return [grid[:, :, i].transpose(order) for i in range(parts)]

    def forward(self, qkv, mask):
        xp = self.xp
        q, k, v = self._views(qkv, 3)
        y = xp.empty((qkv.shape[0], qkv.shape[1] // 3), dtype=qkv.dtype)
        out = self._views(y, 1)[0]
        if self._split(q, mask):
            p = xp.empty((*q.shape[:-1], k.shape[-2]), dtype=q.dtype)

            def part(a: int, b: int) -> None:
                _probabilities(self, q[a:b], k[a:b], _rows(mask, a, b, self.batch), p[a:b])
                xp.matmul(p[a:b], v[a:b], out=out[a:b])

            halves(self.backend, part, self.batch)
            drop = None
        else:
            p, drop = _probabilities(self, q, k, mask)
            xp.matmul(p if drop is None else p * drop, v, out=out)
        if self._recording:
            self.save_for_backward(qkv, mask, y, p, drop)
        return y

    def _split(self, q: Any, mask: Any, need_mask: bool = False) -> bool:
        """Whether to run the batch as two halves on two host threads (`halves`): no dropout
        (its draws must come in one order), no mask gradient, and (N, H, L, L) probabilities
        of at least SPLIT_BYTES. Each half computes the same values as the whole batch."""
        return (not self.backend.is_device and self.dropout_p == 0 and not need_mask
                and self.batch >= 2 and (mask is None or mask.ndim <= 4)
                and q.shape[0] * q.shape[1] * q.shape[2] * q.shape[2] * q.itemsize
                >= SPLIT_BYTES)

    def backward(self, gy):
        qkv, mask, y, p, drop = self.saved_tensors
        need_qkv = self.needs_input_grad[0]
        needs = _needs((need_qkv, need_qkv, need_qkv, *self.needs_input_grad[1:]))
        if _grad_state.raw_backend is not None:
            g = self.xp.empty(qkv.shape, dtype=gy.dtype) if need_qkv else None
            out = self._views(g, 3) if need_qkv else (None,) * 3
            q, k, v = self._views(qkv, 3)
            gy, y = self._views(gy, 1)[0], self._views(y, 1)[0]
            if self._split(q, mask, needs[3]):

                def part(a: int, b: int) -> None:
                    _raw_grads(self, gy[a:b], q[a:b], k[a:b], v[a:b], y[a:b], p[a:b], None,
                               needs, out=tuple(o if o is None else o[a:b] for o in out))

                halves(self.backend, part, self.batch)
                return g, None
            grads = _raw_grads(self, gy, q, k, v, y, p, drop, needs, out=out)
            return g, grads[3]
        # Building a graph: the same rule on Tensor views, the three gradients stacked back.
        q, k, v = self._tensor_views(qkv, 3)
        gq, gk, gv, gmask = _graph_grads(self, self._tensor_views(gy, 1)[0], q, k, v, mask, p,
                                         drop, needs)
        g = None
        if need_qkv:
            g = stack([self._tensor_rows(t) for t in (gq, gk, gv)], axis=-3)
            g = g.reshape(qkv.shape)
        return g, gmask

    def _tensor_views(self, a: Tensor, parts: int) -> list:
        n = self.batch
        rows, width = a.shape
        d = width // (parts * self.heads)
        if self.batch_first:
            grid = a.reshape(n, rows // n, parts, self.heads, d)
            return [swapaxes(grid[:, :, i], 1, 2) for i in range(parts)]
        grid = a.reshape(rows // n, n, parts, self.heads, d)
        return [swapaxes(swapaxes(grid[:, :, i], 0, 1), 1, 2) for i in range(parts)]

    def _tensor_rows(self, t: Tensor) -> Tensor:
        """(N, H, L, D) -> the token-row layout (B0, B1, H, D)."""
        t = swapaxes(t, 1, 2)  # (N, L, H, D)
        return t if self.batch_first else swapaxes(t, 0, 1)


def _rows(mask: Any, a: int, b: int, batch: int) -> Any:
    """The part of `mask` (broadcastable to (N, H, L, L)) for batch items a..b."""
    if mask is None or mask.ndim < 4 or mask.shape[0] != batch:
        return mask
    return mask[a:b]


def packed_self_attention(qkv: Tensor, mask: Tensor | None, heads: int, batch: int,
                          batch_first: bool, scale: float, is_causal: bool = False,
                          dropout_p: float = 0.0) -> Tensor:
    """The attention output (tokens, E) of packed projections `qkv` (tokens, 3E); see
    `PackedSelfAttention`. For `nn.MultiheadAttention`, which checks the arguments."""
    return PackedSelfAttention.apply(qkv, mask, heads=heads, batch=batch,
                                     batch_first=bool(batch_first), scale=float(scale),
                                     is_causal=bool(is_causal), dropout_p=float(dropout_p))
