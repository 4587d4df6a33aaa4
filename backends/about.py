"""What the array side of kedja runs on: NumPy and its BLAS, CuPy and its GPUs, the host C loops
and host threads. `describe()` gathers it for `autograd.show_config()`.

Everything here is cheap and never fails: a piece that cannot be found reads None.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os

import numpy as np

from . import host_threads, native

#: The environment variables kedja reads (shown where set).
ENVIRONMENT = ("KEDJA_DEVICE", "KEDJA_PURE_PYTHON", "KEDJA_HOST_THREADS", "KEDJA_BLAS_POOL",
               "KEDJA_MALLOC_TOP_PAD", "KEDJA_TEST_BACKENDS")


def _openblas_runtime() -> dict:
    """OpenBLAS's kernel set chosen at run time (e.g. 'SkylakeX') and its thread count, read
    from the library NumPy loaded (Linux: found in /proc/self/maps); {} elsewhere."""
    core = host_threads.openblas_function("openblas_get_corename", ctypes.c_char_p)
    threads = host_threads.openblas_function("openblas_get_num_threads")
    if core is None or threads is None:
        return {}
    return {"core": core().decode(errors="replace"), "threads": int(threads())}


def blas() -> dict | None:
    """The BLAS NumPy was built with (``name``, ``version``) and, for OpenBLAS, the kernels it
    picked for this CPU (``core``) and its ``threads``; None where NumPy does not say."""
    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except Exception:  # noqa: BLE001 - older NumPy or another build: unknown
        return None
    result = {"name": info.get("name"), "version": info.get("version")}
    if "openblas" in str(result["name"]).lower():
        result.update(_openblas_runtime())
    return result


def cupy_version() -> str | None:
    """CuPy's version where it imports, else None (importing CuPy takes about a second)."""
    if importlib.util.find_spec("cupy") is None:
        return None
    try:
        import cupy
    except Exception:  # noqa: BLE001 - installed but broken: reported as absent
        return None
    return str(cupy.__version__)


def cuda_devices() -> list[str]:
    """``cuda:N`` for every GPU CuPy can use (none without CuPy or a driver)."""
    import backends

    if "cupy" not in backends.available():
        return []
    import cupy

    return [f"cuda:{i}" for i in range(cupy.cuda.runtime.getDeviceCount())]


def host_kernels() -> dict:
    """Whether the host C loops run, why, and which kernels the extension holds."""
    module = native.host_kernels
    names = sorted(n for n in dir(module) if not n.startswith(("_", "blas_pool")) and n not in
                   ("ABI", "SOURCE_HASH")) if module is not None else []
    return {"running": "C" if module is not None else "NumPy",
            "why": native.reasons.get("backends._host_kernels", "not loaded"),
            "kernels": names}


def describe() -> dict:
    """The array side's configuration (see the module docstring)."""
    import backends

    return {
        "numpy": np.__version__,
        "blas": blas(),
        "cupy": cupy_version(),
        "host_kernels": host_kernels(),
        "host_threads": host_threads.enabled(),
        "blas_pool": host_threads.pool_running(),
        "backends": backends.available(),
        "unavailable": backends.unavailable(),
        "devices": ["cpu", *cuda_devices(), "fake"],
        "default_device": backends.default().device,
        "environment": {k: os.environ[k] for k in ENVIRONMENT if k in os.environ},
    }
