"""`autograd.scipy.signal`: ``convolve`` as HIPS autograd generalises SciPy's, differentiable.

``convolve(A, B, axes=None, dot_axes=[(), ()], mode="full")`` convolves `A` and `B` over the
paired axes ``axes = (axes_of_A, axes_of_B)`` (default: every axis of both, which must then
have as many), sums over the paired ``dot_axes`` (as ``tensordot`` does) and takes the outer
product over the remaining ("ignored") axes. The result's axes are A's ignored axes, then B's,
then the convolved ones; ``mode`` is SciPy's: "full" (n + m - 1), "valid" (|n - m| + 1, one
array at least as large as the other along every convolved axis) or "same" (A's size).

It is composed from kedja's differentiable ops (flip, pad, a gather of sliding windows, one
einsum), so every order of derivative comes from theirs, on every backend; plain data run the
same code on the host and come back as NumPy arrays.
"""

from __future__ import annotations

import string
from typing import Any

import backends

from .. import numpy as anp
from ..numpy.dispatch import as_tensor, cast, like_of, onp, tensors_in
from ..tensor import Tensor

__all__ = ["convolve"]


def convolve(A: Any, B: Any, axes: Any = None, dot_axes: Any = None,  # noqa: N803
             mode: str = "full") -> Any:
    """The generalised convolution of `A` and `B` (see the module docstring)."""
    if not tensors_in((A, B)):
        from ..transform_io import to_plain

        host = backends.host()
        a = Tensor._make(host.asarray(onp.asarray(A)), host)
        return to_plain(convolve(a, B, axes, dot_axes, mode))
    like = like_of(A, B)
    a, b = as_tensor(A, like), as_tensor(B, like)
    dtype = onp.result_type(a.array.dtype, b.array.dtype)
    a, b = cast(a, dtype), cast(b, dtype)
    if mode not in ("full", "valid", "same"):
        raise ValueError(f"convolve: mode must be 'full', 'valid' or 'same', got {mode!r}")
    if axes is None:
        if a.ndim != b.ndim:
            raise ValueError(f"convolve: without axes, A and B need as many axes (got shapes "
                             f"{a.shape} and {b.shape})")
        axes = (tuple(range(a.ndim)), tuple(range(b.ndim)))
    dot_axes = ((), ()) if dot_axes is None else dot_axes
    conv_a, conv_b = (tuple(_axis(x, ax) for ax in axs) for x, axs in zip((a, b), axes))
    dot_a, dot_b = (tuple(_axis(x, ax) for ax in axs) for x, axs in zip((a, b), dot_axes))
    if len(conv_a) != len(conv_b) or len(dot_a) != len(dot_b):
        raise ValueError(f"convolve: axes {axes} and dot_axes {dot_axes} must pair A's axes "
                         "with as many of B's")
    for i, j in zip(dot_a, dot_b):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"convolve: dot axes of sizes {a.shape[i]} and {b.shape[j]}")
    sizes_a = [a.shape[i] for i in conv_a]
    sizes_b = [b.shape[j] for j in conv_b]
    if mode == "valid" and not (all(m <= n for n, m in zip(sizes_a, sizes_b))
                                or all(n <= m for n, m in zip(sizes_a, sizes_b))):
        raise ValueError("convolve: in 'valid' mode one array must be at least as large as the "
                         f"other along every convolved axis (sizes {sizes_a} and {sizes_b})")
    ignore_a = [i for i in range(a.ndim) if i not in conv_a and i not in dot_a]
    ignore_b = [j for j in range(b.ndim) if j not in conv_b and j not in dot_b]
    # A as (ignored, dot, conv) with its conv axes flipped; B as (ignored, dot, conv), zero-padded
    # by n - 1 on both sides of each conv axis: out[k] = sum_j flip(A)[j] * padded(B)[k + j].
    a = anp.transpose(a, ignore_a + list(dot_a) + list(conv_a))
    b = anp.transpose(b, ignore_b + list(dot_b) + list(conv_b))
    n_conv, n_dot = len(conv_a), len(dot_a)
    if n_conv:
        a = anp.flip(a, axis=tuple(range(a.ndim - n_conv, a.ndim)))
        b = anp.pad(b, [(0, 0)] * (b.ndim - n_conv) + [(n - 1, n - 1) for n in sizes_a])
    # Sliding windows of each conv axis of B: the axis (length P) becomes (k, j) with
    # window[k, j] = B[k + j], k < n + m - 1, j < n (a gather: differentiable).
    first = len(ignore_b) + n_dot
    for i, (n, m) in enumerate(zip(sizes_a, sizes_b)):
        axis = first + 2 * i
        index = onp.arange(n + m - 1)[:, None] + onp.arange(n)[None, :]
        b = anp.take(b, index, axis=axis)
    letters = iter(string.ascii_letters)
    ia = "".join(next(letters) for _ in ignore_a)
    ib = "".join(next(letters) for _ in ignore_b)
    d = "".join(next(letters) for _ in range(n_dot))
    k = "".join(next(letters) for _ in range(n_conv))
    j = "".join(next(letters) for _ in range(n_conv))
    windows = "".join(kk + jj for kk, jj in zip(k, j))
    out = anp.einsum(f"{ia}{d}{j},{ib}{d}{windows}->{ia}{ib}{k}", a, b)
    if mode == "full" or not n_conv:
        return out
    index = [slice(None)] * (out.ndim - n_conv)
    for n, m in zip(sizes_a, sizes_b):
        start, length = (min(n, m) - 1, abs(n - m) + 1) if mode == "valid" else ((m - 1) // 2, n)
        index.append(slice(start, start + length))
    return out[tuple(index)]


def _axis(x: Tensor, axis: int) -> int:
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"convolve: axis {axis} is out of range for shape {x.shape}")
    return axis % x.ndim
