"""``python -m nn.parallel --nproc N script.py [args]``: runs the script on N ranks through
``mpiexec`` (the one beside this Python, as the mpich wheel installs it, else on PATH)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path


def mpiexec() -> str:
    """The mpiexec to launch with; a clear error when there is none."""
    beside = Path(sys.executable).with_name("mpiexec")
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        sys.exit("nn.parallel: no mpiexec found; pip install 'kedja[distributed]' (the mpich "
                 "wheel) or install Open MPI / MPICH")
    return found


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m nn.parallel",
                                description="Run a training script on N processes (mpiexec).")
    p.add_argument("--nproc", type=int, default=2, help="number of processes (ranks)")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds a collective may wait (sets KEDJA_DIST_TIMEOUT)")
    p.add_argument("script", help="the Python script to run on every rank")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments")
    a = p.parse_args(argv)
    if a.nproc < 1:
        p.error(f"--nproc must be >= 1, got {a.nproc}")
    if a.timeout is not None:
        os.environ["KEDJA_DIST_TIMEOUT"] = str(a.timeout)
    command = [mpiexec(), "-n", str(a.nproc), sys.executable, a.script, *a.args]
    os.execv(command[0], command)  # mpiexec's exit status becomes ours


if __name__ == "__main__":
    main()
