"""Builds the optional C core (autograd/_ccore.c); everything else is in pyproject.toml.

Where no C compiler is found the build of the extension is skipped (``optional=True``) and
kedja runs on its pure-Python core (see autograd/_native.py).
"""

import hashlib
from pathlib import Path

from setuptools import Extension, setup

SOURCE = "autograd/_ccore.c"
DIGEST = hashlib.sha256((Path(__file__).parent / SOURCE).read_bytes()).hexdigest()[:16]

setup(
    ext_modules=[
        Extension(
            "autograd._ccore",
            [SOURCE],
            define_macros=[("CORE_SOURCE_HASH", f'"{DIGEST}"')],
            optional=True,
        )
    ]
)
