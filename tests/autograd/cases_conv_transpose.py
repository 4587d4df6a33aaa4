"""Op-table rows for the transposed convolutions, with a naive scatter reference."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from autograd.ops.conv_transpose import conv_transpose1d, conv_transpose2d

from .op_table import OpCase


def _two(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def ref_conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1,
                         dilation=1):
    """Each input pixel adds its value times the kernel into its window of the full output
    (one pixel at a time), then the padding is cropped: the definition, written plainly."""
    (sh, sw), (ph, pw) = _two(stride), _two(padding)
    (oph, opw), (dh, dw) = _two(output_padding), _two(dilation)
    n, c_in, h, wd = x.shape
    _, c_group, kh, kw = w.shape
    c_ig = c_in // groups
    full_h = (h - 1) * sh + dh * (kh - 1) + 1 + oph
    full_w = (wd - 1) * sw + dw * (kw - 1) + 1 + opw
    full = np.zeros((n, c_group * groups, full_h, full_w))
    for ci in range(c_in):
        g = ci // c_ig
        for i in range(h):
            for j in range(wd):
                for a in range(kh):
                    for c in range(kw):
                        full[:, g * c_group:(g + 1) * c_group, i * sh + a * dh,
                             j * sw + c * dw] += x[:, ci, i, j][:, None] * w[ci, :, a, c]
    # with padding p the output is full[p : p + out], out = full - 2p (output padding kept)
    y = full[:, :, ph:ph + full_h - 2 * ph, pw:pw + full_w - 2 * pw]
    if b is not None:
        y = y + b[None, :, None, None]
    return y


def ref_conv_transpose1d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1,
                         dilation=1):
    y = ref_conv_transpose2d(x[:, :, None], w[:, :, None], b, (1, stride), (0, padding),
                             (0, output_padding), groups, (1, dilation))
    return y[:, :, 0]


@st.composite
def conv_transpose_shapes(draw, bias: bool = True, one_d: bool = False):
    """(x, w[, b]): channels split in groups, small images and kernels."""
    groups = draw(st.sampled_from([1, 1, 2]))
    cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    n = draw(st.integers(0, 2))
    kw, w_len = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    if one_d:
        x, w = (n, cg * groups, w_len), (cg * groups, og, kw)
    else:
        kh, h = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        x, w = (n, cg * groups, h, w_len), (cg * groups, og, kh, kw)
    return (x, w, (og * groups,)) if bias else (x, w)


def conv_transpose_params(shapes: tuple) -> st.SearchStrategy:
    """stride, padding, output_padding (< stride or dilation), dilation, groups, with a
    positive output size."""
    x, w = shapes[0], shapes[1]
    # with a bias its length fixes groups; without, any divisor of the in channels works
    groups = [shapes[2][0] // w[1]] if len(shapes) > 2 else [
        g for g in (1, 2) if x[1] % g == 0]
    spatial = list(zip(x[2:], w[2:]))

    @st.composite
    def draw(draw_):
        stride = draw_(st.integers(1, 3))
        dilation = draw_(st.integers(1, 2))
        output_padding = draw_(st.integers(0, max(stride, dilation) - 1))
        fits = [p for p in range(3)
                if all((n - 1) * stride - 2 * p + dilation * (k - 1) + 1 + output_padding > 0
                       for n, k in spatial)]
        return {"stride": stride, "padding": draw_(st.sampled_from(fits)),
                "output_padding": output_padding, "dilation": dilation,
                "groups": draw_(st.sampled_from(groups))}

    return draw()


def _ct2(x, w, b=None, **params):
    return conv_transpose2d(x, w, b, **params)


def _ct1(x, w, b=None, **params):
    return conv_transpose1d(x, w, b, **params)


CASES = [
    OpCase("conv_transpose2d", _ct2, ref_conv_transpose2d, shapes=conv_transpose_shapes(),
           params=conv_transpose_params),
    OpCase("conv_transpose2d_nobias", _ct2, ref_conv_transpose2d,
           shapes=conv_transpose_shapes(bias=False), params=conv_transpose_params),
    OpCase("conv_transpose1d", _ct1, ref_conv_transpose1d,
           shapes=conv_transpose_shapes(one_d=True), params=conv_transpose_params),
]
