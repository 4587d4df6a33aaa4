"""CuPy's API surface (functions, ufuncs, array methods and their keywords), read from the
installed CuPy package and committed as cupy_surface.json, so that the fake device offers
exactly what CuPy has and an ``xp`` call CuPy lacks fails in CI, where no GPU (and no CuPy) is.

Regenerate after a CuPy upgrade (CuPy imports without a GPU)::

    pip install -e '.[dev]' && python -m backends.cupy_surface

`load()` reads the committed file (no CuPy needed).
"""

from __future__ import annotations

import functools
import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

PATH = Path(__file__).with_name("cupy_surface.json")
#: The namespaces the fake device offers (as ``xp.<name>``); others are not part of it.
NAMESPACES = ("", "linalg", "fft", "lib", "lib.stride_tricks")
_ANY = None  # a callable taking **kwargs (or one whose keywords cannot be read): any keyword


def _params(params: list, var_kw: bool) -> list | None:
    return None if var_kw else params


def _from_signature(fn: Any) -> list | None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return _from_docstring(fn)
    names = [p.name for p in sig.parameters.values()
             if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != "self"]
    var_kw = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
    return _params(names, var_kw)


def _from_docstring(fn: Any) -> list | None:
    """Keyword names from a Cython method's embedded signature, ``name(self, a, b=1) -> T``."""
    first = (getattr(fn, "__doc__", None) or "").strip().splitlines()
    match = re.match(r"[\w.]+\((.*)\)", first[0]) if first else None
    if match is None:
        return _ANY
    names, var_kw = [], False
    for part in match.group(1).split(","):
        part = part.strip().replace("\\", "")
        if not part or part in ("self", "/", "*"):
            continue
        if part.startswith("**"):
            var_kw = True
        elif not part.startswith("*"):
            names.append(part.split("=")[0].strip())
    return _params(names, var_kw)


def generate() -> dict:
    """The surface of the installed CuPy (needs CuPy; no GPU)."""
    import cupy

    surface: dict = {"cupy_version": cupy.__version__, "namespaces": {}, "methods": {}}
    for space in NAMESPACES:
        module = cupy
        for part in filter(None, space.split(".")):
            module = getattr(module, part)
        functions, ufuncs, values = {}, [], []
        for name in sorted(dir(module)):
            if name.startswith("_"):
                continue
            obj = getattr(module, name)
            if isinstance(obj, cupy.ufunc):
                ufuncs.append(name)
            elif inspect.ismodule(obj) or isinstance(obj, type):
                values.append(name)
            elif callable(obj):
                functions[name] = _from_signature(obj)
            else:
                values.append(name)
        surface["namespaces"][space] = {"functions": functions, "ufuncs": ufuncs,
                                        "values": values}
    for name in sorted(dir(cupy.ndarray)):
        if name.startswith("_"):
            continue
        attr = getattr(cupy.ndarray, name)
        surface["methods"][name] = _from_docstring(attr) if callable(attr) else "attribute"
    return surface


@functools.lru_cache(maxsize=1)
def load() -> dict:
    """The committed surface (cupy_surface.json), read once."""
    return json.loads(PATH.read_text())


def main() -> int:
    surface = generate()
    PATH.write_text(json.dumps(surface, indent=1, sort_keys=True) + "\n")
    spaces = surface["namespaces"]
    print(f"wrote {PATH}: CuPy {surface['cupy_version']}, "
          + ", ".join(f"xp{'.' + s if s else ''}: {len(v['functions']) + len(v['ufuncs'])}"
                      for s, v in spaces.items())
          + f", {len(surface['methods'])} ndarray members")
    return 0


if __name__ == "__main__":
    sys.exit(main())
