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

from typing import Any

from backends import kernels
from backends.host_threads import halves, one_blas_thread
from backends.kernels.step_gemm import StepGemm

from ..function import Function
from ..tensor import Tensor
from .joining import concatenate
from .rnn_cells import (
    gru_cell_reference,
    lstm_cell_reference,
    recorded_gradients,
    rnn_cell_reference,
)
from .rnn_plan import GATES, check, copy_finals, plan, splits, views
from .rnn_sequence_grad import sequence_backward

__all__ = ["GATES", "Recurrence", "recurrence", "sequence_reference", "split_sequence_output"]


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
        gates, hidden, width = check(mode, sizes, batch, xproj, h0, c0, w_hh, b_hh, w_hr)
        rows, dtype = xproj.shape[0], xproj.dtype
        lstm = mode == "LSTM"
        h0_in, c0_in = h0, c0
        out = xp.empty(rows * width + batch * width + (batch * hidden if lstm else 0), dtype)
        ys, hn, cn = views(out, rows, batch, width, hidden, lstm)
        if h0 is None:
            h0 = xp.zeros((batch, width), dtype=dtype)
        if lstm and c0 is None:
            c0 = xp.zeros((batch, hidden), dtype=dtype)
        record = self._recording
        steps, ends, starts, done = plan(sizes, self.reverse)
        widest = max(sizes, default=0)
        split = splits(self.backend, sizes, batch, xproj.shape[1] * width)
        # Saved for the gradient (or one step's scratch when nothing is recorded and the loop
        # runs whole): the LSTM's activated gates and tanh(c), the GRU's gates and W_hn h + b_hn.
        saved_rows = rows if (record or split) else widest
        acts = xp.empty((saved_rows, 4 * hidden if mode in ("LSTM", "GRU") else 0), dtype=dtype)
        tcs = xp.empty((saved_rows, hidden), dtype=dtype) if lstm else None
        cells = xp.empty((rows, hidden), dtype=dtype) if lstm else None
        full = (xp.empty((saved_rows, hidden), dtype=dtype) if w_hr is not None else None)
        grown: list = []
        # The step GEMMs' weights, packed once for every step (and both halves)
        gemm = StepGemm(self.backend, w_hh.T, len(steps))
        project = StepGemm(self.backend, w_hr.T, len(steps)) if w_hr is not None else None
        arrays = (xproj, h0, c0, gemm, b_hh, project, ys, cells, acts, tcs, full)
        if split:  # equal lengths: each half of the batch runs the whole loop on its own core
            halves(self.backend, lambda lo, hi: self.run_steps(
                steps, *arrays, grown, True, lo, hi), batch)
        else:
            with one_blas_thread():  # small GEMMs in sequence: see one_blas_thread
                self.run_steps(steps, *arrays, grown, record)
        copy_finals(ends, done, batch, ys, h0, hn, starts)
        if lstm:
            copy_finals(ends, done, batch, cells, c0, cn, starts)
        if record:
            self.save_for_backward(xproj, h0_in, c0_in, w_hh, b_hh, w_hr, out, acts, tcs,
                                   cells, full, h0, c0, *grown)
        return out

    def run_steps(self, steps: list, xproj: Any, h0: Any, c0: Any, gemm: StepGemm, b_hh: Any,
                  project: StepGemm | None, ys: Any, cells: Any, acts: Any, tcs: Any,
                  full: Any, grown: list, record: bool, lo: int = 0,
                  hi: int | None = None) -> None:
        """The forward time loop on raw arrays (writes `ys`, `cells`, `acts`, `tcs`, `full`),
        for sequences ``lo:hi`` (a half of an equal-length batch, see `splits`) or all;
        `gemm` multiplies by ``W_hh.T``, `project` by ``W_hr.T``."""
        xp, mode = self.xp, self.mode
        lstm = mode == "LSTM"
        hp = cp = None
        hg = xp.empty((max((s.n for s in steps), default=0) if hi is None else hi - lo,
                       gemm.b.shape[1]), dtype=xproj.dtype)
        for step in steps:
            n, row, kind, prev_n = step.n, step.row + lo, step.kind, step.prev_n
            if hi is not None:
                n = hi - lo
            block = slice(row, row + n)
            here = block if record else slice(0, n)
            if kind == "init":
                hp, cp = h0[lo:lo + n], (c0[lo:lo + n] if lstm else None)
            elif kind == "prev":
                hp, cp = hp[:n], (cp[:n] if lstm else None)
            else:  # sequences start here: their rows come from the initial state
                hp = xp.concatenate([hp, h0[prev_n:n]])
                cp = xp.concatenate([cp, c0[prev_n:n]]) if lstm else None
                grown.append(hp)
                if lstm:
                    grown.append(cp)
            gh = gemm(hp, hg[:n])
            if lstm:
                h_full = ys[block] if full is None else full[here]
                kernels.recurrent.lstm_cell(self.backend, xproj[block], gh, cp, cells[block],
                                            h_full, acts[here], tcs[here])
                if full is not None:
                    project(h_full, ys[block])
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
        return sequence_backward(self, gy, xproj, w_hh, b_hh, w_hr, out, acts, tcs, cells, full, h0,
                         c0, grown)


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
    steps, ends, _starts, done = plan(tuple(batch_sizes), reverse)
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
        for a, b, t in sorted(ends):
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
