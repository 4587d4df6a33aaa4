"""DataLoader workers: epoch time with 0, 1 and 2 worker processes over a data set whose
``__getitem__`` does real work (a few ms of NumPy per sample).

    python -m benchmarks.data_loading                 # 5 interleaved repeats, ~1-2 min
    python -m benchmarks.data_loading --repeats 3 --samples 128 --work-ms 3

Each repeat times one epoch per worker count back to back, rotating who goes first, so load
from other processes hits all alike; cells are the median over repeats, and the speed-up is the
median of the per-repeat ratios. Workers start anew each epoch (persistent_workers=False), so
their start-up is counted. Prints the machine's core count and load average before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread per process: the workers are the parallelism

import numpy as np  # noqa: E402

from nn.data import DataLoader, Dataset  # noqa: E402


class Augmented(Dataset):
    """Sample i: a 64x64 image made from seed i and put through `rounds` of elementwise work
    and a 2-D FFT low-pass (standing in for decoding and augmenting an image), and its label."""

    def __init__(self, n: int, rounds: int) -> None:
        self.n, self.rounds = n, rounds

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> tuple:
        x = np.random.default_rng(i).standard_normal((64, 64)).astype(np.float32)
        for _ in range(self.rounds):
            f = np.fft.rfft2(x)
            f[16:48] = 0
            x = np.tanh(np.fft.irfft2(f, s=x.shape)).astype(np.float32)
        return x[None], i % 10


def calibrate(work_ms: float) -> int:
    """Rounds of work that take about `work_ms` per sample here (on an idle core)."""
    probe = Augmented(1, 10)
    start = time.process_time()
    for _ in range(20):
        probe[0]
    per_round = (time.process_time() - start) / 200
    return max(1, round(work_ms / 1000 / per_round))


def epoch_seconds(loader: DataLoader) -> float:
    start = time.perf_counter()
    for _ in loader:
        pass
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--samples", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--work-ms", type=float, default=3.0, help="NumPy work per sample")
    p.add_argument("--workers", default="0,1,2", help="worker counts to compare")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    counts = [int(c) for c in args.workers.split(",")]
    load_before = os.getloadavg()
    rounds = calibrate(args.work_ms)
    data = Augmented(args.samples, rounds)
    loaders = {n: DataLoader(data, batch_size=args.batch_size, num_workers=n, seed=0)
               for n in counts}
    for loader in loaders.values():  # warm-up: imports, first forks
        epoch_seconds(loader)
    times: dict[int, list[float]] = {n: [] for n in counts}
    for r in range(args.repeats):
        order = counts[r % len(counts):] + counts[:r % len(counts)]
        for n in order:
            times[n].append(epoch_seconds(loaders[n]))
    load_after = os.getloadavg()
    base = counts[0]
    print(f"{os.cpu_count()} cores, load average {load_before[0]:.1f} before, "
          f"{load_after[0]:.1f} after; {args.samples} samples x ~{args.work_ms:g} ms "
          f"({rounds} rounds), batch {args.batch_size}, {args.repeats} repeats")
    print("| num_workers | epoch (s), median [min-max] | speed-up vs "
          f"num_workers={base} |")
    print("|---|---|---|")
    result = {}
    for n in counts:
        ratios = [b / t for b, t in zip(times[base], times[n])]
        speedup = statistics.median(ratios)
        result[n] = {"median_s": statistics.median(times[n]), "speedup": speedup}
        print(f"| {n} | {statistics.median(times[n]):.2f} [{min(times[n]):.2f}-"
              f"{max(times[n]):.2f}] | {speedup:.2f}x |")
    return result


if __name__ == "__main__":
    main()
