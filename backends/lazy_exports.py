"""Package attributes loaded on first use (PEP 562), so that importing a package stays cheap.

`autograd`, `nn`, `optim` and `backends.kernels` list their rarely needed public names with the
submodule that defines each; the first ``pkg.Name`` (or ``from pkg import Name``) imports that
submodule and keeps the value in the package, so later uses cost a plain attribute read.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection, Iterable
from typing import Any


def lazy_exports(package: str, namespace: dict, names: dict[str, str],
                 submodules: Collection[str] = (), *,
                 wrap: Callable[[str, Any], Any] | None = None,
                 listed: Iterable[str] | None = None) -> tuple[Callable, Callable]:
    """The ``(__getattr__, __dir__)`` of package `package` (its `namespace`: ``globals()``).

    Args:
        names: public name -> submodule defining it, relative to the package ("layers.basic").
        submodules: submodules that are attributes of the package once loaded.
        wrap: applied to each value as it is loaded, ``wrap(name, value)``.
        listed: what ``dir()`` returns (default: the namespace, `names` and `submodules`).
    """

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is not None:
            value = getattr(importlib.import_module(f".{module.lstrip('.')}", package), name)
            if wrap is not None:
                value = wrap(name, value)
            namespace[name] = value
            return value
        if name in submodules:
            return importlib.import_module(f".{name}", package)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        if listed is not None:
            return sorted(listed)
        return sorted({*namespace, *names, *submodules})

    return __getattr__, __dir__
