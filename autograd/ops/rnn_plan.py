"""The bookkeeping of the recurrent sequence op (`autograd.ops.rnn_sequence`): which rows of
a packed sequence each time step reads, where each step's previous state comes from, where the
final states are, and the checks of the op's inputs. Host integers only.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from backends import host_threads

#: Gate blocks per mode (PyTorch's order: LSTM i, f, g, o; GRU r, z, n).
GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class _Step(NamedTuple):
    """One step of the loop, in processing order (see `plan`)."""

    t: int
    n: int
    row: int
    kind: str
    prev_t: int | None
    prev_n: int | None


def plan(sizes: tuple, reverse: bool) -> tuple[list, list, list, int]:
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


#: A step's GEMM work (batch x gate columns x state width) from which an equal-length batch
#: runs as two halves on two cores (`splits`): below it, the Python work of each step, which
#: holds the GIL, costs more than the halves save.
SPLIT_WORK = 1 << 20


def splits(backend: Any, sizes: tuple, batch: int, step_work: int) -> bool:
    """Whether the time loops of a host recurrence run as two halves of the batch at once
    (`backends.host_threads.halves`): every sequence has the same length (each half then runs
    the whole loop with no hand-off per step; the recurrence never mixes sequences), there
    are at least 4 of them, a step's GEMM is big enough (`SPLIT_WORK`), and NumPy's OpenBLAS
    runs one thread (``OPENBLAS_NUM_THREADS=1``): its idle threads would otherwise spin on the
    second core and slow the half that runs there (`host_threads.blas_spins`)."""
    if backend.is_device or batch < 4 or not sizes or sizes[-1] != batch:
        return False
    return batch * step_work >= SPLIT_WORK and not host_threads.blas_spins()


def views(out: Any, rows: int, batch: int, width: int, hidden: int, lstm: bool) -> tuple:
    """The outputs (rows, P), final hidden (batch, P) and cell (batch, H) parts of `out`."""
    a, b = rows * width, rows * width + batch * width
    ys = out[:a].reshape(rows, width)
    hn = out[a:b].reshape(batch, width)
    cn = out[b:].reshape(batch, hidden) if lstm else None
    return ys, hn, cn


def copy_finals(finals: list, done: int, batch: int, states: Any, initial: Any, into: Any,
            starts: list) -> None:
    """Copies each sequence's final state (the rows `finals` names) into `into`."""
    for a, b, t in finals:
        row = starts[t]
        into[a:b] = states[row + a:row + b]
    if done < batch:  # sequences with no steps keep their initial state
        into[done:] = initial[done:]


def check(mode: str, sizes: tuple, batch: int, xproj: Any, h0: Any, c0: Any, w_hh: Any,
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
