"""Loads kedja's optional C extensions, each a faster twin of Python code kept beside it.

Two extensions exist: `autograd._ccore` (the per-op machinery; see autograd/_native.py) and
`backends._host_kernels` (one-pass loops for host arrays; see backends/kernels/). Each is used
when `pip install` built it (it needs a C compiler), unless ``KEDJA_PURE_PYTHON=1`` is set, and
unless it was built from other sources than the ``.c`` file next to it (an editable install
whose C file changed since: a warning says to rebuild). Otherwise the Python code runs; both
give the same results.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import warnings
from pathlib import Path
from types import ModuleType


def pure_python() -> bool:
    """Whether ``KEDJA_PURE_PYTHON`` asks for the pure-Python code everywhere."""
    return os.environ.get("KEDJA_PURE_PYTHON", "").strip() not in ("", "0")


def source_hash(source: Path) -> str | None:
    """The first 16 hex digits of the sha256 of `source` (None where it is not shipped)."""
    try:
        return hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    except OSError:
        return None


def load(name: str, source: Path, abi: int) -> ModuleType | None:
    """The extension module `name` built from `source`, or None (see the module docstring).

    `abi` is what the Python side expects of it (its ``ABI`` constant); setup.py compiles the
    source's hash into its ``SOURCE_HASH``.
    """
    if pure_python():
        return None
    try:
        module = importlib.import_module(name)
    except ImportError:
        return None
    expected = source_hash(source)
    if module.ABI != abi or (expected is not None and module.SOURCE_HASH != expected):
        warnings.warn(
            f"{name} was built from other sources than {source.name}; running the pure-Python "
            "code instead (rebuild with `pip install -e .`)",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return module


#: The host kernels' C module, or None (see backends/kernels/).
host_kernels = load("backends._host_kernels", Path(__file__).with_name("_host_kernels.c"), 1)
