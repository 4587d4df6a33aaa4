"""Whether operations are recorded for backward: `no_grad`, `enable_grad`, `set_grad_enabled`.

The flag is one module-level attribute read by every op, so checking it costs a dictionary lookup.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State:
    enabled: bool = True


state = _State()


def is_grad_enabled() -> bool:
    """True while operations are being recorded."""
    return state.enabled


class set_grad_enabled:
    """Turns recording on or off: as a plain call, a context manager, or a decorator."""

    def __init__(self, mode: bool) -> None:
        self.prev = state.enabled
        self.mode = bool(mode)
        state.enabled = self.mode

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        state.enabled = self.prev


class _GradModeContext:
    mode: bool = True

    def __enter__(self) -> None:
        self.prev = state.enabled
        state.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        state.enabled = self.prev

    def __call__(self, func: F) -> F:
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = state.enabled
            state.enabled = mode
            try:
                return func(*args, **kwargs)
            finally:
                state.enabled = prev

        return wrapper  # type: ignore[return-value]


class no_grad(_GradModeContext):
    """Context manager and decorator that stops recording: results have no ``grad_fn``.

        >>> with ag.no_grad():
        ...     y = x * 2          # y.requires_grad is False
    """

    mode = False


class enable_grad(_GradModeContext):
    """Context manager and decorator that records operations even inside ``no_grad``."""

    mode = True
