"""Runs the benchmark suite: kedja vs PyTorch vs a hand-written NumPy floor.

    python -m benchmarks.run                 # everything, CPU (about ten minutes)
    python -m benchmarks.run --quick         # smoke run: one round, few repeats, small sizes
    python -m benchmarks.run --only mlp,cnn  # some workloads (or rows) only
    python -m benchmarks.run --device cuda   # kedja and PyTorch on a GPU (the floor on CuPy)
    python -m benchmarks.run --in-process    # the old way: all columns in this one process

Every (workload, column) pair runs in a fresh process of its own (`benchmarks.child`), because
importing kedja changes a process (glibc's M_TOP_PAD, a host worker thread, BLAS thread counts)
and a PyTorch column timed beside it is not the PyTorch a user gets. The processes are
interleaved over `--rounds` rounds (round r starts at column r, so drift and background load hit
the columns alike); a cell is the fastest round's median step time, with the range of the
rounds' medians beside it. Each child checks its column's gradients from the initial state
before timing; the parent compares them with the floor's.

Writes a markdown table to stdout and to ``<out>/latest.md``, and everything (samples, machine,
command) to ``<out>/latest.json``. The exit status is 1 if a column computed different
gradients from the floor (a wrong answer), else 0: missed targets are reported, not fatal.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import traceback

from . import isolated, machine
from .harness import (
    COLUMN_TITLES,
    COLUMNS,
    GRAD_TOLERANCE,
    QUICK,
    Context,
    Row,
    failed_row,
    json_default,
)
from .workloads import WORKLOADS, load

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "benchmarks", "results")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="smoke run: few repeats, a 10k-op chain instead of 100k")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                   help="where the kedja and PyTorch columns run (default cpu)")
    p.add_argument("--only", default="",
                   help=f"comma-separated workloads or row names ({', '.join(WORKLOADS)})")
    p.add_argument("--out", default=DEFAULT_OUT, help="directory for latest.md/latest.json")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats per column")
    p.add_argument("--no-torch", action="store_true", help="leave the PyTorch column out")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and data")
    p.add_argument("--rounds", type=int, default=None,
                   help="interleaved rounds of fresh processes per cell (default 3, quick 1)")
    p.add_argument("--in-process", action="store_true",
                   help="time all columns in this process, alternating (not what users get)")
    return p.parse_args(argv)


def make_context(args: argparse.Namespace) -> Context:
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            torch = None
    if args.quick:
        ctx = Context(device=args.device, quick=True, **QUICK,
                      torch=torch, seed=args.seed)
    else:
        ctx = Context(device=args.device, torch=torch, seed=args.seed)
    if args.repeats:
        ctx.repeats = args.repeats
    if args.device == "cuda":
        import backends

        try:
            backends.get("cuda")  # fail early and clearly where there is no GPU
        except Exception as e:  # noqa: BLE001 - no cupy, no driver, no device
            raise SystemExit(f"--device cuda: no usable CUDA device for kedja ({e})") from e
    return ctx


def selected(only: str) -> tuple[list[str], set[str]]:
    """The workloads to run, and (if rows were named) the row names to keep."""
    names = [n.strip() for n in only.split(",") if n.strip()]
    if not names:
        return list(WORKLOADS), set()
    workloads = [w for w in WORKLOADS if w in names]
    rows = {n for n in names if n not in WORKLOADS}
    if rows:  # a row name such as mlp_b32: run the workload that has it
        prefixes = {"per_op": "per_op", "mlp_b": "mlp", "cnn_": "cnn",
                    "chain_memory": "memory", "chain_": "long_chain",
                    "adam": "adam", "mlp_memory": "memory", "import": "memory", "ops_": "array_ops",
                    "gpt": "gpt", "lstm": "lstm", "compiled_": "compiled"}
        for n in rows:
            match = [w for pre, w in prefixes.items() if n.startswith(pre)]
            if not match:
                raise SystemExit(f"--only: unknown workload or row {n!r}; "
                                 f"workloads: {', '.join(WORKLOADS)}")
            if match[0] not in workloads:
                workloads.append(match[0])
    return [w for w in WORKLOADS if w in workloads], rows


def fmt(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "n/a" if x is None else str(x)
    if x == 0:
        return "0"
    digits = max(0, 2 - int(math.floor(math.log10(abs(x)))))
    return f"{x:,.{min(digits, 4)}f}"


def fmt_stat(row: Row, column: str) -> str:
    s = row.stats.get(column)
    if s is None:
        return "n/a"
    if s.n == 1:
        return fmt(s.median)
    return f"{fmt(s.median)} ({fmt(s.q1)}–{fmt(s.q3)})"


def fmt_err(row: Row) -> str:
    parts = []
    for c in ("kedja", "torch"):
        e = row.errors.get(c)
        if e is not None:
            flag = "" if e <= GRAD_TOLERANCE else " WRONG"
            parts.append(f"{e:.1e}{flag}")
        else:
            parts.append("–")
    return " / ".join(parts) if any(p != "–" for p in parts) else "–"


def table(rows: list[Row]) -> str:
    head = ["workload", "unit", *[COLUMN_TITLES[c] for c in COLUMNS], "kedja/PyTorch",
            "kedja/floor", "target", "result", "max rel err (kedja / PyTorch)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        ratio = {k: (f"{v:.2f}x" if v is not None else "n/a") for k, v in
                 ((c, r.ratios.get(c)) for c in ("torch", "numpy"))}
        cells = [f"`{r.name}` {r.title}", r.unit, *[fmt_stat(r, c) for c in COLUMNS],
                 ratio["torch"], ratio["numpy"],
                 r.target.describe(r.unit) if r.target else "", r.verdict() or "–", fmt_err(r)]
        lines.append("| " + " | ".join(cells) + " |")
    notes = []
    for r in rows:
        for c, why in r.notes.items():
            notes.append(f"- `{r.name}` {COLUMN_TITLES.get(c, c)}: n/a, {why}")
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)


IN_PROCESS_LEGEND = (
    "Cells: median over repeats (interquartile range), all columns timed in one process "
    "(`--in-process`); ratios: median of per-repeat ratios (columns alternate within each "
    "repeat); max rel err: gradients vs the NumPy floor from the same initial state, normwise "
    "per tensor.")


def report(rows: list[Row], info: dict, command: str, elapsed: float, legend: str) -> str:
    return "\n".join([
        "# kedja benchmarks",
        "",
        f"Command: `{command}` ({elapsed:.0f} s)",
        "",
        f"Machine: {machine.summary(info)}",
        "",
        legend,
        "",
        table(rows),
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workloads, keep = selected(args.only)
    command = "python -m benchmarks.run" + ("" if argv is None and len(sys.argv) < 2 else
                                            " " + " ".join(sys.argv[1:] if argv is None
                                                           else argv))
    if args.device == "cuda":
        check_cuda()
    start = time.perf_counter()
    if args.in_process:
        ctx = make_context(args)
        info = machine.describe(ctx.torch, args.device, ROOT)
        results, failed = run_in_process(workloads, ctx)
        legend = IN_PROCESS_LEGEND
        settings = {"repeats": ctx.repeats, "warmup": ctx.warmup,
                    "min_sample_s": ctx.min_sample_s}
    else:
        info = machine.describe(None, args.device, ROOT, core=False)
        results, failed = isolated.run(workloads, args, info)
        legend = isolated.LEGEND
        settings = {"rounds": isolated.rounds(args), "repeats": isolated.repeats(args)}
    named = set(args.only.split(","))
    rows = [r for workload, got in results for r in got
            if not keep or workload in named or r.name.startswith(tuple(keep))]
    elapsed = time.perf_counter() - start
    info["loadavg_end"] = machine.loadavg()
    text = report(rows, info, command, elapsed, legend)
    print(text)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "latest.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "latest.json"), "w") as f:
        json.dump({"command": command, "elapsed_s": elapsed, "machine": info,
                   "quick": args.quick, **settings, "grad_tolerance": GRAD_TOLERANCE,
                   "rows": [r.to_json() for r in rows]}, f, indent=1, default=json_default)
    wrong = any(r.verdict() == "WRONG" for r in rows)
    return 1 if wrong or failed else 0


def check_cuda() -> None:
    """Fails early and clearly where kedja has no GPU (in a child: this process stays clean)."""
    import subprocess

    done = subprocess.run([sys.executable, "-c", "import backends; backends.get('cuda')"],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        why = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "unknown"
        raise SystemExit(f"--device cuda: no usable CUDA device for kedja ({why})")


def run_in_process(workloads: list[str], ctx: Context) -> tuple[list[tuple[str, list[Row]]],
                                                                 bool]:
    """Every workload in this process, columns alternating (`--in-process`): each workload's
    rows, and whether one failed."""
    results: list[tuple[str, list[Row]]] = []
    failed = False
    for name in workloads:
        t0 = time.perf_counter()
        try:
            got = load(name).rows(ctx)
        except Exception as e:  # noqa: BLE001 - one broken workload must not hide the rest
            traceback.print_exc()
            got = [failed_row(name, f"{type(e).__name__}: {e}")]
            failed = True
        results.append((name, got))
        print(f"[{name}: {time.perf_counter() - t0:.1f} s]", file=sys.stderr, flush=True)
    return results, failed



if __name__ == "__main__":
    sys.exit(main())
