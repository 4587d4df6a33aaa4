"""Runs the benchmark suite: kedja vs PyTorch vs a hand-written NumPy floor.

    python -m benchmarks.run                 # everything, CPU (a few minutes)
    python -m benchmarks.run --quick         # smoke run: few repeats, small sizes (< 1 min)
    python -m benchmarks.run --only mlp,cnn  # some workloads (or rows) only
    python -m benchmarks.run --device cuda   # kedja and PyTorch on a GPU (the floor on CuPy)

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
from typing import Any

from . import machine
from .harness import COLUMN_TITLES, COLUMNS, GRAD_TOLERANCE, Context, Row
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
    return p.parse_args(argv)


def make_context(args: argparse.Namespace) -> Context:
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            torch = None
    if args.quick:
        ctx = Context(device=args.device, quick=True, repeats=3, warmup=1, min_sample_s=0.01,
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
        prefixes = {"per_op": "per_op", "mlp_b": "mlp", "cnn_": "cnn", "chain_": "long_chain",
                    "adam": "adam", "mlp_memory": "memory", "import": "memory", "ops_": "array_ops",
                    "gpt": "gpt", "lstm": "lstm"}
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


def report(rows: list[Row], info: dict, command: str, elapsed: float) -> str:
    return "\n".join([
        "# kedja benchmarks",
        "",
        f"Command: `{command}` ({elapsed:.0f} s)",
        "",
        f"Machine: {machine.summary(info)}",
        "",
        "Cells: median over repeats (interquartile range); ratios: median of per-repeat "
        "ratios (columns alternate within each repeat); max rel err: gradients vs the NumPy "
        "floor from the same initial state, normwise per tensor.",
        "",
        table(rows),
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workloads, keep = selected(args.only)
    ctx = make_context(args)
    info = machine.describe(ctx.torch, args.device, ROOT)
    command = "python -m benchmarks.run" + ("" if argv is None and len(sys.argv) < 2 else
                                            " " + " ".join(sys.argv[1:] if argv is None
                                                           else argv))
    start = time.perf_counter()
    rows: list[Row] = []
    failed = False
    for name in workloads:
        t0 = time.perf_counter()
        try:
            got = load(name).rows(ctx)
        except Exception as e:  # noqa: BLE001 - one broken workload must not hide the rest
            traceback.print_exc()
            row = Row(name, f"{name}: failed ({type(e).__name__}: {e})", "")
            row.stats = {c: None for c in COLUMNS}
            got = [row]
            failed = True
        if keep and name not in args.only.split(","):
            got = [r for r in got if any(r.name.startswith(k) for k in keep)]
        rows.extend(got)
        print(f"[{name}: {time.perf_counter() - t0:.1f} s]", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - start
    info["loadavg_end"] = machine.loadavg()
    text = report(rows, info, command, elapsed)
    print(text)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "latest.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "latest.json"), "w") as f:
        json.dump({"command": command, "elapsed_s": elapsed, "machine": info,
                   "quick": ctx.quick, "repeats": ctx.repeats, "warmup": ctx.warmup,
                   "min_sample_s": ctx.min_sample_s, "grad_tolerance": GRAD_TOLERANCE,
                   "rows": [r.to_json() for r in rows]}, f, indent=1, default=_json_default)
    wrong = any(r.verdict() == "WRONG" for r in rows)
    return 1 if wrong or failed else 0


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    return str(obj)


if __name__ == "__main__":
    sys.exit(main())
