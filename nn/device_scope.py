"""Runs library functions on their tensors' device: CuPy launches raw array operators on the
*current* device, so work on ``cuda:1`` tensors must run while cuda:1 is current."""

from __future__ import annotations

from typing import Any

from autograd.tensor import Tensor
from backends import SCOPES_NEEDED as _SCOPES_NEEDED
from backends.device_scope import scoped


def backend_needing_scope(args: tuple) -> Any:
    """The backend of the first Tensor in `args` if it needs a device scope, else None."""
    if not _SCOPES_NEEDED[0]:  # no such backend exists (CPU, one GPU): one list read
        return None
    for a in args:
        if isinstance(a, Tensor):
            backend = a._backend
            return backend if backend.needs_device_scope else None
    return None


#: Runs a function with its first Tensor argument's device current (where that one needs it).
_on_first_tensors_device = scoped(lambda *args, **kwargs: backend_needing_scope(args))


def scope_functions(namespace: dict, names: list) -> None:
    """Wraps the functions `names` defined in module `namespace`, in place, to run on their
    first Tensor argument's device."""
    module = namespace["__name__"]
    for name in names:
        fn = namespace.get(name)
        if callable(fn) and not isinstance(fn, type) and getattr(fn, "__module__", "") == module:
            namespace[name] = _on_first_tensors_device(fn)
