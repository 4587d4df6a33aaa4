"""Builds the optional C extensions (the autograd core, the host kernels); the rest of the
package is declared in pyproject.toml.

Where no C compiler is found their build is skipped (``optional=True``) and kedja runs the
Python code each of them has a twin of (see backends/native.py).
"""

import hashlib
import sys
from pathlib import Path

from setuptools import Extension, setup

ROOT = Path(__file__).parent


def sources_hash(folder: Path) -> str:
    """The sha256 prefix of a folder's C sources (the same as backends.native.source_hash)."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.[ch]")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


# No fused multiply-add contraction: the host loops round every product and sum on its own,
# as the NumPy bodies they must match bit for bit do (MSVC does not contract by default).
# -fno-trapping-math lets GCC vectorise loops with float compares in selects (fast_math.h's
# clamps); it changes no value, only whether a float exception flag may be raised.
NO_CONTRACTION = [] if sys.platform == "win32" else ["-ffp-contract=off", "-fno-trapping-math"]


def extension(name: str, folder: str, hash_macro: str, flags: list[str]) -> Extension:
    """An optional extension from every .c file of `folder`, with its sources' hash compiled
    in (so that a stale build is recognised)."""
    sources = sorted(str(p.relative_to(ROOT)) for p in (ROOT / folder).glob("*.c"))
    headers = sorted(str(p.relative_to(ROOT)) for p in (ROOT / folder).glob("*.h"))
    return Extension(name, sources, include_dirs=[folder], depends=headers,
                     define_macros=[(hash_macro, f'"{sources_hash(ROOT / folder)}"')],
                     extra_compile_args=flags, optional=True)


setup(
    ext_modules=[
        extension("autograd._ccore", "autograd/csrc", "CORE_SOURCE_HASH", []),
        extension("backends._host_kernels", "backends/csrc", "KERNELS_SOURCE_HASH",
                  NO_CONTRACTION),
    ]
)
