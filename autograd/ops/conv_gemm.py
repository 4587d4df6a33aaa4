"""The fused convolution op behind `conv2d` for groups == 1: im2col, one GEMM, bias in place.

Fused for speed (see benchmarks/NOTES.md, "CNN path"): one op owns the column layout on both
sides of the GEMM, so that

- a one-channel image is gathered as one contiguous plane per kernel offset (``(K, M)``,
  runs of OW pixels) and handed to BLAS transposed, instead of rows of K = kh*kw scattered
  floats (about 8x faster for the usual first layer);
- the input gradient never materialises the ``(M, K)`` column gradient: per kernel offset,
  ``gy @ w[:, :, i, j]`` lands in one reused ``(M, C)`` buffer and is added into its shifted
  window of a channels-last accumulator, runs of OW*C floats (col2im by kernel offset moves
  runs of only C floats);
- the columns are built a chunk of images at a time (about 1 MiB, cache-sized) right before
  the GEMM that reads them, and built again for the weight gradient, instead of being held for
  the whole batch and saved: 64 images of 16x14x14 have 7 MiB of 3x3 columns, and fresh
  memory that size (page faults) cost more than the second gather;
- the bias gradient is a column sum folded to long rows (NumPy reduces axis 0 of an
  ``(M, C_out)`` array in loops of C_out elements: ~10x slower for C_out = 16).

A recorded backward (``create_graph=True``) rebuilds the same gradients from `Im2Col`,
`Col2Im` and matmul, so convolution stays differentiable to any order.
"""

from __future__ import annotations

from typing import Any

from backends import kernels
from backends.host_threads import halves

from ..function import Function
from ..tensor import Tensor
from .im2col import (
    Col2Im,
    Im2Col,
    _channels_last_padded,
    _Geometry,
    _group_windows,
    _pad_raw,
    col2im_raw,
)


class Conv2dGemm(Function):
    """y = conv2d(x, w) + b (groups 1): NCHW in, an NCHW view of the GEMM's NHWC result out.

    gw = gy^T @ cols (in the weight's (kh, kw, C) column order), gb = column sums of gy,
    gx = the columns' adjoint (col2im) of gy @ w.
    """

    raw_backward = True

    def forward(self, x, w, b=None):
        xp = self.xp
        g = self.geometry
        n = x.shape[0]
        c_out = w.shape[0]
        oh, ow = g.out_hw(*x.shape[2:])
        w_t = _weight_rows(w).T
        y = xp.empty((n * oh * ow, c_out), dtype=xp.result_type(x.dtype, w.dtype))
        chunks = _batch_chunks(self.backend, x, w, oh, ow)

        def run(first: int, last: int) -> None:  # chunks [first, last); halves on two cores
            for start, stop in chunks[first:last]:
                rows = y[start * oh * ow:stop * oh * ow]
                xp.matmul(_gemm_cols(self.backend, x[start:stop], g, oh, ow), w_t, out=rows)
                if b is not None:
                    _add_bias(self.backend, rows, b)

        _split(self.backend, run, chunks, x, w, oh, ow)
        self.save_for_backward(x, w)
        return y.reshape(n, oh, ow, c_out).transpose(0, 3, 1, 2)

    def backward(self, gy):
        x, w = self.saved_tensors
        g = self.geometry
        need = self.needs_input_grad
        n, c_out = gy.shape[:2]
        oh, ow = gy.shape[2:]
        m, k = n * oh * ow, w.shape[1] * g.kh * g.kw
        gy2 = _permuted(gy, (0, 2, 3, 1)).reshape(m, c_out)       # free for NHWC memory
        recorded = isinstance(gy, Tensor)  # create_graph: Tensor ops, differentiable in x too
        gx = gw = None
        if need[0]:
            # On a device one GEMM and the col2im adds launch fewer kernels than per-offset
            # GEMMs; the per-offset form is for host caches (and Col2Im also runs on arrays).
            if recorded or self.backend.is_device:
                gcols = (gy2 @ _weight_rows(w)).reshape(n, oh, ow, k)
                gx = Col2Im.apply(gcols, geometry=g, layout="conv", in_shape=tuple(x.shape))
            else:
                gx = _input_grad(self.backend, gy2, w, g, x.shape)
        if need[1]:
            if recorded:
                gw_rows = gy2.T @ Im2Col.apply(x, geometry=g, layout="conv").reshape(m, k)
                gw = _weight_from_rows(gw_rows, tuple(w.shape))
            else:  # the columns again, a chunk of images at a time (see _batch_chunks)
                gw = weight_grad(self.backend, gy2, x, w, g)
        if len(need) == 2:
            return gx, gw
        return gx, gw, (_sum_rows(gy2) if need[2] else None)


def input_grad(backend: Any, gy2: Any, w: Any, g: _Geometry, in_shape: tuple) -> Any:
    """gx (raw arrays) of ``conv2d(x, w)`` (groups 1), x of shape `in_shape`, for the output
    gradient `gy2` as (N*OH*OW, C_out) rows: the columns' adjoint of ``gy2 @ w_rows``.

    On a device one GEMM and one col2im (fewer launches); on the host `_input_grad` (chunked
    GEMMs and the C col2im loop, or per kernel offset). An NCHW view of channels-last memory.
    """
    if backend.is_device:
        n, _, h, wd = in_shape
        oh, ow = g.out_hw(h, wd)
        gcols = (gy2 @ _weight_rows(w)).reshape(n, oh, ow, w.shape[1] * g.kh * g.kw)
        return col2im_raw(backend.xp, gcols, tuple(in_shape), g)
    return _input_grad(backend, gy2, w, g, in_shape)


def weight_grad(backend: Any, gy2: Any, x: Any, w: Any, g: _Geometry) -> Any:
    """gw (raw arrays) of ``conv2d(x, w)`` (groups 1) for the output gradient `gy2` as
    (N*OH*OW, C_out) rows: ``gy2^T @ cols(x)``, the columns built again a chunk of images at a
    time (`_batch_chunks`), two halves on two cores for a big batch."""
    oh, ow = g.out_hw(*x.shape[2:])
    chunks = _batch_chunks(backend, x, w, oh, ow)
    parts = [None] * len(chunks)

    def run(first: int, last: int) -> None:
        for i in range(first, last):
            start, stop = chunks[i]
            parts[i] = _cross(gy2[start * oh * ow:stop * oh * ow],
                              _gemm_cols(backend, x[start:stop], g, oh, ow))

    _split(backend, run, chunks, x, w, oh, ow)
    gw_rows = parts[0]
    for part in parts[1:]:  # in chunk order, however the chunks ran
        gw_rows = gw_rows + part
    return _weight_from_rows(gw_rows, tuple(w.shape))


#: Bytes of columns one GEMM call takes on the host: columns that big stay in cache while the
#: GEMM reads them; the whole (M, K) column matrix of a batch is never held (nor saved).
_CHUNK_BYTES = 1 << 20


def _image_column_bytes(x: Any, w: Any, oh: int, ow: int) -> int:
    """Bytes of one image's (OH*OW, C*kh*kw) column matrix."""
    return oh * ow * w.shape[1] * w.shape[2] * w.shape[3] * x.itemsize


def _batch_chunks(backend: Any, x: Any, w: Any, oh: int, ow: int) -> list:
    """[(start, stop)) image ranges whose columns fit `_CHUNK_BYTES` (one range on a device,
    where each call is a kernel launch and memory is not the bottleneck), an even number of
    them on the host."""
    n = x.shape[0]
    per_image = _image_column_bytes(x, w, oh, ow)
    count = 1 if backend.is_device else min(n, -(-n * per_image // _CHUNK_BYTES))
    count = max(count, 1)
    if 1 < count < n:
        count += count % 2  # an even count: two equal halves of chunks for `halves`
    return [(i * n // count, (i + 1) * n // count) for i in range(count)]  # equal, +-1


#: Columns of a whole batch from which its GEMM loop runs as two halves on two cores: below,
#: the hand-off and the BLAS thread switch cost more than half the GEMMs (measured on 8x8
#: digits, 1.2 MiB of columns: 15 % slower training with the split).
_SPLIT_BYTES = 4 << 20


def _split(backend: Any, run: Any, chunks: list, x: Any, w: Any, oh: int, ow: int) -> None:
    """``run(first, last)`` over the chunks, as two halves on two cores for a big batch."""
    if x.shape[0] * _image_column_bytes(x, w, oh, ow) >= _SPLIT_BYTES:
        halves(backend, run, len(chunks))
    else:
        run(0, len(chunks))


def _gemm_cols(backend: Any, x: Any, g: _Geometry, oh: int, ow: int) -> Any:
    """The (M, K) column matrix of x, columns in (kh, kw, C) order.

    One channel on the host: a contiguous (K, M) block, one (N, OH, OW) plane per kernel
    offset (copies in runs of OW), returned transposed (an F-ordered matrix BLAS reads as it
    is). Otherwise, and on a device (one gather instead of one per offset): channels-last rows
    (copies in runs of C), as `Im2Col`; on the host by the C loop where it is built.
    """
    xp = backend.xp
    n, c = x.shape[:2]
    taps = g.kh * g.kw
    if c == 1 and not backend.is_device:
        image = _pad_raw(xp, x, g)[:, 0]                         # (N, Hp, Wp)
        cols = xp.empty((taps, n, oh, ow), dtype=x.dtype)
        h_end, w_end = g.sh * (oh - 1) + 1, g.sw * (ow - 1) + 1
        for i in range(g.kh):
            top = i * g.dh
            for j in range(g.kw):
                left = j * g.dw
                cols[i * g.kw + j] = image[:, top:top + h_end:g.sh, left:left + w_end:g.sw]
        return cols.reshape(taps, n * oh * ow).T
    if kernels.c_loops(backend):  # one C loop, the padding by bounds checks
        nhwc = x.transpose(0, 2, 3, 1)
        if not kernels.c_loops(backend, nhwc):
            nhwc = xp.ascontiguousarray(nhwc)  # an NCHW input: channels-last once
        if kernels.c_loops(backend, nhwc):
            return kernels.im2col(backend, nhwc, g.window, oh, ow)
    view = _group_windows(xp, _channels_last_padded(xp, x, g), g, 1, oh, ow)
    return view.transpose(0, 3, 4, 1, 5, 6, 2).reshape(n * oh * ow, c * taps)


def _cross(gy2: Any, cols: Any) -> Any:
    """``gy2.T @ cols`` (C_out, K), as ``(cols.T @ gy2).T`` when K < C_out: the GEMM's long
    side then is C_out, not K (2x faster for K = 9, C_out = 16 on OpenBLAS: 0.37 -> 0.19 ms
    for 32 images of 28x28)."""
    if cols.shape[1] < gy2.shape[1]:
        return (cols.T @ gy2).T
    return gy2.T @ cols


def _weight_rows(w: Any) -> Any:
    """(C_out, C, kh, kw) as (C_out, kh*kw*C) rows in the columns' order (Tensor or array)."""
    c_out, c, kh, kw = w.shape
    if c == 1 or kh * kw == 1:
        return w.reshape(c_out, c * kh * kw)
    return _permuted(w, (0, 2, 3, 1)).reshape(c_out, c * kh * kw)


def _weight_from_rows(rows: Any, shape: tuple) -> Any:
    """The inverse of `_weight_rows`: (C_out, kh*kw*C) rows back to (C_out, C, kh, kw)."""
    c_out, c, kh, kw = shape
    if c == 1 or kh * kw == 1:
        return rows.reshape(shape)
    return _permuted(rows.reshape(c_out, kh, kw, c), (0, 3, 1, 2))


def _permuted(a: Any, axes: tuple) -> Any:
    """`a` with its axes permuted, for a raw array and a Tensor (which speaks PyTorch) alike."""
    return a.permute(*axes) if isinstance(a, Tensor) else a.transpose(axes)


def _fold(m: int, c: int) -> int:
    """How many rows of a contiguous (M, C) matrix to treat as one long row, so that NumPy's
    inner loops run over r*C elements instead of C (1: none; C is long enough, or no r fits)."""
    if c < 256:
        for r in (64, 32, 16, 8, 4, 2):
            if m % r == 0 and m > r:
                return r
    return 1


def _sum_rows(rows: Any) -> Any:
    """``rows.sum(axis=0)`` of a contiguous (M, C) matrix, with rows folded (`_fold`) first
    (the two-stage sum is also more accurate)."""
    m, c = rows.shape
    r = _fold(m, c)
    if r > 1:
        return rows.reshape(m // r, r * c).sum(axis=0).reshape(r, c).sum(axis=0)
    return rows.sum(axis=0)


def _add_bias(backend: Any, rows: Any, b: Any) -> None:
    """``rows += b`` for a contiguous (M, C) slice of the output; on the host with rows folded
    (`_fold`) against b tiled r times: 2.4x faster for C = 16 (0.157 -> 0.065 ms for 25088
    rows). A device adds in one kernel either way (the tile would be a second launch)."""
    m, c = rows.shape
    r = 1 if backend.is_device else _fold(m, c)
    if r > 1:
        folded = rows.reshape(m // r, r * c)
        folded += backend.xp.tile(b, r)
    else:
        rows += b


def _input_grad(backend: Any, gy2: Any, w: Any, g: _Geometry, in_shape: tuple) -> Any:
    """gx (raw arrays): the adjoint of the columns applied to gy2 @ w_rows.

    Where the host C loops are built: per chunk of images (their column gradient ~1 MiB, in
    cache), one GEMM ``gy2 @ w_rows`` (K = kh*kw*C wide: a far better GEMM shape than one per
    offset) and `kernels.col2im_add` into a channels-last accumulator. Otherwise by offset
    (`_input_grad_by_offset`): NumPy's strided adds out of K-wide rows cost more than the
    narrow GEMMs save. The two round differently in the last bit (other GEMM shapes).
    """
    n, c, h, wd = in_shape
    oh, ow = g.out_hw(h, wd)
    xp = backend.xp
    dtype = xp.result_type(gy2.dtype, w.dtype)
    if not kernels.c_loops(backend) or dtype not in (xp.float32, xp.float64):
        return _input_grad_by_offset(backend, gy2, w, g, in_shape)
    acc = xp.zeros((n, h, wd, c), dtype=dtype)  # channels-last
    w_rows = _weight_rows(w)                                   # (C_out, kh*kw*C)
    chunks = _batch_chunks(backend, acc.transpose(0, 3, 1, 2), w, oh, ow)

    def run(first: int, last: int) -> None:  # chunks [first, last); halves on two cores
        for start, stop in chunks[first:last]:
            gcols = xp.matmul(gy2[start * oh * ow:stop * oh * ow], w_rows)
            kernels.col2im_add(backend, gcols, acc[start:stop], g.window, oh, ow)

    if gy2.nbytes >= _CHUNK_BYTES:
        halves(backend, run, len(chunks))
    else:
        run(0, len(chunks))
    return acc.transpose(0, 3, 1, 2)


def _input_grad_by_offset(backend: Any, gy2: Any, w: Any, g: _Geometry, in_shape: tuple) -> Any:
    """gx (raw arrays): the adjoint of the columns applied to gy2 @ w_rows, by kernel offset.

    For each offset (i, j), ``gy2 @ w[:, :, i, j]`` (M, C) is written into one reused buffer
    and added into the window it came from in a zero-padded channels-last accumulator; the
    result is an NCHW view of that accumulator, cropped to the image. Images are independent:
    a big batch runs as two halves on two cores (`halves`).
    """
    xp = backend.xp
    n, c, h, wd = in_shape
    oh, ow = g.out_hw(h, wd)
    taps = xp.ascontiguousarray(w.transpose(2, 3, 0, 1))       # (kh, kw, C_out, C), small
    dtype = xp.result_type(gy2.dtype, taps.dtype)
    acc = xp.zeros((n, h + g.pt + g.pb, wd + g.pl + g.pr, c), dtype=dtype)
    h_end, w_end = g.sh * (oh - 1) + 1, g.sw * (ow - 1) + 1

    def run(first: int, last: int) -> None:  # images [first, last)
        rows = gy2[first * oh * ow:last * oh * ow]
        part = xp.empty((last - first, oh, ow, c), dtype=dtype)
        flat = part.reshape(rows.shape[0], c)
        for i in range(g.kh):
            top = i * g.dh
            for j in range(g.kw):
                left = j * g.dw
                xp.matmul(rows, taps[i, j], out=flat)
                acc[first:last, top:top + h_end:g.sh, left:left + w_end:g.sw] += part

    if gy2.nbytes >= _CHUNK_BYTES:
        halves(backend, run, n)
    else:
        run(0, n)
    image = acc.transpose(0, 3, 1, 2)
    if g.padded:
        image = image[:, :, g.pt:g.pt + h, g.pl:g.pl + wd]
    return image
