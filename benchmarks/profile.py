"""Profiles kedja's column of one workload with cProfile: where does a step's time go?

    python -m benchmarks.profile per_op            # or mlp_b32, mlp_b128, cnn, adam, chain
    python -m benchmarks.profile cnn --steps 50 --sort cumulative --top 40

Prints the top functions by own time (``--sort tottime``, the default) after a warm-up step.
cProfile adds a roughly constant cost per Python call, so it exaggerates call-heavy code: use
it to see where time goes, and the suite's timings to see how much.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
from typing import Any

from .harness import Context

TARGETS = ("per_op", "mlp_b32", "mlp_b128", "cnn", "adam", "chain")


def build(name: str, ctx: Context) -> Any:
    from .workloads import adam, cnn, mlp, per_op

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
    raise SystemExit(f"unknown target {name!r}; one of {', '.join(TARGETS)}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", choices=TARGETS)
    p.add_argument("--steps", type=int, default=None, help="profiled steps (default: ~1 s)")
    p.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumulative)")
    p.add_argument("--top", type=int, default=30)
    args = p.parse_args(argv)
    impl = build(args.target, Context())
    impl.step()  # warm-up: lazy state, caches
    steps = args.steps or {"per_op": 300, "chain": 3, "cnn": 20, "adam": 200}.get(args.target, 100)
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


if __name__ == "__main__":
    main()
