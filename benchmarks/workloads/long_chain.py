"""Workload 4: backward through a 100,000-op chain (time, and peak memory in a fresh process).

The same mul/add/tanh chain as the per-op workload, 100k ops long (10k with ``--quick``). The
timed region is the backward alone (the forward that builds the graph runs untimed before each
call). The chain's memory row (`chain_memory`, in memory.py with the other memory rows) runs
forward + backward once in a fresh subprocess per column and reports the growth of the peak
resident set over the baseline after imports and the creation of the inputs: the graph's nodes,
saved arrays and pending gradients.
"""

from __future__ import annotations

from ..harness import Context, Row, timed_row
from . import per_op


def n_ops(ctx: Context) -> int:
    return 10_000 if ctx.quick else 100_000


def rows(ctx: Context) -> list[Row]:
    n = n_ops(ctx)
    repeats = 2 if ctx.quick else 5
    time_row = timed_row(
        "chain_backward", f"backward through a {n:,}-op chain (time of backward only)", "s",
        1.0, per_op.chain_impls(ctx, n, split=True), ctx, repeats=repeats, min_sample_s=0.0,
        warmup=1,
    )
    return [time_row]
