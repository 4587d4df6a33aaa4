"""One step of SGD, Adam/AdamW, RMSprop and Adagrad written out in NumPy from the algorithms'
definitions: the reference the fused kernels (tests/backends/test_kernels.py) and the
optimizers over several steps (tests/optim/test_optimizers.py) are checked against."""

from __future__ import annotations

import numpy as np


def ref_sgd(p, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize):
    d = (-g if maximize else g) + weight_decay * p
    if momentum:
        buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
        d = d + momentum * buf if nesterov else buf
    return p - lr * d, buf


def ref_adam(p, g, m, v, vmax, t, lr, beta1, beta2, eps, weight_decay, decoupled, amsgrad,
             maximize):
    d = -g if maximize else g
    if decoupled:
        p = p * (1 - lr * weight_decay)
    else:
        d = d + weight_decay * p
    m = beta1 * m + (1 - beta1) * d
    v = beta2 * v + (1 - beta2) * d * d
    if amsgrad:
        vmax = np.maximum(vmax, v)
    v_hat = (vmax if amsgrad else v) / (1 - beta2**t)
    p = p - lr * (m / (1 - beta1**t)) / (np.sqrt(v_hat) + eps)
    return p, m, v, vmax


def ref_rmsprop(p, g, sq, ga, buf, lr, alpha, eps, weight_decay, momentum, centered, maximize):
    d = (-g if maximize else g) + weight_decay * p
    sq = alpha * sq + (1 - alpha) * d * d
    if centered:
        ga = alpha * ga + (1 - alpha) * d
        avg = np.sqrt(sq - ga * ga) + eps
    else:
        avg = np.sqrt(sq) + eps
    if momentum > 0:
        buf = momentum * buf + d / avg
        return p - lr * buf, sq, ga, buf
    return p - lr * d / avg, sq, ga, buf


def ref_adagrad(p, g, s, t, lr, lr_decay, weight_decay, eps, maximize):
    d = (-g if maximize else g) + weight_decay * p
    s = s + d * d
    return p - lr / (1 + (t - 1) * lr_decay) * d / (np.sqrt(s) + eps), s
