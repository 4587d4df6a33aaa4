"""`ag.compile` on a device backend: the step captured as one graph (`backend.capture_graph`).

On CuPy the graph is a CUDA graph; on the fake device its faithful emulation (CI). The capture
runs the step's code once under stream capture, after an eager warm-up call (made by
`CompiledFunction`) has created the lazy state: optimizer moments, gradient tensors. Each later
call copies the tensor arguments into the captured input tensors and launches the graph: one
launch for the whole step.

A graph keeps the Python numbers its kernels were given at capture, so an optimizer's or a
learning-rate scheduler's step, whose numbers change from step to step (Adam's bias
corrections, the learning rate), cannot be inside it: they are refused with a `CaptureError`;
call them after the compiled function (docs/compile.md, "On a GPU").
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import Any

from backends import GraphCaptureError

from .capture import CaptureError
from .compile_capture import Capture, _outputs, _rebuild, _subclasses
from .tensor import Tensor


class DeviceCapture(Capture):
    """A graph, its input tensors' arrays, and the guards of the tensors it reads."""

    def __init__(self, graph: Any, inputs: list, outputs: Any, owners: list,
                 bindings: list, backend: Any) -> None:
        super().__init__([], inputs, outputs, owners, bindings, backend)
        self.graph = graph

    def replay(self, tensors: list) -> Any:
        for buffer, t in zip(self.inputs, tensors):
            buffer[...] = t.array  # a device copy, queued before the launch
        for t, g in self.bindings:
            if t._grad is not g:
                t._grad = g
        self.graph.launch()
        return _rebuild(self.outputs, self.backend)


def capture_on_device(fn: Callable, args: tuple, kwargs: dict, backend: Any) -> DeviceCapture:
    """Captures `fn(*args, **kwargs)` as a graph on `backend` (CaptureError if it cannot be)."""
    inputs, new_args = [], []
    for a in args:
        if isinstance(a, Tensor):
            t = Tensor._make(a.array.copy(), backend)
            t.requires_grad = a.requires_grad
            inputs.append(t.array)
            new_args.append(t)
        else:
            new_args.append(a)
    params = [t for t in gc.get_objects()
              if isinstance(t, Tensor) and t.requires_grad and t._backend is backend]
    result: dict = {}

    def body() -> None:
        result["out"] = fn(*new_args, **kwargs)

    undo = _refuse_live_steps(backend)
    try:
        graph = backend.capture_graph(body)
    except GraphCaptureError as error:
        raise CaptureError(f"ag.compile cannot capture this step as a graph: {error}") from error
    finally:
        for restore in undo:
            restore()
    outputs = _outputs(result["out"])
    owners = [(t, t.array) for t in params]
    bindings = [(t, t._grad) for t in params if t._grad is not None]
    capture = DeviceCapture(graph, inputs, outputs, owners, bindings, backend)
    from nn.module import Module

    capture.modes = [(m, m.training) for m in gc.get_objects() if isinstance(m, Module)]
    return capture


def _refuse_live_steps(backend: Any) -> list:
    """Makes optimizer/scheduler/GradScaler steps raise during the capture (see the module
    docstring); returns the functions that undo it."""
    from optim.lr_base import LRScheduler
    from optim.optimizer import Optimizer

    from .grad_scaler import GradScaler

    undo = []
    for base, names in ((Optimizer, ("step",)), (LRScheduler, ("step",)),
                        (GradScaler, ("unscale_", "step", "update"))):
        for cls in _subclasses(base):
            for name in names:
                if name in cls.__dict__:
                    method = cls.__dict__[name]
                    setattr(cls, name, _refusing(method, backend))
                    undo.append(functools.partial(setattr, cls, name, method))
    return undo


def _refusing(method: Callable, backend: Any) -> Callable:
    @functools.wraps(method)
    def refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
        if backend.is_capturing:
            raise CaptureError(
                f"ag.compile cannot capture {type(self).__name__}.{method.__name__}() into a "
                f"graph on {backend.device}: a graph keeps the Python numbers of the capture "
                "(step counts, learning rates) and would repeat them; call it after the "
                "compiled function")
        return method(self, *args, **kwargs)

    return refuse
