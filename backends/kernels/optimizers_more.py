"""Fused optimizer steps: Adadelta, Adamax, NAdam, RAdam, ASGD (one CuPy launch each).

As in `optimizers.py`: ``d = sign * g + l2 * p`` is the effective gradient (sign = -1 to
maximize, l2 the coupled weight decay) and ``decay = 1 - lr * weight_decay`` the decoupled shrink
of NAdam/RAdam (1 otherwise). Per-step scalars (bias corrections, NAdam's momentum schedule,
RAdam's rectification, ASGD's eta and mu) are computed in Python from the step count, so a step
never reads device data. The NumPy bodies run on the host and on the fake device.
"""

from __future__ import annotations

import math
from typing import Any

from .common import CudaSpec, _compute, _kernel, _launch, _on_cupy
from .optimizers import _adam_moments, _decay_terms, _ema, _ema_square, _signed_grad

_ADADELTA = CudaSpec(
    "adadelta", "G g, A sign, A l2, A lr, A rho, A c_rho, A eps", "T p, T square_avg, T acc_delta",
    """
    acc_t pv = (acc_t)p;
    acc_t d = sign * (acc_t)g + l2 * pv;
    acc_t v = rho * (acc_t)square_avg + c_rho * (d * d);
    square_avg = T(v);
    acc_t u = (acc_t)acc_delta;
    acc_t delta = sqrt((u + eps) / (v + eps)) * d;
    acc_delta = T(rho * u + c_rho * (delta * delta));
    p = T(pv - lr * delta);
    """,
)


def adadelta_step(backend: Any, p: Any, g: Any, square_avg: Any, acc_delta: Any, *, lr: float,
                  rho: float, eps: float, weight_decay: float, maximize: bool) -> None:
    """One Adadelta step on raw arrays, in place. With ``d = ±g + weight_decay * p``::

        square_avg = rho * square_avg + (1 - rho) * d * d
        delta      = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * d
        acc_delta  = rho * acc_delta + (1 - rho) * delta * delta
        p         -= lr * delta
    """
    sign = -1.0 if maximize else 1.0
    if _on_cupy(backend):
        _launch(backend, _kernel(_ADADELTA, _compute(p.dtype, g.dtype)), g, sign, weight_decay,
                lr, rho, 1.0 - rho, eps, p, square_avg, acc_delta)
        return
    xp = backend.xp
    d = _signed_grad(xp, p, g, sign, weight_decay)
    tmp = xp.empty_like(p)
    _ema_square(xp, square_avg, d, rho, tmp)
    # sqrt(u + eps) / sqrt(v + eps) as one root of the quotient: one call fewer, within an ulp
    xp.add(square_avg, eps, out=tmp)
    delta = xp.add(acc_delta, eps)
    xp.divide(delta, tmp, out=delta)
    xp.sqrt(delta, out=delta)
    xp.multiply(delta, d, out=delta)
    _ema_square(xp, acc_delta, delta, rho, tmp)
    xp.multiply(delta, lr, out=delta)
    xp.subtract(p, delta, out=p)


_ADAMAX = CudaSpec(
    "adamax", "G g, A sign, A l2, A beta1, A c1, A beta2, A eps, A clr",
    "T p, T exp_avg, T exp_inf",
    """
    acc_t pv = (acc_t)p;
    acc_t d = sign * (acc_t)g + l2 * pv;
    acc_t m = beta1 * (acc_t)exp_avg + c1 * d;
    exp_avg = T(m);
    acc_t u = beta2 * (acc_t)exp_inf;
    acc_t a = fabs(d) + eps;
    u = (u > a || u != u) ? u : a;
    exp_inf = T(u);
    p = T(pv - clr * (m / u));
    """,
)


def adamax_step(backend: Any, p: Any, g: Any, exp_avg: Any, exp_inf: Any, *, step: int,
                lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
                maximize: bool) -> None:
    """One Adamax step on raw arrays, in place. With ``d = ±g + weight_decay * p``::

        exp_avg = beta1 * exp_avg + (1 - beta1) * d
        exp_inf = max(beta2 * exp_inf, |d| + eps)
        p      -= lr / (1 - beta1**step) * exp_avg / exp_inf
    """
    sign = -1.0 if maximize else 1.0
    clr = lr / (1.0 - beta1**step)
    if _on_cupy(backend):
        _launch(backend, _kernel(_ADAMAX, _compute(p.dtype, g.dtype)), g, sign, weight_decay,
                beta1, 1.0 - beta1, beta2, eps, clr, p, exp_avg, exp_inf)
        return
    xp = backend.xp
    d = _signed_grad(xp, p, g, sign, weight_decay)
    tmp = xp.empty_like(p)
    _ema(xp, exp_avg, d, beta1, tmp)
    xp.multiply(exp_inf, beta2, out=exp_inf)
    xp.absolute(d, out=tmp)
    xp.add(tmp, eps, out=tmp)
    xp.maximum(exp_inf, tmp, out=exp_inf)
    xp.divide(exp_avg, exp_inf, out=tmp)
    xp.multiply(tmp, clr, out=tmp)
    xp.subtract(p, tmp, out=p)


_NADAM = CudaSpec(
    "nadam",
    "G g, A sign, A l2, A decay, A beta1, A c1, A beta2, A c2, A bc2, A eps, A coef_g, A coef_m",
    "T p, T exp_avg, T exp_avg_sq",
    """
    acc_t p0 = (acc_t)p;
    acc_t d = sign * (acc_t)g + l2 * p0;
    acc_t m = beta1 * (acc_t)exp_avg + c1 * d;
    acc_t v = beta2 * (acc_t)exp_avg_sq + c2 * (d * d);
    exp_avg = T(m);
    exp_avg_sq = T(v);
    acc_t denom = sqrt(v / bc2) + eps;
    p = T(p0 * decay - coef_g * (d / denom) - coef_m * (m / denom));
    """,
)


def nadam_coefficients(step: int, mu_product: float, *, lr: float, beta1: float,
                       momentum_decay: float) -> tuple[float, float, float]:
    """``(coef_g, coef_m, mu_product)`` of NAdam's step `step` (from 1), given the product of
    the earlier steps' momentum coefficients (1.0 before the first)::

        mu_t      = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next   = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        product   = mu_product * mu_t
        coef_g    = lr * (1 - mu_t) / (1 - product)
        coef_m    = lr * mu_next / (1 - product * mu_next)
    """
    mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
    mu_product = mu_product * mu
    return (lr * (1.0 - mu) / (1.0 - mu_product),
            lr * mu_next / (1.0 - mu_product * mu_next), mu_product)


def nadam_step(backend: Any, p: Any, g: Any, exp_avg: Any, exp_avg_sq: Any, *, step: int,
               coef_g: float, coef_m: float, lr: float, beta1: float, beta2: float, eps: float,
               weight_decay: float, decoupled: bool, maximize: bool) -> None:
    """One NAdam step on raw arrays, in place (coefficients from `nadam_coefficients`)::

        exp_avg    = beta1 * exp_avg + (1 - beta1) * d
        exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * d * d
        denom      = sqrt(exp_avg_sq / (1 - beta2**step)) + eps
        p          = p * decay - coef_g * d / denom - coef_m * exp_avg / denom
    """
    sign, l2, decay = _decay_terms(lr, weight_decay, decoupled, maximize)
    bc2 = 1.0 - beta2**step
    if _on_cupy(backend):
        _launch(backend, _kernel(_NADAM, _compute(p.dtype, g.dtype)), g, sign, l2, decay, beta1,
                1.0 - beta1, beta2, 1.0 - beta2, bc2, eps, coef_g, coef_m, p, exp_avg,
                exp_avg_sq)
        return
    xp = backend.xp
    d, tmp = _adam_moments(xp, p, g, exp_avg, exp_avg_sq, sign=sign, l2=l2, decay=decay,
                           beta1=beta1, beta2=beta2)
    denom = xp.divide(exp_avg_sq, bc2)
    xp.sqrt(denom, out=denom)
    xp.add(denom, eps, out=denom)
    xp.divide(d, denom, out=tmp)
    xp.multiply(tmp, coef_g, out=tmp)
    xp.subtract(p, tmp, out=p)
    xp.divide(exp_avg, denom, out=tmp)
    xp.multiply(tmp, coef_m, out=tmp)
    xp.subtract(p, tmp, out=p)


_RADAM = CudaSpec(
    "radam",
    "G g, A sign, A l2, A decay, A beta1, A c1, A beta2, A c2, A eps, A scale, bool rectified",
    "T p, T exp_avg, T exp_avg_sq",
    """
    acc_t p0 = (acc_t)p;
    acc_t d = sign * (acc_t)g + l2 * p0;
    acc_t m = beta1 * (acc_t)exp_avg + c1 * d;
    acc_t v = beta2 * (acc_t)exp_avg_sq + c2 * (d * d);
    exp_avg = T(m);
    exp_avg_sq = T(v);
    acc_t u = rectified ? m / (sqrt(v) + eps) : m;
    p = T(p0 * decay - scale * u);
    """,
)


def radam_scale(step: int, *, lr: float, beta1: float, beta2: float) -> tuple[float, bool]:
    """``(scale, rectified)`` of RAdam's step `step` (from 1)::

        rho_inf = 2 / (1 - beta2) - 1
        rho_t   = rho_inf - 2 * step * beta2**step / (1 - beta2**step)
        rect    = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        scale   = lr * rect * sqrt(1 - beta2**step) / (1 - beta1**step)   (rho_t > 5)
        scale   = lr / (1 - beta1**step)                                  (otherwise)
    """
    bc1 = 1.0 - beta1**step
    bc2 = 1.0 - beta2**step
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    rho_t = rho_inf - 2.0 * step * beta2**step / bc2
    if rho_t > 5.0:
        rect = math.sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                         / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
        return lr * rect * math.sqrt(bc2) / bc1, True
    return lr / bc1, False


def radam_step(backend: Any, p: Any, g: Any, exp_avg: Any, exp_avg_sq: Any, *, step: int,
               lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
               decoupled: bool, maximize: bool) -> None:
    """One RAdam step on raw arrays, in place (`radam_scale` gives the step size)::

        exp_avg    = beta1 * exp_avg + (1 - beta1) * d
        exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * d * d
        p          = p * decay - scale * exp_avg / (sqrt(exp_avg_sq) + eps)   (rectified)
        p          = p * decay - scale * exp_avg                              (otherwise)
    """
    sign, l2, decay = _decay_terms(lr, weight_decay, decoupled, maximize)
    scale, rectified = radam_scale(step, lr=lr, beta1=beta1, beta2=beta2)
    if _on_cupy(backend):
        _launch(backend, _kernel(_RADAM, _compute(p.dtype, g.dtype)), g, sign, l2, decay, beta1,
                1.0 - beta1, beta2, 1.0 - beta2, eps, scale, rectified, p, exp_avg, exp_avg_sq)
        return
    xp = backend.xp
    d, tmp = _adam_moments(xp, p, g, exp_avg, exp_avg_sq, sign=sign, l2=l2, decay=decay,
                           beta1=beta1, beta2=beta2)
    if rectified:
        xp.sqrt(exp_avg_sq, out=tmp)
        xp.add(tmp, eps, out=tmp)
        xp.divide(exp_avg, tmp, out=tmp)
        xp.multiply(tmp, scale, out=tmp)
    else:
        xp.multiply(exp_avg, scale, out=tmp)
    xp.subtract(p, tmp, out=p)


_ASGD = CudaSpec(
    "asgd", "G g, A sign, A l2, A shrink, A eta, A mu, bool copy", "T p, T ax",
    """
    acc_t p0 = (acc_t)p;
    acc_t d = sign * (acc_t)g + l2 * p0;
    T pn = T(p0 * shrink - eta * d);
    p = pn;
    acc_t a = (acc_t)ax;
    ax = copy ? pn : T(a + ((acc_t)pn - a) * mu);
    """,
)


def asgd_step(backend: Any, p: Any, g: Any, ax: Any, *, eta: float, mu: float, lambd: float,
              weight_decay: float, maximize: bool) -> None:
    """One ASGD step on raw arrays, in place, with the current `eta` and `mu`::

        p  = p * (1 - lambd * eta) - eta * d
        ax = p (mu == 1), else ax + (p - ax) * mu
    """
    sign = -1.0 if maximize else 1.0
    shrink = 1.0 - lambd * eta
    if _on_cupy(backend):
        _launch(backend, _kernel(_ASGD, _compute(p.dtype, g.dtype)), g, sign, weight_decay,
                shrink, eta, mu, mu == 1, p, ax)
        return
    xp = backend.xp
    d = _signed_grad(xp, p, g, sign, weight_decay)
    tmp = xp.empty_like(p)
    xp.multiply(d, eta, out=tmp)
    xp.multiply(p, shrink, out=p)
    xp.subtract(p, tmp, out=p)
    if mu == 1:
        ax[...] = p
    else:
        xp.subtract(p, ax, out=tmp)
        xp.multiply(tmp, mu, out=tmp)
        xp.add(ax, tmp, out=ax)
