"""Data-parallel scaling of the MLP and CNN training steps, 1 -> N processes (nn.parallel).

    python -m benchmarks.distributed_scaling            # 1 and 2 processes, a markdown table
    python -m benchmarks.distributed_scaling --nproc 1 2 3 --steps 30

Weak scaling: every rank trains on its own batch of the same size, so N ranks process N times
the samples per step; perfect scaling keeps the step time. Each process uses one BLAS thread.
Per configuration it reports the step time, the samples per second of all ranks together, the
time of one all-reduce of all gradients alone (the communication to hide), and the host time
backward still waited for the all-reduces (`DistributedDataParallel.comm_wait_seconds`: what
the bucketed overlap did not hide). Models are the benchmark suite's: MLP 784-512-512-10 at
batch 64 and the small CNN on 1x28x28 at batch 32 (per rank).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _worker(steps: int, bucket_cap_mb: float) -> None:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    sys.path.insert(0, str(ROOT))
    import autograd as ag
    import nn
    import nn.parallel as dist
    import optim

    dist.init()
    results = []
    models = {
        "mlp": (lambda: nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512),
                                      nn.ReLU(), nn.Linear(512, 10)), (64, 784)),
        "cnn": (lambda: nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                                      nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1),
                                      nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                      nn.Linear(32 * 7 * 7, 10)), (32, 1, 28, 28)),
    }
    for name, (factory, shape) in models.items():
        ag.manual_seed(0)
        model = dist.DistributedDataParallel(factory(), bucket_cap_mb=bucket_cap_mb)
        opt = optim.SGD(model.parameters(), lr=0.01)
        loss_fn = nn.CrossEntropyLoss()
        ag.manual_seed(dist.get_rank())
        x, y = ag.randn(*shape), ag.randint(0, 10, (shape[0],))

        def step(model=model, opt=opt, loss_fn=loss_fn, x=x, y=y):
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()

        for _ in range(3):
            step()
        dist.barrier()
        model.comm_wait_seconds = 0.0
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        wait = model.comm_wait_seconds / steps
        flat = ag.zeros(sum(p.size for p in model.parameters()))
        alone = []
        for _ in range(10):
            dist.barrier()
            start = time.perf_counter()
            dist.all_reduce(flat)
            alone.append(time.perf_counter() - start)
        results.append({
            "model": name, "nproc": dist.get_world_size(), "batch_per_rank": shape[0],
            "buckets": len(model._buckets), "step_ms": 1e3 * statistics.median(times),
            "all_reduce_ms": 1e3 * statistics.median(alone), "wait_ms": 1e3 * wait,
            "grad_mb": flat.size * 4 / 2**20,
        })
    if dist.get_rank() == 0:
        print("RESULT " + json.dumps(results), flush=True)
    dist.destroy_process_group()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--nproc", type=int, nargs="+", default=[1, 2])
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--bucket-cap-mb", type=float, default=1.0)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        _worker(a.steps, a.bucket_cap_mb)
        return
    from nn.parallel.__main__ import mpiexec

    rows = []
    for n in a.nproc:
        out = subprocess.run([mpiexec(), "-n", str(n), sys.executable, "-m",
                              "benchmarks.distributed_scaling", "--worker", "--steps",
                              str(a.steps), "--bucket-cap-mb", str(a.bucket_cap_mb)],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
        rows += json.loads(out.split("RESULT ", 1)[1])
    base = {r["model"]: r for r in rows if r["nproc"] == 1}
    print(f"| model | processes | batch/rank | buckets ({a.bucket_cap_mb:g} MiB cap) | step ms "
          "| samples/s (all ranks) | speed-up | all-reduce alone ms | backward waited ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        rate = r["nproc"] * r["batch_per_rank"] / (r["step_ms"] / 1e3)
        b = base.get(r["model"])
        speedup = (rate / (b["batch_per_rank"] / (b["step_ms"] / 1e3))) if b else float("nan")
        print(f"| {r['model']} ({r['grad_mb']:.2f} MiB of gradients) | {r['nproc']} | "
              f"{r['batch_per_rank']} | {r['buckets']} | {r['step_ms']:.2f} | {rate:,.0f} | "
              f"{speedup:.2f}x | {r['all_reduce_ms']:.3f} | {r['wait_ms']:.3f} |")


if __name__ == "__main__":
    main()
