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
arrays get the kernel, everything else the NumPy body. Hyperparameters are kernel *arguments*
(scalars in a compute type: float32 for float16/float32 data, float64 for float64), never part of
the source, so changing ``lr`` or ``betas`` does not compile anything; only structural variants
(AMSGrad, momentum, a centered RMSprop, gelu's tanh form) are separate sources. Nothing here reads
device data back to the host.

Why ElementwiseKernel rather than ``cupy.fuse``: the optimizer kernels update four arrays in
place (``fuse`` returns new arrays), and ElementwiseKernel has explicit parameter types, so a
Python scalar never silently promotes float32 data to float64. See docs/kernels.md.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "sgd_step", "adam_step", "rmsprop_step", "adagrad_step",
    "relu_grad", "leaky_relu", "leaky_relu_grad", "sigmoid", "sigmoid_grad", "tanh_grad",
    "gelu", "gelu_grad", "log_softmax_stats", "softmax_xent_grad", "launches",
]

#: Fused-kernel launches on CuPy so far (tests read the difference around a step).
launches = 0

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


# -- CuPy plumbing -------------------------------------------------------------------------------
def _on_cupy(backend: Any) -> bool:
    return backend.name == "cupy"


def _compute(*dtypes: Any) -> str:
    """The compute type's NumPy name: float64 if any operand is float64, else float32 (so
    float16 data are updated in float32 registers)."""
    return "float64" if any(np.dtype(d) == np.float64 for d in dtypes) else "float32"


_C_NAMES = {"float32": "float", "float64": "double"}


class CudaSpec:
    """The source of one ElementwiseKernel variant.

    ``A`` in `in_params` stands for the compute type (float32 or float64) of the scalars; the body
    sees it as ``acc_t``. Array placeholders (``T``, ``G``, ``I``) take the arrays' dtypes.
    """

    def __init__(self, name: str, in_params: str, out_params: str, body: str) -> None:
        self.name = name
        self.in_params = in_params
        self.out_params = out_params
        self.body = body

    def build(self, compute: str) -> Any:
        import cupy  # lazily: only a CuPy array gets here

        return cupy.ElementwiseKernel(
            self.in_params.replace("A ", compute + " "), self.out_params, self.body,
            name=f"kedja_{self.name}_{compute}",
            preamble=f"typedef {_C_NAMES[compute]} acc_t;",
        )


_kernels: dict = {}


def _kernel(spec: CudaSpec, compute: str) -> Any:
    key = (spec.name, compute)
    k = _kernels.get(key)
    if k is None:
        k = _kernels[key] = spec.build(compute)
    return k


def _launch(backend: Any, kernel: Any, *args: Any, **kwargs: Any) -> Any:
    global launches
    launches += 1
    if backend.needs_device_scope:  # CuPy launches on the current device
        with backend.device_scope():
            return kernel(*args, **kwargs)
    return kernel(*args, **kwargs)


# -- optimizers ----------------------------------------------------------------------------------
# d = sign * g + l2 * p is the effective gradient (sign = -1 to maximize, l2 the coupled weight
# decay); `decay` = 1 - lr * weight_decay is AdamW's decoupled shrink (1 otherwise).

_SGD = CudaSpec(
    "sgd", "G g, A sign, A l2, A lr", "T p",
    """
    acc_t pv = (acc_t)p;
    acc_t d = sign * (acc_t)g + l2 * pv;
    p = T(pv - lr * d);
    """,
)

_SGD_MOMENTUM = CudaSpec(
    "sgd_momentum",
    "G g, A sign, A l2, A lr, A momentum, A damp_c, bool nesterov, bool first", "T p, T buf",
    """
    acc_t pv = (acc_t)p;
    acc_t d = sign * (acc_t)g + l2 * pv;
    acc_t b = first ? d : momentum * (acc_t)buf + damp_c * d;
    buf = T(b);
    p = T(pv - lr * (nesterov ? d + momentum * b : b));
    """,
)


def _signed_grad(xp: Any, p: Any, g: Any, sign: float, l2: float) -> tuple:
    """``(d, owned)`` with ``d = sign * g + l2 * p``: `g` itself (read only) where they agree,
    else a fresh array the caller may overwrite."""
    if l2 == 0 and sign == 1:
        return g, False
    d = xp.multiply(g, sign, out=xp.empty_like(p))
    if l2 != 0:
        tmp = xp.multiply(p, l2, out=xp.empty_like(p))
        xp.add(d, tmp, out=d)
    return d, True


def sgd_step(backend: Any, p: Any, g: Any, momentum_buffer: Any, *, lr: float,
             momentum: float, dampening: float, weight_decay: float, nesterov: bool,
             maximize: bool) -> Any:
    """One SGD step on raw arrays, in place (PyTorch's rule; see ``optim.SGD``)::

        d = ±g + weight_decay * p
        buf = d (first step) or momentum * buf + (1 - dampening) * d
        p -= lr * (d + momentum * buf) (nesterov), lr * buf (momentum), lr * d (plain)

    Returns:
        The momentum buffer (a new array on the first step with momentum), or None.
    """
    sign = -1.0 if maximize else 1.0
    if _on_cupy(backend):
        compute = _compute(p.dtype, g.dtype)
        if momentum == 0:
            _launch(backend, _kernel(_SGD, compute), g, sign, weight_decay, lr, p)
            return None
        first = momentum_buffer is None
        buf = backend.xp.empty_like(p) if first else momentum_buffer
        _launch(backend, _kernel(_SGD_MOMENTUM, compute), g, sign, weight_decay, lr, momentum,
                1.0 - dampening, bool(nesterov), first, p, buf)
        return buf
    xp = backend.xp
    d, _ = _signed_grad(xp, p, g, sign, weight_decay)
    tmp = xp.empty_like(p)
    if momentum == 0:
        xp.multiply(d, lr, out=tmp)
        xp.subtract(p, tmp, out=p)
        return None
    buf = momentum_buffer
    if buf is None:
        buf = xp.multiply(d, 1.0, out=xp.empty_like(p))  # a copy: never alias the gradient
    else:
        xp.multiply(buf, momentum, out=buf)
        xp.multiply(d, 1.0 - dampening, out=tmp)
        xp.add(buf, tmp, out=buf)
    if nesterov:
        xp.multiply(buf, momentum, out=tmp)
        xp.add(tmp, d, out=tmp)
        xp.multiply(tmp, lr, out=tmp)
    else:
        xp.multiply(buf, lr, out=tmp)
    xp.subtract(p, tmp, out=p)
    return buf


def _adam_spec(amsgrad: bool) -> CudaSpec:
    ams = """
    acc_t vm = (acc_t)max_exp_avg_sq;
    vm = vm > v ? vm : v;
    max_exp_avg_sq = T(vm);
    v = vm;
    """ if amsgrad else ""
    return CudaSpec(
        "adam_amsgrad" if amsgrad else "adam",
        "G g, A sign, A l2, A decay, A beta1, A c1, A beta2, A c2, A step_size, A eps_hat",
        "T p, T exp_avg, T exp_avg_sq" + (", T max_exp_avg_sq" if amsgrad else ""),
        """
    acc_t d = sign * (acc_t)g + l2 * (acc_t)p;
    acc_t m = beta1 * (acc_t)exp_avg + c1 * d;
    acc_t v = beta2 * (acc_t)exp_avg_sq + c2 * (d * d);
    exp_avg = T(m);
    exp_avg_sq = T(v);
    """ + ams + """
    p = T((acc_t)p * decay - step_size * (m / (sqrt(v) + eps_hat)));
    """,
    )


_ADAM = _adam_spec(False)
_ADAM_AMSGRAD = _adam_spec(True)


def adam_step(backend: Any, p: Any, g: Any, exp_avg: Any, exp_avg_sq: Any,
              max_exp_avg_sq: Any, *, step: int, lr: float, beta1: float, beta2: float,
              eps: float, weight_decay: float, decoupled: bool, amsgrad: bool,
              maximize: bool) -> None:
    """One Adam/AdamW step on raw arrays, in place (one launch on CuPy).

    With `step` counted from 1, ``d = ±g + weight_decay * p`` (Adam) or ``d = ±g`` after
    ``p *= 1 - lr * weight_decay`` (AdamW, `decoupled`)::

        exp_avg    = beta1 * exp_avg + (1 - beta1) * d
        exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * d * d
        v          = max_exp_avg_sq = max(max_exp_avg_sq, exp_avg_sq)   (amsgrad)
        v          = exp_avg_sq                                         (otherwise)
        p         -= lr / (1 - beta1**step) * exp_avg / (sqrt(v) / sqrt(1 - beta2**step) + eps)

    The bias corrections are folded into two scalars, ``step_size = lr * c2 / c1`` and
    ``eps_hat = eps * c2`` (c1 = 1 - beta1**step, c2 = sqrt(1 - beta2**step)), computed here in
    Python from the step count: no per-step array work, no host read.
    """
    sign = -1.0 if maximize else 1.0
    l2 = 0.0 if decoupled else weight_decay
    decay = 1.0 - lr * weight_decay if decoupled else 1.0
    bias_correction1 = 1.0 - beta1**step
    bias_correction2_sqrt = math.sqrt(1.0 - beta2**step)
    step_size = lr * bias_correction2_sqrt / bias_correction1
    eps_hat = eps * bias_correction2_sqrt
    if _on_cupy(backend):
        spec = _ADAM_AMSGRAD if amsgrad else _ADAM
        arrays = (p, exp_avg, exp_avg_sq) + ((max_exp_avg_sq,) if amsgrad else ())
        _launch(backend, _kernel(spec, _compute(p.dtype, g.dtype)), g, sign, l2, decay, beta1,
                1.0 - beta1, beta2, 1.0 - beta2, step_size, eps_hat, *arrays)
        return
    xp = backend.xp
    if decay != 1.0:
        xp.multiply(p, decay, out=p)  # d does not depend on p when decoupled (l2 == 0)
    d, _ = _signed_grad(xp, p, g, sign, l2)
    tmp = xp.empty_like(p)
    xp.multiply(exp_avg, beta1, out=exp_avg)
    xp.multiply(d, 1.0 - beta1, out=tmp)
    xp.add(exp_avg, tmp, out=exp_avg)
    xp.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
    xp.multiply(d, d, out=tmp)
    xp.multiply(tmp, 1.0 - beta2, out=tmp)
    xp.add(exp_avg_sq, tmp, out=exp_avg_sq)
    v = exp_avg_sq
    if amsgrad:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        v = max_exp_avg_sq
    xp.sqrt(v, out=tmp)
    xp.add(tmp, eps_hat, out=tmp)
    xp.divide(exp_avg, tmp, out=tmp)
    xp.multiply(tmp, step_size, out=tmp)
    xp.subtract(p, tmp, out=p)


def _rmsprop_spec(centered: bool, momentum: bool) -> CudaSpec:
    body = """
    acc_t pv = (acc_t)p;
    acc_t d = sign * (acc_t)g + l2 * pv;
    acc_t sq = alpha * (acc_t)square_avg + c_alpha * (d * d);
    square_avg = T(sq);
    """
    if centered:
        body += """
    acc_t ga = alpha * (acc_t)grad_avg + c_alpha * d;
    grad_avg = T(ga);
    sq = sq - ga * ga;
    """
    body += """
    acc_t step = d / (sqrt(sq) + eps);
    """
    if momentum:
        body += """
    step = momentum * (acc_t)buf + step;
    buf = T(step);
    """
    body += """
    p = T(pv - lr * step);
    """
    outs = "T p, T square_avg" + (", T grad_avg" if centered else "") + (", T buf" if momentum
                                                                          else "")
    name = "rmsprop" + ("_centered" if centered else "") + ("_momentum" if momentum else "")
    return CudaSpec(name, "G g, A sign, A l2, A lr, A alpha, A c_alpha, A eps, A momentum",
                    outs, body)


_RMSPROP = {(c, m): _rmsprop_spec(c, m) for c in (False, True) for m in (False, True)}


def rmsprop_step(backend: Any, p: Any, g: Any, square_avg: Any, grad_avg: Any,
                 momentum_buffer: Any, *, lr: float, alpha: float, eps: float,
                 weight_decay: float, momentum: float, centered: bool, maximize: bool) -> None:
    """One RMSprop step on raw arrays, in place. With ``d = ±g + weight_decay * p``::

        square_avg = alpha * square_avg + (1 - alpha) * d * d
        grad_avg   = alpha * grad_avg + (1 - alpha) * d                (centered)
        avg        = sqrt(square_avg - grad_avg ** 2) + eps            (centered)
        avg        = sqrt(square_avg) + eps                            (otherwise)
        buf        = momentum * buf + d / avg;   p -= lr * buf         (momentum > 0)
        p         -= lr * d / avg                                      (otherwise)
    """
    sign = -1.0 if maximize else 1.0
    use_momentum = momentum > 0
    if _on_cupy(backend):
        arrays = (p, square_avg) + ((grad_avg,) if centered else ()) + (
            (momentum_buffer,) if use_momentum else ())
        _launch(backend, _kernel(_RMSPROP[centered, use_momentum], _compute(p.dtype, g.dtype)),
                g, sign, weight_decay, lr, alpha, 1.0 - alpha, eps, momentum, *arrays)
        return
    xp = backend.xp
    d, _ = _signed_grad(xp, p, g, sign, weight_decay)
    tmp = xp.empty_like(p)
    xp.multiply(square_avg, alpha, out=square_avg)
    xp.multiply(d, d, out=tmp)
    xp.multiply(tmp, 1.0 - alpha, out=tmp)
    xp.add(square_avg, tmp, out=square_avg)
    if centered:
        xp.multiply(grad_avg, alpha, out=grad_avg)
        xp.multiply(d, 1.0 - alpha, out=tmp)
        xp.add(grad_avg, tmp, out=grad_avg)
        xp.multiply(grad_avg, grad_avg, out=tmp)
        xp.subtract(square_avg, tmp, out=tmp)
        xp.sqrt(tmp, out=tmp)
    else:
        xp.sqrt(square_avg, out=tmp)
    xp.add(tmp, eps, out=tmp)
    xp.divide(d, tmp, out=tmp)
    if use_momentum:
        xp.multiply(momentum_buffer, momentum, out=momentum_buffer)
        xp.add(momentum_buffer, tmp, out=momentum_buffer)
        xp.multiply(momentum_buffer, lr, out=tmp)
    else:
        xp.multiply(tmp, lr, out=tmp)
    xp.subtract(p, tmp, out=p)


_ADAGRAD = CudaSpec(
    "adagrad", "G g, A sign, A l2, A clr, A eps", "T p, T state_sum",
    """
    acc_t pv = (acc_t)p;
    acc_t d = sign * (acc_t)g + l2 * pv;
    acc_t s = (acc_t)state_sum + d * d;
    state_sum = T(s);
    p = T(pv - clr * (d / (sqrt(s) + eps)));
    """,
)


def adagrad_step(backend: Any, p: Any, g: Any, state_sum: Any, *, step: int, lr: float,
                 lr_decay: float, weight_decay: float, eps: float, maximize: bool) -> None:
    """One Adagrad step on raw arrays, in place. With ``d = ±g + weight_decay * p``::

        clr  = lr / (1 + (step - 1) * lr_decay)
        sum += d * d
        p   -= clr * d / (sqrt(sum) + eps)
    """
    sign = -1.0 if maximize else 1.0
    clr = lr / (1 + (step - 1) * lr_decay)
    if _on_cupy(backend):
        _launch(backend, _kernel(_ADAGRAD, _compute(p.dtype, g.dtype)), g, sign, weight_decay,
                clr, eps, p, state_sum)
        return
    xp = backend.xp
    d, _ = _signed_grad(xp, p, g, sign, weight_decay)
    tmp = xp.empty_like(p)
    xp.multiply(d, d, out=tmp)
    xp.add(state_sum, tmp, out=state_sum)
    xp.sqrt(state_sum, out=tmp)
    xp.add(tmp, eps, out=tmp)
    xp.divide(d, tmp, out=tmp)
    xp.multiply(tmp, clr, out=tmp)
    xp.subtract(p, tmp, out=p)


# -- activations ---------------------------------------------------------------------------------
# Backward kernels take the saved forward value (x or y) and the upstream gradient gy and write
# gx in their promoted dtype (`O`), so `gx = gy * f'(.)` is one pass instead of two to ten.

def _new(xp: Any, a: Any, b: Any = None) -> Any:
    """An uninitialised array of the broadcast shape and promoted dtype of `a` (and `b`)."""
    if b is None or (a.shape == b.shape and a.dtype == b.dtype):
        # The common case, without the shape algebra; empty_like keeps a's memory order, so
        # an NCHW view of NHWC memory (a conv output) is written in its own order, fast.
        return xp.empty_like(a)
    return xp.empty(np.broadcast_shapes(a.shape, b.shape),
                    dtype=np.result_type(a.dtype, b.dtype))


def _elementwise(backend: Any, spec: CudaSpec, *args: Any) -> Any:
    """Launches `spec` on CuPy arrays; the last argument is the preallocated output."""
    dtypes = [a.dtype for a in args if hasattr(a, "dtype")]
    _launch(backend, _kernel(spec, _compute(*dtypes)), *args)
    return args[-1]


_RELU_GRAD = CudaSpec("relu_grad", "T y, G gy", "O gx",
                      "gx = O((acc_t)y > 0 ? (acc_t)gy : acc_t(0));")


def relu_grad(backend: Any, y: Any, gy: Any) -> Any:
    """``gy`` where ``y > 0``, else 0 (y = relu(x); relu'(0) = 0)."""
    xp = backend.xp
    if _on_cupy(backend):
        return _elementwise(backend, _RELU_GRAD, y, gy, _new(xp, y, gy))
    # A multiply by the boolean mask: about 3x faster in NumPy than where(mask, gy, 0). The one
    # difference: a NaN/inf upstream gradient at an inactive unit stays NaN here (0 on CuPy).
    return xp.multiply(gy, xp.greater(y, 0), out=_new(xp, y, gy))


_LEAKY_RELU = CudaSpec("leaky_relu", "T x, A slope", "T y",
                       "acc_t v = (acc_t)x; y = T(v > 0 ? v : v * slope);")
_LEAKY_RELU_GRAD = CudaSpec("leaky_relu_grad", "T x, G gy, A slope", "O gx",
                            "acc_t v = (acc_t)gy; gx = O((acc_t)x > 0 ? v : v * slope);")


def leaky_relu(backend: Any, x: Any, negative_slope: float) -> Any:
    """``x`` where ``x > 0``, else ``negative_slope * x``."""
    xp = backend.xp
    if _on_cupy(backend):
        return _elementwise(backend, _LEAKY_RELU, x, negative_slope, _new(xp, x))
    scaled = xp.multiply(x, negative_slope, out=_new(xp, x))
    return xp.where(xp.greater(x, 0), x, scaled)


def leaky_relu_grad(backend: Any, x: Any, gy: Any, negative_slope: float) -> Any:
    """``gy`` where ``x > 0``, else ``negative_slope * gy`` (the slope at 0)."""
    xp = backend.xp
    if _on_cupy(backend):
        return _elementwise(backend, _LEAKY_RELU_GRAD, x, gy, negative_slope, _new(xp, x, gy))
    scaled = xp.multiply(gy, negative_slope, out=_new(xp, x, gy))
    return xp.where(xp.greater(x, 0), gy, scaled)


_SIGMOID = CudaSpec("sigmoid", "T x", "T y", """
    acc_t v = (acc_t)x;
    acc_t e = exp(-fabs(v));
    y = T((v >= 0 ? acc_t(1) : e) / (1 + e));
    """)
_SIGMOID_GRAD = CudaSpec("sigmoid_grad", "T y, G gy", "O gx",
                         "acc_t s = (acc_t)y; gx = O((acc_t)gy * (s * (1 - s)));")
_TANH_GRAD = CudaSpec("tanh_grad", "T y, G gy", "O gx",
                      "acc_t t = (acc_t)y; gx = O((acc_t)gy * (1 - t * t));")


def sigmoid(backend: Any, x: Any) -> Any:
    """``1 / (1 + exp(-x))`` as ``(1 or e) / (1 + e)`` with ``e = exp(-|x|)``: never overflows."""
    xp = backend.xp
    if _on_cupy(backend):
        return _elementwise(backend, _SIGMOID, x, _new(xp, x))
    e = xp.abs(x, out=_new(xp, x))
    xp.negative(e, out=e)
    xp.exp(e, out=e)
    den = xp.add(e, 1, out=_new(xp, x))
    num = xp.where(xp.greater_equal(x, 0), xp.ones_like(e), e)
    return xp.divide(num, den, out=num)


def sigmoid_grad(backend: Any, y: Any, gy: Any) -> Any:
    """``gy * y * (1 - y)`` for ``y = sigmoid(x)``."""
    xp = backend.xp
    if _on_cupy(backend):
        return _elementwise(backend, _SIGMOID_GRAD, y, gy, _new(xp, y, gy))
    gx = xp.subtract(1, y, out=_new(xp, y, gy))
    xp.multiply(gx, y, out=gx)
    return xp.multiply(gx, gy, out=gx)


def tanh_grad(backend: Any, y: Any, gy: Any) -> Any:
    """``gy * (1 - y * y)`` for ``y = tanh(x)``."""
    xp = backend.xp
    if _on_cupy(backend):
        return _elementwise(backend, _TANH_GRAD, y, gy, _new(xp, y, gy))
    gx = xp.multiply(y, y, out=_new(xp, y, gy))
    xp.subtract(1, gx, out=gx)
    return xp.multiply(gx, gy, out=gx)


# gelu: Phi(x) = (1 + erf(x / sqrt 2)) / 2, phi(x) = exp(-x^2 / 2) / sqrt(2 pi); the tanh form
# uses u = sqrt(2/pi) (x + 0.044715 x^3), t = tanh(u). Constants are cast to acc_t so float32
# kernels stay in float32.
_GELU_CONSTANTS = (
    f"const acc_t k_sqrt_half = acc_t({_SQRT_HALF!r}); "
    f"const acc_t k_inv_sqrt_2pi = acc_t({_INV_SQRT_2PI!r}); "
    f"const acc_t k_sqrt_2_over_pi = acc_t({_SQRT_2_OVER_PI!r}); "
    f"const acc_t k_cubic = acc_t({_GELU_CUBIC!r}); "
    "const acc_t half = acc_t(0.5);"
)
_GELU = {
    "none": CudaSpec("gelu", "T x", "T y", _GELU_CONSTANTS + """
    acc_t v = (acc_t)x;
    y = T(half * v * (1 + erf(v * k_sqrt_half)));
    """),
    "tanh": CudaSpec("gelu_tanh", "T x", "T y", _GELU_CONSTANTS + """
    acc_t v = (acc_t)x;
    acc_t u = k_sqrt_2_over_pi * (v + k_cubic * (v * v * v));
    y = T(half * v * (1 + tanh(u)));
    """),
}
_GELU_GRAD = {
    "none": CudaSpec("gelu_grad", "T x, G gy", "O gx", _GELU_CONSTANTS + """
    acc_t v = (acc_t)x;
    acc_t cdf = half * (1 + erf(v * k_sqrt_half));
    acc_t pdf = exp(-half * (v * v)) * k_inv_sqrt_2pi;
    gx = O((acc_t)gy * (cdf + v * pdf));
    """),
    "tanh": CudaSpec("gelu_tanh_grad", "T x, G gy", "O gx", _GELU_CONSTANTS + """
    acc_t v = (acc_t)x;
    acc_t x2 = v * v;
    acc_t t = tanh(k_sqrt_2_over_pi * (v + k_cubic * (x2 * v)));
    acc_t du = k_sqrt_2_over_pi * (1 + (3 * k_cubic) * x2);
    gx = O((acc_t)gy * (half * (1 + t) + half * v * (1 - t * t) * du));
    """),
}


def gelu(backend: Any, x: Any, approximate: str = "none") -> Any:
    """``x * Phi(x)`` (exact, with erf) or its tanh approximation."""
    xp = backend.xp
    if _on_cupy(backend):
        return _elementwise(backend, _GELU[approximate], x, _new(xp, x))
    if approximate == "tanh":
        y = xp.multiply(x, x, out=_new(xp, x))
        xp.multiply(y, x, out=y)
        xp.multiply(y, _GELU_CUBIC, out=y)
        xp.add(y, x, out=y)
        xp.multiply(y, _SQRT_2_OVER_PI, out=y)
        xp.tanh(y, out=y)
    else:
        y = backend.erf(xp.multiply(x, _SQRT_HALF, out=_new(xp, x)))
    xp.add(y, 1, out=y)
    xp.multiply(y, x, out=y)
    return xp.multiply(y, 0.5, out=y)


def gelu_grad(backend: Any, x: Any, gy: Any, approximate: str = "none") -> Any:
    """``gy * gelu'(x)``: ``Phi(x) + x phi(x)`` exact; for the tanh form
    ``(1 + t) / 2 + x (1 - t^2) u'(x) / 2``."""
    xp = backend.xp
    if _on_cupy(backend):
        return _elementwise(backend, _GELU_GRAD[approximate], x, gy, _new(xp, x, gy))
    if approximate == "tanh":
        x2 = xp.multiply(x, x, out=_new(xp, x))
        t = xp.multiply(x2, x, out=_new(xp, x))
        xp.multiply(t, _GELU_CUBIC, out=t)
        xp.add(t, x, out=t)
        xp.multiply(t, _SQRT_2_OVER_PI, out=t)
        xp.tanh(t, out=t)
        # du = sqrt(2/pi) (1 + 3 c x^2), kept in x2
        xp.multiply(x2, 3 * _GELU_CUBIC, out=x2)
        xp.add(x2, 1, out=x2)
        xp.multiply(x2, _SQRT_2_OVER_PI, out=x2)
        # x2 <- x (1 - t^2) du / 2, then gx = (1 + t) / 2 + x2
        xp.multiply(x2, x, out=x2)
        gx = xp.multiply(t, t, out=_new(xp, x, gy))
        xp.subtract(1, gx, out=gx)
        xp.multiply(gx, x2, out=gx)
        xp.multiply(gx, 0.5, out=gx)
        xp.add(t, 1, out=t)
        xp.multiply(t, 0.5, out=t)
        xp.add(gx, t, out=gx)
    else:
        gx = backend.erf(xp.multiply(x, _SQRT_HALF, out=_new(xp, x)))
        xp.add(gx, 1, out=gx)
        xp.multiply(gx, 0.5, out=gx)
        pdf = xp.multiply(x, x, out=_new(xp, x))
        xp.multiply(pdf, -0.5, out=pdf)
        xp.exp(pdf, out=pdf)
        xp.multiply(pdf, _INV_SQRT_2PI, out=pdf)
        xp.multiply(pdf, x, out=pdf)
        xp.add(gx, pdf, out=gx)
        if gx.dtype != np.result_type(x.dtype, gy.dtype):
            return xp.multiply(gx, gy, out=_new(xp, x, gy))
    return xp.multiply(gx, gy, out=gx)


# -- softmax cross-entropy -----------------------------------------------------------------------
_reductions: dict = {}


def _sum_exp_kernel(compute: str) -> Any:
    """``sum(exp(x - m))`` over the reduced axes, with `m` broadcast: one read of `x`."""
    k = _reductions.get(compute)
    if k is None:
        import cupy

        k = _reductions[compute] = cupy.ReductionKernel(
            "T x, T m", "T s", "exp((acc_t)x - (acc_t)m)", "a + b", "s = T(a)", "0",
            name=f"kedja_sum_exp_{compute}", reduce_type=_C_NAMES[compute],
            preamble=f"typedef {_C_NAMES[compute]} acc_t;",
        )
    return k


def log_softmax_stats(backend: Any, x: Any, axis: int = 1) -> tuple:
    """``(shift, log_total)``, both with `axis` kept: ``shift = max(x)``, ``log_total =
    log(sum(exp(x - shift)))``, so ``log_softmax(x) = (x - shift) - log_total``.

    Kept as two terms (not ``lse = shift + log_total``) so that ``(shift - x) + log_total`` is
    exact at the maximum even for logits of 1e4 in float32. On CuPy: the max, one fused
    exp-and-sum reduction (no ``exp(x - shift)`` array is written) and a log of the small result.
    """
    xp = backend.xp
    shift = xp.max(x, axis=axis, keepdims=True)
    if _on_cupy(backend):
        global launches
        launches += 1
        kernel = _sum_exp_kernel(_compute(x.dtype))
        if backend.needs_device_scope:
            with backend.device_scope():
                total = kernel(x, shift, axis=axis, keepdims=True)
        else:
            total = kernel(x, shift, axis=axis, keepdims=True)
    else:
        e = xp.subtract(x, shift, out=_new(xp, x))
        xp.exp(e, out=e)
        total = xp.sum(e, axis=axis, keepdims=True)
    return shift, xp.log(total, out=total)


_SOFTMAX_XENT_GRAD = CudaSpec(
    "softmax_xent_grad",
    "T x, T shift, T log_total, I target, T scale, T hot, T smooth, T w, int64 n_class, "
    "int64 inner",
    "T gx",
    """
    const long long c = ((long long)i / inner) % n_class;
    acc_t v = (acc_t)scale * exp(((acc_t)x - (acc_t)shift) - (acc_t)log_total);
    if (c == (long long)target) v -= (acc_t)hot;
    gx = T(v - (acc_t)smooth * (acc_t)w);
    """,
)


def softmax_xent_grad(backend: Any, x: Any, shift: Any, log_total: Any, target: Any,
                      scale: Any, hot: Any, smooth: Any = None, weight: Any = None) -> Any:
    """The gradient of a softmax cross-entropy over axis 1 in one pass over the logits::

        gx[n, c, ...] = scale[n] * softmax(x)[n, c] - hot[n] * (c == target[n])
                        - smooth[n] * weight[c]

    Args:
        x: logits (N, C, d1, ...).
        shift, log_total: from `log_softmax_stats` (N, 1, d1, ...).
        target: class indices (N, 1, d1, ...), all in range.
        scale, hot, smooth: per-sample coefficients (N, 1, d1, ...) in x's dtype; `smooth`
            None means 0 (no label smoothing).
        weight: per-class factor of `smooth`, shaped (1, C, 1, ...); None means 1.
    """
    xp = backend.xp
    if _on_cupy(backend):
        n_class = x.shape[1]
        inner = math.prod(x.shape[2:])
        w = 1.0 if weight is None else weight.astype(x.dtype, copy=False)
        s = 0.0 if smooth is None else smooth
        gx = xp.empty(x.shape, dtype=x.dtype)
        _launch(backend, _kernel(_SOFTMAX_XENT_GRAD, _compute(x.dtype)), x, shift, log_total,
                target, scale, hot, s, w, n_class, inner, gx)
        return gx
    gx = xp.subtract(x, shift, out=_new(xp, x))
    xp.subtract(gx, log_total, out=gx)
    xp.exp(gx, out=gx)
    xp.multiply(gx, scale, out=gx)
    if smooth is not None:
        xp.subtract(gx, smooth if weight is None else xp.multiply(smooth, weight), out=gx)
    if gx.ndim == 2:  # the common case, by plain fancy indexing (take/put_along_axis are slow)
        rows = xp.arange(gx.shape[0])
        gx[rows, target[:, 0]] -= hot[:, 0]
        return gx
    picked = xp.take_along_axis(gx, target, axis=1)
    xp.subtract(picked, hot, out=picked)
    xp.put_along_axis(gx, target, picked, axis=1)
    return gx
