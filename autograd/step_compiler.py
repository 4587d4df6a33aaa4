"""`ag.compile`: capture a training step's array calls once, then replay them without Python.

``step = ag.compile(train_step)`` runs ``train_step`` once while `autograd.capture` records
every host array call it makes (forward, backward, and whatever else runs on arrays), then
each later call with the same guards copies the tensor arguments into the captured input
buffers and replays the recorded calls into the captured buffers: no Tensor, no graph node, no
per-op dispatch. ``optimizer.step()``, ``lr_scheduler.step()`` and GradScaler's ``unscale_``/
``step``/``update`` are not recorded but called live at their place in the replay, so the
Python numbers they read (Adam's step count, the learning rate, the scale) are the current
ones, exactly as in eager mode. See docs/compile.md.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import backends

from . import autocast_mode as _autocast
from . import capture as _capture
from . import dtypes as _dtypes
from .capture import CaptureError
from .compile_capture import Capture, _record
from .grad_mode import is_grad_enabled
from .tensor import Tensor

__all__ = ["compile", "CompiledFunction", "CaptureError"]

_FALLBACKS = ("raise", "eager")


def compile(fn: Callable | None = None, *, fallback: str = "raise",  # noqa: A001
            max_captures: int = 8) -> Any:
    """Compiles `fn` (a training step taking tensors) into a capture-and-replay function.

    Args:
        fn: the function; its tensor arguments are copied into captured input buffers at each
            call, everything else it reads (parameters, optimizer state) is used in place.
        fallback: what to do when a call cannot be captured (a host read such as ``.item()``,
            random numbers, a data-dependent shape): ``"raise"`` raises `CaptureError` naming
            it, ``"eager"`` warns once and runs `fn` eagerly for those guards from then on.
        max_captures: captures kept, one per guard key (least recently used dropped).

    Returns:
        A `CompiledFunction`; usable as a decorator, with or without arguments.

        >>> step = ag.compile(train_step)          # or @ag.compile(fallback="eager")
        >>> loss = step(x, y)                      # first call: eager, captured
        >>> loss = step(x, y)                      # later calls: replayed
    """
    if fallback not in _FALLBACKS:
        raise ValueError(f"ag.compile: fallback must be one of {_FALLBACKS}, got {fallback!r}")
    if fn is None:
        return functools.partial(compile, fallback=fallback, max_captures=max_captures)
    if not callable(fn):
        raise TypeError(f"ag.compile: expected a function, got {type(fn).__name__}")
    return CompiledFunction(fn, fallback=fallback, max_captures=max_captures)


class CompiledFunction:
    """`fn` with a small cache of captures keyed by the guards (see `compile`)."""

    def __init__(self, fn: Callable, *, fallback: str, max_captures: int) -> None:
        self.fn = fn
        self.fallback = fallback
        self.max_captures = max_captures
        self._captures: dict = {}
        self._eager: set = set()  # guard keys that could not be captured (fallback="eager")
        self._warm: set = set()  # guard keys whose eager warm-up call ran (device steps)
        self.captures_made = 0  # how many captures ran (tests and users can watch it)
        functools.update_wrapper(self, fn)

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        # Decorating a method: bound, `self` is an argument (part of the guard, by identity).
        return self if obj is None else functools.partial(self, obj)

    def reset(self) -> None:
        """Drops every capture: the next call captures again."""
        self._captures.clear()
        self._eager.clear()
        self._warm.clear()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _capture.active is not None:
            # Called by a function being captured: its calls become part of that capture.
            return self.fn(*args, **kwargs)
        tensors = [a for a in args if isinstance(a, Tensor)]
        key = _guard_key(args, kwargs)
        if key in self._eager:
            return self.fn(*args, **kwargs)
        found = self._captures.get(key)
        if found is not None and found.foreign is not None and found.valid():
            return self._confirm(key, found, args, kwargs)
        if found is not None and found.valid():
            self._captures[key] = self._captures.pop(key)  # most recently used last
            return found.replay(tensors)
        backend = tensors[0]._backend if tensors else backends.default()
        if backend.name != "numpy":
            return self._device_call(key, args, kwargs, backend)
        try:
            result, capture = _record(self.fn, args, kwargs, backend, self.fallback)
        except CaptureError as error:
            if self.fallback == "raise":
                raise
            return self._not_captured(key, args, kwargs, error, ran=True)
        self.captures_made += 1
        if isinstance(capture, CaptureError):
            return self._not_captured(key, args, kwargs, capture, ran=True, result=result)
        self._captures[key] = capture
        while len(self._captures) > self.max_captures:
            self._captures.pop(next(iter(self._captures)))
        return result

    def _confirm(self, key: Any, first: Capture, args: tuple, kwargs: dict) -> Any:
        """Captures again (an eager run) and compares the arrays the first capture read without
        seeing them made: unchanged, they are constants (a cache from before the capture) and
        the new capture replays from now on; changed, they were computed from this step's
        data by code the recorder could not see, and the step cannot be captured."""
        result, capture = _record(self.fn, args, kwargs, first.backend, self.fallback)
        if isinstance(capture, CaptureError):
            return self._not_captured(key, args, kwargs, capture, ran=True, result=result)
        now = capture.foreign or []
        changed = None
        if len(now) != len(first.foreign):
            changed = (now or first.foreign)[0]
        for (name, value), (_, value_0) in zip(now, first.foreign):
            # Compared by value, not identity: ag.tensor(host_array) in fn copies a constant
            # anew at each call. (A value computed behind the recorder's back that is equal at
            # the first two calls passes for a constant: docs/compile.md says so.)
            if changed is None and (value.shape != value_0.shape
                                    or value.dtype != value_0.dtype
                                    or value.tobytes() != value_0.tobytes()):
                changed = (name, value)
        if changed is not None:
            self._captures.pop(key, None)
            name, value = changed
            return self._not_captured(key, args, kwargs, CaptureError(
                f"ag.compile cannot capture a read (by {name}) of an array of shape "
                f"{value.shape} made during the step by code outside the backend's namespace "
                "(numpy called directly on a tensor's array?): a replay would read the "
                "capture's values"), ran=True, result=result)
        capture.foreign = None
        self.captures_made += 1
        self._captures[key] = capture
        return result

    def _device_call(self, key: Any, args: tuple, kwargs: dict, backend: Any) -> Any:
        """A device step: an eager warm-up call, then a capture as one graph, then launches."""
        from .compile_graph import capture_on_device

        if not getattr(backend, "supports_graphs", False):
            return self._not_captured(
                key, args, kwargs,
                CaptureError(f"ag.compile: {backend.device} ({backend.name} backend) has no "
                             "graph capture (backend.supports_graphs is False)"), ran=False)
        if key not in self._warm:
            self._warm.add(key)  # lazy state (optimizer moments, gradients) made eagerly first
            return self.fn(*args, **kwargs)
        try:
            capture = capture_on_device(self.fn, args, kwargs, backend)
        except CaptureError as error:
            return self._not_captured(key, args, kwargs, error, ran=False)
        self.captures_made += 1
        self._captures[key] = capture
        while len(self._captures) > self.max_captures:
            self._captures.pop(next(iter(self._captures)))
        return capture.replay([a for a in args if isinstance(a, Tensor)])

    def _not_captured(self, key: Any, args: tuple, kwargs: dict, error: CaptureError,
                      ran: bool, result: Any = None) -> Any:
        if self.fallback == "raise":
            raise error
        warnings.warn(f"{error}; running {getattr(self.fn, '__name__', 'it')} eagerly for "
                      "these inputs", RuntimeWarning, stacklevel=3)
        self._eager.add(key)
        return result if ran else self.fn(*args, **kwargs)


def _guard_key(args: tuple, kwargs: dict) -> tuple:
    """What a capture depends on besides the arrays it reads: tensors' shape, dtype, device and
    requires_grad, other arguments' values, the grad mode, the default dtype and the autocast
    regions (modules' training flags are checked by `Capture.valid`)."""
    parts: list = [is_grad_enabled(), str(_dtypes.get_default_dtype()),
                   tuple(sorted((str(k), str(v)) for k, v in _autocast.state.dtypes.items()))]
    for a in args:
        parts.append(_guard_of(a))
    for name in sorted(kwargs):
        if isinstance(kwargs[name], Tensor):
            raise TypeError(f"ag.compile: pass tensors positionally (got tensor {name}=)")
        parts.append((name, _guard_of(kwargs[name])))
    return tuple(parts)


def _guard_of(a: Any) -> Any:
    if isinstance(a, Tensor):
        return (a.array.shape, str(a.array.dtype), a._backend.device, a.requires_grad)
    try:
        hash(a)
    except TypeError:
        raise TypeError(
            "ag.compile: arguments other than tensors are part of the guard and must be "
            f"hashable (numbers, strings, tuples), got {type(a).__name__}") from None
    return (type(a), a)
