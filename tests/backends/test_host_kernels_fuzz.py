"""Fuzz: every function of the host kernels, with random arrays, shapes, dtypes, strides,
sizes and other objects, ends in a Python exception or in the reference's result.

Two entry points are fuzzed: the C functions of ``backends._host_kernels`` themselves (where
built; any Python code can call them), and the dispatchers of ``backends.kernels`` (which
pick the C loop or the NumPy body; with KEDJA_PURE_PYTHON=1 the NumPy body, whose window
views use ``as_strided`` and must be guarded too). Where a call returns, its outputs are
compared with the NumPy body (the C twins' reference) run on copies of the same inputs, or
with the update formula written out here (the optimizers, whose C arguments are the bodies'
derived scalars). Cases are drawn near the valid ones (consistent shapes) and then broken:
another dtype, layout or size, a huge or negative geometry number, an index out of range, a
junk object in place of an argument. The cases run in a child process (tests/fuzzing.py), so a
crash fails the test with the case that caused it.

The default run is bounded (about 2000 cases, seconds); ``-m slow`` runs 20 times more.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import fuzzing
from tests.fuzzing import WILD_INTS, WrongResult, array_specs, junk

FLOATS = st.sampled_from(["float32", "float64"] * 3 + ["float16", "int32"])
INDEX_DTYPES = st.sampled_from(["uint8", "int32"] * 3 + ["int64", "float32"])
SIDE = fuzzing.SIDES


# -- plausible arguments per kernel, then broken ---------------------------------------------
@st.composite
def _pool_args(draw, scatter: bool) -> list:
    n, oh, ow, c, kh, kw = (draw(SIDE) for _ in range(6))
    dtype = draw(FLOATS)
    per_block = [n, oh, ow, c]
    blocks = array_specs([n, oh, kh, ow, kw, c], dtype)
    index = draw(array_specs(per_block, draw(INDEX_DTYPES)))
    # offsets in the block, or from -2 to 11
    index["array"][3] = draw(st.sampled_from([f"below {max(kh * kw, 1)}", "index"]))
    index = st.just(index)
    if scatter:
        gate = draw(st.one_of(st.none(), array_specs(per_block, dtype)))
        return [draw(array_specs(per_block, dtype)), draw(index), gate, draw(blocks)]
    return [draw(blocks), draw(array_specs(per_block, dtype)),
            draw(st.one_of(st.none(), index)), draw(st.booleans())]


@st.composite
def _window_args(draw, gather: bool) -> list:
    n, h, w, c = draw(SIDE), draw(st.integers(0, 5)), draw(st.integers(0, 5)), draw(SIDE)
    h, w = h or draw(st.integers(0, 5)), w or draw(st.integers(0, 5))  # mostly not 0
    geo = [draw(st.integers(1, 3)) for _ in range(6)] + [draw(st.integers(0, 2)),
                                                           draw(st.integers(0, 2))]
    kh, kw, sh, sw, dh, dw, pt, pl = geo
    pb, pr = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    oh = max(0, (h + pt + pb - dh * (kh - 1) - 1) // sh + 1)
    ow = max(0, (w + pl + pr - dw * (kw - 1) - 1) // sw + 1)
    if draw(st.integers(0, 4)) == 0:  # a geometry number far off
        which = draw(st.integers(0, 9))
        value = draw(WILD_INTS)
        if which < 8:
            geo[which] = value
        elif which == 8:
            oh = value
        else:
            ow = value
    dtype = draw(FLOATS)
    rows, width = n * max(oh, 0) * max(ow, 0), kh * kw * c
    if draw(st.integers(0, 4)) == 0:
        rows, width = draw(st.integers(0, 6)), draw(st.integers(0, 6))
    rows, width = min(rows, 64), min(width, 64)  # a far-off geometry keeps small columns
    image = draw(array_specs([n, h, w, c], dtype))
    cols = draw(array_specs([rows, width], draw(st.sampled_from([dtype] * 4 + ["float64"]))))
    return [image, cols, *geo, oh, ow]


@st.composite
def _relu_args(draw, count: int = 3) -> list:
    shape = draw(fuzzing.shapes(draw(st.integers(0, 3))))
    dtype = draw(FLOATS)
    return [draw(array_specs(shape, st.sampled_from([dtype] * 5 + ["float64"])))
            for _ in range(count)]


@st.composite
def _xent_args(draw, grad: bool) -> list:
    n, c = draw(SIDE), draw(SIDE)
    dtype = draw(FLOATS)
    x = draw(array_specs([n, c], dtype))
    target = draw(array_specs([n], st.sampled_from(["int64"] * 4 + ["int32"])))
    target["array"][3] = f"below {c}" if draw(st.integers(0, 4)) else "index"  # or any
    stats = [draw(array_specs([n, 1], dtype)) for _ in range(2)]
    if not grad:
        return [x, target, *stats, draw(array_specs([n], dtype))]
    per_row = st.sampled_from([[n], [1], [], [n + 1]])
    return [x, target, *stats, draw(array_specs(draw(per_row), dtype)),
            draw(array_specs(draw(per_row), dtype)), draw(array_specs([n, c], dtype))]


SCALARS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3),
                    st.sampled_from([0.0, 1.0, -1.0, 0.9, 1e-8, 1e300]))


@st.composite
def _layer_norm_args(draw, grad: bool) -> list:
    rows, n = draw(SIDE), draw(SIDE)
    dtype = st.sampled_from(["float32"] * 6 + ["float64", "float16"])
    row = array_specs([rows, n], dtype)
    column = st.one_of(st.none(), array_specs(draw(st.sampled_from([[n], [n], [n + 1]])),
                                              dtype))
    stats = array_specs(draw(st.sampled_from([[rows, 1], [rows, 1], [rows + 1]])), dtype)
    if grad:
        return [draw(row), draw(row), draw(column), draw(stats), draw(st.one_of(st.none(), row)),
                draw(column), draw(column)]
    return [draw(row), draw(column), draw(column), draw(SCALARS), draw(row), draw(row),
            draw(stats)]


@st.composite
def _optimizer_args(draw, adam: bool) -> list:
    shape = draw(fuzzing.shapes(draw(st.integers(0, 2))))
    dtype = draw(FLOATS)
    array = array_specs(shape, st.sampled_from([dtype] * 8 + ["float64"]))
    if adam:
        arrays = [draw(array) for _ in range(4)] + [draw(st.one_of(st.none(), array))]
        return arrays + [draw(SCALARS) for _ in range(9)]
    arrays = [draw(array), draw(array), draw(st.one_of(st.none(), array))]
    return arrays + [draw(SCALARS) for _ in range(5)] + [draw(st.booleans()),
                                                         draw(st.booleans())]


@st.composite
def _scatter_args(draw) -> list:
    rows, width, n = draw(SIDE), draw(SIDE), draw(SIDE)
    dtype = draw(FLOATS)
    index = draw(array_specs([n], st.sampled_from(["int64"] * 4 + ["int32", "float32"])))
    index["array"][3] = draw(st.sampled_from([f"below {max(rows, 1)}", "index", "wild"]))
    return [draw(array_specs([rows, width], dtype)), index,
            draw(array_specs(draw(st.sampled_from([[n, width], [n, width], [n + 1, width]])),
                             st.sampled_from([dtype] * 4 + ["float64"])))]


@st.composite
def _panel_args(draw, pack: bool) -> list:
    m, k, n = draw(SIDE), draw(st.sampled_from([0, 1, 3, 17, 257, 300])), draw(SIDE)
    dtype = draw(st.sampled_from(["float32"] * 5 + ["float64", "int32"]))
    size = k * 24 * -(-n // 24) + draw(st.sampled_from([0, 0, 0, 1, -1]))
    packed = draw(array_specs([max(size, 0)], dtype))
    if pack:
        return [draw(array_specs([k, n], dtype)), packed]
    return [draw(array_specs([m, k], dtype)), packed, draw(array_specs([m, n], dtype))]


PLAUSIBLE = {
    "block_max": _pool_args(False), "block_scatter": _pool_args(True),
    "im2col": _window_args(True), "col2im_add": _window_args(False),
    "relu_grad": _relu_args(), "tanh_grad": _relu_args(), "softmax_xent": _xent_args(False),
    "softmax_xent_grad": _xent_args(True), "sgd": _optimizer_args(False),
    "adam": _optimizer_args(True),
    "gelu_tanh": _relu_args(), "gelu_tanh_grad": _relu_args(4),
    "layer_norm": _layer_norm_args(False), "layer_norm_grad": _layer_norm_args(True),
    "scatter_add_rows": _scatter_args(),
    "softmax_rows": st.integers(0, 4).flatmap(lambda ndim: st.tuples(
        array_specs(dtype=FLOATS, ndim=ndim), st.booleans()).map(list)),
    "pack_panels": _panel_args(True), "panel_matmul": _panel_args(False),
}
#: Kernels with no dispatcher of their own in this harness (StepGemm has its own tests,
#: tests/backends/test_panel_gemm.py).
C_ONLY = {"pack_panels", "panel_matmul"}


def _arrays(args: list) -> list:
    return [a["array"] for a in args if isinstance(a, dict) and "array" in a]


@st.composite
def cases(draw, via: str) -> dict:
    """One call: arguments near the valid ones, in C order (so that most calls run and their
    results are checked), or with one thing broken, or with every layout drawn."""
    name = draw(st.sampled_from(sorted(set(PLAUSIBLE) - (C_ONLY if via == "dispatch" else set()))))
    args = draw(PLAUSIBLE[name])
    how = draw(st.integers(0, 9))
    if how < 7:
        for spec in _arrays(args):
            spec[2] = "c"
    if how == 4 and _arrays(args):  # one array in another layout
        draw(st.sampled_from(_arrays(args)))[2] = draw(st.sampled_from(fuzzing.LAYOUTS))
    elif how == 5:  # one argument replaced by anything
        args[draw(st.integers(0, len(args) - 1))] = draw(junk())
    elif how == 6:  # one dropped or one too many
        args = args[:-1] if draw(st.booleans()) else args + [draw(junk())]
    return {"via": via, "kernel": name, "args": args}


# -- running one case (in the child) ---------------------------------------------------------
@contextlib.contextmanager
def _numpy_bodies():
    """The kernels' dispatchers with the C loops switched off: the reference bodies."""
    from backends.kernels import (
        activations,
        attention,
        indexing,
        normalization,
        optimizers,
        pooling,
        softmax,
        windows,
    )

    modules = (activations, attention, indexing, normalization, optimizers, pooling, softmax,
               windows)
    saved = [m.host_kernels for m in modules]
    for m in modules:
        m.host_kernels = None
    try:
        yield
    finally:
        for m, k in zip(modules, saved):
            m.host_kernels = k


def _copy(x):
    return x.copy() if isinstance(x, np.ndarray) else x


def _same(got, want, name: str, case: dict, tol: tuple | None = None) -> None:
    """`got` equals `want` (bit for bit, NaN equal to NaN; within `tol` = (rtol, atol) for
    the cross-entropy, whose C loop computes in double and the NumPy body in the dtype)."""
    got, want = np.asarray(got), np.asarray(want)
    try:
        if tol:
            np.testing.assert_allclose(got.astype(float), want.astype(float), rtol=tol[0],
                                       atol=tol[1], equal_nan=True)
        else:
            np.testing.assert_array_equal(got, want)
    except AssertionError as e:
        raise WrongResult(f"{case['kernel']}: {name} differs from the reference\n{e}") from None


def _tolerance(name: str, args: list) -> tuple | None:
    """The cross-entropy's tolerance: float32 (or float64) rounding of the largest term; GELU's
    forward: its stated bound (test_results_agree.py), its exp being fast_math.h's."""
    if name == "softmax_rows":  # the stated bound: (S + 4) eps p + 2 tiny
        cols = args[0].shape[-1] if getattr(args[0], "ndim", 0) else 1
        return (cols + 4) * float(np.finfo(np.float32).eps), 2 * float(np.finfo(np.float32).tiny)
    if name.startswith("layer_norm"):  # the float64 reference against the loops' float32
        big = max([1.0] + [float(np.abs(a[np.isfinite(a)]).max(initial=0)) ** 2
                           for a in args if isinstance(a, np.ndarray)])
        return 1e-5, 1e-5 * big * max(1, args[0].size)
    if name == "gelu_tanh" and isinstance(args[0], np.ndarray) and args[0].dtype.kind == "f":
        info = np.finfo(args[0].dtype)
        big = float(np.abs(args[0][np.isfinite(args[0])]).max(initial=0))
        return 4 * float(info.eps), 2 * float(info.tiny) * (1 + big)
    if name == "panel_matmul":  # the sum's rounding, by blocks of 256: K eps max |a| max |b|
        b = _unpacked(args)
        if b is None:
            return None
        depth = b.shape[0]
        scale = float(np.abs(args[0]).astype(np.float64).max(initial=0)) * float(
            np.abs(b).astype(np.float64).max(initial=0))
        return 0.0, (depth + 1) * float(np.finfo(np.float32).eps) * scale * max(depth, 1) + 1e-30
    if "xent" not in name:
        return None
    single = getattr(args[0], "dtype", None) != np.float64
    rtol = 1e-5 if single else 1e-9
    terms = [a for a in args[4:6] if isinstance(a, np.ndarray)] if name.endswith("grad") else []
    scale = max([1.0] + [float(np.abs(a[np.isfinite(a)]).max(initial=0)) for a in terms])
    return rtol, rtol * (1 + scale)


def _window(args: list) -> tuple:
    """The twin's Window for C-style window arguments: bottom/right padding enough to hold
    every window (the C loop needs none, its bounds checks stand for it)."""
    from backends.kernels import Window

    image, _, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow = args
    _, h, w, _ = image.shape
    pb = max(0, (oh - 1) * sh + (kh - 1) * dh + 1 - h - pt)
    pr = max(0, (ow - 1) * sw + (kw - 1) * dw + 1 - w - pl)
    return Window(kh, kw, sh, sw, dh, dw, pt, pb, pl, pr), oh, ow


def _reference(name: str, args: list) -> dict:
    """The reference outputs for the arguments of a C call that returned (`args` copies)."""
    import backends
    from backends import kernels

    host = backends.get("cpu")
    with _numpy_bodies(), np.errstate(all="ignore"):
        if name == "block_max":
            blocks, best, index, relu = args
            kernels.block_max(host, blocks, best, index, bool(relu))
            return {"best": best, "index": index}
        if name == "block_scatter":
            g, index, gate, out = args
            kernels.block_scatter(host, g, index, out, gate)
            return {"out": out}
        if name in ("im2col", "col2im_add") and args[1].size == 0:
            # No columns: nothing to gather or add (the NumPy bodies would still walk every
            # kernel offset in Python, ~2**32 of them for a far-off kw of 2**31)
            return {"cols": args[1]} if name == "im2col" else {"image": args[0]}
        if name == "im2col":
            w, oh, ow = _window(args)
            return {"cols": kernels.im2col(host, args[0], w, oh, ow)}
        if name == "col2im_add":
            w, oh, ow = _window(args)
            kernels.col2im_add(host, args[1], args[0], w, oh, ow)
            return {"image": args[0]}
        if name == "relu_grad":
            y, gy, _ = args
            return {"gx": np.multiply(gy.reshape(-1), y.reshape(-1) > 0)}
        if name == "tanh_grad":
            y, gy, gx = args
            if y.dtype != gy.dtype or y.shape != gy.shape:
                return {"gx": None}  # the loop refuses these (and returns False)
            ref = y.reshape(-1) * y.reshape(-1)
            np.subtract(1, ref, ref)
            ref *= gy.reshape(-1)
            return {"gx": ref}
        if name.startswith("layer_norm"):
            return _layer_norm_reference(name, args)
        if name == "softmax_rows":
            return {"p": _softmax_reference(*args)}
        if name == "scatter_add_rows":
            target, index, values = args
            np.add.at(target, index, values)
            return {"target": target}
        if name in ("pack_panels", "panel_matmul"):
            return _panel_reference(name, args)
        if name.startswith("gelu_tanh"):
            return _gelu_reference(host, name, args)
        if name in ("softmax_xent", "softmax_xent_grad"):
            return _xent_reference(name, args)
        return _optimizer_reference(name, args)


def _unpacked(args: list):
    """The (K, N) matrix the panels of panel_matmul's arguments hold, or None where the loop
    refuses them (other dtypes, dimensions or sizes)."""
    if not all(isinstance(x, np.ndarray) and x.dtype == np.float32 for x in args[:3]):
        return None
    a, packed, out = args[:3]
    if a.ndim != 2 or out.ndim != 2 or packed.ndim != 1 or out.shape[0] != a.shape[0]:
        return None
    depth, n = a.shape[1], out.shape[1]
    panels = -(-n // 24)
    if packed.size != depth * panels * 24:
        return None
    return packed.reshape(panels, depth, 24).transpose(1, 0, 2).reshape(depth, panels * 24)[
        :, :n]


def _panel_reference(name: str, args: list) -> dict:
    """pack_panels: b's columns in panels of 24 (K, 24) one after another, zero padded;
    panel_matmul: a @ b in float64 for the b the panels hold (None where a value is not
    finite: no bound holds there)."""
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    if len(arrays) != len(args) or any(a.dtype != np.float32 for a in arrays):
        return {"packed": None, "out": None}  # the loops refuse these
    if name == "pack_panels":
        b, _ = args
        depth, n = b.shape
        panels = -(-n // 24)
        padded = np.zeros((depth, panels * 24), np.float32)
        padded[:, :n] = b
        return {"packed": padded.reshape(depth, panels, 24).transpose(1, 0, 2).ravel()}
    a = args[0]
    b = _unpacked(args)
    if b is None:
        return {"out": None}
    depth = a.shape[1]
    big = float(np.abs(a).astype(np.float64).max(initial=0)) * float(
        np.abs(b).astype(np.float64).max(initial=0)) * max(depth, 1)
    if not (np.isfinite(a).all() and np.isfinite(b).all()) or big > 1e38:
        return {"out": None}  # a product or sum may overflow float32: no bound holds there
    return {"out": (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float32)}


def _gelu_reference(host, name: str, args: list) -> dict:
    """GELU's tanh form through the NumPy body, None where the loop declines (it returns False
    then: arrays of one float dtype and shape only)."""
    from backends.kernels import activations

    x = args[0]
    if any(a.dtype != x.dtype or a.shape != x.shape for a in args) or x.dtype.kind != "f" \
            or x.dtype.itemsize < 4:
        return {"y": None, "s": None, "gx": None}
    if name == "gelu_tanh":
        y, s = activations.gelu(host, x, "tanh", keep=True)
        return {"y": y, "s": s}
    return {"gx": activations.gelu_grad(host, x, args[2], "tanh", s=args[1])}


def _softmax_reference(s, causal):
    """The attention's NumPy body (autograd/ops/attention.py `_softmax`) on scores `s`."""
    from autograd.ops import attention

    if not isinstance(s, np.ndarray) or s.ndim < 2 or s.dtype != np.float32 or 0 in s.shape:
        return None
    bias = attention._causal_bias(backends_cpu(), np, s.shape[-2], s.shape[-1], s.dtype) \
        if causal else None
    return attention._softmax(np, s.copy(), bias, s.shape[-1])


def backends_cpu():
    import backends

    return backends.get("cpu")


def _layer_norm_reference(name: str, args: list) -> dict:
    """The layer norm written out in float64 (the loops' statistics are in double), rounded to
    float32 where the loops round."""
    f64 = np.float64
    if name == "layer_norm":
        x, w, b, eps = args[0].astype(f64), args[1], args[2], float(args[3])
        mean = x.mean(axis=1, keepdims=True)
        r = 1.0 / np.sqrt(((x - mean) ** 2).mean(axis=1, keepdims=True) + eps)
        xhat = ((x - mean) * r).astype(np.float32)
        y = xhat * w if w is not None else xhat
        y = y + b if b is not None else y
        return {"y": y, "xhat": xhat, "rstd": r.astype(np.float32)}
    gy, xhat, w, rstd, gx, gw, gb = args
    g = (gy * w if w is not None else gy).astype(f64)
    h = xhat.astype(f64)
    out = {}
    if gx is not None:
        out["gx"] = ((g - g.mean(axis=1, keepdims=True)) - h * (g * h).mean(
            axis=1, keepdims=True)) * rstd.reshape(-1, 1)
    if gw is not None:
        out["gw"] = (gy.astype(f64) * h).sum(axis=0)
    if gb is not None:
        out["gb"] = gy.astype(f64).sum(axis=0)
    return {k: v.astype(np.float32) for k, v in out.items()}


def _xent_reference(name: str, args: list) -> dict:
    """The cross-entropy's statistics (and gradient) in float64 rounded to the logits' dtype
    where softmax.c rounds; in_range False where a target is out of range."""
    dtype = args[0].dtype
    x, target = args[0].astype(np.float64), args[1].reshape(-1)
    n, c = x.shape
    if ((target < 0) | (target >= c)).any():
        return {"in_range": False}
    shift = x.max(axis=1, keepdims=True)  # NaN where a row holds one, as the C loop
    log_total = np.log(np.exp(x - shift).sum(axis=1, keepdims=True))
    if name == "softmax_xent":
        nll = (shift[:, 0] - x[np.arange(n), target]) + log_total[:, 0]
        return {"in_range": True, "shift": shift, "log_total": log_total.astype(dtype),
                "nll": nll.astype(dtype)}
    stats = [a.reshape(n, 1).astype(np.float64) for a in args[2:4]]  # what the caller passed
    scale, hot = (a.reshape(-1).astype(np.float64) for a in args[4:6])
    scale = np.broadcast_to(scale, (n,))[:, None]
    gx = (scale * np.exp((x - stats[0]) - stats[1])).astype(dtype).astype(np.float64)
    gx[np.arange(n), target] -= np.broadcast_to(hot, (n,))
    return {"in_range": True, "gx": gx.astype(dtype)}


def _optimizer_reference(name: str, args: list) -> dict:
    """The update, written out in the arrays' dtype, product by product in optimizers.c's
    order (which the NumPy bodies follow)."""
    if name == "sgd":
        p, g, buf, lr, sign, l2, momentum, damp_c, nesterov, first = args
        t = p.dtype.type
        lr, sign, l2, momentum, damp_c = (t(v) for v in (lr, sign, l2, momentum, damp_c))
        d = g * sign
        if args[5] != 0:
            d = d + p * l2
        if buf is None:
            return {"p": p - d * lr}
        b = d if first else buf * momentum + d * damp_c
        return {"p": p - ((b * momentum + d) * lr if nesterov else b * lr), "buf": b}
    p, g, m, v, vmax = args[:5]
    s = args[5:]
    t = p.dtype.type
    sign, l2, decay, beta1, c1, beta2, c2, step_size, eps_hat = (t(x) for x in s)
    pv = p * decay if float(s[2]) != 1.0 else p
    d = g * sign
    if float(s[1]) != 0:
        d = d + pv * l2
    mv = m * beta1 + d * c1
    vv = v * beta2 + (d * d) * c2
    out = {"m": mv, "v": vv}
    if vmax is not None:
        vv = np.where(np.isnan(vmax) | (vmax > vv), vmax, vv)
        out["vmax"] = vv
    out["p"] = pv - (mv / (np.sqrt(vv) + eps_hat)) * step_size
    return out


def _outputs(name: str, args: list, result) -> dict:
    """What a call that returned wrote (the arrays it updates in place) or returned."""
    if name == "block_max":
        return {"best": args[1], "index": args[2]}
    if name == "block_scatter":
        return {"out": args[3]}
    if name == "im2col":
        return {"cols": args[1]}
    if name == "col2im_add":
        return {"image": args[0]}
    if name == "relu_grad":
        return {"gx": args[2].reshape(-1)}
    if name == "tanh_grad":  # False: it wrote nothing (the case's copies check that)
        return {"gx": args[2].reshape(-1) if result else None}
    if name == "gelu_tanh":
        return {"y": args[1], "s": args[2]} if result else {"y": None, "s": None}
    if name == "layer_norm":
        return dict(zip(("y", "xhat", "rstd"), args[4:])) if result else {}
    if name == "scatter_add_rows":
        return {"target": args[0]} if result else {}
    if name == "softmax_rows":
        return {"p": args[0]} if result else {}
    if name == "pack_panels":
        return {"packed": args[1]}
    if name == "panel_matmul":
        return {"out": args[2]} if result else {}
    if name == "layer_norm_grad":
        return dict(zip(("gx", "gw", "gb"), args[4:])) if result else {}
    if name == "gelu_tanh_grad":
        return {"gx": args[3] if result else None}
    if name == "softmax_xent":
        return {"in_range": result, "shift": args[2], "log_total": args[3], "nll": args[4]}
    if name == "softmax_xent_grad":
        return {"in_range": True, "gx": args[6]}
    if name == "sgd":
        return {"p": args[0], "buf": args[2]}
    return {"p": args[0], "m": args[2], "v": args[3], "vmax": args[4]}


def _check(case: dict, args: list, copies: list, result) -> None:
    """The outputs of a C call that returned against the reference on `copies`."""
    name = case["kernel"]
    got = _outputs(name, args, result)
    want = _reference(name, copies)
    if want.pop("in_range", True) != got.pop("in_range", True):
        raise WrongResult(f"{name}: returned {result!r}, but the targets' range says otherwise")
    tol = _tolerance(name, copies)
    for key, value in want.items():
        if got.get(key) is None or value is None:
            continue
        _same(np.reshape(got[key], np.shape(value)), value, key, case, tol)


def _dispatch(name: str, args: list):
    """The same arguments through `backends.kernels` (C loop or NumPy body, as it picks)."""
    import backends
    from backends import kernels

    host = backends.get("cpu")
    if name == "block_max":
        return kernels.block_max(host, *args)
    if name == "block_scatter":
        g, index, gate, out = args
        return kernels.block_scatter(host, g, index, out, gate)
    if name in ("im2col", "col2im_add"):
        w, oh, ow = _window(args)
        if name == "im2col":
            return kernels.im2col(host, args[0], w, oh, ow)
        return kernels.col2im_add(host, args[1], args[0], w, oh, ow)
    if name == "relu_grad":
        return kernels.relu_grad(host, args[0], args[1])
    if name == "tanh_grad":
        return kernels.tanh_grad(host, args[0], args[1])
    if name == "gelu_tanh":
        return kernels.gelu(host, args[0], "tanh", keep=True)
    if name == "softmax_rows":
        from backends.kernels import attention

        s = args[0]
        if not attention.softmax_rows(host, s, args[1]):
            want = _softmax_reference(s, args[1])  # what the caller's NumPy body writes
            if want is not None and s.flags.writeable:
                s[...] = want
        return s
    if name == "scatter_add_rows":
        from backends.kernels import indexing

        if not indexing.scatter_add_rows(host, *args):
            np.add.at(*args)  # the caller's NumPy body (autograd's ScatterAdd)
        return args[0]
    if name == "layer_norm":
        from backends.kernels import normalization

        x, w, b, eps = args[:4]
        return normalization.layer_norm_rows(host, x, w, b, eps)
    if name == "layer_norm_grad":
        from backends.kernels import normalization

        gy, xhat, w, rstd, gx, gw, gb = args
        return normalization.layer_norm_rows_grad(host, gy, xhat, w, rstd, gx is not None,
                                                  gw is not None, gb is not None)
    if name == "gelu_tanh_grad":
        return kernels.gelu_grad(host, args[0], args[2], "tanh", s=args[1])
    if name == "softmax_xent":
        return kernels.softmax_xent_nll(host, args[0], args[1])
    if name == "softmax_xent_grad":
        x, target, shift, log_total, scale, hot, _ = args
        return kernels.softmax_xent_grad(host, x, shift, log_total, target[:, None], scale,
                                         hot)
    if name == "sgd":
        p, g, buf, lr, sign, l2, momentum, damp_c, nesterov, _ = args
        return kernels.sgd_step(host, p, g, buf, lr=lr, momentum=momentum,
                                dampening=1 - damp_c, weight_decay=l2, nesterov=nesterov,
                                maximize=sign < 0)
    p, g, m, v, vmax, *s = args
    return kernels.adam_step(host, p, g, m, v, vmax, step=max(1, int(abs(s[0]) % 5)), lr=s[1],
                             beta1=s[3], beta2=s[5], eps=s[8], weight_decay=s[2],
                             decoupled=s[0] > 0, amsgrad=vmax is not None, maximize=s[4] < 0)


def run_case(case: dict) -> None:
    name = case["kernel"]
    args = fuzzing.build(case["args"])
    if case["via"] == "dispatch":
        # Whatever the dispatcher picks must not crash, and must agree with the NumPy body,
        # in what it returns and what it writes.
        copies = [_copy(a) for a in args]
        with np.errstate(all="ignore"):
            got = _dispatch(name, args)
        with _numpy_bodies(), np.errstate(all="ignore"):
            want = _dispatch(name, copies)
        tol = _tolerance(name, copies)
        pairs = list(zip(args, copies)) + list(zip(
            got if isinstance(got, tuple) else [got], want if isinstance(want, tuple) else [want]))
        for i, (a, b) in enumerate(pairs):
            if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
                _same(a, b, f"array {i}", case, tol)
        return
    from backends import native

    kernel = getattr(native.host_kernels, name)
    copies = [_copy(a) for a in args]
    result = kernel(*args)
    if len(args) == len(case["args"]) and not any(
            isinstance(s, dict) and "special" in s for s in case["args"]):
        _check(case, args, copies, result)


# -- the tests ---------------------------------------------------------------------------------
_C_BUILT = pytest.mark.skipif(
    __import__("backends.native", fromlist=["host_kernels"]).host_kernels is None,
    reason="the host kernels were not built (or KEDJA_PURE_PYTHON)")


def _fuzz(via: str, examples: int) -> None:
    """Runs `examples` cases through `via` in a child interpreter."""
    with fuzzing.child(__name__) as runner:
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
        @given(cases(via))
        def run(case) -> None:
            runner.run(case)

        run()


@_C_BUILT
def test_the_c_kernels_never_crash() -> None:
    _fuzz("c", 1500)


def test_the_kernel_dispatchers_never_crash() -> None:
    _fuzz("dispatch", 400)


@pytest.mark.slow
@_C_BUILT
def test_the_c_kernels_never_crash_long() -> None:
    _fuzz("c", 30000)


@pytest.mark.slow
def test_the_kernel_dispatchers_never_crash_long() -> None:
    _fuzz("dispatch", 8000)
