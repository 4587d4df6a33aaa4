"""Fused kernels: one pass over memory (one CUDA launch on CuPy) where plain array code needs many.

Each kernel is defined once, in two forms kept side by side:

- a CUDA-C body for ``cupy.ElementwiseKernel`` (or a ``cupy.ReductionKernel``), built lazily on
  the first call with a CuPy array and cached per (kernel, variant, compute type); CuPy then
  compiles it once per argument dtype/ndim and caches the binary;
- a NumPy body running the same arithmetic, in the same order, as whole-array ufunc calls with
  ``out=`` into at most one or two scratch arrays. It runs on the host backend and on the strict
  fake device (through ``backend.xp``, which behaves like NumPy on wrapped arrays), and it is the
  reference the CUDA body is reviewed against (tests compare both with formulas written plainly).

The dispatchers (`adam_step`, `relu_grad`, ...) take the backend first and pick the form: CuPy
arrays get the kernel, everything else the NumPy body, or a host C loop of backends/csrc/ where
one is built for it (pooling, windows, relu's gradient, the softmax cross-entropy, SGD, Adam;
Adadelta, Adamax, NAdam, RAdam and ASGD have the CUDA and NumPy bodies only).
Hyperparameters are kernel *arguments* (scalars in a compute type: float32 for float16/float32
data, float64 for float64), never part of the source, so changing ``lr`` or ``betas`` does not
compile anything; only structural variants (AMSGrad, momentum, a centered RMSprop, gelu's tanh
form) are separate sources. Nothing here reads device data back to the host.

Why ElementwiseKernel rather than ``cupy.fuse``: the optimizer kernels update four arrays in
place (``fuse`` returns new arrays), and ElementwiseKernel has explicit parameter types, so a
Python scalar never silently promotes float32 data to float64. See docs/kernels.md.
"""

from __future__ import annotations

from typing import Any

from ..lazy_exports import lazy_exports as _lazy_exports
from . import common
from .activations import (
    gelu,
    gelu_grad,
    leaky_relu,
    leaky_relu_grad,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    tanh_grad,
)
from .common import CudaSpec as CudaSpec  # re-exported: tests compile every CudaSpec
from .common import _compute as _compute

# Loaded on first use (PEP 562), so that `import autograd` stays cheap: the optimizer steps,
# pooling, the softmax cross-entropy, convolution windows and the recurrent cells
# (kernels.recurrent.lstm_cell, ...). `from backends.kernels import adam_step` works as before.
_LAZY = {
    **dict.fromkeys(("sgd_step", "adam_step", "rmsprop_step", "adagrad_step"), "optimizers"),
    **dict.fromkeys(("adadelta_step", "adamax_step", "asgd_step", "nadam_coefficients",
                     "nadam_step", "radam_scale", "radam_step"), "optimizers_more"),
    **dict.fromkeys(("block_max", "block_scatter"), "pooling"),
    **dict.fromkeys(("log_softmax_stats", "picked_nll", "softmax_xent_grad", "softmax_xent_nll"),
                    "softmax"),
    **dict.fromkeys(("Window", "c_loops", "col2im_add", "im2col"), "windows"),
}
_LAZY_SUBMODULES = frozenset({*_LAZY.values(), "recurrent"})

__all__ = [
    "sgd_step", "adam_step", "rmsprop_step", "adagrad_step", "adadelta_step", "adamax_step",
    "nadam_coefficients", "nadam_step", "radam_scale", "radam_step", "asgd_step",
    "relu_grad", "leaky_relu", "leaky_relu_grad", "sigmoid", "sigmoid_grad", "tanh_grad",
    "gelu", "gelu_grad", "log_softmax_stats", "picked_nll", "softmax_xent_grad",
    "softmax_xent_nll", "block_max", "block_scatter", "Window", "c_loops", "im2col",
    "col2im_add", "launches",
]


_lazy_getattr, __dir__ = _lazy_exports(__name__, globals(), _LAZY, _LAZY_SUBMODULES)


def __getattr__(name: str) -> Any:
    # `launches` lives in .common (the launch helpers increment it there); read it live
    if name == "launches":
        return common.launches
    return _lazy_getattr(name)
