"""Records the host array calls of one run of a function, for `ag.compile` (step_compiler.py).

While a `Recorder` is active, every Tensor's NumPy array is swapped for a `Traced` view of the
same memory (an ndarray subclass, capture_traced.py), so each array operation on it reaches the
recorder: ufuncs and their methods through ``__array_ufunc__``, NumPy functions through
``__array_function__``, methods written in C (copy, astype, take, indexing) through overrides.
The backend's namespace ``backend.xp`` is replaced by a proxy that also sees creation functions
(zeros, empty_like, ...), which take no traced array. Each call is run once on plain views and
stored as ``(function, args, kwargs)``: its result array becomes the call's buffer, and the
stored call writes into it (``out=``), or copies into it where the function takes no ``out``.
Views of buffers (reshape, transpose, basic indexing) stay valid, as the memory does, and need
no call.

What cannot be replayed raises `CaptureError` naming it: random numbers, data-dependent shapes
(``nonzero``, boolean-mask indexing), a new array made by a path the recorder did not see. A
host read of an array inside library code (``bool(a)`` of a check) is recorded with its value
and checked again at replay (`ReplayDiverged`); `foreign_reads` lists the arrays the calls read
that nobody recorded making, for `ag.compile` to confirm as constants or refuse.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

#: The recorder now capturing, or None (one capture at a time, on one thread).
active: Recorder | None = None


class CaptureError(RuntimeError):
    """A step cannot be captured by `ag.compile`; the message names the operation and why."""


def _plain(a: Any) -> Any:
    """A Traced array as a plain ndarray view of the same memory; containers unwrapped deeply."""
    if isinstance(a, Traced):
        return a.view(np.ndarray)
    if type(a) is tuple:
        return tuple(_plain(x) for x in a)
    if type(a) is list:
        return [_plain(x) for x in a]
    if type(a) is dict:
        return {k: _plain(v) for k, v in a.items()}
    return a


def _traced(r: Any) -> Any:
    """Plain results as Traced views (NumPy scalars become 0-d arrays: they are buffers too)."""
    if isinstance(r, np.ndarray):
        return r if isinstance(r, Traced) else r.view(Traced)
    if isinstance(r, tuple):
        return tuple(_traced(x) for x in r)
    if isinstance(r, list):
        return [_traced(x) for x in r]
    return r


def _arrays(obj: Any, found: list) -> list:
    if isinstance(obj, np.ndarray):
        found.append(obj)
    elif isinstance(obj, (tuple, list)):
        for x in obj:
            _arrays(x, found)
    elif isinstance(obj, dict):
        for x in obj.values():
            _arrays(x, found)
    elif isinstance(obj, slice):
        _arrays((obj.start, obj.stop, obj.step), found)
    return found


def _is_traced_any(obj: Any) -> bool:
    return any(isinstance(a, Traced) for a in _arrays(obj, []))


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def _copy_into(buffer: np.ndarray, fn: Callable, args: tuple, kwargs: dict) -> None:
    """Replays a call that takes no ``out=``: runs it and copies its result into the buffer."""
    np.copyto(buffer, fn(*args, **kwargs), casting="unsafe")


def _copy_many(buffers: tuple, fn: Callable, args: tuple, kwargs: dict) -> None:
    for buffer, value in zip(buffers, fn(*args, **kwargs)):
        np.copyto(buffer, value, casting="unsafe")


class ReplayDiverged(CaptureError):
    """A value Python code read during the capture differs at replay: the step would take
    another path than the one recorded."""


def _same_value(a: Any, b: Any) -> bool:
    if a == b:
        return True
    return a != a and b != b  # NaN read both times


def _expect(read: Callable, array: Any, value: Any, what: str) -> None:
    """Replays a host read: the value must be the capture's, else the recorded path is wrong."""
    now = read(array)
    if not _same_value(now, value):
        raise ReplayDiverged(
            f"ag.compile: {what} read {now!r} at replay where the capture read {value!r}; the "
            "step depends on this value, so the recorded calls no longer fit it (call the "
            "compiled function's reset(), or run this step eagerly)")


def _expect_result(value: Any, fn: Callable, args: tuple, kwargs: dict) -> None:
    """Replays a call returning a Python value (a host C loop's status) and checks it."""
    _expect(lambda _: fn(*args, **kwargs), None, value, getattr(fn, "__name__", "a call"))


def _restore(buffer: np.ndarray, initial: np.ndarray) -> None:
    np.copyto(buffer, initial)


class Recorder:
    """The calls of one capture, in order, and what is known about their arrays."""

    def __init__(self) -> None:
        self.calls: list[tuple[Callable, tuple, dict]] = []
        self.paused = 0
        self.written: list[np.ndarray] = []  # arrays a recorded call writes in place
        self.creations: list[tuple] = []  # (index in calls, buffer, its value when made)
        self.problem: str | None = None  # first thing seen that cannot be replayed
        self.used_owners: dict[int, Any] = {}  # tensors whose own array a call read
        self.eager_fallback = False  # note problems and go on (True) or raise at once
        self.optimizers: list = []  # optimizers whose step ran live
        self.modules: dict = {}  # modules called, by id (their training flags are guarded)
        self.thread = threading.get_ident()  # the capturing thread
        self.known: list = []  # arrays whose memory the calls may read: see `foreign_reads`

    # -- refusing --------------------------------------------------------------------------
    def refuse(self, what: str) -> None:
        """Raises a CaptureError for `what`, and remembers it (user code may swallow it)."""
        message = f"ag.compile cannot capture {what}"
        if self.problem is None:
            self.problem = message
        if self.eager_fallback:
            # The capture run is an eager run: finish it untraced, then run eagerly from now on.
            self.paused += 1
            return
        raise CaptureError(message)

    def note_unrecorded(self, what: str) -> None:
        if self.problem is None:
            self.problem = f"ag.compile cannot capture {what}"

    # -- recording -------------------------------------------------------------------------
    def _note_owners(self, args: Any) -> None:
        for a in _arrays(args, []):
            owner = getattr(a, "_kedja_owner", None)
            if owner is not None:
                self.used_owners[id(owner)] = owner

    def call(self, fn: Callable, args: tuple, kwargs: dict, name: str,
             writes_first: bool = False, try_out: bool = True) -> Any:
        """Runs ``fn(*args, **kwargs)`` on plain views, records it, returns traced results."""
        self._note_owners((args, kwargs))
        pargs, pkwargs = _plain(args), _plain(kwargs)
        result = fn(*pargs, **pkwargs)
        if "out" in pkwargs and pkwargs["out"] is not None:
            out = pkwargs["out"]
            self.calls.append((fn, pargs, pkwargs))
            self.written.extend(_arrays(out, []))
            if writes_first and pargs:
                self.written.extend(_arrays(pargs[0], []))
            return kwargs["out"] if not isinstance(out, tuple) else _traced(result)
        if result is None or not (isinstance(result, (np.ndarray, np.generic))
                                  or (isinstance(result, tuple) and result
                                      and all(isinstance(r, (np.ndarray, np.generic))
                                              for r in result))):
            # In place (setitem, fill, ufunc.at, sort), or a Python value (a status, a shape)
            # that the replay checks is still the same.
            if result is None:
                self.calls.append((fn, pargs, pkwargs))
            else:
                self.calls.append((_expect_result, (result, fn, pargs, pkwargs), {}))
            if writes_first and pargs:
                self.written.extend(_arrays(pargs[0], []))
            return result
        inputs = _arrays((pargs, pkwargs), [])
        single = not isinstance(result, tuple)
        results = [result] if single else list(result)
        buffers = []
        for r in results:
            if isinstance(r, np.generic):
                r = np.asarray(r).copy()
            buffers.append(r)
        self.known.extend(buffers)
        if single and any(np.may_share_memory(buffers[0], a) for a in inputs):
            return _traced(buffers[0])  # a view of an input: the alias stays valid
        if fn is _COPY and not pkwargs and len(pargs) == 1:
            self.calls.append((np.copyto, (buffers[0], pargs[0]), {}))  # one pass, no alloc
            return _traced(buffers[0])
        replay = self._out_call(fn, pargs, pkwargs, buffers, single) if try_out else None
        if replay is None:
            if single:
                replay = (_copy_into, (buffers[0], fn, pargs, pkwargs), {})
            else:
                replay = (_copy_many, (tuple(buffers), fn, pargs, pkwargs), {})
        self.calls.append(replay)
        if writes_first and pargs:
            self.written.extend(_arrays(pargs[0], []))
        return _traced(buffers[0]) if single else tuple(_traced(b) for b in buffers)

    def _out_call(self, fn: Callable, pargs: tuple, pkwargs: dict, buffers: list,
                  single: bool) -> tuple | None:
        """The call writing into `buffers` with ``out=``, if `fn` takes it and gives the same
        bits that way (tried once here, on scratch arrays)."""
        if any(b.ndim == 0 and not isinstance(fn, np.ufunc) and not _is_ufunc_method(fn)
               for b in buffers):
            return None  # NumPy functions may return a scalar, not the 0-d out
        scratch = [np.empty_like(b) for b in buffers]
        out = scratch[0] if single else tuple(scratch)
        try:
            r = fn(*pargs, **pkwargs, out=out)
        except (TypeError, ValueError):
            return None
        if single and r is not scratch[0] and not (isinstance(r, np.ndarray)
                                                   and r.base is scratch[0]):
            return None
        if not all(_same_bits(s, b) for s, b in zip(scratch, buffers)):
            return None
        return (fn, pargs, {**pkwargs, "out": buffers[0] if single else tuple(buffers)})

    def creation(self, fn: Callable, args: tuple, kwargs: dict, name: str) -> Any:
        """A namespace creation call: its result is a constant of the capture (no restore for
        ``empty``: its content is undefined, eagerly too)."""
        self._note_owners((args, kwargs))
        result = fn(*_plain(args), **_plain(kwargs))
        if isinstance(result, np.ndarray):
            self.known.append(result)
            if not name.startswith("empty"):  # its value now, before any call writes it
                self.creations.append((len(self.calls), result, result.copy()))
            return result.view(Traced)
        return result

    def finish(self, kept: list) -> list:
        """The calls with a restore step put back for each constant a later call writes, and
        copies from a buffer nothing else reads elided (`kept`: arrays read outside the calls:
        the results, the tensors' gradients)."""
        calls = list(self.calls)
        inserts = []
        for index, buffer, initial in self.creations:
            if buffer.size and any(np.may_share_memory(buffer, w) for w in self.written):
                inserts.append((index, (_restore, (buffer, initial), {})))
        # Restores run at the point of creation: the constant's value from the capture.
        for index, call in reversed(inserts):
            calls.insert(index, call)
        return _elide_copies(calls, kept)


def _bounds(a: np.ndarray) -> tuple[int, int]:
    """The first and one-past-last byte addresses of `a`'s memory."""
    start = a.__array_interface__["data"][0]
    low = high = start
    for n, stride in zip(a.shape, a.strides):
        if stride < 0:
            low += (n - 1) * stride
        else:
            high += (n - 1) * stride
    return low, high + a.itemsize


def foreign_reads(calls: list, known: list) -> list:
    """Arrays the calls read whose memory is none of `known` (the calls' own buffers, the
    namespace's constants, the inputs, the tensors' arrays): made by code the recorder did not
    see, so their values are the capture's, perhaps computed from traced data."""
    spans = sorted(_bounds(a) for a in known if a.size)
    starts = [lo for lo, _ in spans]
    ends, reach = [], 0
    for _, hi in spans:
        reach = max(reach, hi)
        ends.append(reach)  # the furthest end of any span starting at or before this one
    found = []
    for f, args, kwargs in calls:
        if f is _restore:
            continue
        for a in _arrays((args, kwargs), []):
            if not a.size:
                continue
            lo, _ = _bounds(a)
            i = bisect.bisect_right(starts, lo) - 1
            if i < 0 or ends[i] <= lo:
                found.append((f, a))
    return found


def _touches(call: tuple, array: np.ndarray) -> bool:
    return any(np.may_share_memory(a, array) for a in _arrays((call[1], call[2]), []))


def _elide_copies(calls: list, kept: list) -> list:
    """Where a call writes a fresh buffer (``out=``) that is then only copied into another
    (the engine's copy of a leaf's first gradient), the call writes the copy's target directly
    and the copy goes: the same bits, one pass over the memory less."""
    j = 0
    while j < len(calls):
        f, args, kwargs = calls[j]
        if f is not np.copyto or kwargs or len(args) != 2:
            j += 1
            continue
        dst, src = args
        i = next((i for i in range(j - 1, -1, -1) if _touches(calls[i], src)), None)
        out = calls[i][2].get("out") if i is not None else None
        if (i is None or not isinstance(out, np.ndarray) or not _same_layout(out, src)
                or src.dtype != dst.dtype or src.shape != dst.shape
                or any(_touches(c, dst) for c in calls[i + 1:j])
                or any(_touches(c, src) for k, c in enumerate(calls) if k not in (i, j))
                or any(np.may_share_memory(a, src) for a in kept)
                or any(np.may_share_memory(a, src) for a in _arrays(calls[i][1], []))):
            j += 1
            continue
        calls[i] = (calls[i][0], calls[i][1], {**calls[i][2], "out": dst})
        del calls[j]
    return calls


def _same_layout(a: np.ndarray, b: np.ndarray) -> bool:
    return (a.__array_interface__["data"] == b.__array_interface__["data"]
            and a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype)


_COPY = np.ndarray.copy


def _is_ufunc_method(fn: Any) -> bool:
    return isinstance(getattr(fn, "__self__", None), np.ufunc)


def _current() -> Recorder | None:
    """The recorder, if one is capturing on this thread (or on kedja's host worker, which runs
    half of a big op for it); other threads' work is not part of the step."""
    rec = active
    if rec is None or rec.paused:
        return None
    if threading.get_ident() != rec.thread and threading.current_thread().name != "kedja-host":
        return None
    return rec


# The traced array and the namespace proxy use the helpers above (imported last: a cycle).
from .capture_traced import Namespace, Traced  # noqa: E402

__all__ = ["CaptureError", "Namespace", "Recorder", "ReplayDiverged", "Traced"]
