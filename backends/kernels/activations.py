"""Fused activation kernels: relu, leaky_relu, sigmoid, tanh and gelu forwards and grads."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..host_threads import SPLIT_BYTES, big_halves
from ..native import host_kernels
from .common import (
    C_FLOATS,
    CudaSpec,
    _axis_order,
    _compute,
    _kernel,
    _launch,
    _new,
    _on_cupy,
    match_layout,
)

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715

# Backward kernels take the saved forward value (x or y) and the upstream gradient gy and write
# gx in their promoted dtype (`O`), so `gx = gy * f'(.)` is one pass instead of two to ten.


def _elementwise(backend: Any, spec: CudaSpec, *args: Any) -> Any:
    """Launches `spec` on CuPy arrays; the last argument is the preallocated output."""
    dtypes = [a.dtype for a in args if hasattr(a, "dtype")]
    _launch(backend, _kernel(spec, _compute(*dtypes)), *args)
    return args[-1]


_RELU_GRAD = CudaSpec("relu_grad", "T y, G gy", "O gx",
                      "gx = O((acc_t)y > 0 ? (acc_t)gy : acc_t(0));")


def _split(backend: Any, *arrays: Any) -> bool:
    """Whether a host op over `arrays` (one shape, float) is big enough to run in two halves
    of axis 0 on two threads (`host_threads.big_halves`)."""
    a = arrays[0]
    return (not backend.is_device and a.ndim > 0 and a.shape[0] > 1 and a.nbytes >= SPLIT_BYTES
            and all(b.shape == a.shape and b.dtype.kind == "f" for b in arrays))


def relu(backend: Any, x: Any) -> Any:
    """``max(x, 0)``; a big host array as two halves on two threads."""
    xp = backend.xp
    if not _split(backend, x):
        return xp.maximum(x, 0)
    y = _new(xp, x)  # x's memory order: an NCHW view of NHWC memory stays one
    big_halves(backend, lambda a, b: xp.maximum(x[a:b], 0, out=y[a:b]), x.shape[0], x.nbytes)
    return y


def _dense_views(backend: Any, *arrays: Any) -> list | None:
    """Host arrays of one shape and float dtype, aligned and all dense in one axis order, as
    C-contiguous views in that order (what the C loop takes: elementwise ops only need the
    memory to line up); None otherwise, or where the C loops are not built."""
    a = arrays[0]
    if (host_kernels is None or backend.name != "numpy" or a.dtype not in C_FLOATS
            or any(b.shape != a.shape or b.dtype != a.dtype or not b.flags.aligned
                   for b in arrays)):
        return None
    if all(b.flags.c_contiguous for b in arrays):  # the common case, without sorting axes
        return list(arrays)
    order = _axis_order(a)
    if order and order[0] != 0:  # the batch axis first, so that halves of axis 0 stay halves
        return None
    views = [b.transpose(order) for b in arrays]
    return views if all(v.flags.c_contiguous for v in views) else None


def relu_grad(backend: Any, y: Any, gy: Any) -> Any:
    """``gy`` where ``y > 0``, else 0 (y = relu(x); relu'(0) = 0)."""
    xp = backend.xp
    if _on_cupy(backend):
        return _elementwise(backend, _RELU_GRAD, y, gy, _new(xp, y, gy))
    # A multiply by the boolean mask: about 3x faster in NumPy than where(mask, gy, 0). The one
    # difference: a NaN/inf upstream gradient at an inactive unit stays NaN here (0 on CuPy).
    matched = match_layout(backend, gy, y)
    # A copy made to match y's layout is ours to overwrite.
    gx = matched if matched is not gy and y.dtype == gy.dtype else _new(xp, y, matched)
    gy = matched
    dense = _dense_views(backend, y, gy, gx)  # the C loop's operands, or None
    if not _split(backend, y, gy):
        if dense is not None:
            host_kernels.relu_grad(*dense)
            return gx
        return xp.multiply(gy, xp.greater(y, 0), out=gx)

    def part(a: int, b: int) -> None:
        if dense is not None:  # the split axis 0 is the views' first axis too (NCHW or NHWC)
            host_kernels.relu_grad(dense[0][a:b], dense[1][a:b], dense[2][a:b])
        else:
            xp.multiply(gy[a:b], xp.greater(y[a:b], 0), out=gx[a:b])

    big_halves(backend, part, y.shape[0], y.nbytes)
    return gx


_LEAKY_RELU = CudaSpec("leaky_relu", "T x, A slope", "T y",
                       "acc_t v = (acc_t)x; y = T(v > 0 ? v : v * slope);")
_LEAKY_RELU_GRAD = CudaSpec("leaky_relu_grad", "T x, G gy, A slope", "O gx",
                            "acc_t v = (acc_t)gy; gx = O((acc_t)x > 0 ? v : v * slope);")


def leaky_relu(backend: Any, x: Any, negative_slope: float) -> Any:
    """``x`` where ``x > 0``, else ``negative_slope * x``."""
    xp = backend.xp
    if _on_cupy(backend):
        return _elementwise(backend, _LEAKY_RELU, x, negative_slope, _new(xp, x))
    scaled = xp.multiply(x, negative_slope, out=_new(xp, x))
    return xp.where(xp.greater(x, 0), x, scaled)


def leaky_relu_grad(backend: Any, x: Any, gy: Any, negative_slope: float) -> Any:
    """``gy`` where ``x > 0``, else ``negative_slope * gy`` (the slope at 0)."""
    xp = backend.xp
    if _on_cupy(backend):
        return _elementwise(backend, _LEAKY_RELU_GRAD, x, gy, negative_slope, _new(xp, x, gy))
    scaled = xp.multiply(gy, negative_slope, out=_new(xp, x, gy))
    return xp.where(xp.greater(x, 0), gy, scaled)


_SIGMOID = CudaSpec("sigmoid", "T x", "T y", """
    acc_t v = (acc_t)x;
    acc_t e = exp(-fabs(v));
    y = T((v >= 0 ? acc_t(1) : e) / (1 + e));
    """)
_SIGMOID_GRAD = CudaSpec("sigmoid_grad", "T y, G gy", "O gx",
                         "acc_t s = (acc_t)y; gx = O((acc_t)gy * (s * (1 - s)));")
_TANH_GRAD = CudaSpec("tanh_grad", "T y, G gy", "O gx",
                      "acc_t t = (acc_t)y; gx = O((acc_t)gy * (1 - t * t));")


def sigmoid(backend: Any, x: Any) -> Any:
    """``1 / (1 + exp(-x))`` as ``(1 or e) / (1 + e)`` with ``e = exp(-|x|)``: never overflows."""
    xp = backend.xp
    if _on_cupy(backend):
        return _elementwise(backend, _SIGMOID, x, _new(xp, x))
    e = xp.abs(x, out=_new(xp, x))
    xp.negative(e, out=e)
    xp.exp(e, out=e)
    den = xp.add(e, 1, out=_new(xp, x))
    num = xp.where(xp.greater_equal(x, 0), xp.ones_like(e), e)
    return xp.divide(num, den, out=num)


def sigmoid_grad(backend: Any, y: Any, gy: Any) -> Any:
    """``gy * y * (1 - y)`` for ``y = sigmoid(x)``."""
    xp = backend.xp
    if _on_cupy(backend):
        return _elementwise(backend, _SIGMOID_GRAD, y, gy, _new(xp, y, gy))
    gx = xp.subtract(1, y, out=_new(xp, y, gy))
    xp.multiply(gx, y, out=gx)
    return xp.multiply(gx, gy, out=gx)


def tanh_grad(backend: Any, y: Any, gy: Any) -> Any:
    """``gy * (1 - y * y)`` for ``y = tanh(x)``."""
    xp = backend.xp
    if host_kernels is not None and backend.name == "numpy":
        # One C pass, the same bits as the three NumPy passes below (three ufunc calls cost
        # ~10,000 instructions on a small array, a deep chain's common case). The loop checks
        # the operands itself (one shape and float dtype, C-contiguous, aligned) and returns
        # False where they do not suit it: the checks cost less in C than in Python here.
        gx = xp.empty_like(y)
        if host_kernels.tanh_grad(y, gy, gx):
            return gx
    elif _on_cupy(backend):
        return _elementwise(backend, _TANH_GRAD, y, gy, _new(xp, y, gy))
    if y.ndim and y.dtype == gy.dtype and y.shape == gy.shape:
        # Positional and in-place forms: NumPy parses no keywords (a third of the cost on
        # small arrays, where this runs once per tanh of a recurrent or deep chain).
        gx = y * y
        xp.subtract(1, gx, gx)
        gx *= gy
        return gx
    gx = xp.multiply(y, y, out=_new(xp, y, gy))
    xp.subtract(1, gx, out=gx)
    return xp.multiply(gx, gy, out=gx)


# gelu: Phi(x) = (1 + erf(x / sqrt 2)) / 2, phi(x) = exp(-x^2 / 2) / sqrt(2 pi); the tanh form
# uses u = sqrt(2/pi) (x + 0.044715 x^3), t = tanh(u). Constants are cast to acc_t so float32
# kernels stay in float32.
_GELU_CONSTANTS = (
    f"const acc_t k_sqrt_half = acc_t({_SQRT_HALF!r}); "
    f"const acc_t k_inv_sqrt_2pi = acc_t({_INV_SQRT_2PI!r}); "
    f"const acc_t k_sqrt_2_over_pi = acc_t({_SQRT_2_OVER_PI!r}); "
    f"const acc_t k_cubic = acc_t({_GELU_CUBIC!r}); "
    "const acc_t half = acc_t(0.5);"
)
_GELU = {
    "none": CudaSpec("gelu", "T x", "T y", _GELU_CONSTANTS + """
    acc_t v = (acc_t)x;
    y = T(half * v * (1 + erf(v * k_sqrt_half)));
    """),
    "tanh": CudaSpec("gelu_tanh", "T x", "T y", _GELU_CONSTANTS + """
    acc_t v = (acc_t)x;
    acc_t u = k_sqrt_2_over_pi * (v + k_cubic * (v * v * v));
    y = T(half * v * (1 + tanh(u)));
    """),
}
_GELU_GRAD = {
    "none": CudaSpec("gelu_grad", "T x, G gy", "O gx", _GELU_CONSTANTS + """
    acc_t v = (acc_t)x;
    acc_t cdf = half * (1 + erf(v * k_sqrt_half));
    acc_t pdf = exp(-half * (v * v)) * k_inv_sqrt_2pi;
    gx = O((acc_t)gy * (cdf + v * pdf));
    """),
    "tanh": CudaSpec("gelu_tanh_grad", "T x, G gy", "O gx", _GELU_CONSTANTS + """
    acc_t v = (acc_t)x;
    acc_t x2 = v * v;
    acc_t t = tanh(k_sqrt_2_over_pi * (v + k_cubic * (x2 * v)));
    acc_t du = k_sqrt_2_over_pi * (1 + (3 * k_cubic) * x2);
    gx = O((acc_t)gy * (half * (1 + t) + half * v * (1 - t * t) * du));
    """),
}


def _gelu_sigmoid(xp: Any, x: Any, out: Any) -> Any:
    """Writes ``s = (1 + tanh(u)) / 2 = 1 / (1 + exp(-2u))`` into `out` (the tanh form's
    u = sqrt(2/pi) (x + 0.044715 x^3)): six NumPy passes, one of them an exp, where tanh
    itself costs about twice an exp in NumPy. Far negative x overflows exp to inf: s = 0."""
    xp.multiply(x, x, out=out)
    xp.multiply(out, -2 * _SQRT_2_OVER_PI * _GELU_CUBIC, out=out)
    xp.subtract(out, 2 * _SQRT_2_OVER_PI, out=out)
    xp.multiply(out, x, out=out)  # -2u
    with np.errstate(over="ignore"):
        xp.exp(out, out=out)
    xp.add(out, 1, out=out)
    return xp.reciprocal(out, out=out)


def gelu(backend: Any, x: Any, approximate: str = "none", keep: bool = False) -> Any:
    """``x * Phi(x)`` (exact, with erf) or its tanh approximation.

    With `keep` it returns ``(y, s)``: for the tanh form on the host, also
    ``s = (1 + tanh(u)) / 2``, which `gelu_grad` takes to skip recomputing it; else s is None.
    """
    xp = backend.xp
    if _on_cupy(backend):
        y = _elementwise(backend, _GELU[approximate], x, _new(xp, x))
        return (y, None) if keep else y
    if approximate == "tanh":
        # y = x s, each half of a big array on its own thread (NumPy and the C loop release
        # the GIL). The C loop (where built) declines, returning False, unless x, y and s are
        # C-contiguous, aligned and of one float dtype: then NumPy's passes run.
        s, y = _new(xp, x), _new(xp, x)
        loop = host_kernels.gelu_tanh if host_kernels is not None and backend.name == "numpy" \
            else None

        def part(a: int, b: int) -> None:
            if loop is None or not loop(x[a:b], y[a:b], s[a:b]):
                xp.multiply(x[a:b], _gelu_sigmoid(xp, x[a:b], s[a:b]), out=y[a:b])

        if x.ndim and _split(backend, x):
            big_halves(backend, part, x.shape[0], x.nbytes)
        elif loop is None or not loop(x, y, s):
            xp.multiply(x, _gelu_sigmoid(xp, x, s), out=y)
        return (y, s) if keep else y
    y = backend.erf(xp.multiply(x, _SQRT_HALF, out=_new(xp, x)))
    xp.add(y, 1, out=y)
    xp.multiply(y, x, out=y)
    y = xp.multiply(y, 0.5, out=y)
    return (y, None) if keep else y


def gelu_grad(backend: Any, x: Any, gy: Any, approximate: str = "none", s: Any = None) -> Any:
    """``gy * gelu'(x)``: ``Phi(x) + x phi(x)`` exact; for the tanh form, with
    ``s = (1 + tanh(u)) / 2`` (given, from ``gelu(..., keep=True)``, or recomputed),
    ``s (1 + x (1 - s) 2 u'(x))``, ``2 u' = 2 sqrt(2/pi) (1 + 3 * 0.044715 x^2)``."""
    xp = backend.xp
    if _on_cupy(backend):
        return _elementwise(backend, _GELU_GRAD[approximate], x, gy, _new(xp, x, gy))
    if approximate == "tanh":
        if s is None:
            s = gelu(backend, x, "tanh", keep=True)[1]
        gx = _new(xp, x, gy)
        loop = host_kernels.gelu_tanh_grad \
            if host_kernels is not None and backend.name == "numpy" else None

        def part(a: int, b: int) -> None:
            xa, sa, out = x[a:b], s[a:b], gx[a:b]
            if loop is not None and loop(xa, sa, gy[a:b], out):
                return  # one C pass, NumPy's bits (given s); else declined, NumPy's passes:
            xp.multiply(xa, xa, out=out)
            xp.multiply(out, 6 * _SQRT_2_OVER_PI * _GELU_CUBIC, out=out)
            xp.add(out, 2 * _SQRT_2_OVER_PI, out=out)
            xp.multiply(out, xa, out=out)  # 2 x u'
            xp.multiply(out, xp.subtract(1, sa), out=out)
            xp.add(out, 1, out=out)
            xp.multiply(out, sa, out=out)
            xp.multiply(out, gy[a:b], out=out)

        if x.ndim and _split(backend, x, s, gy):
            big_halves(backend, part, x.shape[0], x.nbytes)
        elif x.ndim and gy.shape == x.shape:
            part(0, x.shape[0])
        else:  # broadcast or 0-d: whole arrays
            xp.multiply(x, x, out=gx)
            xp.multiply(gx, 6 * _SQRT_2_OVER_PI * _GELU_CUBIC, out=gx)
            xp.add(gx, 2 * _SQRT_2_OVER_PI, out=gx)
            xp.multiply(gx, x, out=gx)
            xp.multiply(gx, xp.subtract(1, s), out=gx)
            xp.add(gx, 1, out=gx)
            xp.multiply(gx, s, out=gx)
            xp.multiply(gx, gy, out=gx)
        return gx
    gx = backend.erf(xp.multiply(x, _SQRT_HALF, out=_new(xp, x)))
    xp.add(gx, 1, out=gx)
    xp.multiply(gx, 0.5, out=gx)
    pdf = xp.multiply(x, x, out=_new(xp, x))
    xp.multiply(pdf, -0.5, out=pdf)
    xp.exp(pdf, out=pdf)
    xp.multiply(pdf, _INV_SQRT_2PI, out=pdf)
    xp.multiply(pdf, x, out=pdf)
    xp.add(gx, pdf, out=gx)
    if gx.dtype != np.result_type(x.dtype, gy.dtype):
        return xp.multiply(gx, gy, out=_new(xp, x, gy))
    return xp.multiply(gx, gy, out=gx)

