"""Anomaly mode: find the forward line behind a NaN or inf gradient (PyTorch's detect_anomaly).

While it is on, every recorded op keeps the Python stack of the call that recorded it, and
backward checks what each op's rule returns: a NaN or an infinity raises a RuntimeError that
names the op and shows that stack; any other error a rule raises gets the stack as a note.

    >>> with ag.detect_anomaly():
    ...     loss = model(x).sum()
    ...     loss.backward()      # RuntimeError: anomaly mode: the backward rule of Div ...

The switch is process-wide, as in PyTorch (grad mode is per thread). Off, it costs nothing: the
op recorder and the backward walk test one flag. On, every recorded op captures a stack (tens
of microseconds), backward runs the Python walk instead of the C core's, and each gradient is
read back once for the check: on a GPU that is one synchronisation per op's gradient.
"""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from . import function_base as _function_base
from ._native import core as _core
from .tensor import Tensor

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]


class _Mode:
    """The process-wide switch (read by the engine at the start of each backward)."""

    enabled = False
    check_nan = True


mode = _Mode()


def _switch(enabled: bool, check_nan: bool) -> None:
    mode.enabled = bool(enabled)
    mode.check_nan = bool(check_nan)
    # The op recorders of both cores test their own copy of the flag (one load, no call).
    _function_base._ANOMALY = mode.enabled
    if _core is not None:
        _core.set_anomaly(mode.enabled)


def is_anomaly_enabled() -> bool:
    """Whether anomaly mode is on."""
    return mode.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly mode checks gradients for NaN and inf (``check_nan``)."""
    return mode.check_nan


def _decorate(func: F, enabled: bool, check_nan: bool) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        prev = mode.enabled, mode.check_nan
        _switch(enabled, check_nan)
        try:
            return func(*args, **kwargs)
        finally:
            _switch(*prev)

    return wrapper  # type: ignore[return-value]


class detect_anomaly:
    """Turns anomaly mode on inside a ``with`` block or a decorated function.

    Args:
        check_nan: check every gradient a backward rule returns for NaN and inf (default
            True); with False, only the forward stacks are kept, for errors a rule raises.

        >>> with ag.detect_anomaly():
        ...     y = (x / x.detach() * 0).sum()
        ...     y.backward()
        >>> @ag.detect_anomaly()              # or @ag.detect_anomaly
        ... def train_step(batch): ...
    """

    def __new__(cls, check_nan: Any = True) -> Any:
        if callable(check_nan):  # ``@detect_anomaly`` without parentheses
            return _decorate(check_nan, True, True)
        return super().__new__(cls)

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = bool(check_nan)
        self._prev: list[tuple[bool, bool]] = []  # a stack: one instance may be re-entered

    def __enter__(self) -> None:
        self._prev.append((mode.enabled, mode.check_nan))
        _switch(True, self.check_nan)

    def __exit__(self, *exc: object) -> None:
        _switch(*self._prev.pop())

    def __call__(self, func: F) -> F:
        return _decorate(func, True, self.check_nan)


class set_detect_anomaly:
    """Turns anomaly mode on or off: as a plain call, a context manager or a decorator.

        >>> ag.set_detect_anomaly(True)            # switched now, until switched back
        >>> with ag.set_detect_anomaly(False): ... # switched now, restored on exit
    """

    def __init__(self, mode_on: bool, check_nan: bool = True) -> None:
        self.prev = mode.enabled, mode.check_nan
        self.mode = bool(mode_on), bool(check_nan)
        _switch(*self.mode)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        _switch(*self.prev)

    def __call__(self, func: F) -> F:
        # Used as a decorator: undo the switch made at construction, apply it per call.
        _switch(*self.prev)
        return _decorate(func, *self.mode)


# -- recording: the forward stack of each op ------------------------------------------------
def record(fn: Any) -> None:
    """Keeps the Python stack that is recording `fn` (called by both cores' op recorders)."""
    frame = sys._getframe(1)
    # Leave out the recorder's own frames (Function.apply's Python twin).
    while frame is not None and frame.f_code.co_filename == _function_base.__file__:
        frame = frame.f_back
    # lookup_lines=False: source lines are read when an error is shown, not per op.
    stack = traceback.StackSummary.extract(traceback.walk_stack(frame), lookup_lines=False)
    stack.reverse()
    fn._forward_stack = stack


def forward_stack(fn: Any) -> str:
    """Where the forward recorded `fn`, formatted as a traceback (or why it is not known)."""
    stack = getattr(fn, "_forward_stack", None)
    if stack is None:
        return ("  (no forward stack: the op was recorded while anomaly mode was off; turn it "
                "on before the forward pass)\n")
    return "".join(traceback.format_list(stack))


# -- checking: what each backward rule returns ---------------------------------------------
def _all_finite(backend: Any, array: Any) -> bool:
    """Whether every element of `array` is finite (a read back to the host on a device)."""
    if array.dtype.kind not in "fc":
        return True
    ok = backend.xp.isfinite(array).all()
    return bool(backend.to_numpy(ok)) if backend.is_device else bool(ok)


def check_gradients(node: Any, grads: tuple) -> None:
    """Raises if a gradient `node`'s backward rule returned holds a NaN or an infinity."""
    backend = node.backend
    for position, gx in enumerate(grads):
        if gx is None:
            continue
        array = gx.array if isinstance(gx, Tensor) else gx  # create_graph: Tensors
        if not hasattr(array, "dtype") or _all_finite(backend, array):
            continue
        xp = backend.xp
        has_nan = bool(backend.to_numpy(xp.isnan(array).any())) if backend.is_device else bool(
            xp.isnan(array).any())
        what = "nan" if has_nan else "inf"
        raise RuntimeError(
            f"anomaly mode: the backward rule of {node.name()} returned {what} values in its "
            f"gradient for input {position} (shape {tuple(array.shape)}, {array.dtype}). "
            f"The forward call that recorded {node.name()}:\n{forward_stack(node)}"
            "Look there for a division by zero, log or sqrt of 0 or a negative, an overflow, "
            "or NaN already in the inputs."
        )


def annotate(node: Any, error: BaseException) -> None:
    """Adds the forward stack of `node` to an error its backward rule raised (as a note)."""
    if getattr(error, "_kedja_anomaly_noted", False) or not hasattr(error, "add_note"):
        return
    error.add_note(f"anomaly mode: the error came from the backward rule of {node.name()}, "
                   f"recorded by the forward call:\n{forward_stack(node)}")
    error._kedja_anomaly_noted = True  # one note, from the innermost rule


_function_base._anomaly_record = record
if _core is not None:
    _core.configure(anomaly_record=record)
