"""Runs library functions on their tensors' device: CuPy launches raw array operators on the
*current* device, so work on ``cuda:1`` tensors must run while cuda:1 is current."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from autograd.tensor import Tensor
from backends import SCOPES_NEEDED as _SCOPES_NEEDED


def backend_needing_scope(args: tuple) -> Any:
    """The backend of the first Tensor in `args` if it needs a device scope, else None."""
    if not _SCOPES_NEEDED[0]:  # no such backend exists (CPU, one GPU): one list read
        return None
    for a in args:
        if isinstance(a, Tensor):
            backend = a._backend
            return backend if backend.needs_device_scope else None
    return None


def scoped(fn: Callable) -> Callable:
    """`fn` run inside the device scope of its first Tensor argument (where one is needed)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        if not _SCOPES_NEEDED[0]:
            return fn(*args, **kwargs)
        backend = backend_needing_scope(args)
        if backend is None:
            return fn(*args, **kwargs)
        with backend.device_scope():
            return fn(*args, **kwargs)

    return run


def scope_functions(namespace: dict, names: list) -> None:
    """Wraps the functions `names` defined in module `namespace` with `scoped`, in place."""
    module = namespace["__name__"]
    for name in names:
        fn = namespace.get(name)
        if callable(fn) and not isinstance(fn, type) and getattr(fn, "__module__", "") == module:
            namespace[name] = scoped(fn)
