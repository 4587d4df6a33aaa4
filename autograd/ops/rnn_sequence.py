"""One recurrent layer direction over a whole sequence as one recorded op (`Recurrence`).

The input projection ``x @ W_ih.T + b`` of every step is one GEMM the caller runs before
(`nn.LSTM` and friends use `linear` on the whole packed sequence). This op then runs the time
loop on raw arrays: per step one GEMM ``h @ W_hh.T`` and one fused cell kernel
(`backends.kernels.recurrent`), writing straight into its output; nothing is recorded per
step. Its first-order backward runs the loop backwards the same way (per step one fused
gradient kernel and one GEMM ``g @ W_hh``) and computes the weight gradients after the loop
as one or two big GEMMs over all steps (``G.T @ H_prev``), not one per step. With
``create_graph=True`` the rule is `sequence_reference` (the same loop written with basic
tensor ops) differentiated by autograd, so grad-of-grad works.

Variable lengths: the sequence is packed (PyTorch's ``PackedSequence`` layout): rows
``starts[t] : starts[t] + batch_sizes[t]`` of `xproj` are step t of the first
``batch_sizes[t]`` sequences (sorted longest first), so a padded batch is the case of equal
sizes. A sequence's state stops changing after its last step (forward) or starts at its own
last step (reverse), so padding never reaches the final state.

The op's one output is a flat buffer: the outputs (N, P), then the final hidden state
(batch, P), then for an LSTM the final cell state (batch, H); `split_sequence_output` views it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from backends import kernels
from backends.host_threads import one_blas_thread

from ..function import Function
from ..tensor import Tensor
from .joining import concatenate
from .rnn_cells import (
    gru_cell_reference,
    lstm_cell_reference,
    recorded_gradients,
    rnn_cell_reference,
)

__all__ = ["Recurrence", "recurrence", "sequence_reference", "split_sequence_output"]

#: Gate blocks per mode (PyTorch's order: LSTM i, f, g, o; GRU r, z, n).
GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class _Step(NamedTuple):
    """One step of the loop, in processing order (see `_plan`)."""

    t: int
    n: int
    row: int
    kind: str
    prev_t: int | None
    prev_n: int | None


def _plan(sizes: tuple, reverse: bool) -> tuple[list, list, list, int]:
    """The loop's bookkeeping, from the batch sizes alone (host ints).

    Returns ``(steps, finals, starts, done)``; `starts` are the steps' first rows and `done`
    the number of sequences with at least one step. Each step, in processing order, is a
    `_Step`: `n` sequences are active, their rows of the packed data start at `row`, and
    their previous state is the initial one (``kind == "init"``), the first `n` rows of step
    `prev_t`'s output (``"prev"``), or those `prev_n` rows followed by initial states for the
    sequences that start here (``"grow"``: a reverse pass over sequences of different
    lengths). `finals` lists ``(a, b, t)``: the final states of sequences a..b-1 are rows
    a..b-1 of step t's output; sequences from `done` on have no step and keep their initial
    state.
    """
    starts, total = [], 0
    for n in sizes:
        starts.append(total)
        total += n
    order = range(len(sizes) - 1, -1, -1) if reverse else range(len(sizes))
    steps, finals = [], []
    prev_t = prev_n = None
    for t in order:
        n = sizes[t]
        if prev_t is None:
            kind = "init"
        elif n <= prev_n:
            kind = "prev"
            if n < prev_n:  # sequences n..prev_n-1 ended at the previous step
                finals.append((n, prev_n, prev_t))
        else:
            kind = "grow"
        steps.append(_Step(t, n, starts[t], kind, prev_t, prev_n))
        prev_t, prev_n = t, n
    done = 0
    if prev_t is not None:
        finals.append((0, prev_n, prev_t))
        done = max(sizes)
    return steps, finals, starts, done


class Recurrence(Function):
    """One layer direction of an LSTM, GRU or Elman RNN over a packed sequence (see the
    module docstring).

    Inputs: ``xproj`` (N, G) the input projections (with ``b_ih``, and for LSTM/RNN ``b_hh``
    too); ``h0`` (batch, P) and for LSTM ``c0`` (batch, H), or None for zeros; ``w_hh``
    (G, P); for GRU ``b_hh`` (G,) or None; for an LSTM with projections ``w_hr`` (P, H).
    Attributes: ``mode`` (a key of `GATES`), ``batch_sizes`` (host ints), ``batch``,
    ``reverse``.
    """

    raw_backward = True

    def forward(self, xproj, h0, c0, w_hh, b_hh, w_hr):
        xp = self.xp
        mode, sizes, batch = self.mode, self.batch_sizes, self.batch
        gates, hidden, width = _check(mode, sizes, batch, xproj, h0, c0, w_hh, b_hh, w_hr)
        rows, dtype = xproj.shape[0], xproj.dtype
        lstm = mode == "LSTM"
        h0_in, c0_in = h0, c0
        out = xp.empty(rows * width + batch * width + (batch * hidden if lstm else 0), dtype)
        ys, hn, cn = _views(out, rows, batch, width, hidden, lstm)
        if h0 is None:
            h0 = xp.zeros((batch, width), dtype=dtype)
        if lstm and c0 is None:
            c0 = xp.zeros((batch, hidden), dtype=dtype)
        record = self._recording
        steps, finals, _starts, done = _plan(sizes, self.reverse)
        widest = max(sizes, default=0)
        # Saved for the gradient (or one step's scratch when nothing is recorded): the LSTM's
        # activated gates and tanh(c), the GRU's gates and W_hn h + b_hn.
        saved_rows = rows if record else widest
        acts = xp.empty((saved_rows, 4 * hidden if mode in ("LSTM", "GRU") else 0), dtype=dtype)
        tcs = xp.empty((saved_rows, hidden), dtype=dtype) if lstm else None
        cells = xp.empty((rows, hidden), dtype=dtype) if lstm else None
        full = (xp.empty((rows if record else widest, hidden), dtype=dtype)
                if w_hr is not None else None)
        hg = xp.empty((widest, gates * hidden), dtype=dtype)
        grown: list = []
        with one_blas_thread():  # small GEMMs in sequence: see one_blas_thread
            self.run_steps(steps, xproj, h0, c0, w_hh, b_hh, w_hr, ys, cells, acts, tcs, full,
                           hg, grown, record)
        _finals(finals, done, batch, ys, h0, hn, _starts)
        if lstm:
            _finals(finals, done, batch, cells, c0, cn, _starts)
        if record:
            self.save_for_backward(xproj, h0_in, c0_in, w_hh, b_hh, w_hr, out, acts, tcs,
                                   cells, full, h0, c0, *grown)
        return out

    def run_steps(self, steps: list, xproj: Any, h0: Any, c0: Any, w_hh: Any, b_hh: Any,
              w_hr: Any, ys: Any, cells: Any, acts: Any, tcs: Any, full: Any, hg: Any,
              grown: list, record: bool) -> None:
        """The forward time loop on raw arrays (writes `ys`, `cells`, `acts`, `tcs`, `full`)."""
        xp, mode = self.xp, self.mode
        lstm = mode == "LSTM"
        w_hh_t = w_hh.T
        hp = cp = None
        for step in steps:
            n, row, kind, prev_n = step.n, step.row, step.kind, step.prev_n
            block = slice(row, row + n)
            here = block if record else slice(0, n)
            if kind == "init":
                hp, cp = h0[:n], (c0[:n] if lstm else None)
            elif kind == "prev":
                hp, cp = hp[:n], (cp[:n] if lstm else None)
            else:  # sequences start here: their rows come from the initial state
                hp = xp.concatenate([hp, h0[prev_n:n]])
                cp = xp.concatenate([cp, c0[prev_n:n]]) if lstm else None
                grown.append(hp)
                if lstm:
                    grown.append(cp)
            gh = xp.matmul(hp, w_hh_t, out=hg[:n])
            if lstm:
                h_full = ys[block] if full is None else full[here]
                kernels.recurrent.lstm_cell(self.backend, xproj[block], gh, cp, cells[block],
                                            h_full, acts[here], tcs[here])
                if full is not None:
                    xp.matmul(h_full, w_hr.T, out=ys[block])
                cp = cells[block]
            elif mode == "GRU":
                kernels.recurrent.gru_cell(self.backend, xproj[block], gh, b_hh, hp, ys[block],
                                           acts[here])
            else:
                kernels.recurrent.rnn_cell(self.backend, xproj[block], gh, ys[block],
                                           "tanh" if mode == "RNN_TANH" else "relu")
            hp = ys[block]

    def backward(self, gy):
        saved = self.saved_tensors
        xproj, h0_in, c0_in, w_hh, b_hh, w_hr = saved[:6]
        if isinstance(gy, Tensor):
            return recorded_gradients(self, sequence_reference,
                                      (xproj, h0_in, c0_in, w_hh, b_hh, w_hr), gy,
                                      mode=self.mode, batch_sizes=self.batch_sizes,
                                      batch=self.batch, reverse=self.reverse)
        out, acts, tcs, cells, full, h0, c0 = saved[6:13]
        grown = list(saved[13:])
        return _backward(self, gy, xproj, w_hh, b_hh, w_hr, out, acts, tcs, cells, full, h0,
                         c0, grown)


def _views(out: Any, rows: int, batch: int, width: int, hidden: int, lstm: bool) -> tuple:
    """The outputs (rows, P), final hidden (batch, P) and cell (batch, H) parts of `out`."""
    a, b = rows * width, rows * width + batch * width
    ys = out[:a].reshape(rows, width)
    hn = out[a:b].reshape(batch, width)
    cn = out[b:].reshape(batch, hidden) if lstm else None
    return ys, hn, cn


def _finals(finals: list, done: int, batch: int, states: Any, initial: Any, into: Any,
            starts: list) -> None:
    """Copies each sequence's final state (the rows `finals` names) into `into`."""
    for a, b, t in finals:
        row = starts[t]
        into[a:b] = states[row + a:row + b]
    if done < batch:  # sequences with no steps keep their initial state
        into[done:] = initial[done:]


def _check(mode: str, sizes: tuple, batch: int, xproj: Any, h0: Any, c0: Any, w_hh: Any,
           b_hh: Any, w_hr: Any) -> tuple:
    """(gate count, hidden size, output width) after checking every shape."""
    if mode not in GATES:
        raise ValueError(f"Recurrence: unknown mode {mode!r}, expected one of {sorted(GATES)}")
    gates = GATES[mode]
    if w_hh.ndim != 2 or w_hh.shape[0] % gates:
        raise ValueError(f"Recurrence: {mode} expects w_hh of shape ({gates} * hidden, width), "
                         f"got {tuple(w_hh.shape)}")
    hidden = w_hh.shape[0] // gates
    width = hidden
    if w_hr is not None:
        if mode != "LSTM" or w_hr.shape != (w_hh.shape[1], hidden):
            raise ValueError(f"Recurrence: projections (w_hr) are for LSTM only, of shape "
                             f"(proj_size, hidden) = ({w_hh.shape[1]}, {hidden}), got "
                             f"{mode} with {tuple(w_hr.shape)}")
        width = w_hr.shape[0]
    if w_hh.shape[1] != width:
        raise ValueError(f"Recurrence: w_hh of shape {tuple(w_hh.shape)} should have "
                         f"{width} columns")
    total = sum(sizes)
    if xproj.shape != (total, gates * hidden):
        raise ValueError(f"Recurrence: xproj of shape {tuple(xproj.shape)} does not fit batch "
                         f"sizes summing to {total} and {gates} * {hidden} gate columns")
    if any(b > a for a, b in zip(sizes, sizes[1:])) or any(n < 0 for n in sizes) or (
            sizes and sizes[0] > batch):
        raise ValueError(f"Recurrence: batch sizes must be non-increasing and at most the "
                         f"batch {batch}, got {list(sizes)}")
    for name, state, size in (("h0", h0, width), ("c0", c0, hidden)):
        if state is not None and state.shape != (batch, size):
            raise ValueError(f"Recurrence: {name} of shape {tuple(state.shape)}, expected "
                             f"({batch}, {size})")
    if b_hh is not None and (mode != "GRU" or b_hh.shape != (gates * hidden,)):
        raise ValueError(f"Recurrence: b_hh ({gates * hidden},) is a GRU input, got "
                         f"{tuple(b_hh.shape)} for {mode}")
    return gates, hidden, width


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


def _backward(fn: Recurrence, gy: Any, xproj: Any, w_hh: Any, b_hh: Any, w_hr: Any,
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
    ys, _hn, _cn = _views(out, rows, batch, width, hidden, lstm)
    gys, ghn, gcn = _views(gy, rows, batch, width, hidden, lstm)
    steps, _finals_list, starts, _done = _plan(sizes, fn.reverse)
    grown_h = grown[0::2] if lstm else grown
    grown_c = iter(grown[1::2]) if lstm else None
    g_gates = xp.empty((rows, gate_cols), dtype=dtype)  # d loss / d xproj
    g_hidden = xp.empty((rows, gate_cols), dtype=dtype) if gru else g_gates
    carry = ghn.copy()  # d loss / d (each sequence's current hidden state)
    if lstm:
        carry_c = gcn.copy()
        g_full = xp.empty((max(sizes, default=0), hidden), dtype=dtype) if w_hr is not None \
            else None
        g_proj = xp.empty((rows, width), dtype=dtype) if w_hr is not None else None
    if gru:
        carry_z = carry  # the state's direct share (dh * z) ...
        carry = xp.zeros((batch, width), dtype=dtype)  # ... and its share through W_hh
    # Each step's previous cell state, for the forget gate's gradient (the forward's views).
    cps = _previous_cells(steps, starts, cells, c0, grown_c) if lstm else None
    hps = _previous_hidden(steps, starts, ys, h0, iter(grown_h)) if gru else None
    with one_blas_thread():  # small GEMMs in sequence: see one_blas_thread
        for k in range(len(steps) - 1, -1, -1):
            n, row = steps[k].n, steps[k].row
            block = slice(row, row + n)
            # nothing needs the initial state's share of the gradient: skip its GEMM
            skip_rec = steps[k].kind == "init" and not need_h0
            if lstm:
                if w_hr is not None:
                    dh = xp.add(gys[block], carry[:n], out=g_proj[block])
                    dh_full = xp.matmul(dh, w_hr, out=g_full[:n])
                    kernels.recurrent.lstm_cell_grad(backend, dh_full, None, carry_c[:n],
                                                     carry_c[:n], acts[block], tcs[block],
                                                     cps[k], g_gates[block])
                else:
                    kernels.recurrent.lstm_cell_grad(backend, gys[block], carry[:n],
                                                     carry_c[:n], carry_c[:n], acts[block],
                                                     tcs[block], cps[k], g_gates[block])
            elif gru:
                kernels.recurrent.gru_cell_grad(backend, (gys[block], carry[:n], carry_z[:n]),
                                                acts[block], hps[k], carry_z[:n], g_gates[block],
                                                g_hidden[block])
            else:
                kernels.recurrent.rnn_cell_grad(backend, gys[block], carry[:n], ys[block],
                                                g_gates[block],
                                                "tanh" if mode == "RNN_TANH" else "relu")
            if not skip_rec:
                xp.matmul(g_hidden[block], w_hh, out=carry[:n])
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


def sequence_reference(xproj: Tensor, h0: Tensor | None, c0: Tensor | None, w_hh: Tensor,
                       b_hh: Tensor | None, w_hr: Tensor | None, *, mode: str,
                       batch_sizes: tuple, batch: int, reverse: bool = False) -> Tensor:
    """`Recurrence` written step by step with basic tensor ops and the cells' references:
    its recorded (create_graph) rule, and what the tests compare it with."""
    from ..creation import zeros

    lstm, gru = mode == "LSTM", mode == "GRU"
    hidden = w_hh.shape[0] // GATES[mode]
    width = w_hh.shape[1]
    dtype, device = xproj.dtype, xproj.backend
    if h0 is None:
        h0 = zeros(batch, width, dtype=dtype, device=device)
    if lstm and c0 is None:
        c0 = zeros(batch, hidden, dtype=dtype, device=device)
    steps, finals, _starts, done = _plan(tuple(batch_sizes), reverse)
    hs: dict = {}
    cs: dict = {}
    for t, n, row, kind, prev_t, prev_n in steps:
        if kind == "init":
            hp, cp = h0[:n], (c0[:n] if lstm else None)
        elif kind == "prev":
            hp, cp = hs[prev_t][:n], (cs[prev_t][:n] if lstm else None)
        else:
            hp = concatenate([hs[prev_t], h0[prev_n:n]])
            cp = concatenate([cs[prev_t], c0[prev_n:n]]) if lstm else None
        xg = xproj[row:row + n]
        hg = hp @ w_hh.T
        if lstm:
            hc = lstm_cell_reference(xg, hg, cp)
            h, cs[t] = hc[0], hc[1]
            if w_hr is not None:
                h = h @ w_hr.T
        elif gru:
            h = gru_cell_reference(xg, hg if b_hh is None else hg + b_hh, hp)
        else:
            h = rnn_cell_reference(xg, hg, "tanh" if mode == "RNN_TANH" else "relu")
        hs[t] = h
    empty = zeros(0, dtype=dtype, device=device)
    parts = [hs[t].reshape(-1) for t in range(len(batch_sizes))]
    for states, initial in ((hs, h0), (cs, c0)):
        if states is cs and not lstm:
            break
        for a, b, t in sorted(finals):
            parts.append(states[t][a:b].reshape(-1))
        if done < batch:
            parts.append(initial[done:].reshape(-1))
    return concatenate([empty, *parts])


def recurrence(xproj: Tensor, h0: Tensor | None, c0: Tensor | None, w_hh: Tensor,
               b_hh: Tensor | None = None, w_hr: Tensor | None = None, *, mode: str,
               batch_sizes: Any, batch: int | None = None, reverse: bool = False) -> tuple:
    """Runs one recurrent layer direction over a packed sequence (see `Recurrence`).

    Args:
        xproj: (N, G) input projections, N = sum(batch_sizes), G = gates * hidden.
        h0, c0: initial states (batch, P) and (batch, H) (c0 for LSTM), or None for zeros.
        w_hh: (G, P) hidden-to-hidden weight; b_hh: GRU's hidden bias (G,) or None (LSTM and
            RNN fold it into `xproj`); w_hr: an LSTM's projection (P, H) or None.
        mode: "LSTM", "GRU", "RNN_TANH" or "RNN_RELU".
        batch_sizes: active sequences per step (non-increasing host ints).
        batch: the number of sequences (default: the first batch size).
        reverse: run from the last step to the first.

    Returns:
        ``(outputs (N, P), h_n (batch, P), c_n (batch, H) or None)``.
    """
    sizes = tuple(int(n) for n in batch_sizes)
    if batch is None:
        batch = sizes[0] if sizes else (h0.shape[0] if h0 is not None else 0)
    flat = Recurrence.apply(xproj, h0, c0, w_hh, b_hh, w_hr, mode=mode, batch_sizes=sizes,
                            batch=int(batch), reverse=bool(reverse))
    gates = GATES[mode]
    hidden = w_hh.shape[0] // gates
    width = w_hh.shape[1]
    return split_sequence_output(flat, sum(sizes), int(batch), width, hidden, mode == "LSTM")


def split_sequence_output(flat: Tensor, rows: int, batch: int, width: int, hidden: int,
                          lstm: bool) -> tuple:
    """Views of `Recurrence`'s flat output: (outputs, h_n, c_n or None)."""
    a, b = rows * width, rows * width + batch * width
    ys = flat[:a].reshape(rows, width)
    hn = flat[a:b].reshape(batch, width)
    cn = flat[b:].reshape(batch, hidden) if lstm else None
    return ys, hn, cn
