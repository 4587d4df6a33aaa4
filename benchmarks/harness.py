"""Timing, statistics, correctness checks and result rows shared by the workloads.

`benchmarks.run` times each (workload, column) in a fresh process of its own (`benchmarks.child`
sets `Context.column`): importing kedja changes the process (allocator settings, a host worker
thread, BLAS thread counts), so a PyTorch column timed beside it is not the PyTorch a user gets.
`timed_row` then builds, checks and times only that column, and keeps the check's arrays for the
parent to compare. With `Context.column` unset (`--in-process`) it times all columns in one
process, alternating within every repeat (the starting column rotates: ABC, BCA, CAB, ...).
Each repeat runs a column's step enough times to last about `min_sample_s`, and reports the
mean time per step.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

COLUMNS = ("kedja", "torch", "numpy")
COLUMN_TITLES = {"kedja": "kedja", "torch": "PyTorch", "numpy": "NumPy floor"}

#: `--quick`'s timing settings (a smoke run), for the in-process runner and the child processes.
QUICK = {"repeats": 3, "warmup": 1, "min_sample_s": 0.01}


def json_default(obj: Any) -> Any:
    """JSON for what `json.dump` cannot write itself: NumPy scalars as numbers, else text."""
    if hasattr(obj, "item"):
        return obj.item()
    return str(obj)


# float32 results of the same maths in a different order agree to ~1e-6 relative; a few
# hundred ops (or a 100k-op chain) add rounding, but anything past this is a wrong answer.
GRAD_TOLERANCE = 1e-3


@dataclass
class Context:
    """What a workload needs to build its columns."""

    device: str = "cpu"          # "cpu" or "cuda"
    quick: bool = False
    repeats: int = 15
    warmup: int = 3
    min_sample_s: float = 0.05   # each repeat runs a step this long at least
    torch: Any = None            # the torch module, or None when it is not installed
    seed: int = 0
    column: str | None = None    # in a child process: the one column to build and time
    checks: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # row -> arrays

    @property
    def kedja_device(self) -> str:
        return "cuda" if self.device == "cuda" else "cpu"

    @property
    def torch_device(self) -> str:
        return "cuda" if self.device == "cuda" else "cpu"

    def floor_xp(self) -> Any:
        """The array library the NumPy floor runs on: NumPy, or CuPy on ``--device cuda``."""
        if self.device == "cuda":
            import cupy

            return cupy
        return np

    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)


@dataclass
class Impl:
    """One column of a timed workload.

    Attributes:
        step: the timed call.
        check: returns named host arrays (gradients, or updates) computed from the initial
            state, compared across columns before any timing.
        prepare: untimed work before each timed call (e.g. building the graph to backward).
        sync: waits for the device, inside the timed region (GPU columns).
    """

    step: Callable[[], Any]
    check: Callable[[], dict[str, np.ndarray]] | None = None
    prepare: Callable[[], Any] | None = None
    sync: Callable[[], Any] | None = None


@dataclass
class Stat:
    """Median and spread of a column's samples, in the row's unit."""

    median: float
    q1: float
    q3: float
    low: float
    high: float
    n: int
    samples: list[float] = field(default_factory=list)

    @classmethod
    def of(cls, samples: list[float]) -> Stat:
        a = np.asarray(samples, dtype=float)
        q1, med, q3 = np.percentile(a, [25, 50, 75])
        return cls(float(med), float(q1), float(q3), float(a.min()), float(a.max()), len(a),
                   [float(s) for s in samples])

    def scaled(self, factor: float) -> Stat:
        return Stat(self.median * factor, self.q1 * factor, self.q3 * factor, self.low * factor,
                    self.high * factor, self.n, [s * factor for s in self.samples])


@dataclass
class Target:
    """A goal for the kedja column: ``kedja <= ratio x against``, or an absolute bound."""

    against: str | None      # "torch", "numpy", or None for an absolute bound
    bound: float
    strict: bool = False     # "<" rather than "<="

    def describe(self, unit: str) -> str:
        op = "<" if self.strict else "<="
        if self.against is None:
            return f"{op} {self.bound:g} {unit}"
        return f"{op} {self.bound:g}x {COLUMN_TITLES[self.against]}"


@dataclass
class Row:
    """One line of the results table."""

    name: str
    title: str
    unit: str
    stats: dict[str, Stat | None] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)    # column -> why it is n/a
    ratios: dict[str, float | None] = field(default_factory=dict)  # "torch"/"numpy" -> ratio
    errors: dict[str, float | None] = field(default_factory=dict)  # column -> max rel err
    target: Target | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def verdict(self) -> str:
        """"pass", "miss", "n/a", or "WRONG" when kedja's check failed."""
        err = self.errors.get("kedja")
        if err is not None and not err <= GRAD_TOLERANCE:
            return "WRONG"
        if self.target is None:
            return ""
        if self.target.against is None:
            stat = self.stats.get("kedja")
            value = None if stat is None else stat.median
        else:
            value = self.ratios.get(self.target.against)
        if value is None or not math.isfinite(value):
            return "n/a"
        ok = value < self.target.bound if self.target.strict else value <= self.target.bound
        return "pass" if ok else "miss"

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "unit": self.unit,
            "columns": {
                c: None if s is None else {
                    "median": s.median, "q1": s.q1, "q3": s.q3, "min": s.low, "max": s.high,
                    "n": s.n, "samples": s.samples,
                }
                for c, s in self.stats.items()
            },
            "not_available": self.notes,
            "ratios": {f"kedja/{k}": v for k, v in self.ratios.items()},
            "max_rel_err_vs_floor": self.errors,
            "target": None if self.target is None else self.target.describe(self.unit),
            "target_spec": None if self.target is None else {
                "against": self.target.against, "bound": self.target.bound,
                "strict": self.target.strict},
            "verdict": self.verdict(),
            "details": self.details,
        }

    @classmethod
    def from_json(cls, d: dict) -> Row:
        """The row `to_json` wrote (in a child process), with its statistics and target."""
        spec = d.get("target_spec")
        row = cls(d["name"], d["title"], d["unit"],
                  target=None if spec is None else Target(**spec))
        for c, s in d["columns"].items():
            row.stats[c] = None if s is None else Stat(
                s["median"], s["q1"], s["q3"], s["min"], s["max"], s["n"], s["samples"])
        row.notes = dict(d.get("not_available", {}))
        row.ratios = {k.split("/", 1)[1]: v for k, v in d.get("ratios", {}).items()}
        row.errors = dict(d.get("max_rel_err_vs_floor", {}))
        row.details = dict(d.get("details", {}))
        return row


def failed_row(workload: str, why: str) -> Row:
    """The row standing for a workload (or one of its columns) that raised instead."""
    row = Row(workload, f"{workload}: failed ({why})", "")
    row.stats = {c: None for c in COLUMNS}
    return row


def max_rel_error(got: dict[str, np.ndarray], ref: dict[str, np.ndarray]) -> float:
    """The largest normwise error over the named arrays: ``max|got - ref| / max|ref|``.

    Normalising by each array's largest magnitude (not elementwise) keeps entries that are
    nearly zero, such as vanished gradients, from turning rounding into huge relative errors.
    """
    if set(got) != set(ref):
        raise ValueError(f"check: arrays {sorted(got)} do not match the floor's {sorted(ref)}")
    worst = 0.0
    for key, r in ref.items():
        g = np.asarray(got[key], dtype=np.float64)
        r = np.asarray(r, dtype=np.float64)
        if g.shape != r.shape:
            raise ValueError(f"check: {key} has shape {g.shape}, the floor's {r.shape}")
        scale = float(np.max(np.abs(r))) if r.size else 0.0
        diff = float(np.max(np.abs(g - r))) if r.size else 0.0
        if not math.isfinite(diff):
            return math.inf
        worst = max(worst, diff / scale if scale > 0 else diff)
    return worst


def check_columns(impls: dict[str, Impl]) -> dict[str, float | None]:
    """Runs every column's check from the initial state; errors against the NumPy floor."""
    results = {name: impl.check() for name, impl in impls.items() if impl.check is not None}
    ref = results.get("numpy")
    if ref is None:
        return {name: None for name in impls}
    return {name: (max_rel_error(results[name], ref) if name in results else None)
            for name in impls}


def _one(impl: Impl) -> float:
    if impl.prepare is not None:
        impl.prepare()
    if impl.sync is not None:
        impl.sync()
    t0 = time.perf_counter()
    impl.step()
    if impl.sync is not None:
        impl.sync()
    return time.perf_counter() - t0


def time_columns(impls: dict[str, Impl], ctx: Context, repeats: int | None = None,
                 min_sample_s: float | None = None,
                 warmup: int | None = None) -> dict[str, Stat]:
    """Seconds per step of each column, interleaved: warm-ups, then `repeats` rounds that
    time every column back to back (the first column rotates from round to round)."""
    repeats = repeats or ctx.repeats
    min_sample_s = ctx.min_sample_s if min_sample_s is None else min_sample_s
    names = list(impls)
    if not names:  # e.g. a child asked for a column the workload does not have
        return {}
    inner = {}
    for name in names:
        impl = impls[name]
        times = [_one(impl) for _ in range(max(1, ctx.warmup if warmup is None else warmup))]
        per = max(min(times), 1e-7)
        inner[name] = max(1, math.ceil(min_sample_s / per))
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            impl = impls[name]
            gc.collect()  # collect the previous column's garbage outside the timed region
            total = 0.0
            for _ in range(inner[name]):
                total += _one(impl)
            samples[name].append(total / inner[name])
    return {name: Stat.of(s) for name, s in samples.items()}


def paired_ratio(a: Stat | None, b: Stat | None) -> float | None:
    """Median over repeats of a/b, each repeat's pair timed back to back (robust to drift)."""
    if a is None or b is None or not a.samples or not b.samples:
        return None
    if len(a.samples) != len(b.samples):
        return a.median / b.median if b.median else None
    ratios = [x / y for x, y in zip(a.samples, b.samples) if y > 0]
    return float(np.median(ratios)) if ratios else None


def fill_ratios(row: Row) -> Row:
    kedja = row.stats.get("kedja")
    for other in ("torch", "numpy"):
        row.ratios[other] = paired_ratio(kedja, row.stats.get(other))
    return row


#: A column as a workload hands it over: built, not available (a string saying why), or a
#: function that builds it, so that a child process builds (and imports) only its own column.
ColumnSpec = Impl | str | Callable[[], Impl | str]


def _built(spec: ColumnSpec) -> Impl | str:
    return spec() if callable(spec) else spec


def timed_row(name: str, title: str, unit: str, scale: float, impls: dict[str, ColumnSpec],
              ctx: Context, target: Target | None = None, repeats: int | None = None,
              min_sample_s: float | None = None, warmup: int | None = None) -> Row:
    """Checks, times and tabulates a workload whose columns are `impls` (a string: n/a why).

    `scale` converts seconds per step into the row's unit (e.g. 1e6 / 100 for us per op).
    In a child process (`ctx.column` set) only that column is built, checked (its arrays kept
    in `ctx.checks[name]`) and timed.
    """
    row = Row(name, title, unit, target=target)
    if ctx.column is not None:
        impls = {c: v for c, v in impls.items() if c == ctx.column}
    built = {c: _built(v) for c, v in impls.items()}
    ready = {c: v for c, v in built.items() if isinstance(v, Impl)}
    for c, v in built.items():
        if not isinstance(v, Impl):
            row.notes[c] = str(v)
    if ctx.column is None:
        row.errors = check_columns(ready)
    else:
        for impl in ready.values():
            if impl.check is not None:
                ctx.checks[name] = impl.check()
    stats = time_columns(ready, ctx, repeats, min_sample_s, warmup)
    for c in COLUMNS:
        row.stats[c] = stats[c].scaled(scale) if c in stats else None
    return fill_ratios(row)
