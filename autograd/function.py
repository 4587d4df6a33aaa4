"""The op base class: `Function.apply` runs `forward` on raw arrays and records a graph node.

An op is one subclass with `forward` (backend arrays in, one backend array out) and `backward`
(Tensors in, Tensors out, written with our own tensor ops so that grad-of-grad works). Keyword
arguments to `apply` become plain attributes. Example::

    class Cube(Function):
        '''y = x ** 3.'''

        def forward(self, x):
            self.save_for_backward(x)
            return x * x * x

        def backward(self, gy):
            (x,) = self.saved_tensors
            return gy * 3 * x * x

    y = Cube.apply(t)
"""

from __future__ import annotations

from typing import Any

from . import function_base as _function_base
from ._native import core as _core
from .function_base import (  # noqa: F401  (re-exported: the engine and tests use them)
    _FREED,
    _OUTPUT,
    _PLAIN,
    _raise_device_mismatch,
    _refuse_complex,
    _reraise_with_context,
)
from .tensor import Tensor, _default_backend

#: The fields, `apply`, `save_for_backward`, `saved_tensors`: from the C core where it is built.
FunctionBase = _core.FunctionBase if _core is not None else _function_base.FunctionBase


class Function(FunctionBase):
    """A node of the graph: one differentiable op applied once.

    Attributes set by `apply` (the fields of FunctionBase):
        backend / xp: the backend of the inputs and its array namespace.
        needs_input_grad: per positional input, whether it needs a gradient (recording only).
        next_edges: per positional input, where its gradient goes: the producing `Function`,
            the leaf `Tensor` itself, or None.
    """

    #: Ops whose output is a view of their first input share its version counter.
    is_view = False
    # The node's fields (`_saved`, `_recording`, `output_backend`, ...) are FunctionBase's: no
    # class attributes of those names here, they would hide the C core's members.

    #: True where `backward` uses only what raw arrays and Tensors share: arithmetic operators,
    #: ``@``, ``.reshape``/``.transpose``/``.T``/``.swapaxes``/``.squeeze``/``.sum``/``.astype``,
    #: and ``SomeOp.apply(...)``. A first-order backward then runs the very same rule on raw
    #: arrays (no Tensor wrappers, no graph), while ``create_graph=True`` runs it on Tensors.
    #: The op table checks both: gradcheck takes the raw path, gradgradcheck the Tensor path.
    raw_backward = False

    # -- for subclasses ---------------------------------------------------------------------
    def forward(self, *args: Any) -> Any:
        """Computes the output array from input arrays (and constants)."""
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    def backward(self, gy: Tensor) -> Any:
        """Returns the gradient (Tensor or None) for each positional input, given `gy`."""
        raise NotImplementedError(f"{type(self).__name__}.backward is not implemented")

    def _raise_modified(self, sources: list) -> None:
        position = next(i for i, (_edge, box, seen) in enumerate(sources)
                        if box is not None and box[0] != seen)
        array = self._saved[position]
        version, seen = sources[position][1], sources[position][2]
        raise RuntimeError(
            f"{type(self).__name__}: a tensor it saved for backward (saved tensor "
            f"{position}, shape {tuple(array.shape)}, dtype {array.dtype}) was modified "
            f"in place after it was saved (version {version[0]}, expected {seen}); use "
            "an out-of-place operation (y = x + 1 instead of x += 1) or .clone() first"
        )

    def name(self) -> str:
        """The op's name, as error messages and ``repr`` show it."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{type(self).__name__}Backward>"


def _scoped_forward(fn: Function, datas: tuple) -> Any:
    """``fn.forward(*datas)`` on the inputs' device (CuPy works on the *current* device)."""
    with fn.backend.device_scope():
        return fn.forward(*datas)


if _core is not None:
    _core.configure(FREED=_FREED, PLAIN=_PLAIN, OUTPUT=_OUTPUT, default_backend=_default_backend,
                    reraise=_reraise_with_context, device_mismatch=_raise_device_mismatch,
                    scoped_forward=_scoped_forward, refuse_complex=_refuse_complex,
                    # compared by identity in C: NumPy's builtin dtypes are singletons
                    complex_dtypes=tuple(_function_base._COMPLEX))
