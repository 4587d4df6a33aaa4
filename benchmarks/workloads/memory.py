"""Workload 6: memory and start-up: peak memory growth of the MLP step, and import time.

Memory: each column runs in a fresh subprocess (``python -m benchmarks.workloads.memory``) that
imports its library, builds the model and batch, resets the kernel's peak-RSS mark and records
the resident set (the baseline), runs three training steps and reads the peak (VmHWM; where the
mark cannot be reset, ru_maxrss before and after): the growth of the peak resident set in MiB
(activations, gradients, saved arrays, temporaries, and whatever the library allocates lazily
on its first step). RSS has page and allocator granularity, so for the NumPy-based columns
another fresh process measures the peak of what the steps allocate with tracemalloc (exact
bytes; NumPy reports its array memory to it): that row carries the target.

Import time: ``import autograd, nn, optim`` in a fresh interpreter (median of several runs, the
interpreter start-up excluded), next to ``import torch`` and ``import numpy``.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import subprocess
import sys
from typing import Any

from ..harness import COLUMNS, Context, Row, Stat, Target, fill_ratios

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MIB = 1024.0


def _maxrss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _trim_heap() -> None:
    """Hands free heap pages back to the OS (glibc), so that memory freed during set-up does
    not serve the steps from pages already counted in the baseline."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_peak() -> int | None:
    """Resets the kernel's peak-RSS mark to the current RSS (Linux >= 4.0: clear_refs 5), so
    that set-up transients do not hide the step's peak; returns the current RSS, or None where
    the mark cannot be reset (then ru_maxrss, which includes set-up peaks, is used)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return None
    return _status_kib("VmRSS")


def _build(kind: str, column: str, params: dict, ctx: Context) -> Any:
    if kind == "mlp":
        from . import mlp

        build = {"kedja": mlp.kedja_mlp, "torch": mlp.torch_mlp, "numpy": mlp.floor_mlp}[column]
        return build(ctx, params["batch"])
    if kind == "chain":
        from . import per_op

        build = {"kedja": per_op.kedja_chain, "torch": per_op.torch_chain,
                 "numpy": per_op.floor_chain}[column]
        return build(ctx, params["n_ops"])
    raise ValueError(f"unknown memory workload {kind!r}")


def child(kind: str, column: str, params: dict) -> dict:
    """Runs in the fresh subprocess: baseline, `steps` steps, growth of the peak RSS."""
    import gc
    import tracemalloc

    torch = None
    if column == "torch":
        import torch
    elif column == "kedja":
        import autograd  # noqa: F401
        import nn  # noqa: F401
        import optim  # noqa: F401
    ctx = Context(torch=torch)
    impl = _build(kind, column, params, ctx)
    if isinstance(impl, str):
        return {"error": impl}
    gc.collect()
    _trim_heap()
    traced = params.get("tracemalloc", False)
    base = _reset_peak()
    method = "VmHWM after clear_refs" if base is not None else "ru_maxrss"
    if base is None:
        base = _maxrss_kib()
    if traced:
        tracemalloc.start()  # counts what the steps allocate, not what existed before
    for _ in range(params.get("steps", 1)):
        impl.step()
    peak = _status_kib("VmHWM") if method != "ru_maxrss" else None
    out = {"baseline_kib": base, "peak_kib": peak or _maxrss_kib(), "method": method}
    out["growth_kib"] = out["peak_kib"] - base
    if traced:
        out["traced_peak_kib"] = tracemalloc.get_traced_memory()[1] / 1024.0
        tracemalloc.stop()
    return out


def run_child(kind: str, column: str, params: dict) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.workloads.memory", kind, column, json.dumps(params)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
        return {"error": f"subprocess failed: {tail[0] if tail else proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _columns(ctx: Context, row: Row) -> list[str]:
    if ctx.torch is None:
        row.notes["torch"] = "torch not installed"
        return [c for c in COLUMNS if c != "torch"]
    return list(COLUMNS)


def memory_rows(name: str, title: str, kind: str, params: dict, ctx: Context,
                target: Target | None = None) -> list[Row]:
    """Two rows: tracemalloc peak (exact; NumPy-based columns) and peak-RSS growth (all
    columns), each column in fresh subprocesses, alternating column by column."""
    traced = Row(name, f"{title}: tracemalloc peak", "MiB", target=target)
    rss = Row(f"{name}_rss", f"{title}: peak RSS growth", "MiB")
    if ctx.device == "cuda":
        for row in (traced, rss):
            row.notes = {c: "host memory says nothing about GPU memory" for c in COLUMNS}
            row.stats = {c: None for c in COLUMNS}
        return [traced, rss]
    traced.notes["torch"] = "its tensors are allocated outside tracemalloc's view; see the RSS row"
    for c in ("kedja", "numpy"):
        result = run_child(kind, c, {**params, "tracemalloc": True})
        if "error" in result:
            traced.notes[c] = result["error"]
            traced.stats[c] = None
        else:
            traced.stats[c] = Stat.of([result["traced_peak_kib"] / MIB])
    traced.stats["torch"] = None
    columns = _columns(ctx, rss)
    repeats = 1 if ctx.quick else 3
    samples: dict[str, list[float]] = {c: [] for c in columns}
    for r in range(repeats):
        k = r % len(columns)
        for c in columns[k:] + columns[:k]:
            result = run_child(kind, c, params)
            if "error" in result:
                rss.notes[c] = result["error"]
            else:
                samples[c].append(result["growth_kib"] / MIB)
                rss.details["method"] = result["method"]
    for c in COLUMNS:
        rss.stats[c] = Stat.of(samples[c]) if samples.get(c) else None
    return [fill_ratios(traced), fill_ratios(rss)]


_IMPORTS = {
    "kedja": "import autograd, nn, optim",
    "torch": "import torch",
    "numpy": "import numpy",
}


def _import_seconds(column: str) -> float | None:
    code = ("import time; t0 = time.perf_counter(); " + _IMPORTS[column]
            + "; print(time.perf_counter() - t0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    if proc.returncode != 0:
        return None
    return float(proc.stdout.strip().splitlines()[-1])


def import_row(ctx: Context) -> Row:
    row = Row("import_time", "import time in a fresh interpreter (kedja: autograd, nn, optim)",
              "s", target=Target(None, 0.3, strict=True))
    columns = [c for c in COLUMNS if not (c == "torch" and ctx.torch is None)]
    if ctx.torch is None:
        row.notes["torch"] = "torch not installed"
    for c in columns:
        _import_seconds(c)  # warm-up: writes .pyc files, fills the OS file cache
    repeats = 2 if ctx.quick else 9
    samples: dict[str, list[float]] = {c: [] for c in columns}
    for r in range(repeats):
        k = r % len(columns)
        for c in columns[k:] + columns[:k]:
            t = _import_seconds(c)
            if t is not None:
                samples[c].append(t)
    for c in COLUMNS:
        row.stats[c] = Stat.of(samples[c]) if samples.get(c) else None
    row.details["floor_column"] = "import numpy"
    return fill_ratios(row)


def rows(ctx: Context) -> list[Row]:
    batch = 128
    mem = memory_rows(
        "mlp_memory", f"MLP step (batch {batch}, 3 steps), growth over baseline", "mlp",
        {"batch": batch, "steps": 3}, ctx, target=Target("numpy", 1.2),
    )
    from .long_chain import n_ops

    n = n_ops(ctx)
    chain = memory_rows("chain_memory", f"{n:,}-op chain fwd+bwd", "chain", {"n_ops": n}, ctx)
    return [*mem, *chain, import_row(ctx)]


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))))
