"""Pooling beyond the 2-D windows of `pooling`: the 1-D pools (2-D pools of height 1),
adaptive max pooling, and max unpooling.

Adaptive max pooling and unpooling move values by flat positions in each input plane: a
gather (`TakeAlong`) whose rule is a scatter-add (`PutAlong`) and the other way round, so
both are differentiable to any order without a rule of their own.
"""

from __future__ import annotations

import operator
from typing import Any

from ..tensor import Tensor
from .im2col import _check_image
from .pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from .sorting import PutAlong, TakeAlong

__all__ = ["max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d",
           "adaptive_max_pool2d", "max_unpool1d", "max_unpool2d"]


def _int(op: str, name: str, value: Any, minimum: int) -> int:
    """An int (or a 1-tuple of one) >= minimum: the 1-D pools take single sizes."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{op}: {name} must be an int >= {minimum}, got {value!r}")
    return value


def _rows(op: str, x: Any, floating: bool = False) -> Tensor:
    return _check_image(op, x, "(N, C, L)", floating=floating).expand_dims(2)


def max_pool1d(x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max over windows of an (N, C, L) batch (PyTorch's ``max_pool1d``); arguments as
    `max_pool2d`, single ints. The indices are positions along L."""
    op = "max_pool1d"
    k = _int(op, "kernel_size", kernel_size, 1)
    s = k if stride is None else _int(op, "stride", stride, 1)
    out = max_pool2d(_rows(op, x), (1, k), (1, s), (0, _int(op, "padding", padding, 0)),
                     (1, _int(op, "dilation", dilation, 1)), ceil_mode, return_indices)
    if return_indices:
        return out[0].squeeze(2), Tensor._make(out[1].array[:, :, 0], out[1].backend)
    return out.squeeze(2)


def avg_pool1d(x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """Mean over windows of an (N, C, L) batch (PyTorch's ``avg_pool1d``); arguments as
    `avg_pool2d`, single ints."""
    op = "avg_pool1d"
    k = _int(op, "kernel_size", kernel_size, 1)
    s = k if stride is None else _int(op, "stride", stride, 1)
    pad = _int(op, "padding", padding, 0)
    return avg_pool2d(_rows(op, x, floating=True), (1, k), (1, s), (0, pad), ceil_mode,
                      count_include_pad).squeeze(2)


def adaptive_avg_pool1d(x: Tensor, output_size: Any) -> Tensor:
    """Averages an (N, C, L) batch down to `output_size` along L (PyTorch's
    ``adaptive_avg_pool1d``); window i covers ``[floor(i L / out), ceil((i + 1) L / out))``."""
    op = "adaptive_avg_pool1d"
    size = _int(op, "output_size", output_size, 1)
    return adaptive_avg_pool2d(_rows(op, x, floating=True), (1, size)).squeeze(2)


def _adaptive_offsets(xp: Any, size: int, out: int) -> tuple:
    """(positions (out, K), K) of adaptive windows along an axis of length `size`: window i
    covers ``[floor(i size / out), ceil((i + 1) size / out))``, padded to the longest window
    K by repeating its last position (a repeat never changes a max nor its first position)."""
    starts = [(i * size) // out for i in range(out)]
    ends = [-((-(i + 1) * size) // out) for i in range(out)]
    k = max(e - s for s, e in zip(starts, ends))
    start = xp.asarray(starts).reshape(out, 1)
    last = xp.asarray(ends).reshape(out, 1) - 1
    return xp.minimum(start + xp.arange(k), last), k


def adaptive_max_pool2d(x: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max over adaptive windows of an NCHW batch (PyTorch's ``adaptive_max_pool2d``).

    Window (i, j) covers rows ``[floor(i H / OH), ceil((i + 1) H / OH))`` and likewise
    columns; `output_size` is an int or an (OH, OW) pair whose entries may be None (keep that
    axis). The gradient goes to each window's first maximum (row-major), as PyTorch; with
    `return_indices` the positions ``row * W + col`` come too.
    """
    op = "adaptive_max_pool2d"
    x = _check_image(op, x)
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size, output_size)
    n, c, h, w = x.shape
    oh, ow = (h if output_size[0] is None else operator.index(output_size[0]),
              w if output_size[1] is None else operator.index(output_size[1]))
    if oh <= 0 or ow <= 0 or h == 0 or w == 0:
        raise ValueError(f"{op}: cannot pool an input of shape {x.shape} to ({oh}, {ow})")
    xp = x.xp
    rows, kh = _adaptive_offsets(xp, h, oh)                        # (OH, kh)
    cols, kw = _adaptive_offsets(xp, w, ow)                        # (OW, kw)
    # every window's candidate positions, (OH, OW, kh*kw) in row-major window order
    cand = (rows.reshape(oh, 1, kh, 1) * w + cols.reshape(1, ow, 1, kw)).reshape(
        oh * ow, kh * kw)
    flat = x.array.reshape(n, c, h * w)
    values = xp.take(flat, cand, axis=2)                           # (N, C, OH*OW, K)
    best = values.argmax(axis=-1) if values.size else xp.zeros(values.shape[:3], dtype=xp.int64)
    index = xp.take_along_axis(xp.broadcast_to(cand, values.shape), best[..., None],
                               axis=-1)[..., 0].astype(xp.int64)    # (N, C, OH*OW)
    y = TakeAlong.apply(x.reshape(n, c, h * w), index, axis=2, unique=False)
    y = y.reshape(n, c, oh, ow)
    if return_indices:
        return y, Tensor._make(index.reshape(n, c, oh, ow), x.backend)
    return y


def adaptive_max_pool1d(x: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max over adaptive windows of an (N, C, L) batch (PyTorch's ``adaptive_max_pool1d``)."""
    op = "adaptive_max_pool1d"
    size = _int(op, "output_size", output_size, 1)
    out = adaptive_max_pool2d(_rows(op, x), (1, size), return_indices)
    if return_indices:
        return out[0].squeeze(2), Tensor._make(out[1].array[:, :, 0], out[1].backend)
    return out.squeeze(2)


def _unpool_size(op: str, in_hw: tuple, kernel: tuple, stride: tuple, padding: tuple,
                 output_size: Any) -> tuple:
    """PyTorch's unpooled size ``(in - 1) stride - 2 padding + kernel``, or `output_size`
    (its trailing entries), which must lie within one stride of it."""
    default = tuple((n - 1) * s - 2 * p + k for n, k, s, p in zip(in_hw, kernel, stride,
                                                                   padding))
    if output_size is None:
        return default
    size = tuple(int(v) for v in output_size)[-len(in_hw):]
    if len(size) != len(in_hw) or any(not d - s < v < d + s for v, d, s in
                                      zip(size, default, stride)):
        raise ValueError(f"{op}: output_size {tuple(output_size)} must be within one stride "
                         f"{tuple(stride)} of the default size {default}")
    return size


def _pairs(op: str, name: str, value: Any, k: int, minimum: int) -> tuple:
    items = (value,) * k if isinstance(value, int) else tuple(value)
    if len(items) != k:
        raise ValueError(f"{op}: {name} must be an int or {k} ints, got {value!r}")
    return tuple(_int(op, name, v, minimum) for v in items)


def max_unpool2d(x: Tensor, indices: Any, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The partial inverse of `max_pool2d` (PyTorch's ``max_unpool2d``): zeros of the
    unpooled size with each value of `x` written at its position in `indices` (as
    `max_pool2d(..., return_indices=True)` returns them). The gradient of each input value
    is the output gradient at its position."""
    op = "max_unpool2d"
    x = _check_image(op, x)
    kernel = _pairs(op, "kernel_size", kernel_size, 2, 1)
    stride = kernel if stride is None else _pairs(op, "stride", stride, 2, 1)
    padding = _pairs(op, "padding", padding, 2, 0)
    return _unpool(op, x, indices, _unpool_size(op, tuple(x.shape[2:]), kernel, stride,
                                                padding, output_size))


def max_unpool1d(x: Tensor, indices: Any, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """`max_unpool2d` for (N, C, L) batches and positions along L (``max_unpool1d``)."""
    op = "max_unpool1d"
    x = _check_image(op, x, "(N, C, L)")
    k = _int(op, "kernel_size", kernel_size, 1)
    s = k if stride is None else _int(op, "stride", stride, 1)
    size = _unpool_size(op, tuple(x.shape[2:]), (k,), (s,), (_int(op, "padding", padding, 0),),
                        output_size)
    return _unpool(op, x, indices, size)


def _unpool(op: str, x: Tensor, indices: Any, size: tuple) -> Tensor:
    index = indices.array if isinstance(indices, Tensor) else x.xp.asarray(indices)
    if tuple(index.shape) != tuple(x.shape) or index.dtype.kind not in "iu":
        raise ValueError(f"{op}: indices must be integers of the input's shape {x.shape}, got "
                         f"{index.dtype} {tuple(index.shape)}")
    n, c = x.shape[:2]
    plane = 1
    for v in size:
        plane *= v
    if not x.backend.is_device and index.size and (index.min() < 0 or index.max() >= plane):
        raise ValueError(f"{op}: an index is out of range for the output size {size} "
                         f"(found {int(index.min())}..{int(index.max())})")
    count = 1
    for v in x.shape[2:]:
        count *= v
    y = PutAlong.apply(x.reshape(n, c, count), index.reshape(n, c, count), axis=2,
                       shape=(n, c, plane), unique=True)
    return y.reshape(n, c, *size)
