"""Fused optimizer steps: SGD, Adam/AdamW, RMSprop, Adagrad."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..native import host_kernels
from .common import C_FLOATS, CudaSpec, _compute, _kernel, _launch, _on_cupy

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


# -- the NumPy bodies' shared steps (optimizers_more.py uses them too) --------------------------
def _decay_terms(lr: float, weight_decay: float, decoupled: bool,
                 maximize: bool) -> tuple[float, float, float]:
    """``(sign, l2, decay)`` of the comment above, for Adam-like steps."""
    sign = -1.0 if maximize else 1.0
    if decoupled:
        return sign, 0.0, 1.0 - lr * weight_decay
    return sign, weight_decay, 1.0


def _signed_grad(xp: Any, p: Any, g: Any, sign: float, l2: float) -> Any:
    """``d = sign * g + l2 * p`` in at most two array calls: `g` itself (read only) where they
    agree, else a fresh array the caller may overwrite."""
    if l2 == 0:
        if sign == 1:
            return g
        # a product, as the C loops compute it: on x86 a NaN times -1 keeps its sign bit,
        # where negative() would flip it
        return xp.multiply(g, -1.0, out=xp.empty_like(p))
    d = xp.multiply(p, l2, out=xp.empty_like(p))
    (xp.add if sign == 1 else xp.subtract)(d, g, out=d)  # the same bits as sign * g + l2 * p
    return d


def _ema(xp: Any, avg: Any, x: Any, beta: float, tmp: Any) -> None:
    """``avg = beta * avg + (1 - beta) * x`` in place (`tmp`: scratch)."""
    xp.multiply(avg, beta, out=avg)
    xp.multiply(x, 1.0 - beta, out=tmp)
    xp.add(avg, tmp, out=avg)


def _ema_square(xp: Any, avg: Any, x: Any, beta: float, tmp: Any) -> None:
    """``avg = beta * avg + (1 - beta) * x * x`` in place (`tmp`: scratch)."""
    xp.multiply(avg, beta, out=avg)
    xp.multiply(x, x, out=tmp)
    xp.multiply(tmp, 1.0 - beta, out=tmp)
    xp.add(avg, tmp, out=avg)


def _adam_moments(xp: Any, p: Any, g: Any, exp_avg: Any, exp_avg_sq: Any, *, sign: float,
                  l2: float, decay: float, beta1: float, beta2: float) -> tuple[Any, Any]:
    """The start of every Adam-like step: the decoupled shrink of `p`, then both moments from
    ``d = sign * g + l2 * p``. Returns ``(d, tmp)``, `tmp` a scratch array like `p`."""
    if decay != 1.0:
        xp.multiply(p, decay, out=p)  # d does not read p when decoupled (l2 == 0)
    d = _signed_grad(xp, p, g, sign, l2)
    tmp = xp.empty_like(p)
    _ema(xp, exp_avg, d, beta1, tmp)
    _ema_square(xp, exp_avg_sq, d, beta2, tmp)
    return d, tmp


def _c_step(backend: Any, arrays: tuple, scalars: tuple) -> bool:
    """Whether a step may run as a host C loop (backends/csrc/optimizers.c): the loops are
    built, the arrays (None: absent) are aligned C-contiguous NumPy arrays of one float
    dtype, and the hyperparameters are Python numbers, which NumPy rounds to the arrays' dtype
    as the loop does (a NumPy float64 scalar would promote float32 arithmetic instead)."""
    if host_kernels is None or backend.name != "numpy":
        return False
    dtype = arrays[0].dtype
    if dtype not in C_FLOATS:
        return False
    for a in arrays:
        if a is not None and (type(a) is not np.ndarray or a.dtype != dtype
                              or not (flags := a.flags).c_contiguous or not flags.aligned):
            return False
    return all(type(s) is float or type(s) is int for s in scalars)


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
    if _c_step(backend, (p, g, momentum_buffer), (lr, momentum, dampening, weight_decay)):
        # The C loop: one pass over p, g (and buf) instead of two to nine NumPy passes.
        buf, first = momentum_buffer, False
        if momentum != 0 and buf is None:
            buf, first = xp.empty_like(p), True
        host_kernels.sgd(p, g, buf if momentum != 0 else None, lr, sign, weight_decay,
                         momentum, 1.0 - dampening, nesterov, first)
        return buf if momentum != 0 else None
    d = _signed_grad(xp, p, g, sign, weight_decay)
    if momentum == 0:
        xp.subtract(p, d * lr, out=p)
        return None
    tmp = xp.empty_like(p)
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
    sign, l2, decay = _decay_terms(lr, weight_decay, decoupled, maximize)
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
    if _c_step(backend, (p, g, exp_avg, exp_avg_sq, max_exp_avg_sq if amsgrad else None),
               (lr, beta1, beta2, eps, weight_decay)):
        # The C loop: one pass instead of ~15 NumPy calls, the same bits.
        host_kernels.adam(p, g, exp_avg, exp_avg_sq, max_exp_avg_sq if amsgrad else None,
                          sign, l2, decay, beta1, 1.0 - beta1, beta2, 1.0 - beta2, step_size,
                          eps_hat)
        return
    _, tmp = _adam_moments(xp, p, g, exp_avg, exp_avg_sq, sign=sign, l2=l2, decay=decay,
                           beta1=beta1, beta2=beta2)
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
    d = _signed_grad(xp, p, g, sign, weight_decay)
    tmp = xp.empty_like(p)
    _ema_square(xp, square_avg, d, alpha, tmp)
    if centered:
        _ema(xp, grad_avg, d, alpha, tmp)
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
    d = _signed_grad(xp, p, g, sign, weight_decay)
    tmp = xp.empty_like(p)
    xp.multiply(d, d, out=tmp)
    xp.add(state_sum, tmp, out=state_sum)
    xp.sqrt(state_sum, out=tmp)
    xp.add(tmp, eps, out=tmp)
    xp.divide(d, tmp, out=tmp)
    xp.multiply(tmp, clr, out=tmp)
    xp.subtract(p, tmp, out=p)

