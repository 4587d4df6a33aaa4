"""Which op runs in which dtype under `autocast`: the one table, and the hooks that apply it.

PyTorch's autocast op lists, mapped to kedja's ops. `install()` wraps the ``apply`` of each
listed op class, so every entry point reaches the policy (Tensor methods, ``ag.`` functions,
``nn.functional``, layers); the wrapper reads one global while no region is active. Functions
composed of several ops (losses, norms) take the `float32_inputs` / `float32_inside`
decorators instead, at their definition.

- lower precision (the region's float16/bfloat16): matmul (and ``@``, mm, bmm, mv, dot,
  tensordot, addmm, ... built on it), linear, conv1d/conv2d (the fused GEMM and, for grouped
  convolutions, its batched matmul); attention composed of these runs its products in the low
  dtype and its softmax in float32.
- float32: sum, prod, cumsum, cumprod, logsumexp, log_softmax/softmax, exp, expm1, log,
  log1p, log2, log10, pow, reciprocal, rsqrt, sinh, cosh, tan, asin, acos, softplus, the
  vector norm, the fused softmax cross-entropy and BCE-with-logits, and (by decorator) every
  loss of nn.losses and layer_norm/group_norm; batch_norm computes in float32 and returns its
  input's dtype (as PyTorch's batch norm does under autocast).
- everything else: the inputs' dtype; mixed inputs promote to the wider (PyTorch's rule).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import backends

from . import autocast_mode as _mode
from .grad_mode import state as _grad_state
from .ops import (
    activation,
    arithmetic,
    cumulative,
    exponential,
    linalg,
    loss_ops,
    norms,
    reduction,
    trigonometry,
    unary,
)
from .ops.attention import ScaledDotProductAttention
from .ops.conv_gemm import Conv2dGemm
from .ops.layer_norm import LayerNorm
from .tensor import Tensor

_F16 = backends.dtype_of("float16")

#: Ops whose floating inputs run in the region's low dtype.
LOWER_PRECISION = (linalg.MatMul, linalg.Linear, Conv2dGemm, ScaledDotProductAttention)
#: Ops whose low-precision inputs run in float32.
FLOAT32 = (
    reduction.Sum, reduction.Prod, reduction.LogSumExp, reduction.LogSoftmax,
    cumulative.Cumsum, cumulative.Cumprod,
    unary.Exp, unary.Expm1, unary.Log, unary.Log1p, exponential.Log2, exponential.Log10,
    exponential.Reciprocal, exponential.Rsqrt,
    arithmetic.Pow, arithmetic.PowScalar, arithmetic.RPowScalar,
    trigonometry.Tan, trigonometry.Arcsin, trigonometry.Arccos, trigonometry.Sinh,
    trigonometry.Cosh, activation.Softplus, norms.VectorNorm,
    loss_ops.SoftmaxCrossEntropy, loss_ops.BinaryCrossEntropyWithLogits, LayerNorm,
)


def _lower_inputs(inputs: tuple) -> tuple[tuple, Any]:
    """The inputs cast to the region's low dtype, and that dtype (None: no region applies)."""
    low = None
    for x in inputs:
        low = _mode.region_dtype(x)
        if low is not None:
            break
    if low is None or any(_mode.is_float64(x) for x in inputs):
        # float64 anywhere: PyTorch's autocast leaves double inputs (and their op) alone.
        return inputs, None
    # NumPy has no float16 BLAS (its float16 matmul is 7-40x slower than float32's): on the
    # host the inputs are rounded to float16 and multiplied in float32, and the output is
    # rounded again: a GPU's float16 GEMM (float32 accumulation), at float32 speed.
    widen = low is _F16 and not _host_backend_free(inputs)
    return tuple(_mode.to_low(x, low, widen) for x in inputs), low


def _host_backend_free(inputs: tuple) -> bool:
    """True unless the tensors among `inputs` live on the host (NumPy) backend."""
    for x in inputs:
        if isinstance(x, Tensor):
            return x._backend.is_device
    return True


def _hook(cls: type, lower: bool) -> None:
    """Replaces ``cls.apply`` by one that casts the inputs first while a region is active."""
    raw = next(vars(k)["apply"] for k in cls.__mro__ if "apply" in vars(k))
    own_apply = raw.__get__(None, cls)

    def apply(klass: type, *inputs: Any, **params: Any) -> Any:
        run = own_apply if klass is cls else raw.__get__(None, klass)
        if not _mode.ACTIVE or _grad_state.raw_backend is not None:  # the usual case first
            return run(*inputs, **params)
        if not lower:
            return run(*(_mode.to_float32(x) for x in inputs), **params)
        inputs, low = _lower_inputs(inputs)
        out = run(*inputs, **params)
        if low is not None and out.array.dtype != low:
            out = out.astype(low)  # ml_dtypes' bfloat16 matmul returns float32
        return out

    apply.__doc__ = getattr(raw, "__doc__", None)
    cls.apply = classmethod(apply)


def install() -> None:
    """Hooks every listed op (once; run when this module is first imported)."""
    for cls in LOWER_PRECISION:
        if "apply" not in vars(cls):
            _hook(cls, lower=True)
    for cls in FLOAT32:
        if "apply" not in vars(cls):
            _hook(cls, lower=False)


def _float32_args(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    return (tuple(_mode.to_float32(a) for a in args),
            {k: _mode.to_float32(v) for k, v in kwargs.items()})


def float32_inputs(func: Callable) -> Callable:
    """Decorates a composite function (a loss, a norm) to run on float32 inputs under autocast.

    Its low-precision Tensor arguments on a region's device are cast to float32 first; outside
    any region the wrapper costs one global read.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _mode.ACTIVE:
            args, kwargs = _float32_args(args, kwargs)
        return func(*args, **kwargs)

    return wrapper


def float32_inside(func: Callable) -> Callable:
    """Like `float32_inputs`, but the result is cast back to the first argument's dtype
    (batch norm: float32 statistics, output in the activations' precision, as PyTorch)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not _mode.ACTIVE or not args:
            return func(*args, **kwargs)
        first = args[0]
        args, kwargs = _float32_args(args, kwargs)
        out = func(*args, **kwargs)
        if args[0] is not first and out.array.dtype != first.array.dtype:
            out = out.astype(first.array.dtype)
        return out

    return wrapper


install()
