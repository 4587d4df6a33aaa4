"""Loads kedja's optional C extensions, each a faster twin of Python code kept beside it.

Two extensions exist: `autograd._ccore` (the per-op machinery; see autograd/_native.py) and
`backends._host_kernels` (one-pass loops for host arrays; see backends/kernels/). Each is used
when `pip install` built it (it needs a C compiler), unless ``KEDJA_PURE_PYTHON=1`` is set,
and unless it was built from other sources than the C files in its ``csrc/`` folder (an
editable install whose C files changed since: a warning says to rebuild). Otherwise the Python
code runs. Both cores give the same bits; the host loops do too, but for two that round
differently (docs/kernels.md, "Host C loops"). `ag.show_config()` says which code runs and why.
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


def source_hash(folder: Path) -> str | None:
    """The first 16 hex digits of the sha256 of a folder's C sources (``*.c``, ``*.h``), as
    setup.py compiles it in; None where the sources are not shipped."""
    paths = sorted(folder.glob("*.[ch]"))
    if not paths:
        return None
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


#: Why each extension `load` was asked for runs or not, by module name (`ag.show_config()`).
reasons: dict[str, str] = {}


def load(name: str, sources: Path, abi: int) -> ModuleType | None:
    """The extension module `name` built from the C files in `sources`, or None (see the
    module docstring); `reasons[name]` says why.

    `abi` is what the Python side expects of it (its ``ABI`` constant); setup.py compiles the
    sources' hash into its ``SOURCE_HASH``.
    """
    if pure_python():
        reasons[name] = "KEDJA_PURE_PYTHON is set"
        return None
    try:
        module = importlib.import_module(name)
    except ImportError as error:
        reasons[name] = f"not built (no C compiler at install time?): {error}"
        return None
    expected = source_hash(sources)
    if module.ABI != abi or (expected is not None and module.SOURCE_HASH != expected):
        warnings.warn(
            f"{name} was built from other sources than those in {sources}; running the "
            "pure-Python code instead (rebuild with `pip install -e .`)",
            RuntimeWarning,
            stacklevel=2,
        )
        reasons[name] = (f"stale build: built from other sources than those in {sources} "
                         "(rebuild with `pip install -e .`)")
        return None
    reasons[name] = f"{Path(module.__file__).name}, built from the current sources"
    return module


#: The host kernels' C module, or None (see backends/kernels/).
host_kernels = load("backends._host_kernels", Path(__file__).with_name("csrc"), 1)
