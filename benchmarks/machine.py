"""What the numbers were measured on: CPU, cores, library versions, BLAS threads, load."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from typing import Any

import numpy as np

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMEXPR_NUM_THREADS", "KEDJA_DEVICE", "KEDJA_PURE_PYTHON", "KEDJA_HOST_THREADS",
                # OpenBLAS kernel overrides: a forced older kernel (e.g. Haswell on an AVX-512
                # machine) slows NumPy's GEMMs by up to 2x, so a table must say so
                "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info() -> list[dict]:
    """NumPy's BLAS (and other thread pools) as threadpoolctl sees them, if installed."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"note": "threadpoolctl not installed"}]
    keys = ("user_api", "internal_api", "num_threads", "version", "threading_layer",
            "architecture")
    return [{k: pool.get(k) for k in keys} for pool in threadpool_info()]


def git_revision(root: str) -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                             capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{rev}{' (with uncommitted changes)' if dirty.strip() else ''}" if rev else "unknown"


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def describe(torch: Any, device: str, root: str, core: bool = True) -> dict:
    """The machine and software facts of a run; `core=False` leaves kedja unimported (the
    parent of isolated runs, which learns the core from its children)."""
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    info = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": affinity,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "blas": blas_info(),
        "torch": None if torch is None else torch.__version__,
        "torch_threads": None if torch is None else torch.get_num_threads(),
        "thread_env": {k: os.environ[k] for k in _THREAD_VARS if k in os.environ},
        "device": device,
        "kedja_core": kedja_core() if core else None,
        "kedja_revision": git_revision(root),
        "loadavg_start": loadavg(),
    }
    if device == "cuda":
        info["gpu"] = _gpu_name(torch)
    return info


def kedja_core() -> str:
    """Which of kedja's cores and host kernels ran: the C extensions or the Python code."""
    from autograd import _native
    from backends import native

    core = "C core" if _native.native() else "pure-Python core"
    kernels = "C host kernels" if native.host_kernels is not None else "NumPy host kernels"
    return f"{core}, {kernels}"


def _gpu_name(torch: Any) -> str | None:
    if torch is not None and torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    except Exception:  # noqa: BLE001 - no cupy or no device
        return None


def summary(info: dict) -> str:
    """One paragraph for the markdown report."""
    blas = ", ".join(
        f"{p.get('internal_api')} {p.get('version')} "
        f"({p.get('architecture') or 'kernel unknown'}, {p.get('num_threads')} threads)"
        for p in info["blas"] if p.get("user_api") == "blas"
    ) or "unknown BLAS (pip install threadpoolctl to see it)"
    torch = (f"torch {info['torch']} ({info['torch_threads']} threads)" if info["torch"]
             else "torch not installed")
    load = info.get("loadavg_start"), info.get("loadavg_end")
    text = (f"{info['date']}; {info['cpu']}, {info['logical_cores']} logical cores "
            f"({info['usable_cores']} usable); Python {info['python']}, numpy {info['numpy']} "
            f"with {blas}; {torch}; device {info['device']}")
    if info.get("gpu"):
        text += f" ({info['gpu']})"
    text += (f"; kedja {info['kedja_revision']} ({info.get('kedja_core')}); "
             f"load average (1/5/15 min) at start {load[0]}")
    if load[1] is not None:
        text += f", at end {load[1]}"
    if info["thread_env"]:
        text += f"; env {info['thread_env']}"
    return text + "."
