"""A convolution's column matrix, channels-last: the window gather (im2col) and its adjoint,
the add of columns back into an image (col2im).

Rows are output pixels (image, row, column); columns run (kernel row, kernel column, channel),
channels innermost, so both directions move runs of contiguous channels. The geometry comes as
plain numbers (`Window`): kernel, stride, dilation and (top, bottom, left, right) padding. Two
bodies each, computing the same bits: on the host where the C extension is built, one C loop
(``backends/csrc/windows.c``: zeros for the padding by bounds checks, so no padded copy of the
image is made); otherwise whole-array `xp` calls on a zero-padded channels-last copy.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..native import host_kernels
from .common import C_FLOATS


class Window(NamedTuple):
    """A 2-D window op's geometry: kernel, stride, dilation, padding (top, bottom, left,
    right)."""

    kh: int
    kw: int
    sh: int
    sw: int
    dh: int
    dw: int
    pt: int
    pb: int
    pl: int
    pr: int


def c_loops(backend: Any, image: Any = None) -> bool:
    """Whether the C loops run on `backend` (host NumPy, the extension built) and, given an
    (N, H, W, C) `image`, take it: float32/float64, aligned, with a contiguous channel axis."""
    if host_kernels is None or backend.name != "numpy":
        return False
    return image is None or (image.dtype in C_FLOATS and image.strides[-1] == image.itemsize
                             and image.flags.aligned)


def check_window(op: str, image_shape: tuple, w: Window, oh: int, ow: int) -> None:
    """Raises ValueError unless `oh` x `ow` windows of geometry `w` lie in the padded (N, H, W,
    C) image: kernel, stride and dilation >= 1, padding >= 0, and the last window inside.

    Both bodies need it: the NumPy one views the windows with ``as_strided`` (which would read
    outside the image), and the C loop is checked the same way (windows.c).
    """
    n, h, wd, c = image_shape
    if min(w.kh, w.kw, w.sh, w.sw, w.dh, w.dw) < 1 or min(w.pt, w.pb, w.pl, w.pr) < 0:
        raise ValueError(f"{op}: kernel, stride and dilation must be >= 1 and padding >= 0, "
                         f"got {w}")
    if oh < 0 or ow < 0 or (oh and (oh - 1) * w.sh + (w.kh - 1) * w.dh >= h + w.pt + w.pb) or (
            ow and (ow - 1) * w.sw + (w.kw - 1) * w.dw >= wd + w.pl + w.pr):
        raise ValueError(f"{op}: {oh} x {ow} windows of {w} do not fit an image of shape "
                         f"{tuple(image_shape)}")


def _c_args(w: Window, oh: int, ow: int) -> tuple:
    return (w.kh, w.kw, w.sh, w.sw, w.dh, w.dw, w.pt, w.pl, oh, ow)


def _padded(xp: Any, image: Any, w: Window) -> Any:
    """A zero-padded channels-last copy of `image` (N, H, W, C)."""
    n, h, wd, c = image.shape
    buffer = xp.zeros((n, h + w.pt + w.pb, wd + w.pl + w.pr, c), dtype=image.dtype)
    buffer[:, w.pt:w.pt + h, w.pl:w.pl + wd] = image
    return buffer


def _window_view(xp: Any, padded: Any, w: Window, oh: int, ow: int) -> Any:
    """A strided view (N, OH, OW, kh, kw, C) of every window of a padded image."""
    n, _, _, c = padded.shape
    s_n, s_h, s_w, s_c = padded.strides
    return xp.lib.stride_tricks.as_strided(
        padded, shape=(n, oh, ow, w.kh, w.kw, c),
        strides=(s_n, s_h * w.sh, s_w * w.sw, s_h * w.dh, s_w * w.dw, s_c))


def im2col(backend: Any, image: Any, w: Window, oh: int, ow: int) -> Any:
    """The (N*OH*OW, kh*kw*C) columns of `image` (N, H, W, C), zeros where a window reaches
    the padding."""
    xp = backend.xp
    n, _, _, c = image.shape
    check_window("im2col", image.shape, w, oh, ow)
    if c_loops(backend, image):
        cols = xp.empty((n * oh * ow, w.kh * w.kw * c), dtype=image.dtype)
        host_kernels.im2col(image, cols, *_c_args(w, oh, ow))
        return cols
    view = _window_view(xp, _padded(xp, image, w), w, oh, ow)
    return view.reshape(n * oh * ow, w.kh * w.kw * c)   # the one copy


def col2im_add(backend: Any, cols: Any, image: Any, w: Window, oh: int, ow: int) -> None:
    """``image += the adjoint of im2col applied to cols``: each window's columns added back
    where the window lies, one kernel offset at a time (every pixel sums its terms in offset
    order); columns that fall in the padding are dropped. `image` (N, H, W, C) is updated in
    place."""
    n, h, wd, c = image.shape
    check_window("col2im_add", image.shape, w, oh, ow)
    if cols.shape != (n * oh * ow, w.kh * w.kw * c):
        raise ValueError(f"col2im_add: columns of shape {tuple(cols.shape)} do not fit the "
                         f"image (expected {(n * oh * ow, w.kh * w.kw * c)})")
    if (c_loops(backend, image) and cols.dtype == image.dtype and cols.flags.c_contiguous
            and cols.flags.aligned):
        host_kernels.col2im_add(image, cols, *_c_args(w, oh, ow))
        return
    xp = backend.xp
    buffer = _padded(xp, image, w)
    cols6 = cols.reshape(n, oh, ow, w.kh, w.kw, c)
    h_end, w_end = w.sh * (oh - 1) + 1, w.sw * (ow - 1) + 1
    for i in range(w.kh):
        top = i * w.dh
        for j in range(w.kw):
            left = j * w.dw
            buffer[:, top:top + h_end:w.sh, left:left + w_end:w.sw] += cols6[:, :, :, i, j]
    image[...] = buffer[:, w.pt:w.pt + h, w.pl:w.pl + wd]
