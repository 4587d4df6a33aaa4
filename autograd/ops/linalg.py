"""Matrix products: `matmul` with NumPy's rules (1-D operands, batches, broadcast batch dims)."""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..tensor import Tensor, _lift


class MatMul(Function):
    """y = a @ b.

    ga = gy @ b^T and gb = a^T @ gy on the matrix axes; a 1-D operand is treated as a row (a) or
    a column (b) and the extra axis is dropped again. Broadcast batch axes are summed by the engine.
    """

    raw_backward = True

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(
                f"matmul: both operands must have at least one dimension, got shapes "
                f"{tuple(a.shape)} and {tuple(b.shape)}"
            )
        k_a = a.shape[-1]
        k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if k_a != k_b:
            raise ValueError(
                f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} are not aligned: "
                f"{k_a} (last axis of a) != {k_b} ({'first' if b.ndim == 1 else 'second-to-last'}"
                " axis of b)"
            )
        self.save_for_backward(a, b)
        return self.xp.matmul(a, b)

    def backward(self, gy):
        # Only operators and methods raw arrays share with Tensors (see raw_backward).
        a, b = self.saved_tensors
        a_vec, b_vec = a.ndim == 1, b.ndim == 1
        need_a, need_b = self.needs_input_grad
        if a_vec and b_vec:
            return (gy * b if need_a else None), (gy * a if need_b else None)
        a2 = a.reshape(1, -1) if a_vec else a
        b2 = b.reshape(-1, 1) if b_vec else b
        if a_vec:
            gy = gy.reshape(*gy.shape[:-1], 1, gy.shape[-1])
        if b_vec:
            gy = gy.reshape(*gy.shape, 1)
        ga = gb = None
        if need_a:
            ga = gy @ b2.swapaxes(-1, -2)
            if a_vec:
                ga = ga.reshape(*ga.shape[:-2], ga.shape[-1])
        if need_b:
            gb = a2.swapaxes(-1, -2) @ gy
            if b_vec:
                gb = gb.reshape(gb.shape[:-1])
        return ga, gb


def _rows_times(xp: Any, a: Any, m: Any) -> Any:
    """``a @ m`` for `a` (..., K) and a matrix `m` (K, N): a C-contiguous `a` of 3 or more
    dimensions as one (rows, K) GEMM, where matmul would call one GEMM per leading index
    (a (16, 64, 128) input: 16 GEMMs of 64 rows, 10-30 % slower than one of 1024). Tensors
    (a rule building a graph) take the recorded product."""
    if isinstance(a, Tensor):
        return a @ m
    if a.ndim > 2 and a.flags.c_contiguous:
        return xp.matmul(a.reshape(-1, a.shape[-1]), m).reshape(*a.shape[:-1], m.shape[-1])
    return xp.matmul(a, m)


class Linear(Function):
    """y = x @ w.T + b, fused: the layer PyTorch users know, in one op.

    Fused for speed: the weight gradient is computed as ``gy^T @ x`` directly in w's
    (out, in) layout, a fresh contiguous array, where ``x @ w.T`` would hand w a transposed
    view that the engine must copy; the bias is added in place to the fresh product.
    """

    raw_backward = True

    def forward(self, x, w, b=None):
        if x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[1]:
            raise ValueError(
                f"linear: input of shape {tuple(x.shape)} does not match weight of shape "
                f"{tuple(w.shape)} (expected input[..., {w.shape[-1] if w.ndim else '?'}] and "
                "a 2-D weight)"
            )
        self.save_for_backward(x, w)
        y = _rows_times(self.xp, x, w.T)
        if b is not None:
            y += b
        return y

    def backward(self, gy):
        x, w = self.saved_tensors
        need = self.needs_input_grad
        out_features, in_features = w.shape
        gx = _rows_times(self.xp, gy, w) if need[0] else None
        rows = gy.reshape(-1, out_features)
        gw = rows.T @ x.reshape(-1, in_features) if need[1] else None
        if len(need) == 2:
            return gx, gw
        return gx, gw, (rows.sum(axis=0) if need[2] else None)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` with `weight` of shape (out_features, in_features)."""
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy's ``matmul`` semantics (1-D, 2-D, batched, broadcast)."""
    if isinstance(a, Tensor):
        b = _lift(b, a, scalar_ok=False)
    else:
        a = _lift(a, b, scalar_ok=False)
    return MatMul.apply(a, b)
