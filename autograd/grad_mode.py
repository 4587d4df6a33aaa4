"""Whether operations are recorded for backward: `no_grad`, `enable_grad`, `set_grad_enabled`.

The flag is one attribute read by every op, so checking it costs an attribute lookup. It is
thread-local (as in PyTorch): a data-loading thread under ``no_grad`` must not switch recording
off for the training thread.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ._native import core as _core

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    # The class attributes are every new thread's starting values.
    enabled: bool = True
    #: While a first-order backward runs an op's rule on raw arrays: that op's backend, else
    #: None. `Function.apply` then works on raw arrays too (see Function.raw_backward).
    raw_backend: object = None
    #: While a backward with `inputs` (autograd.grad) runs: the nodes and leaves whose
    #: gradients it returns. A rule must not send a gradient around one (see BlockMaxPool2d).
    captured: object = None


#: The running thread's grad mode; the C core keeps it in C thread-locals (same attributes).
state = _core.GradState() if _core is not None else _State()


def is_grad_enabled() -> bool:
    """True while operations are being recorded."""
    return state.enabled


def _decorate(func: F, mode: bool) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        prev = state.enabled
        state.enabled = mode
        try:
            return func(*args, **kwargs)
        finally:
            state.enabled = prev

    return wrapper  # type: ignore[return-value]


class _GradModeContext:
    mode: bool = True

    def __new__(cls, func: Any = None) -> Any:
        # ``@no_grad`` without parentheses: decorate `func` directly.
        if func is not None:
            if not callable(func):
                raise TypeError(f"{cls.__name__}() takes no arguments, got {func!r}")
            return _decorate(func, cls.mode)
        return super().__new__(cls)

    def __init__(self, func: Any = None) -> None:
        # A stack, so that one instance may be entered again while it is active.
        self._prev: list[bool] = []

    def __enter__(self) -> None:
        self._prev.append(state.enabled)
        state.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        state.enabled = self._prev.pop()

    def __call__(self, func: F) -> F:
        return _decorate(func, self.mode)


class set_grad_enabled:
    """Turns recording on or off: as a plain call, a context manager, or a decorator.

        >>> ag.set_grad_enabled(False)          # a plain call switches now
        >>> with ag.set_grad_enabled(is_train):  # switched now, restored on exit
        ...     y = model(x)
        >>> @ag.set_grad_enabled(False)         # only while the function runs
        ... def predict(x): ...
    """

    def __init__(self, mode: bool) -> None:
        self.prev = state.enabled
        self.mode = bool(mode)
        state.enabled = self.mode

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        state.enabled = self.prev

    def __call__(self, func: F) -> F:
        # Used as a decorator: undo the switch made at construction, apply it per call.
        state.enabled = self.prev
        return _decorate(func, self.mode)


class no_grad(_GradModeContext):
    """Context manager and decorator that stops recording: results have no ``grad_fn``.

        >>> with ag.no_grad():
        ...     y = x * 2          # y.requires_grad is False
    """

    mode = False


class enable_grad(_GradModeContext):
    """Context manager and decorator that records operations even inside ``no_grad``."""

    mode = True


class _InferenceState(threading.local):
    enabled: bool = False


_inference = _InferenceState()


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()``."""
    return _inference.enabled


class inference_mode:
    """PyTorch's ``inference_mode``: nothing is recorded inside (as under ``no_grad``); a
    context manager and a decorator (``@ag.inference_mode`` or ``@ag.inference_mode()``).

    ``inference_mode(False)`` switches it off again for a block: recording is back on, as in
    PyTorch. kedja's tensors made inside may later be used in recorded computations (PyTorch
    forbids that for its "inference tensors"); nothing else differs from ``no_grad``.

        >>> with ag.inference_mode():
        ...     y = model(x)          # y.requires_grad is False
    """

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode):  # ``@inference_mode`` without parentheses
            return cls(True)(mode)
        return super().__new__(cls)

    def __init__(self, mode: Any = True) -> None:
        self.mode = bool(mode)
        self._prev: list[tuple] = []  # a stack: one instance may be entered again while active

    def __enter__(self) -> None:
        self._prev.append((state.enabled, _inference.enabled))
        state.enabled = not self.mode
        _inference.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        state.enabled, _inference.enabled = self._prev.pop()

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(self.mode):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]
