"""Pooling: max, average and adaptive average pooling over 2-D windows.

`MaxPool2d` and `AvgPool2d` reduce over a strided window view without materialising columns.
"""

from __future__ import annotations

import math
from typing import Any

from backends import kernels
from backends.host_threads import big_halves
from backends.kernels.common import match_layout

from ..function import Function
from ..grad_mode import is_grad_enabled
from ..grad_mode import state as _grad_state
from ..tensor import Tensor
from .activation import Relu, _constant, _ReluGrad, relu
from .im2col import Col2Im, _check_image, _geometry, _pad_raw, _pair, _windows

__all__ = ["max_pool2d", "max_pool2d_relu", "avg_pool2d", "adaptive_avg_pool2d"]


# -- pooling ---------------------------------------------------------------------------------
def _pool_geometry(op: str, x: Any, kernel_size: Any, stride: Any, padding: Any,
                   dilation: Any = 1, ceil_mode: bool = False, floating: bool = False) -> tuple:
    """(x as a Tensor, the window geometry, the output size) of a 2-D pool. With `ceil_mode`
    the last window may start past the floor-mode end (but not in the bottom/right padding,
    as PyTorch): the geometry then pads the bottom/right further, so every window lies in
    the padded image."""
    x = _check_image(op, x, floating=floating)
    kernel = _pair(kernel_size, "kernel_size", op, 1)
    ph, pw = _pair(padding, "padding", op, 0)
    if ph > kernel[0] // 2 or pw > kernel[1] // 2:
        raise ValueError(f"{op}: padding {(ph, pw)} must be at most half the kernel {kernel}")
    g = _geometry(op, kernel, kernel if stride is None else stride, (ph, pw), dilation)
    if ceil_mode:
        extra = []
        for size, k, s, p, d in ((x.shape[2], g.kh, g.sh, ph, g.dh),
                                 (x.shape[3], g.kw, g.sw, pw, g.dw)):
            span = d * (k - 1) + 1
            out = -(-(size + 2 * p - span) // s) + 1
            if (out - 1) * s >= size + p:  # the last window would start in the padding
                out -= 1
            extra.append(max((out - 1) * s + span - (size + 2 * p), 0))
        g.pb += extra[0]
        g.pr += extra[1]
    return x, g, g.check(op, x.shape)


def _plane_index(xp: Any, window_index: Any, g: Any, in_hw: tuple) -> Any:
    """Flat positions ``row * W + col`` in the input plane of each window's chosen offset
    (PyTorch's ``return_indices``), from the offsets (N, C, OH, OW) into kh*kw windows."""
    oh, ow = window_index.shape[2:]
    rows = (xp.arange(oh) * g.sh - g.pt).reshape(oh, 1) + (window_index // g.kw) * g.dh
    cols = xp.arange(ow) * g.sw - g.pl + (window_index % g.kw) * g.dw
    return (rows * in_hw[1] + cols).astype(xp.int64)


class MaxPool2d(Function):
    """y = max over each window; the gradient goes to the window's first maximal element.

    Padding counts as -inf. Ties pick the first maximum in row-major window order, as PyTorch.
    A list as `indices_out` receives the chosen positions (``return_indices``).
    """

    indices_out: Any = None

    def forward(self, x):
        xp = self.xp
        g = self.geometry
        n, c = x.shape[:2]
        oh, ow = g.out_hw(*x.shape[2:])
        self.in_shape = x.shape
        floating = x.dtype.kind == "f" or x.dtype.name == "bfloat16"  # (ml_dtypes: kind 'V')
        low = -math.inf if floating else xp.iinfo(x.dtype).min
        view = _windows(xp, _pad_raw(xp, x, g, low), g, oh, ow)
        windows = view.reshape(n, c, oh, ow, g.kh * g.kw)
        index = windows.argmax(axis=-1)[..., None]
        self.save_for_backward(index)
        if self.indices_out is not None:  # return_indices: positions in each input plane
            self.indices_out.append(_plane_index(xp, index[..., 0], g, x.shape[2:]))
        return xp.take_along_axis(windows, index, axis=-1)[..., 0]

    def backward(self, gy):
        (index,) = self.saved_tensors
        xp = self.xp
        g = self.geometry
        hot = xp.arange(g.kh * g.kw) == index.array                 # (N, C, OH, OW, K) constant
        cols = gy.expand_dims(-1) * Tensor._make(hot.astype(gy.dtype), self.backend)
        return Col2Im.apply(cols, geometry=g, layout="pool", in_shape=self.in_shape)


class AvgPool2d(Function):
    """y = sum over each window / divisor: the window size (``count_include_pad``: padding
    counts, the ceil-mode overhang does not, as PyTorch), the real pixels it covers, or
    `divisor_override`."""

    divisor_override: Any = None
    sym_pads: tuple = (0, 0)

    def forward(self, x):
        xp = self.xp
        g = self.geometry
        oh, ow = g.out_hw(*x.shape[2:])
        self.in_shape = x.shape
        total = _windows(xp, _pad_raw(xp, x, g), g, oh, ow).sum(axis=(-2, -1))
        divisor = self._divisor(x.shape, oh, ow, x.dtype)
        if isinstance(divisor, float):
            return total * (1.0 / divisor)
        return total / divisor

    def _divisor(self, shape: tuple, oh: int, ow: int, dtype: Any) -> Any:
        """A float where every window has the same divisor, else an (OH, OW) array of them."""
        g = self.geometry
        if self.divisor_override is not None:
            return float(self.divisor_override)
        ph, pw = self.sym_pads
        overhang = g.pb > ph or g.pr > pw  # ceil mode's windows past the padding
        if not g.padded or (self.count_include_pad and not overhang):
            return float(g.kh * g.kw)
        xp = self.xp
        h, w = shape[2:]
        inside = xp.zeros((1, 1, h + g.pt + g.pb, w + g.pl + g.pr), dtype=dtype)
        if self.count_include_pad:  # the image and its symmetric padding count
            inside[:, :, :h + 2 * ph, :w + 2 * pw] = 1
        else:
            inside[:, :, g.pt:g.pt + h, g.pl:g.pl + w] = 1
        return _windows(xp, inside, g, oh, ow).sum(axis=(-2, -1))[0, 0]

    def backward(self, gy):
        g = self.geometry
        oh, ow = gy.shape[2:]
        divisor = self._divisor(self.in_shape, oh, ow, gy.dtype)
        if isinstance(divisor, float):
            share = gy * (1.0 / divisor)
        else:
            share = gy / Tensor._make(divisor, self.backend)
        cols = share.expand_dims(-1).broadcast_to((*gy.shape, g.kh * g.kw))
        return Col2Im.apply(cols, geometry=g, layout="pool", in_shape=self.in_shape)


class BlockMaxPool2d(Function):
    """y = max over disjoint (kh, kw) blocks tiling the image (stride = kernel, no padding).

    The common pooling layer, done without materialising windows: the image is seen as
    channels-last blocks (a free view when the input is an NCHW view of NHWC memory, as conv
    outputs are) and the max is a chain of elementwise maxima over the kh*kw block offsets.
    When recorded, the same pass keeps each block's first-maximum offset (PyTorch's tie rule)
    as one small integer per output: backward then reads that instead of x again (x is as big
    as the block count times kh*kw, and long out of cache by then). A NaN is never that
    offset: its block's gradient goes to the first maximum of the offsets before it.

    For x = relu(z), `max_pool2d` passes z as a second input: backward then sends the pooled
    gradient, masked where each block's maximum is positive, to z directly, skipping relu's
    gradient pass over the whole image (unless relu's own gradient is wanted).
    """

    raw_backward = True
    #: Set when x = relu(z): the `Relu` node, and z is a second input (see `max_pool2d`).
    relu: Any = None

    def forward(self, x, z=None):
        xp = self.xp
        best, index = _block_pool(self, x, then_relu=False)
        if z is None:
            self.save_for_backward(index)
        else:  # where relu'(z) is 1 at each block's maximum (a mask, not y: y may change)
            self.save_for_backward(index, xp.greater(best, 0).transpose(0, 3, 1, 2))
        return best.transpose(0, 3, 1, 2)                    # NCHW view of NHWC memory

    def backward(self, gy):
        index, *positive = self.saved_tensors
        if self.relu is None:
            return _BlockScatter.apply(gy, index, kernel=self.kernel)
        captured = _grad_state.captured
        if self.relu._observed or (captured is not None and self.relu in captured):
            # x's own gradient is wanted (a hook, retain_grad, autograd.grad): through Relu.
            return _BlockScatter.apply(gy, index, kernel=self.kernel), None
        # Straight to z: relu'(z) is 1 at a block's maximum exactly where that maximum is
        # positive, so the small pooled gradient is masked instead of relu's gradient pass
        # over the whole image. Relu then gets no gradient from here.
        mask = positive[0]
        if not isinstance(gy, Tensor):  # arrays: an NCHW gy (from a flatten) in mask's layout
            gy = match_layout(self.backend, gy, mask)
        return None, _BlockScatter.apply(gy * mask, index, kernel=self.kernel)


class BlockMaxPoolRelu(Function):
    """y = relu(max over disjoint (kh, kw) blocks), fused: what `nn.Sequential` runs for a
    ``ReLU`` followed by a block ``MaxPool2d`` (the two commute, values and first-maximum
    gradients alike).

    Fused for speed: one pass takes the block maxima, their first-maximum offsets and the relu
    (`kernels.block_max`), and the first-order backward scatters gy to those offsets where
    y > 0 in one more (`kernels.block_scatter` with y as its gate), instead of relu's own
    forward and gradient passes and two more graph nodes. With ``create_graph`` the rule is
    relu's gradient and the block scatter, each differentiable.
    """

    raw_backward = True

    def forward(self, x):
        best, index = _block_pool(self, x, then_relu=True)
        y = best.transpose(0, 3, 1, 2)                       # NCHW view of NHWC memory
        self.save_for_backward(index, y)
        return y

    def backward(self, gy):
        index, y = self.saved_tensors
        if not isinstance(gy, Tensor):  # first order on arrays: relu's gradient in the scatter
            return _BlockScatter.apply(gy, index, y, kernel=self.kernel)
        gz = _ReluGrad.apply(_constant(y), gy)
        return _BlockScatter.apply(gz, index, kernel=self.kernel)


def _block_pool(fn: Function, x: Any, then_relu: bool) -> tuple:
    """(best, index) of x's disjoint blocks, channels-last: the max of each (relu'd if asked)
    and, when `fn` is recorded, its first maximum's offset (uint8 up to 256 offsets)."""
    xp = fn.xp
    kh, kw = fn.kernel
    blocks = _blocks(xp, x, kh, kw)                          # (N, OH, kh, OW, kw, C)
    best = xp.empty(blocks[:, :, 0, :, 0, :].shape, dtype=x.dtype)
    index = None
    if fn._recording:  # only a recorded op has a backward to serve
        index = xp.empty(best.shape, dtype=xp.uint8 if kh * kw <= 256 else xp.int32)

    def part(a: int, b: int) -> None:  # images [a, b); a big batch as two halves at once
        kernels.block_max(fn.backend, blocks[a:b], best[a:b],
                          None if index is None else index[a:b], then_relu)

    big_halves(fn.backend, part, x.shape[0], x.nbytes)
    return best, index


class _BlockScatter(Function):
    """gx = gy placed at each block's first maximum (given by `index`), zeros elsewhere;
    linear in gy, constant in the index. With a third input `gate` (relu's output y), gy is
    first masked where y > 0 (relu's gradient), in the same pass; constant in the gate."""

    raw_backward = True

    def forward(self, gy, index, gate=None):
        self.save_for_backward(index, gate)
        xp = self.xp
        kh, kw = self.kernel
        n, c, oh, ow = gy.shape
        out = xp.empty((n, oh, kh, ow, kw, c), dtype=gy.dtype)

        def part(a: int, b: int) -> None:  # images [a, b); a big batch as two halves at once
            kernels.block_scatter(self.backend, gy[a:b].transpose(0, 2, 3, 1), index[a:b],
                                  out[a:b], None if gate is None else
                                  gate[a:b].transpose(0, 2, 3, 1))

        big_halves(self.backend, part, n, out.nbytes)
        return out.reshape(n, oh * kh, ow * kw, c).transpose(0, 3, 1, 2)

    def backward(self, ggx):
        index, gate = self.saved_tensors
        g = _BlockGather.apply(ggx, index, kernel=self.kernel)
        if gate is None:
            return g, None
        return _ReluGrad.apply(_constant(gate), g), None, None


class _BlockGather(Function):
    """y = each block's value at its first maximum (given by `index`): the adjoint of
    `_BlockScatter`."""

    raw_backward = True

    def forward(self, image, index):
        self.save_for_backward(index)
        xp = self.xp
        kh, kw = self.kernel
        blocks = _blocks(xp, image, kh, kw)
        out = xp.zeros(index.shape, dtype=image.dtype)
        for k in range(kh * kw):
            out += blocks[:, :, k // kw, :, k % kw, :] * (index == k)
        return out.transpose(0, 3, 1, 2)

    def backward(self, gy):
        (index,) = self.saved_tensors
        return _BlockScatter.apply(gy, index, kernel=self.kernel), None


def _blocks(xp: Any, x: Any, kh: int, kw: int) -> Any:
    """An (N, C, H, W) image as channels-last blocks (N, H/kh, kh, W/kw, kw, C)."""
    n, c, h, w = x.shape
    nhwc = x.transpose(0, 2, 3, 1)
    return nhwc.reshape(n, h // kh, kh, w // kw, kw, c)   # free for NHWC memory, else one copy


def max_pool2d(x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max over (kH, kW) windows of an NCHW batch (PyTorch's ``max_pool2d``).

    Args:
        kernel_size: int or pair; stride: defaults to kernel_size; padding: at most half the
            kernel, filled with -inf; dilation: spacing of the window's elements.
        ceil_mode: round the output size up (the last window may overhang the bottom/right
            edge, but never starts in the padding).
        return_indices: also return, per output, the flat position ``row * W + col`` of the
            chosen element in its input plane (int64; what `max_unpool2d` takes).

    Kink convention: the gradient goes only to the first maximal element of each window
    (row-major order), like PyTorch, not split among ties.
    """
    x, g, _ = _pool_geometry("max_pool2d", x, kernel_size, stride, padding, dilation,
                             ceil_mode)
    if not return_indices and _is_block(g, x):
        relu = x.grad_fn
        if type(relu) is Relu and is_grad_enabled():
            return BlockMaxPool2d.apply(x, _relu_input(x, relu), kernel=(g.kh, g.kw), relu=relu)
        return BlockMaxPool2d.apply(x, kernel=(g.kh, g.kw))
    if not return_indices:
        return MaxPool2d.apply(x, geometry=g)
    box: list = []
    y = MaxPool2d.apply(x, geometry=g, indices_out=box)
    return y, Tensor._make(box[0], x.backend)


def max_pool2d_relu(x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """``relu(max_pool2d(x, ...))``, which equals ``max_pool2d(relu(x), ...)`` (they commute),
    fused into one op for disjoint blocks (`BlockMaxPoolRelu`); other windows pool, then relu.
    `nn.Sequential` runs a ``ReLU`` followed by a ``MaxPool2d`` through this."""
    x, g, _ = _pool_geometry("max_pool2d", x, kernel_size, stride, padding)
    if _is_block(g, x):
        return BlockMaxPoolRelu.apply(x, kernel=(g.kh, g.kw))
    return relu(max_pool2d(x, kernel_size, stride, padding))


def _is_block(g: Any, x: Tensor) -> bool:
    """Whether the windows tile the float image in disjoint blocks (stride = kernel, no pad)."""
    h, w = x.shape[2:]
    return ((g.sh, g.sw) == (g.kh, g.kw) and not g.padded and h % g.kh == 0 and w % g.kw == 0
            and (g.dh, g.dw) == (1, 1) and (x.dtype.kind == "f" or x.dtype.name == "bfloat16"))


def _relu_input(x: Tensor, relu: Relu) -> Tensor:
    """A stand-in for z in x = relu(z), for the pool's second edge: z itself if it is a leaf,
    else a Tensor produced by z's producer, with x's data (relu keeps shape and dtype)."""
    source = relu.next_edges[0]
    if isinstance(source, Tensor):
        return source
    z = Tensor._make(x.array, x.backend)
    z.grad_fn = source
    z.requires_grad = True
    return z


def avg_pool2d(x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over (kH, kW) windows of an NCHW batch (PyTorch's ``avg_pool2d``).

    Args:
        kernel_size, stride (default: kernel_size), padding (at most half the kernel).
        ceil_mode: round the output size up; the overhang past the padding is never counted.
        count_include_pad: zero padding counts in the divisor (PyTorch's default).
        divisor_override: divide every window's sum by this instead.
    """
    x, g, _ = _pool_geometry("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode,
                             floating=True)
    if divisor_override is not None and (isinstance(divisor_override, bool)
                                         or not isinstance(divisor_override, int)
                                         or divisor_override == 0):
        raise ValueError(f"avg_pool2d: divisor_override must be a non-zero int, got "
                         f"{divisor_override!r}")
    return AvgPool2d.apply(x, geometry=g, count_include_pad=bool(count_include_pad),
                           sym_pads=_pair(padding, "padding", "avg_pool2d", 0),
                           divisor_override=divisor_override)


def _adaptive_matrix(xp: Any, size: int, out: int, dtype: Any) -> Any:
    """(out, size) averaging matrix: row i averages [floor(i size/out), ceil((i+1) size/out))."""
    i = xp.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    j = xp.arange(size)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return inside.astype(dtype) / (end - start)[:, None].astype(dtype)


def adaptive_avg_pool2d(x: Tensor, output_size: Any) -> Tensor:
    """Averages an NCHW batch down to `output_size` (PyTorch's ``adaptive_avg_pool2d``).

    Window i along an axis of length L covers ``[floor(i L / out), ceil((i + 1) L / out))``.
    When the sizes divide this is a reshape and a mean; otherwise (variable windows) it is
    two small averaging matrices, ``A_h @ x @ A_w^T``. An entry of `output_size` may be None
    (keep that axis).
    """
    x = _check_image("adaptive_avg_pool2d", x, floating=True)
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size, output_size)
    if not isinstance(output_size, (tuple, list)) or len(output_size) != 2 or not all(
            v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in output_size):
        raise TypeError(f"adaptive_avg_pool2d: output_size must be an int, None or a pair of "
                        f"them, got {output_size!r}")
    n, c, h, w = x.shape
    oh, ow = (h if output_size[0] is None else output_size[0],
              w if output_size[1] is None else output_size[1])
    if oh <= 0 or ow <= 0 or (h == 0 and oh) or (w == 0 and ow):
        raise ValueError(f"adaptive_avg_pool2d: cannot pool an input of shape {x.shape} to "
                         f"({oh}, {ow})")
    if (oh, ow) == (1, 1):
        return x.mean(axis=(2, 3), keepdims=True)
    if h % oh == 0 and w % ow == 0:
        return x.reshape(n, c, oh, h // oh, ow, w // ow).mean(axis=(3, 5))
    xp = x.xp
    a_h = Tensor._make(_adaptive_matrix(xp, h, oh, x.dtype), x.backend)
    a_w = Tensor._make(_adaptive_matrix(xp, w, ow, x.dtype), x.backend)
    return (a_h @ x) @ a_w.T
