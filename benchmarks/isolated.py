"""The default runner of `benchmarks.run`: every (workload, column) in a fresh process.

Round r runs every timed workload's columns, each in its own `benchmarks.child` process,
starting from column r (kedja, PyTorch, floor; then PyTorch, floor, kedja; ...), so that drift
and background load spread over the columns alike. A cell is the fastest round's median step
time; the range of the rounds' medians shows the spread. The first round's children save their
check arrays, which are compared here with the floor's. Workloads that isolate their own
columns (memory) or count rather than time (array_ops) run once, whole, in one child.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

import numpy as np

from .harness import COLUMNS, Row, Stat, failed_row, max_rel_error

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: Workloads that run whole in one child: their rows isolate their own columns, or count.
WHOLE = frozenset({"memory", "array_ops"})

LEGEND = (
    "Cells: every (workload, column) timed in a fresh process of its own, over interleaved "
    "rounds; a cell is the fastest round's median step time (the range of the rounds' "
    "medians). Ratios: kedja's cell over the other column's. Max rel err: gradients vs the "
    "NumPy floor from the same initial state, normwise per tensor. Memory and import rows "
    "measure each column in fresh processes as well (see docs/benchmarks.md).")

CHILD_TIMEOUT_S = 1800


class ChildFailed(RuntimeError):
    """A child process exited with an error or printed no result."""


def rounds(args: argparse.Namespace) -> int:
    return args.rounds or (1 if args.quick else 3)


def repeats(args: argparse.Namespace) -> int:
    return args.repeats or (3 if args.quick else 7)


def child_command(workload: str, column: str, args: argparse.Namespace,
                  checks: str | None) -> list[str]:
    cmd = [sys.executable, "-m", "benchmarks.child", workload, column, "--seed", str(args.seed),
           "--device", args.device, "--repeats", str(repeats(args))]
    if args.quick:
        cmd.append("--quick")
    if args.no_torch:
        cmd.append("--no-torch")
    if checks is not None:
        cmd += ["--checks", checks]
    return cmd


def run_child(cmd: list[str]) -> dict:
    """The JSON object the child printed last."""
    try:
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                              timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        raise ChildFailed(f"no result within {CHILD_TIMEOUT_S} s") from e
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        sys.stderr.write(done.stderr)
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise ChildFailed(tail[0])
    return json.loads(lines[-1])


def _cell(round_stats: list[Stat]) -> Stat:
    """The fastest round's median, with the range of the rounds' medians."""
    medians = [s.median for s in round_stats]
    best, worst = min(medians), max(medians)
    return Stat(best, best, worst, best, worst, len(medians), medians)


def _errors(row: str, columns: list[str], checks: str) -> dict[str, float | None]:
    def load(column: str) -> dict[str, np.ndarray] | None:
        path = os.path.join(checks, f"{row}.{column}.npz")
        if not os.path.exists(path):
            return None
        with np.load(path) as f:
            return {k: f[k] for k in f.files}

    ref = load("numpy")
    out: dict[str, float | None] = {}
    for c in columns:
        got = load(c)
        out[c] = None if got is None or ref is None else max_rel_error(got, ref)
    return out


def run(workloads: list[str], args: argparse.Namespace,
        info: dict) -> tuple[list[tuple[str, list[Row]]], bool]:
    """Each workload's rows, and whether a child failed; `info` gains the children's facts
    (torch's version and threads, kedja's core)."""
    columns = [c for c in COLUMNS if not (c == "torch" and args.no_torch)]
    timed = [w for w in workloads if w not in WHOLE]
    templates: dict[str, dict[str, Row]] = defaultdict(dict)   # workload -> row -> first seen
    cells: dict[str, dict[str, list[Stat]]] = defaultdict(lambda: defaultdict(list))
    notes: dict[str, dict[str, str]] = defaultdict(dict)
    failures: dict[str, list[str]] = defaultdict(list)
    whole: dict[str, list[Row]] = {}
    with tempfile.TemporaryDirectory(prefix="kedja-bench-") as checks:
        for r in range(rounds(args)):
            k = r % len(columns)
            for w in timed:
                for c in columns[k:] + columns[:k]:
                    t0 = time.perf_counter()
                    try:
                        out = run_child(child_command(w, c, args, checks if r == 0 else None))
                    except ChildFailed as e:
                        failures[w].append(f"{c}: {e}")
                        continue
                    finally:
                        print(f"[{w} / {c}, round {r + 1}: {time.perf_counter() - t0:.1f} s]",
                              file=sys.stderr, flush=True)
                    info.update(out["facts"])
                    for d in out["rows"]:
                        row = Row.from_json(d)
                        templates[w].setdefault(row.name, row)
                        stat = row.stats.get(c)
                        if stat is None:
                            notes[row.name][c] = row.notes.get(c, "n/a")
                        else:
                            cells[row.name][c].append(stat)
        errors = {name: _errors(name, columns, checks)
                  for rows in templates.values() for name in rows}
    for w in workloads:
        if w in WHOLE:
            try:
                out = run_child(child_command(w, "all", args, None))
            except ChildFailed as e:
                failures[w].append(f"all: {e}")
                continue
            info.update(out["facts"])
            whole[w] = [Row.from_json(d) for d in out["rows"]]
    if args.no_torch:
        for rows in templates.values():
            for name in rows:
                notes[name]["torch"] = "not requested (--no-torch)"
    results = []
    for w in workloads:
        if w in WHOLE:
            got = whole.get(w, [])
        else:
            got = [_assemble(t, cells[name], notes[name], errors.get(name, {}))
                   for name, t in templates[w].items()]
        for why in failures.get(w, []):
            got.append(failed_row(w, why))
        results.append((w, got))
    return results, any(failures.values())


def _assemble(template: Row, cells: dict[str, list[Stat]], notes: dict[str, str],
              errors: dict[str, float | None]) -> Row:
    row = Row(template.name, template.title, template.unit, target=template.target,
              details=template.details)
    for c in COLUMNS:
        row.stats[c] = _cell(cells[c]) if cells.get(c) else None
        if row.stats[c] is None and c in notes:
            row.notes[c] = notes[c]
    row.errors = errors
    kedja = row.stats.get("kedja")
    for other in ("torch", "numpy"):
        s = row.stats.get(other)
        row.ratios[other] = (kedja.median / s.median
                             if kedja is not None and s is not None and s.median > 0 else None)
    return row
