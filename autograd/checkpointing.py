"""`checkpoint(f)`: `f`'s intermediate values are not kept for backward but recomputed there,
trading one more forward pass for memory (HIPS autograd's ``checkpoint``; arXiv:1604.06174).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .function import Function
from .functional import gradients
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .tensor import Tensor


class Checkpoint(Function):
    """y = f(*inputs), recorded as one node; backward runs f again and differentiates it."""

    def forward(self, *arrays):
        self.save_for_backward(*arrays)
        with no_grad():
            out = self.fn(*self._tensors(arrays))
        if not isinstance(out, Tensor):
            raise TypeError(f"checkpoint: the function must return one Tensor, got "
                            f"{type(out).__name__}")
        return out.array

    def _tensors(self, values: Any) -> list:
        """The inputs as Tensors of the types `f` was called with (ArrayBox or Tensor)."""
        out = []
        for value, kind in zip(values, self.kinds):
            t = value if isinstance(value, Tensor) else Tensor._make(value, self.backend)
            if kind is not Tensor and type(t) is Tensor:  # a fresh Tensor: safe to re-tag
                t.__class__ = kind
            out.append(t)
        return out

    def backward(self, gy):
        create = is_grad_enabled()  # set when this backward is itself recorded (create_graph)
        inputs = list(self.saved_tensors)
        needed = [i for i, need in enumerate(self.needs_input_grad) if need]
        with enable_grad():
            out = self.fn(*self._tensors(inputs))
        grads = gradients(out, [inputs[i] for i in needed], gy, create_graph=create,
                          allow_unused=True)
        result: list = [None] * len(inputs)
        for i, g in zip(needed, grads):
            result[i] = g
        return tuple(result)


def checkpoint(f: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """`f` (a function of Tensors returning one Tensor) recomputed in backward.

    Its positional Tensor arguments are the differentiable inputs; other arguments are passed
    through unchanged. Gradients of any order are those of `f` itself.
    """

    def checkpointed(*args: Any, **kwargs: Any) -> Any:
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        if not positions:
            return f(*args, **kwargs)

        def call(*tensors: Tensor) -> Any:
            full = list(args)
            for i, t in zip(positions, tensors):
                full[i] = t
            return f(*full, **kwargs)

        tensors = [args[i] for i in positions]
        out = Checkpoint.apply(*tensors, fn=call, kinds=[type(t) for t in tensors])
        if any(type(t) is not Tensor for t in tensors):
            out.__class__ = type(next(t for t in tensors if type(t) is not Tensor))
        return out

    checkpointed.__name__ = f"checkpoint({getattr(f, '__name__', 'f')})"
    return checkpointed
