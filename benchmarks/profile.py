"""Profiles kedja's column of one workload with cProfile: where does a step's time go?

    python -m benchmarks.profile per_op       # or mlp_b32, mlp_b128, cnn, adam, chain, gpt, lstm
    python -m benchmarks.profile cnn --steps 50 --sort cumulative --top 40
    python -m benchmarks.profile cnn --by-op       # wall time per op's forward and backward

Prints the top functions by own time (``--sort tottime``, the default) after a warm-up step.
cProfile adds a roughly constant cost per Python call, so it exaggerates call-heavy code: use
it to see where time goes, and the suite's timings to see how much. ``--by-op`` instead times
every op class's ``forward`` and ``backward`` with a clock around each call (no profiler), in
milliseconds per step; a rule that applies other ops counts their time too (nested rows).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from typing import Any

from .harness import Context

TARGETS = ("per_op", "mlp_b32", "mlp_b128", "cnn", "adam", "chain", "gpt", "lstm")


def build(name: str, ctx: Context) -> Any:
    from .workloads import adam, cnn, gpt, lstm, mlp, per_op

    if name == "per_op":
        return per_op.kedja_chain(ctx, 100)
    if name == "chain":
        return per_op.kedja_chain(ctx, 10_000)
    if name.startswith("mlp_b"):
        return mlp.kedja_mlp(ctx, int(name[5:]))
    if name == "cnn":
        return cnn.kedja_cnn(ctx)
    if name == "adam":
        return adam.kedja_adam(ctx)
    if name == "gpt":
        return gpt.kedja_gpt(ctx)
    if name == "lstm":
        return lstm.kedja_lstm(ctx)
    raise SystemExit(f"unknown target {name!r}; one of {', '.join(TARGETS)}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", choices=TARGETS)
    p.add_argument("--steps", type=int, default=None, help="profiled steps (default: ~1 s)")
    p.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumulative)")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--by-op", action="store_true",
                   help="wall time per op forward/backward instead of cProfile")
    args = p.parse_args(argv)
    impl = build(args.target, Context())
    impl.step()  # warm-up: lazy state, caches
    default_steps = {"per_op": 300, "chain": 3, "cnn": 20, "adam": 200, "gpt": 10, "lstm": 10}
    steps = args.steps or default_steps.get(args.target, 100)
    if args.by_op:
        _print_by_op(impl, steps, args.top)
        return
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        impl.step()
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
    print(f"{args.target}: {steps} steps profiled")
    print(out.getvalue())


def _op_classes() -> list:
    """Every `Function` subclass loaded so far (the ops a step can run)."""
    from autograd.function import Function

    found, stack = [], [Function]
    while stack:
        for sub in stack.pop().__subclasses__():
            found.append(sub)
            stack.append(sub)
    return found


def _print_by_op(impl: Any, steps: int, top: int) -> None:
    """Times each op class's forward and backward over `steps` steps (milliseconds per step)."""
    totals: dict[str, float] = {}
    clock = time.perf_counter
    patched = []
    for cls in _op_classes():
        for method in ("forward", "backward"):
            if method not in cls.__dict__:
                continue
            original = cls.__dict__[method]
            label = f"{cls.__name__}.{method}"

            def timed(self: Any, *args: Any, _f: Any = original, _label: str = label,
                      **kwargs: Any) -> Any:
                start = clock()
                try:
                    return _f(self, *args, **kwargs)
                finally:
                    totals[_label] = totals.get(_label, 0.0) + clock() - start

            patched.append((cls, method, original))
            setattr(cls, method, timed)
    try:
        impl.step()  # warm-up with the clocks in place
        totals.clear()
        start = clock()
        for _ in range(steps):
            impl.step()
        step_ms = (clock() - start) / steps * 1e3
    finally:
        for cls, method, original in patched:
            setattr(cls, method, original)
    print(f"{steps} steps, {step_ms:.2f} ms per step (with the clocks); ms per step by op:")
    for label, total in sorted(totals.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {label:36s} {total / steps * 1e3:8.3f}")


if __name__ == "__main__":
    main()
