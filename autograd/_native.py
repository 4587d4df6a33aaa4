"""Chooses the core: the C extension `autograd._ccore` where it was built, else pure Python.

The C core (autograd/csrc/) holds the per-op machinery: Tensor's and Function's fields,
`Function.apply`, `saved_tensors`, Tensor's arithmetic operators, the grad mode and the
first-order backward walk. Each piece has its Python reference beside it (tensor_base.py,
function_base.py, grad_mode.py, engine.py), which runs where no compiler was found at install
time, or with ``KEDJA_PURE_PYTHON=1``, or when the build is stale (see `backends.native.load`).
Both cores pass the same tests; only speed differs.
"""

from __future__ import annotations

from pathlib import Path

from backends.native import load

#: What the Python side expects of the extension (`CORE_ABI` in csrc/core.h).
ABI = 3
SOURCES = Path(__file__).with_name("csrc")

#: The C core module, or None when the pure-Python core runs.
core = load("autograd._ccore", SOURCES, ABI)


def native() -> bool:
    """Whether the C core is running (False: the pure-Python reference core)."""
    return core is not None
