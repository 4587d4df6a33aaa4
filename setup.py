"""Builds the optional C extensions (the autograd core, the host kernels); the rest of the
package is declared in pyproject.toml.

Where no C compiler is found their build is skipped (``optional=True``) and kedja runs the
Python code each of them has a twin of (see backends/native.py).
"""

import hashlib
from pathlib import Path

from setuptools import Extension, setup


def extension(name: str, source: str, hash_macro: str) -> Extension:
    """An optional extension with the sha256 prefix of its source compiled in (so that a
    stale build is recognised: see backends/native.py)."""
    digest = hashlib.sha256((Path(__file__).parent / source).read_bytes()).hexdigest()[:16]
    return Extension(name, [source], define_macros=[(hash_macro, f'"{digest}"')], optional=True)


setup(
    ext_modules=[
        extension("autograd._ccore", "autograd/_ccore.c", "CORE_SOURCE_HASH"),
        extension("backends._host_kernels", "backends/_host_kernels.c", "KERNELS_SOURCE_HASH"),
    ]
)
