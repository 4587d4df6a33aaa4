"""Fused recurrent cells: the pointwise part of one LSTM, GRU or Elman-RNN time step and its
gradient, one kernel each (gates, nonlinearities and state update in one launch on CuPy).

The matrix products around a step (``h @ W_hh.T``, the hoisted input projection, the weight
gradients) are GEMMs the caller runs; a kernel takes the gate pre-activations of both and
does everything elementwise. Layouts follow PyTorch's gate order: LSTM ``(n, 4H)`` as
``i, f, g, o``; GRU ``(n, 3H)`` as ``r, z, n``. What a step keeps for its gradient:

- LSTM: ``gates`` (n, 4H), the activated ``i, f, g, o``, and ``tc`` (n, H) = ``tanh(c')``;
- GRU: ``acts`` (n, 4H), the activated ``r, z, n`` and ``W_hn h + b_hn`` (r scales it);
- RNN: nothing beyond ``h'`` itself (tanh' = 1 - h'^2, relu' = h' > 0).

The gates go through one ``exp``: ``sigmoid(x) = 1 / (1 + exp(-x))`` and, for the LSTM's g,
``tanh(x) = 2 sigmoid(2x) - 1``, with the exponent capped at 80 so it never overflows (the
gate is then exp(-80) ~ 2e-35 instead of smaller; tanh's absolute error stays within an
epsilon of 1). One whole-array exp over the four LSTM gate blocks (a scale of -1 or -2 per
block) costs half of NumPy's float32 tanh on this kind of machine. The NumPy bodies are the
host and fake-device path and the reference of the CUDA bodies: the same arithmetic in the
same order, whole-array calls written in place into the caller's arrays (contiguous blocks:
NumPy's SIMD loops skip strided views).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..native import host_kernels
from .common import CudaSpec, _compute, _kernel, _launch, _on_cupy

#: The largest exponent a gate's exp sees (exp(80) ~ 5.5e34 is finite in float32).
EXP_CAP = 80.0

# The index space of every kernel is the (n, H) state; raw arrays hold the gate blocks, each
# `hidden` wide, at row * width + block * hidden + j.
_INDEX = """
    const ptrdiff_t row = i / hidden;
    const ptrdiff_t j = i - row * hidden;
    const acc_t one = acc_t(1), cap = acc_t(80);
"""
# sigmoid(v) with the cap, as the NumPy bodies compute it: 1 / (1 + exp(min(-v, 80)))
_SIGMOID = "(one / (one + exp(min(-({v}), cap))))"


def _sigmoid(v: str) -> str:
    return _SIGMOID.format(v=v)


def _tanh2(v: str) -> str:
    """tanh(v) as 2 sigmoid(2 v) - 1, with the cap (the LSTM's g gate)."""
    return f"(acc_t(2) * (one / (one + exp(min(acc_t(-2) * ({v}), cap)))) - one)"


def _contiguous(backend: Any, *arrays: Any) -> tuple:
    """The arrays a kernel indexes by hand (``raw``), C-contiguous (copies only if not)."""
    return tuple(backend.xp.ascontiguousarray(a) for a in arrays)


def _sum(names: list[str], index: str = "") -> str:
    return " + ".join(f"(acc_t){n}{index}" for n in names)


# -- LSTM ----------------------------------------------------------------------------------------
_LSTM = CudaSpec(
    "lstm_cell", "raw T xg, raw T hg, T c_in, int64 hidden",
    "T c_out, T h_out, T tc, raw T gates",
    _INDEX + f"""
    const ptrdiff_t g = row * 4 * hidden + j;
    const acc_t gi = {_sigmoid("(acc_t)xg[g] + (acc_t)hg[g]")};
    const acc_t gf = {_sigmoid("(acc_t)xg[g + hidden] + (acc_t)hg[g + hidden]")};
    const acc_t gg = {_tanh2("(acc_t)xg[g + 2 * hidden] + (acc_t)hg[g + 2 * hidden]")};
    const acc_t go = {_sigmoid("(acc_t)xg[g + 3 * hidden] + (acc_t)hg[g + 3 * hidden]")};
    const acc_t c = gf * (acc_t)c_in + gi * gg;
    const acc_t t = tanh(c);
    gates[g] = T(gi);
    gates[g + hidden] = T(gf);
    gates[g + 2 * hidden] = T(gg);
    gates[g + 3 * hidden] = T(go);
    c_out = T(c);
    tc = T(t);
    h_out = T(go * t);
    """,
)


def _lstm_grad_spec(inputs: int) -> CudaSpec:
    names = ["gh"] + [f"gh{k}" for k in range(1, inputs)]
    return CudaSpec(
        f"lstm_cell_grad{inputs}",
        ", ".join(f"T {n}" for n in names)
        + ", T gc_in, raw T gates, T tc, T c_in, int64 hidden",
        "T gc_out, raw T grads",
        _INDEX + f"""
    const acc_t dh = {_sum(names)};
    const ptrdiff_t g = row * 4 * hidden + j;
    const acc_t gi = (acc_t)gates[g], gf = (acc_t)gates[g + hidden];
    const acc_t gg = (acc_t)gates[g + 2 * hidden], go = (acc_t)gates[g + 3 * hidden];
    const acc_t t = (acc_t)tc;
    const acc_t dc = dh * go * (one - t * t) + (acc_t)gc_in;
    grads[g] = T(dc * gg * ((one - gi) * gi));
    grads[g + hidden] = T(dc * (acc_t)c_in * ((one - gf) * gf));
    grads[g + 2 * hidden] = T(dc * gi * (one - gg * gg));
    grads[g + 3 * hidden] = T(dh * t * ((one - go) * go));
    gc_out = T(dc * gf);
    """,
    )


_LSTM_GRAD = {k: _lstm_grad_spec(k) for k in (1, 2)}


@functools.lru_cache(maxsize=64)
def _lstm_scales(backend: Any, dtype: str, hidden: int) -> Any:
    """The exponent scale of the four gate blocks (4H,): -1 for i, f, o (sigmoid), -2 for g
    (tanh as 2 sigmoid(2x) - 1); built once per backend, dtype and size."""
    scale = np.full((4, hidden), -1.0, dtype=dtype)
    scale[2] = -2.0
    return backend.asarray(scale.reshape(-1))


def _sigmoid_in_place(xp: Any, a: Any, scale: Any) -> None:
    """a = 1 / (1 + exp(min(a * scale, 80))): sigmoid(-scale * a), in place."""
    xp.multiply(a, scale, out=a)
    xp.minimum(a, EXP_CAP, out=a)
    xp.exp(a, out=a)
    xp.add(a, 1, out=a)
    xp.reciprocal(a, out=a)


def lstm_cell(backend: Any, xg: Any, hg: Any, c_in: Any, c_out: Any, h_out: Any,
              gates: Any, tc: Any) -> None:
    """One LSTM step after its GEMMs, in place::

        i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of (xg + hg)   (gate blocks of (n, 4H))
        c_out = f * c_in + i * g;   h_out = o * tanh(c_out)

    `gates` (n, 4H, contiguous) receives ``i, f, g, o`` and `tc` (n, H) ``tanh(c_out)``.
    `c_out` may be `c_in` itself.
    """
    hidden = c_in.shape[-1]
    if _on_cupy(backend):
        xg, hg = _contiguous(backend, xg, hg)
        _launch(backend, _kernel(_LSTM, _compute(xg.dtype)), xg, hg, c_in, hidden, c_out, h_out,
                tc, gates)
        return
    if (host_kernels is not None and backend.name == "numpy"
            and host_kernels.lstm_cell(xg, hg, c_in, c_out, h_out, gates, tc)):
        return  # one C pass (backends/csrc/recurrent.c); False: not contiguous, NumPy below
    xp = backend.xp
    xp.add(xg, hg, out=gates)
    _sigmoid_in_place(xp, gates, _lstm_scales(backend, np.dtype(gates.dtype).str, hidden))
    i, f, g, o = (gates[:, k * hidden:(k + 1) * hidden] for k in range(4))
    xp.multiply(g, 2, out=g)
    xp.subtract(g, 1, out=g)
    ig = xp.multiply(i, g, out=tc)  # tc is free until tanh(c) goes there
    xp.multiply(f, c_in, out=c_out)
    xp.add(c_out, ig, out=c_out)
    xp.tanh(c_out, out=tc)
    xp.multiply(o, tc, out=h_out)


def lstm_cell_grad(backend: Any, gh: Any, gh_more: Any, gc_in: Any, gc_out: Any, gates: Any,
                   tc: Any, c_in: Any, grads: Any) -> None:
    """The gradient of `lstm_cell`, in place: with ``dh = gh (+ gh_more)`` (the output's and
    the next step's gradients) and the saved `gates` and `tc`,

        dc = dh * o * (1 - tc^2) + gc_in;   gc_out = dc * f
        grads = (dc * g * i (1 - i), dc * c_in * f (1 - f), dc * i * (1 - g^2),
                 dh * tc * o (1 - o))    (the pre-activations' gradients, (n, 4H))

    `gc_out` may be `gc_in`; `gh_more` may be None.
    """
    hidden = c_in.shape[-1]
    if _on_cupy(backend):
        extra = () if gh_more is None else (gh_more,)
        spec = _LSTM_GRAD[1 + len(extra)]
        _launch(backend, _kernel(spec, _compute(gates.dtype)), gh, *extra, gc_in, gates, tc,
                c_in, hidden, gc_out, grads)
        return
    if (host_kernels is not None and backend.name == "numpy"
            and host_kernels.lstm_cell_grad(gh, gh_more, gc_in, gc_out, gates, tc, c_in, grads)):
        return  # one C pass, the same bits as the NumPy body below
    xp = backend.xp
    i, f, g, o = (gates[:, k * hidden:(k + 1) * hidden] for k in range(4))
    gi, gf, gg, go = (grads[:, k * hidden:(k + 1) * hidden] for k in range(4))
    dh = gh if gh_more is None else xp.add(gh, gh_more)
    dc = xp.multiply(dh, o)
    tmp = xp.multiply(tc, tc)
    xp.subtract(1, tmp, out=tmp)
    xp.multiply(dc, tmp, out=dc)
    xp.add(dc, gc_in, out=dc)
    xp.multiply(dc, g, out=gi)
    xp.multiply(dc, c_in, out=gf)
    xp.multiply(dc, i, out=gg)
    xp.multiply(dh, tc, out=go)
    xp.multiply(dc, f, out=gc_out)
    # The activations' derivatives, all four blocks at once: s (1 - s), then 1 - g^2 for g.
    slope = xp.subtract(1, gates)
    xp.multiply(slope, gates, out=slope)
    g_slope = slope[:, 2 * hidden:3 * hidden]
    xp.multiply(g, g, out=g_slope)
    xp.subtract(1, g_slope, out=g_slope)
    xp.multiply(grads, slope, out=grads)


# -- GRU -----------------------------------------------------------------------------------------
def _gru_spec(bias: bool) -> CudaSpec:
    hn = "(acc_t)hg[g + 2 * hidden]" + (" + (acc_t)b_hh[2 * hidden + j]" if bias else "")
    r_pre = "(acc_t)xg[g] + (acc_t)hg[g]" + (" + (acc_t)b_hh[j]" if bias else "")
    z_pre = ("(acc_t)xg[g + hidden] + (acc_t)hg[g + hidden]"
             + (" + (acc_t)b_hh[hidden + j]" if bias else ""))
    return CudaSpec(
        "gru_cell_bias" if bias else "gru_cell",
        "raw T xg, raw T hg, " + ("raw T b_hh, " if bias else "") + "T h_in, int64 hidden",
        "T h_out, raw T acts",
        _INDEX + f"""
    const ptrdiff_t g = row * 3 * hidden + j;
    const acc_t r = {_sigmoid(r_pre)};
    const acc_t z = {_sigmoid(z_pre)};
    const acc_t hn = {hn};
    const acc_t n = tanh(r * hn + (acc_t)xg[g + 2 * hidden]);
    const acc_t h = (acc_t)h_in;
    const ptrdiff_t a = row * 4 * hidden + j;
    acts[a] = T(r);
    acts[a + hidden] = T(z);
    acts[a + 2 * hidden] = T(n);
    acts[a + 3 * hidden] = T(hn);
    h_out = T((h - n) * z + n);
    """,
    )


_GRU = {bias: _gru_spec(bias) for bias in (False, True)}


def _gru_grad_spec(inputs: int) -> CudaSpec:
    names = ["gh"] + [f"gh{k}" for k in range(1, inputs)]
    return CudaSpec(
        f"gru_cell_grad{inputs}",
        ", ".join(f"T {n}" for n in names) + ", raw T acts, T h_in, int64 hidden",
        "T g_hin, raw T gx, raw T ghh",
        _INDEX + f"""
    const acc_t dh = {_sum(names)};
    const ptrdiff_t a = row * 4 * hidden + j;
    const acc_t r = (acc_t)acts[a], z = (acc_t)acts[a + hidden];
    const acc_t n = (acc_t)acts[a + 2 * hidden], hn = (acc_t)acts[a + 3 * hidden];
    const acc_t dn = dh * (one - z) * (one - n * n);
    const acc_t dr = dn * hn * ((one - r) * r);
    const acc_t dz = dh * ((acc_t)h_in - n) * ((one - z) * z);
    const ptrdiff_t g = row * 3 * hidden + j;
    gx[g] = T(dr);
    gx[g + hidden] = T(dz);
    gx[g + 2 * hidden] = T(dn);
    ghh[g] = T(dr);
    ghh[g + hidden] = T(dz);
    ghh[g + 2 * hidden] = T(dn * r);
    g_hin = T(dh * z);
    """,
    )


_GRU_GRAD = {k: _gru_grad_spec(k) for k in (1, 2, 3)}


def gru_cell(backend: Any, xg: Any, hg: Any, b_hh: Any, h_in: Any, h_out: Any,
             acts: Any) -> None:
    """One GRU step after its GEMMs, in place (gate blocks r, z, n of (n, 3H))::

        r, z = sigmoid(xg_r + hg_r (+ b_r)), sigmoid(xg_z + hg_z (+ b_z))
        hn = hg_n (+ b_n);   n = tanh(xg_n + r * hn);   h_out = (h_in - n) * z + n

    (= (1 - z) n + z h, PyTorch's update). `b_hh` (3H,) is the hidden bias where the caller's
    GEMM left it out (None: already in `hg`). `acts` (n, 4H) receives ``r, z, n, hn``.
    """
    hidden = h_in.shape[-1]
    if _on_cupy(backend):
        xg, hg = _contiguous(backend, xg, hg)
        extra = () if b_hh is None else _contiguous(backend, b_hh)
        _launch(backend, _kernel(_GRU[b_hh is not None], _compute(xg.dtype)), xg, hg, *extra,
                h_in, hidden, h_out, acts)
        return
    xp = backend.xp
    two = 2 * hidden
    rz = acts[:, :two]
    xp.add(xg[:, :two], hg[:, :two], out=rz)
    if b_hh is not None:
        xp.add(rz, b_hh[:two], out=rz)
    _sigmoid_in_place(xp, rz, -1)
    r, z, n, hn = (acts[:, k * hidden:(k + 1) * hidden] for k in range(4))
    if b_hh is not None:
        xp.add(hg[:, two:], b_hh[two:], out=hn)
    else:
        hn[...] = hg[:, two:]
    xp.multiply(r, hn, out=n)
    xp.add(n, xg[:, two:], out=n)
    xp.tanh(n, out=n)
    xp.subtract(h_in, n, out=h_out)
    xp.multiply(h_out, z, out=h_out)
    xp.add(h_out, n, out=h_out)


def gru_cell_grad(backend: Any, grads: tuple, acts: Any, h_in: Any, g_hin: Any, gx: Any,
                  ghh: Any) -> None:
    """The gradient of `gru_cell`, in place, with ``dh`` the sum of `grads` (one to three
    arrays: the output's gradient and the next step's two parts)::

        dn = dh (1 - z) (1 - n^2);  dr = dn hn r (1 - r);  dz = dh (h_in - n) z (1 - z)
        gx = (dr, dz, dn);  ghh = (dr, dz, dn r)   (the input and hidden pre-activations)
        g_hin = dh z   (h_in's direct share; the rest is ghh @ W_hh)
    """
    hidden = h_in.shape[-1]
    if _on_cupy(backend):
        _launch(backend, _kernel(_GRU_GRAD[len(grads)], _compute(acts.dtype)), *grads, acts,
                h_in, hidden, g_hin, gx, ghh)
        return
    xp = backend.xp
    two = 2 * hidden
    dh = grads[0]
    for more in grads[1:]:
        dh = xp.add(dh, more)
    r, z, n, hn = (acts[:, k * hidden:(k + 1) * hidden] for k in range(4))
    dr, dz, dn = (gx[:, k * hidden:(k + 1) * hidden] for k in range(3))
    rz = acts[:, :two]
    xp.subtract(1, z, out=dn)
    xp.multiply(dn, dh, out=dn)
    tmp = xp.multiply(n, n)
    xp.subtract(1, tmp, out=tmp)
    xp.multiply(dn, tmp, out=dn)
    xp.multiply(dn, hn, out=dr)
    xp.subtract(h_in, n, out=dz)
    xp.multiply(dz, dh, out=dz)
    slope = xp.subtract(1, rz)
    xp.multiply(slope, rz, out=slope)
    xp.multiply(gx[:, :two], slope, out=gx[:, :two])
    ghh[:, :two] = gx[:, :two]
    xp.multiply(dn, r, out=ghh[:, two:])
    xp.multiply(dh, z, out=g_hin)


# -- Elman RNN -----------------------------------------------------------------------------------
_RNN = {
    "tanh": CudaSpec("rnn_tanh_cell", "T xg, T hg", "T h_out",
                     "h_out = T(tanh((acc_t)xg + (acc_t)hg));"),
    # NaN passes, as NumPy's maximum(v, 0) lets it
    "relu": CudaSpec("rnn_relu_cell", "T xg, T hg", "T h_out",
                     "const acc_t v = (acc_t)xg + (acc_t)hg;"
                     " h_out = T(v > 0 || v != v ? v : acc_t(0));"),
}


def _rnn_grad_spec(nonlinearity: str, inputs: int) -> CudaSpec:
    names = ["gh"] + [f"gh{k}" for k in range(1, inputs)]
    slope = "(1 - y * y)" if nonlinearity == "tanh" else "(y > 0 ? acc_t(1) : acc_t(0))"
    return CudaSpec(
        f"rnn_{nonlinearity}_cell_grad{inputs}",
        ", ".join(f"T {n}" for n in names) + ", T h_out", "T g_pre",
        f"const acc_t y = (acc_t)h_out; g_pre = T(({_sum(names)}) * {slope});",
    )


_RNN_GRAD = {(a, k): _rnn_grad_spec(a, k) for a in ("tanh", "relu") for k in (1, 2)}


def rnn_cell(backend: Any, xg: Any, hg: Any, h_out: Any, nonlinearity: str) -> None:
    """One Elman step after its GEMMs: ``h_out = tanh(xg + hg)`` (or relu), in place."""
    if _on_cupy(backend):
        _launch(backend, _kernel(_RNN[nonlinearity], _compute(xg.dtype)), xg, hg, h_out)
        return
    xp = backend.xp
    xp.add(xg, hg, out=h_out)
    if nonlinearity == "tanh":
        xp.tanh(h_out, out=h_out)
    else:
        xp.maximum(h_out, 0, out=h_out)


def rnn_cell_grad(backend: Any, gh: Any, gh_more: Any, h_out: Any, g_pre: Any,
                  nonlinearity: str) -> None:
    """``g_pre = (gh + gh_more) * act'`` from the step's output: tanh' = 1 - h^2, relu' =
    (h > 0), so relu'(0) = 0 as autograd's relu; `gh_more` may be None."""
    if _on_cupy(backend):
        extra = () if gh_more is None else (gh_more,)
        spec = _RNN_GRAD[nonlinearity, 1 + len(extra)]
        _launch(backend, _kernel(spec, _compute(h_out.dtype)), gh, *extra, h_out, g_pre)
        return
    xp = backend.xp
    if gh_more is None:
        dh = gh
    else:
        dh = xp.add(gh, gh_more, out=g_pre)
    if nonlinearity == "tanh":
        slope = xp.multiply(h_out, h_out)
        xp.subtract(1, slope, out=slope)
    else:
        slope = xp.greater(h_out, 0)
    xp.multiply(dh, slope, out=g_pre)
