"""The host kernels' BLAS pool (backends/csrc/blas_pool.c) against OpenBLAS's own threads: the
same bits, from several threads at once and after a fork, and workers that sleep when asked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from backends import host_threads, native

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh process: the GEMMs of OpenBLAS's own threads first, then the pool installed
# and everything again. Prints one JSON line.
SCRIPT = textwrap.dedent("""
    import json, os, threading, time
    import numpy as np
    from backends import host_threads, native

    pool = native.host_kernels
    rng = np.random.default_rng(0)
    shapes = [(512, 512, 512), (2048, 256, 1024), (33, 1000, 77), (300, 300, 3),
              (1, 4000, 700), (0, 64, 64), (128, 0, 128)]
    cases = [(rng.standard_normal((m, k)).astype(t), rng.standard_normal((k, n)).astype(t))
             for m, k, n in shapes for t in (np.float32, np.float64, np.complex64)]
    cases += [(a + 1j * a, b) for a, b in cases[:2]]  # complex128 by float64
    before = [a @ b for a, b in cases]
    vector = rng.standard_normal((3000, 3000))
    gemv = vector @ vector[0]
    assert host_threads.enabled() and host_threads.pool_running()
    calls = pool.blas_pool_stats()["calls"]
    after = [a @ b for a, b in cases]
    out = {"same": all(np.array_equal(x, y) for x, y in zip(before, after)),
           "gemv_same": bool(np.array_equal(gemv, vector @ vector[0])),
           "pooled": pool.blas_pool_stats()["calls"] - calls}

    results = []
    def work():
        a, b = cases[3]
        results.append(all(np.array_equal(a @ b, before[3]) for _ in range(20)))
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["threads_same"] = results == [True] * 4

    pid = os.fork()
    if pid == 0:  # the child's pool starts over; a hang here fails the test's timeout
        a, b = cases[3]
        os._exit(0 if np.array_equal(a @ b, before[3]) else 3)
    out["child_status"] = os.waitpid(pid, 0)[1]

    pool.blas_pool_spin(10**9)  # a worker now spins for a second after a job, unless parked
    a, b = cases[0]
    a @ b
    host_threads._park()
    deadline = time.monotonic() + 0.5
    while pool.blas_pool_stats()["sleeping"] < pool.blas_pool_stats()["workers"]:
        assert time.monotonic() < deadline, pool.blas_pool_stats()
        time.sleep(0.001)
    out["parked"] = True
    print(json.dumps(out))
""")


def _pool_possible() -> bool:
    return (native.host_kernels is not None and host_threads.enabled()
            and host_threads.pool_running())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() checks need POSIX")
def test_the_pool_gives_openblas_bits_from_many_threads_and_after_a_fork() -> None:
    if not _pool_possible():
        pytest.skip("no BLAS pool here (one core, no C kernels, or an OpenBLAS without a "
                    "pthreads threads callback)")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, timeout=120,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["same"] and out["gemv_same"]  # OpenBLAS's own threads and the pool: same bits
    assert out["pooled"] > 0                 # ... and the pool did run threaded calls
    assert out["threads_same"]
    assert out["child_status"] == 0
    assert out["parked"]                     # a spinning worker went to sleep when parked


def test_the_pool_is_off_where_asked_and_without_the_c_kernels() -> None:
    probe = "from backends import host_threads; print(host_threads.pool_running())"
    for extra in ({"KEDJA_BLAS_POOL": "0"}, {"KEDJA_PURE_PYTHON": "1"},
                  {"KEDJA_HOST_THREADS": "1"}):
        env = {**os.environ, **extra}
        done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, timeout=60,
                              capture_output=True, text=True)
        assert done.stdout.strip() == "False", (extra, done.stderr)


def test_the_spin_setting_refuses_bad_values() -> None:
    pool = native.host_kernels
    if pool is None:
        pytest.skip("the host kernels are not built")
    before = pool.blas_pool_spin(1000)
    try:
        for bad in (-1, 10**10, 2**70):
            with pytest.raises((ValueError, OverflowError)):
                pool.blas_pool_spin(bad)
        with pytest.raises(TypeError):
            pool.blas_pool_spin("1")
        assert pool.blas_pool_spin(before) == 1000
    finally:
        pool.blas_pool_spin(before)
    stats = pool.blas_pool_stats()
    assert set(stats) == {"workers", "calls", "naps", "sleeping", "spin_ns"}
