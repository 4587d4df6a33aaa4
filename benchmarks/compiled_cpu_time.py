"""CPU time of the NumPy floor, kedja eager and kedja under ``ag.compile``, interleaved in one
process (issue 19 §4's two targets: the per-op chain and the MLP batch-32 step).

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.compiled_cpu_time [--rounds 5]

On a machine shared with other work, wall-clock times are noise; the CPU time this process
spends (`time.process_time`) is not, provided BLAS runs on one thread (a second OpenBLAS thread
spin-waits, and its CPU time would count). Each round times every column for a fixed number of
steps, in turn; the table gives the fastest round per column and its ratio to the floor. The
columns are the benchmark suite's (benchmarks/workloads/compiled.py), each checked against the
floor first by the suite's own gradient check.
"""

from __future__ import annotations

import argparse
import time

from .harness import Context, max_rel_error
from .workloads import compiled, mlp, per_op


def columns(ctx: Context, workload: str) -> tuple[dict, int, float, str]:
    if workload == "mlp_b32":
        return ({"floor": mlp.floor_mlp(ctx, 32), "kedja": mlp.kedja_mlp(ctx, 32),
                 "kedja compiled": compiled.kedja_compiled_mlp(ctx, 32)}, 100, 1e3, "ms/step")
    n = per_op.N_OPS
    return ({"floor": per_op.floor_chain(ctx, n), "kedja": per_op.kedja_chain(ctx, n),
             "kedja compiled": compiled.kedja_compiled_chain(ctx, n)}, 1000, 1e6 / n, "us/op")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    ctx = Context()
    for workload in ("per_op", "mlp_b32"):
        impls, steps, scale, unit = columns(ctx, workload)
        reference = impls["floor"].check()
        for name, impl in impls.items():
            error = max_rel_error(impl.check(), reference)
            if error > 1e-4:
                raise SystemExit(f"{workload} {name}: gradients differ from the floor ({error})")
            for _ in range(3):
                impl.step()
        best = {name: float("inf") for name in impls}
        for _ in range(args.rounds):
            for name, impl in impls.items():
                start = time.process_time()
                for _ in range(steps):
                    impl.step()
                best[name] = min(best[name], (time.process_time() - start) / steps)
        for name, seconds in best.items():
            print(f"{workload:8} {name:15} {seconds * scale:8.3f} {unit}  "
                  f"{seconds / best['floor']:.2f}x floor")


if __name__ == "__main__":
    main()
