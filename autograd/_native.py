"""Chooses the core: the C extension `autograd._ccore` where it was built, else pure Python.

The C core (autograd/_ccore.c) holds the per-op machinery: Tensor's and Function's fields,
`Function.apply`, `saved_tensors`, Tensor's arithmetic operators, the grad mode and the
first-order backward walk. Each piece has its Python reference beside it (tensor_base.py,
function_base.py, grad_mode.py, engine.py), which runs where no compiler was found at install
time, or with ``KEDJA_PURE_PYTHON=1``. Both cores pass the same tests; only speed differs.

A build made from other sources than the ``_ccore.c`` next to it (an editable install whose C
file changed since) is not loaded: the pure-Python core runs, with a warning to rebuild.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from typing import Any

#: What the Python side expects of the extension (`CORE_ABI` in _ccore.c).
ABI = 1


def _source_hash() -> str | None:
    """The first 16 hex digits of the sha256 of ``_ccore.c`` (None where it is not shipped)."""
    source = Path(__file__).with_name("_ccore.c")
    try:
        return hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    except OSError:
        return None


def _load() -> Any:
    if os.environ.get("KEDJA_PURE_PYTHON", "").strip() not in ("", "0"):
        return None
    try:
        from . import _ccore
    except ImportError:
        return None
    expected = _source_hash()
    if _ccore.ABI != ABI or (expected is not None and _ccore.SOURCE_HASH != expected):
        warnings.warn(
            "autograd._ccore was built from other sources than autograd/_ccore.c; running the "
            "pure-Python core (rebuild with `pip install -e .`)",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return _ccore


#: The C core module, or None when the pure-Python core runs.
core = _load()


def native() -> bool:
    """Whether the C core is running (False: the pure-Python reference core)."""
    return core is not None
