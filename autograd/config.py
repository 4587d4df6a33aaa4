"""`show_config()`: which kedja runs here, on what, and why (the C or the pure-Python core, the
host C loops or NumPy, BLAS, devices, defaults), printed for people and returned for programs.

A build without a C compiler falls back to pure Python silently at install time; this is the
one call that says so (and why: not built, a stale build, or ``KEDJA_PURE_PYTHON``).
"""

from __future__ import annotations

import sys
from typing import IO, Any

from backends import native

from . import _native

# backends.about, platform and textwrap are imported on the first call: `import autograd`
# stays as cheap as it was.

__all__ = ["config", "show_config"]

#: What the host C loops compute differently from the NumPy bodies (docs/kernels.md).
_DIFFERS = ("the float32 cross-entropy (exp and log in double), a convolution's input "
            "gradient (one wide GEMM), GELU's tanh form (exp from fast_math.h), the float32 "
            "layer norm (row sums in double), the attention's float32 softmax, the LSTM "
            "cell's forward (exp from fast_math.h) and the float32 recurrent layers' step "
            "GEMMs (packed panels) round differently from the pure-Python build; all else is "
            "the same bits")


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("kedja")
    except metadata.PackageNotFoundError:  # run from a checkout without `pip install`
        return "unknown (not installed)"


def _default_dtype() -> str:
    """`ag.get_default_dtype()` where it exists (issue 13), else the creation functions' float."""
    from . import creation

    getter = getattr(sys.modules[__package__], "get_default_dtype", None)
    if getter is not None:
        return str(getter())
    return str(getattr(creation, "_FLOAT", "float32"))


def config() -> dict[str, Any]:
    """The configuration as a dict (what `show_config` prints): versions, the core, the host
    kernels, BLAS, backends and devices, the defaults and the KEDJA_* variables set."""
    import platform

    from backends import about

    core_why = native.reasons.get("autograd._ccore", "not loaded")
    arrays = about.describe()
    kernels = arrays.pop("host_kernels")
    kernels["differs"] = _DIFFERS if kernels["running"] == "C" else None
    return {
        "kedja": _version(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": f"{sys.platform} {platform.machine()}",
        "numpy": arrays.pop("numpy"),
        "cupy": arrays.pop("cupy"),
        "core": {"running": "C" if _native.native() else "pure Python", "why": core_why},
        "host_kernels": kernels,
        "default_dtype": _default_dtype(),
        **arrays,
    }


def _lines(info: dict[str, Any]) -> list[str]:
    blas = info["blas"]
    if blas is None:
        blas_text = "unknown"
    else:
        blas_text = f"{blas['name']} {blas['version']}"
        if "core" in blas:
            blas_text += f" (kernels for {blas['core']}, {blas['threads']} threads)"
    kernels = info["host_kernels"]
    if kernels["running"] == "C":
        kernel_text = f"C loops: {', '.join(kernels['kernels'])} ({kernels['why']})"
    else:
        kernel_text = f"NumPy bodies ({kernels['why']})"
    threads = "two halves of big host batches on two cores" if info["host_threads"] else "off"
    if info.get("blas_pool"):
        threads += "; OpenBLAS's threaded calls on kedja's BLAS pool (blas_pool.c)"
    env = ", ".join(f"{k}={v}" for k, v in info["environment"].items()) or "none set"
    return [
        f"kedja         {info['kedja']}",
        f"Python        {info['python']} ({info['platform']})",
        f"NumPy         {info['numpy']}",
        f"CuPy          {info['cupy'] or 'not installed (or does not import)'}",
        f"core          {info['core']['running']} ({info['core']['why']})",
        f"host kernels  {kernel_text}",
        *([f"              {kernels['differs']}"] if kernels["differs"] else []),
        f"BLAS          {blas_text}",
        f"host threads  {threads}",
        f"backends      {', '.join(info['backends'])}",
        *(f"              {name} unavailable: {why}"
          for name, why in info["unavailable"].items()),
        f"devices       {', '.join(info['devices'])} (fake: the strict test device)",
        f"defaults      device {info['default_device']}, dtype {info['default_dtype']}",
        f"environment   {env}",
    ]


def show_config(file: IO[str] | None = None) -> dict[str, Any]:
    """Prints which kedja runs here and on what (see `config`) and returns the same as a dict.

        >>> info = ag.show_config()        # prints a dozen lines
        >>> info["core"]["running"]        # 'C' or 'pure Python'
    """
    import textwrap

    info = config()
    text = "\n".join(textwrap.fill(line, width=100, subsequent_indent=" " * 14,
                                   break_on_hyphens=False) for line in _lines(info))
    print(text, file=file if file is not None else sys.stdout)
    return info
