"""The host side of `ag.compile`: one recorded run (`Capture`) and how it is recorded.

`record` runs the step while `autograd.capture` watches: every Tensor's array is swapped for a
traced view, ``backend.xp`` for the recording namespace, the host C loops for recorded
wrappers, and the optimizer/scheduler/GradScaler steps for live calls (recorded as calls to
make again at replay, run with recording paused). Everything is put back afterwards.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import Any

import numpy as np

from . import capture as _capture
from .capture import CaptureError, Namespace, Recorder, Traced
from .capture_traced import _conversion
from .tensor import Tensor


class Capture:
    """One recorded run: its calls, buffers, and what must still hold to replay it."""

    def __init__(self, calls: list, inputs: list, outputs: Any, owners: list,
                 bindings: list, backend: Any) -> None:
        self.calls = [_flat(f, args, kwargs) for f, args, kwargs in calls]
        self.inputs = inputs  # the buffers tensor arguments are copied into, in order
        self.outputs = outputs  # fn's result with buffers in place of tensors
        self.owners = owners  # (tensor, array) pairs: the arrays the calls read in place
        self.bindings = bindings  # (tensor, grad) pairs set by the capture
        self.backend = backend
        self.modes: list = []  # (module, its training flag) for the modules fn called
        # Arrays the calls read that the recorder did not see being made (a cached constant,
        # or an escape), with their values: None once a second capture confirmed them.
        self.foreign: list | None = None

    def valid(self) -> bool:
        """Whether every tensor the calls read still holds the array they read, and every
        module called keeps its training flag (train() / eval() change what runs)."""
        for t, array in self.owners:
            if t.array is not array:
                return False
        for module, training in self.modes:
            if module.training is not training:
                return False
        return True

    def replay(self, tensors: list) -> Any:
        for buffer, t in zip(self.inputs, tensors):
            np.copyto(buffer, t.array)
        for t, g in self.bindings:
            if t._grad is not g:
                t._grad = g
        for f, args in self.calls:
            f(*args)
        return _rebuild(self.outputs, self.backend)


_KEYWORD_OUT = (np.maximum, np.minimum)  # NumPy deprecates their positional out


def _flat(f: Callable, args: tuple, kwargs: dict) -> tuple:
    """A call as ``(function, positional args)``: a ufunc's ``out`` goes in its positional
    place, other keywords into a partial (the replay loop then makes no keyword dicts)."""
    if (isinstance(f, np.ufunc) and len(kwargs) == 1 and "out" in kwargs
            and len(args) == f.nin and f.nout == 1 and f not in _KEYWORD_OUT):
        return f, tuple(args) + (kwargs["out"],)
    if kwargs:
        return functools.partial(f, **kwargs), tuple(args)
    return f, tuple(args)


def _rebuild(obj: Any, backend: Any) -> Any:
    if isinstance(obj, np.ndarray) or backend.is_array(obj):
        return Tensor._make(obj.copy(), backend)
    if isinstance(obj, tuple):
        return tuple(_rebuild(x, backend) for x in obj)
    if isinstance(obj, list):
        return [_rebuild(x, backend) for x in obj]
    if isinstance(obj, dict):
        return {k: _rebuild(v, backend) for k, v in obj.items()}
    return obj


# -- recording -------------------------------------------------------------------------------
def _tensors_in_process() -> list:
    return [o for o in gc.get_objects() if isinstance(o, Tensor)]


def _record(fn: Callable, args: tuple, kwargs: dict, backend: Any, fallback: str) -> tuple:
    """Runs fn once, recording; returns (its result, a Capture or the CaptureError met)."""
    rec = Recorder()
    rec.eager_fallback = fallback == "eager"
    inputs: list = []
    new_args = []
    for a in args:
        if isinstance(a, Tensor):
            buffer = np.array(a.array, copy=True)
            inputs.append(buffer)
            t = Tensor._make(buffer.view(Traced), backend)
            t.requires_grad = a.requires_grad
            new_args.append(t)
        else:
            new_args.append(a)
    swapped = []
    for t in _tensors_in_process():
        array = getattr(t, "array", None)
        if type(array) is np.ndarray:
            view = array.view(Traced)
            view._kedja_owner = t
            t.array = view
            swapped.append((t, array))
    from .grad_scaler import GradScaler

    scalers = []  # GradScaler keeps its scale as a bare array: traced too, restored after
    for obj in gc.get_objects():
        if isinstance(obj, GradScaler):
            for name, value in vars(obj).items():
                if type(value) is np.ndarray:
                    setattr(obj, name, value.view(Traced))
                    scalers.append((obj, name, value))
    originals = {id(t): array for t, array in swapped}
    originals.update((id(value), value) for _, _, value in scalers)
    undo = _patch(rec, backend, originals)
    _capture.active = rec
    try:
        result = fn(*new_args, **kwargs)
        outputs = _outputs(result)
    finally:
        _capture.active = None
        for restore in reversed(undo):
            restore()
        for t, array in swapped:
            if isinstance(t.array, Traced) and _same_memory(t.array, array):
                t.array = array
        for t in _tensors_in_process():
            if isinstance(getattr(t, "array", None), Traced):
                t.array = t.array.view(np.ndarray)
        for obj, name, value in scalers:
            if isinstance(getattr(obj, name), Traced):
                setattr(obj, name, value)
        for obj in {id(o): o for o, _, _ in scalers}.values():
            for name, value in vars(obj).items():
                if isinstance(value, Traced):  # made during the capture
                    setattr(obj, name, value.view(np.ndarray))
    result = _rebuild(outputs, backend) if _has_arrays(outputs) else result
    if rec.problem is not None:
        return result, CaptureError(rec.problem)
    owners = [(t, originals[key]) for key, t in rec.used_owners.items() if key in originals]
    bound = {id(t): t for t, _ in owners}
    for opt in rec.optimizers:
        for group in opt.param_groups:
            for p in group["params"]:
                bound[id(p)] = p
    bindings = [(t, t._grad) for t in bound.values() if t._grad is not None]
    kept = _capture._arrays(outputs, []) + [g.array for _, g in bindings]
    calls = rec.finish(kept)
    capture = Capture(calls, inputs, outputs, owners, bindings, backend)
    capture.modes = [(m, m.training) for m in rec.modules.values()]
    foreign = _capture.foreign_reads(calls, rec.known + inputs + list(originals.values()))
    if foreign:
        capture.foreign = [(getattr(f, "__name__", str(f)), a.copy()) for f, a in foreign]
    return result, capture



def _same_memory(a: np.ndarray, b: np.ndarray) -> bool:
    return (a.__array_interface__["data"] == b.__array_interface__["data"]
            and a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype)


def _has_arrays(obj: Any) -> bool:
    return bool(_capture._arrays(obj, []))


def _outputs(obj: Any) -> Any:
    """fn's result with each tensor replaced by a plain view of its array (the buffer)."""
    if isinstance(obj, Tensor):
        array = obj.array
        return array.view(np.ndarray) if isinstance(array, np.ndarray) else array
    if isinstance(obj, (tuple, list)):
        return type(obj)(_outputs(x) for x in obj)
    if isinstance(obj, dict):
        return {k: _outputs(v) for k, v in obj.items()}
    if isinstance(obj, (int, float, bool, str, type(None))):
        return obj
    raise CaptureError(f"ag.compile: fn returned a {type(obj).__name__}; return tensors, "
                       "numbers, or tuples/lists/dicts of them")


def _live(rec: Recorder, method: Callable, originals: dict) -> Callable:
    """`method` (an optimizer's or scheduler's step) run for real and called again at replay
    time, with its arguments, on plain arrays: the Python numbers it reads stay current."""

    @functools.wraps(method)
    def live(self: Any, *args: Any, **kwargs: Any) -> Any:
        if rec.paused:
            return method(self, *args, **kwargs)
        if _capture._is_traced_any((args, kwargs)) or any(
                isinstance(a, Tensor) for a in list(args) + list(kwargs.values())):
            rec.refuse(f"{type(self).__name__}.{method.__name__} with tensor arguments (it "
                       "runs live at replay, with the arguments of the capture)")
        rec.calls.append((method, (self,) + args, kwargs))
        # The live object's own arrays (GradScaler's scale) are state it updates at replay.
        rec.known.extend(_capture._arrays(
            [v.__dict__ if hasattr(v, "__dict__") and not isinstance(v, Tensor) else v
             for v in vars(self).values() if not callable(v)], []))
        params = _params_of(self)
        if hasattr(self, "param_groups"):
            rec.optimizers.append(self)
        rewrap = _unwrap(params, self, originals)
        rec.paused += 1
        try:
            return method(self, *args, **kwargs)
        finally:
            rec.paused -= 1
            for t, view in rewrap:
                t.array = view

    return live


def _params_of(obj: Any) -> list:
    groups = getattr(obj, "param_groups", None)
    if groups is None:
        return []
    return [p for g in groups for p in g["params"]]


def _unwrap(params: list, opt: Any, originals: dict) -> list:
    """Plain arrays in the parameters, gradients and state of `opt` (so the step runs the same
    code as eagerly: the host C loops take exact ndarrays); returns what to re-trace."""
    rewrap = []
    for p in params:
        if isinstance(p.array, Traced):
            rewrap.append((p, p.array))
            p.array = originals.get(id(p), p.array.view(np.ndarray))
        g = p._grad
        if g is not None and isinstance(g.array, Traced):
            g.array = _plain_of(g, originals)
    for state in getattr(opt, "state", {}).values():
        if isinstance(state, dict):
            for value in state.values():
                if isinstance(value, Tensor) and isinstance(value.array, Traced):
                    value.array = _plain_of(value, originals)
    return rewrap


def _plain_of(t: Tensor, originals: dict) -> np.ndarray:
    """A traced tensor's array as its own original object where it had one before the
    capture (identity kept), else as a plain view of the same memory."""
    original = originals.get(id(t))
    if original is not None and _same_memory(t.array, original):
        return original
    return t.array.view(np.ndarray)


def _patch(rec: Recorder, backend: Any, originals: dict) -> list:
    """Installs the recording hooks; returns the functions that undo them."""
    undo: list = []

    def set_attr(obj: Any, name: str, value: Any) -> None:
        had = name in vars(obj) if not isinstance(obj, type) else name in obj.__dict__
        old = vars(obj).get(name) if had else None

        def restore() -> None:
            if had:
                setattr(obj, name, old)
            else:
                delattr(obj, name)

        setattr(obj, name, value)
        undo.append(restore)

    set_attr(backend, "xp", Namespace(np))

    def host_read(*args: Any, **kwargs: Any) -> Any:
        if _capture._current() is not None:  # not inside a live call (GradScaler.step reads)
                rec.refuse("a copy to the host (to_numpy: .item(), .tolist(), .numpy(), float(), "
                       "printing a tensor)")
        return type(backend).to_numpy(backend, *args, **kwargs)

    set_attr(backend, "to_numpy", host_read)
    convert = _conversion("asarray", np.asarray)
    plain_asarray = backend.asarray

    def asarray(data: Any, dtype: Any = None) -> Any:
        if isinstance(data, Traced):
            return data if dtype is None else convert(data, dtype=dtype)
        if not isinstance(data, np.ndarray) and _capture._current() is not None:
            # A constant from Python data (ag.tensor([...]) in fn): traced, like the seed.
            return rec.creation(plain_asarray, (data, dtype), {}, "asarray")
        return plain_asarray(data, dtype)

    set_attr(backend, "asarray", asarray)
    for name in ("uniform", "normal", "integers", "permutation", "seed"):
        set_attr(backend, name, _refuser(rec, backend, name))
    for name in ("erf", "special"):
        set_attr(backend, name, _recorded(rec, getattr(backend, name), name))
    from backends.native import host_kernels

    if host_kernels is not None:
        for name in dir(host_kernels):
            value = getattr(host_kernels, name)
            if callable(value) and not name.startswith("_"):
                set_attr(host_kernels, name, _recorded(rec, value, name, writes=True))
    from nn.module import Module
    from optim.lr_base import LRScheduler
    from optim.optimizer import Optimizer

    from .grad_scaler import GradScaler

    module_call = Module.__call__

    def noting_call(module: Any, *args: Any, **kwargs: Any) -> Any:
        rec.modules[id(module)] = module
        return module_call(module, *args, **kwargs)

    set_attr(Module, "__call__", noting_call)
    for base, names in ((Optimizer, ("step",)), (LRScheduler, ("step",)),
                        (GradScaler, ("unscale_", "step", "update"))):
        for cls in _subclasses(base):
            for name in names:
                if name in cls.__dict__:
                    set_attr(cls, name, _live(rec, cls.__dict__[name], originals))
    return undo


def _subclasses(cls: type) -> list:
    found, stack = [], [cls]
    while stack:
        c = stack.pop()
        found.append(c)
        stack.extend(c.__subclasses__())
    return found


def _refuser(rec: Recorder, backend: Any, name: str) -> Callable:
    method = getattr(type(backend), name)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        if _capture._current() is not None:
            rec.refuse(f"random numbers ({name}): the replay would repeat the capture's draws")
        return method(backend, *args, **kwargs)

    return refuse


def _recorded(rec: Recorder, fn: Callable, name: str, writes: bool = False) -> Callable:
    """A function (a host C loop, the backend's erf) recorded as one call; with `writes`, every
    array it is given counts as written."""

    def call(*args: Any, **kwargs: Any) -> Any:
        if _capture._current() is None:
            return fn(*_capture._plain(args), **_capture._plain(kwargs))
        result = rec.call(fn, args, kwargs, name, try_out=False)
        if writes:
            rec.written.extend(_capture._arrays(_capture._plain(args), []))
        return result

    return call
