"""nn.parallel across processes: launches tests/nn/parallel_worker.py under ``mpiexec -n 2``
and ``-n 3`` (MPICH from the dev extra's `mpich` wheel) on the CPU and on fake devices."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

WORKER = Path(__file__).with_name("parallel_worker.py")
ROOT = WORKER.parents[2]


def _mpiexec() -> str | None:
    beside = Path(sys.executable).with_name("mpiexec")  # the mpich wheel's, in the venv
    if beside.exists():
        return str(beside)
    return shutil.which("mpiexec")


MPIEXEC = _mpiexec()
try:
    import mpi4py  # noqa: F401

    HAVE_MPI4PY = True
except ImportError:
    HAVE_MPI4PY = False

pytestmark = pytest.mark.skipif(
    MPIEXEC is None or not HAVE_MPI4PY,
    reason="MPI is not installed (pip install -e '.[dev]' brings mpi4py and the mpich wheel's "
    "mpiexec); these tests launch several processes with mpiexec")

# Everything that passes in one launch per configuration: a launch costs ~1 s of start-up.
ALL = "collectives,equivalence,no_sync,syncbn,unused,fit,sampler,device_step"


def launch(n: int, scenarios: str, device: str = "cpu", timeout_s: float = 20,
           wall: float = 240) -> tuple[int, str, float]:
    env = dict(os.environ, KEDJA_DIST_TIMEOUT=str(timeout_s), KEDJA_TEST_ID=str(os.getpid()),
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    env.pop("KEDJA_DEVICE", None)
    start = time.monotonic()
    proc = subprocess.run([MPIEXEC, "-n", str(n), sys.executable, str(WORKER), scenarios, device],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=wall,
                          stdin=subprocess.DEVNULL)
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - start


@pytest.mark.parametrize("n, device", [(2, "cpu"), (3, "cpu"), (2, "fake")])
def test_ranks_match_one_process(n, device):
    """N ranks with batch B reach the parameters of one process with batch N*B (MLP and CNN,
    Adam), no_sync accumulation matches, SyncBatchNorm matches BatchNorm over the whole batch,
    the collectives give their results, fit averages metrics, rank 0 alone saves."""
    rc, out, _ = launch(n, ALL, device)
    assert rc == 0, out
    for name in ALL.split(","):
        for rank in range(n):
            assert f"ok {name} rank {rank} of {n}" in out, out


def test_exception_on_one_rank_ends_the_job_with_its_error():
    rc, out, seconds = launch(2, "fault", timeout_s=60)
    assert rc != 0
    assert "rank 1 failed on purpose" in out and "[rank 1] aborting all ranks" in out, out
    assert seconds < 30, f"the job took {seconds:.0f} s to end"


def test_hanging_rank_times_out():
    rc, out, seconds = launch(2, "hang", timeout_s=3)
    assert rc != 0
    assert "DistributedTimeoutError" in out and "timeout of 3 s" in out, out
    assert seconds < 30, f"the job took {seconds:.0f} s to end"


def test_ranks_disagreeing_on_shapes_get_a_clear_error():
    rc, out, _ = launch(2, "mismatch")
    assert rc != 0
    assert "ranks disagree on the model" in out and "(9, 4)" in out and "(8, 4)" in out, out


def test_train_digits_distributed(tmp_path):
    """The main job under mpiexec: one report (rank 0's), one checkpoint, ranks agree."""
    env = dict(os.environ, KEDJA_DIST_TIMEOUT="60", OMP_NUM_THREADS="1")
    ckpt = tmp_path / "digits.npz"
    proc = subprocess.run(
        [MPIEXEC, "-n", "2", sys.executable, str(ROOT / "examples" / "train_digits.py"),
         "--distributed", "--epochs", "2", "--limit", "400", "--quiet", "--save", str(ckpt)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=240,
        stdin=subprocess.DEVNULL)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert out.count("test accuracy") == 1 and "ranks 2" in out, out
    accuracy = float(out.split("test accuracy ")[1].split()[0])
    assert accuracy > 0.6, out  # 2 epochs on 400 images; the full run is in docs/distributed.md
    assert ckpt.exists() and not list(tmp_path.glob("*.tmp*"))


def test_launcher_runs_the_script_on_n_ranks():
    env = dict(os.environ, KEDJA_DIST_TIMEOUT="20", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "nn.parallel", "--nproc", "2", str(WORKER),
                           "sampler"], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok sampler rank 1 of 2" in proc.stdout
