"""The first-order rule of `Recurrence` on raw arrays: the time loop run backwards (per step
one fused gradient kernel and one GEMM ``g @ W_hh``), then the weight gradients as a few big
GEMMs over all steps.
"""

from __future__ import annotations

from typing import Any

from backends import kernels
from backends.host_threads import halves, one_blas_thread
from backends.kernels.step_gemm import StepGemm

from .rnn_plan import GATES, plan, splits, views


def _gemm_segments(steps: list, starts: list, grown_h: list) -> list:
    """The steps' previous hidden states as few contiguous blocks: ``(row, n, source,
    src_row)`` where step rows row..row+n-1 of the gate gradients meet rows src_row.. of
    `source` ("h0", "ys" or a grown array), merged where both continue each other."""
    segments: list = []
    grown = iter(grown_h)
    for step in steps:
        n, row = step.n, step.row
        if step.kind == "init":
            source, src = "h0", 0
        elif step.kind == "prev":
            source, src = "ys", starts[step.prev_t]
        else:
            source, src = next(grown), 0
        if segments:
            r, m, s, s_row = segments[-1]
            same = isinstance(s, str) and isinstance(source, str) and s == source
            if same and src == s_row + m and row == r + m:
                segments[-1] = (r, m + n, s, s_row)
                continue
            if same and src + n == s_row and row + n == r:
                segments[-1] = (row, m + n, s, src)
                continue
        segments.append((row, n, source, src))
    return segments


def sequence_backward(fn: Any, gy: Any, xproj: Any, w_hh: Any, b_hh: Any, w_hr: Any,
                      out: Any, acts: Any, tcs: Any, cells: Any, full: Any, h0: Any, c0: Any,
                      grown: list) -> tuple:
    """The raw first-order rule: the loop backwards, then the weight gradients in bulk."""
    xp, backend = fn.xp, fn.backend
    mode, sizes, batch = fn.mode, fn.batch_sizes, fn.batch
    need_x, need_h0, need_c0, need_w, need_b, need_r = fn.needs_input_grad
    lstm, gru = mode == "LSTM", mode == "GRU"
    rows, gate_cols = xproj.shape
    hidden = gate_cols // GATES[mode]
    width = w_hh.shape[1]
    dtype = xproj.dtype
    ys, _hn, _cn = views(out, rows, batch, width, hidden, lstm)
    gys, ghn, gcn = views(gy, rows, batch, width, hidden, lstm)
    steps, _ends, starts, _done = plan(sizes, fn.reverse)
    grown_h = grown[0::2] if lstm else grown
    grown_c = iter(grown[1::2]) if lstm else None
    g_gates = xp.empty((rows, gate_cols), dtype=dtype)  # d loss / d xproj
    g_hidden = xp.empty((rows, gate_cols), dtype=dtype) if gru else g_gates
    carry = ghn.copy()  # d loss / d (each sequence's current hidden state)
    if lstm:
        carry_c = gcn.copy()
        g_proj = xp.empty((rows, width), dtype=dtype) if w_hr is not None else None
    if gru:
        carry_z = carry  # the state's direct share (dh * z) ...
        carry = xp.zeros((batch, width), dtype=dtype)  # ... and its share through W_hh
    # Each step's previous cell state, for the forget gate's gradient (the forward's views).
    cps = _previous_cells(steps, starts, cells, c0, grown_c) if lstm else None
    hps = _previous_hidden(steps, starts, ys, h0, iter(grown_h)) if gru else None

    gemm = StepGemm(backend, w_hh, len(steps))  # packed once for every step (and both halves)
    project = StepGemm(backend, w_hr, len(steps)) if (lstm and w_hr is not None) else None

    def loop(lo: int = 0, hi: int | None = None) -> None:
        """The time loop backwards, for sequences lo:hi (a half, see `splits`) or all."""
        g_full = xp.empty((max(sizes, default=0) if hi is None else hi - lo, hidden),
                          dtype=dtype) if (lstm and w_hr is not None) else None
        for k in range(len(steps) - 1, -1, -1):
            n, row = steps[k].n, steps[k].row + lo
            if hi is not None:
                n = hi - lo
            block, mine = slice(row, row + n), slice(lo, lo + n)
            # nothing needs the initial state's share of the gradient: skip its GEMM
            skip_rec = steps[k].kind == "init" and not need_h0
            if lstm:
                c_prev = cps[k] if hi is None else cps[k][lo:hi]
                if w_hr is not None:
                    dh = xp.add(gys[block], carry[mine], out=g_proj[block])
                    dh_full = project(dh, g_full[:n])
                    kernels.recurrent.lstm_cell_grad(backend, dh_full, None, carry_c[mine],
                                                     carry_c[mine], acts[block], tcs[block],
                                                     c_prev, g_gates[block])
                else:
                    kernels.recurrent.lstm_cell_grad(backend, gys[block], carry[mine],
                                                     carry_c[mine], carry_c[mine], acts[block],
                                                     tcs[block], c_prev, g_gates[block])
            elif gru:
                h_prev = hps[k] if hi is None else hps[k][lo:hi]
                kernels.recurrent.gru_cell_grad(backend, (gys[block], carry[mine],
                                                          carry_z[mine]),
                                                acts[block], h_prev, carry_z[mine],
                                                g_gates[block], g_hidden[block])
            else:
                kernels.recurrent.rnn_cell_grad(backend, gys[block], carry[mine], ys[block],
                                                g_gates[block],
                                                "tanh" if mode == "RNN_TANH" else "relu")
            if not skip_rec:
                gemm(g_hidden[block], carry[mine])

    if splits(backend, sizes, batch, gate_cols * width):
        halves(backend, loop, batch)  # equal lengths: a half of the batch on each core
    else:
        with one_blas_thread():  # small GEMMs in sequence: see one_blas_thread
            loop()
    g_h0 = None
    if need_h0:
        g_h0 = xp.add(carry, carry_z) if gru else carry
    g_w = None
    if need_w:
        segments = _gemm_segments(steps, starts, grown_h)
        for row, n, source, src in segments:
            states = {"h0": h0, "ys": ys}.get(source, source) if isinstance(source, str) \
                else source
            part = g_hidden[row:row + n].T @ states[src:src + n]
            g_w = part if g_w is None else xp.add(g_w, part, out=g_w)
        if g_w is None:
            g_w = xp.zeros(w_hh.shape, dtype=dtype)
    g_b = g_hidden.sum(axis=0) if (gru and need_b) else None
    g_r = None
    if lstm and need_r:
        g_r = g_proj.T @ full
    return (g_gates if need_x else None, g_h0, carry_c if (lstm and need_c0) else None, g_w,
            g_b, g_r)


def _previous_cells(steps: list, starts: list, cells: Any, c0: Any, grown: Any) -> list:
    """Each step's previous cell state, as the forward loop saw it."""
    out = []
    for step in steps:
        if step.kind == "init":
            out.append(c0[:step.n])
        elif step.kind == "prev":
            out.append(cells[starts[step.prev_t]:starts[step.prev_t] + step.n])
        else:
            out.append(next(grown))
    return out


def _previous_hidden(steps: list, starts: list, ys: Any, h0: Any, grown: Any) -> list:
    """Each step's previous hidden state, as the forward loop saw it."""
    out = []
    for step in steps:
        if step.kind == "init":
            out.append(h0[:step.n])
        elif step.kind == "prev":
            out.append(ys[starts[step.prev_t]:starts[step.prev_t] + step.n])
        else:
            out.append(next(grown))
    return out
