"""Runs work with a backend's device current: CuPy launches raw array operators and allocates on
the *current* device, so work on ``cuda:1`` arrays must run while cuda:1 is current (the strict
fake device checks the same on ``fake:1``). Library code that runs raw array operators outside
an op (in-place writes, initialisers, collectives, optimizer state casts) goes through here.

Until a backend that needs a scope exists (``SCOPES_NEEDED``: several GPUs, or fake:N with
N > 0), both helpers cost one list read before the plain call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from . import SCOPES_NEEDED as _SCOPES_NEEDED


def call_scoped(backend: Any, fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` with `backend`'s device current (`backend` None: a plain call).

    Entered whenever any backend needs scopes, not only where `backend` itself does: its
    scope is then what makes it current again inside another device's scope (fake:0 within
    fake:1's, as cuda:0 within cuda:1's, where every CuPy backend needs one)."""
    if _SCOPES_NEEDED[0] and backend is not None:
        with backend.device_scope():
            return fn(*args, **kwargs)
    return fn(*args, **kwargs)


def scoped(backend_of: Callable[..., Any]) -> Callable[[Callable], Callable]:
    """Decorator: the function runs with the device of ``backend_of(*args, **kwargs)`` (its own
    arguments) current, as `call_scoped` runs it.

        >>> @scoped(lambda tensor, value: tensor._backend)
        ... def fill(tensor, value): ...
    """

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            if not _SCOPES_NEEDED[0]:  # the usual case: no lookup of the backend at all
                return fn(*args, **kwargs)
            return call_scoped(backend_of(*args, **kwargs), fn, *args, **kwargs)

        return run

    return decorate
