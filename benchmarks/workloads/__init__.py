"""The workloads, in table order: each module has ``rows(ctx) -> list[Row]``."""

from __future__ import annotations

import importlib
from types import ModuleType

# name -> module; `--only` selects by these names (or a row name).
WORKLOADS = {
    "per_op": "per_op",
    "mlp": "mlp",
    "cnn": "cnn",
    "long_chain": "long_chain",
    "adam": "adam",
    "memory": "memory",
    "array_ops": "array_ops",
    "gpt": "gpt",
    "lstm": "lstm",
    "compiled": "compiled",
}


def load(name: str) -> ModuleType:
    return importlib.import_module(f".{WORKLOADS[name]}", __name__)
