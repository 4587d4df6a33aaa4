"""Op-table rows for unary elementwise ops: exp/log family, trigonometry, activations, clip."""

from __future__ import annotations

import math

import numpy as np

import autograd as ag

from .op_table import OpCase

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _leaky_relu(x, slope):
    return np.where(x > 0, x, slope * x)


def _elu(x, alpha):
    return np.where(x > 0, x, alpha * (np.exp(x) - 1.0))


def _gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def _softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


CASES = [
    OpCase("abs", ag.abs, np.abs, kinks=(0.0,)),
    OpCase("abs_method", lambda x: abs(x), np.abs, kinks=(0.0,)),
    OpCase("exp", ag.exp, np.exp),
    OpCase("log", ag.log, np.log, domain=(0.1, 3.0)),
    OpCase("log1p", lambda x: x.log1p(), np.log1p, domain=(-0.8, 2.0)),
    OpCase("expm1", lambda x: x.expm1(), np.expm1),
    OpCase("sqrt", lambda x: x.sqrt(), np.sqrt, domain=(0.1, 3.0)),
    OpCase("square", ag.square, np.square),
    OpCase("sin", lambda x: x.sin(), np.sin, domain=(-4.0, 4.0)),
    OpCase("cos", lambda x: x.cos(), np.cos, domain=(-4.0, 4.0)),
    OpCase("tanh", lambda x: x.tanh(), np.tanh),
    OpCase("erf", ag.erf, _erf),
    OpCase("sigmoid", lambda x: x.sigmoid(), _sigmoid, domain=(-6.0, 6.0)),
    OpCase("relu", lambda x: x.relu(), lambda x: np.maximum(x, 0.0), kinks=(0.0,)),
    OpCase("leaky_relu", ag.leaky_relu, lambda x: _leaky_relu(x, 0.01), kinks=(0.0,)),
    OpCase("leaky_relu_0.2", lambda x: ag.leaky_relu(x, negative_slope=0.2),
           lambda x: _leaky_relu(x, 0.2), kinks=(0.0,)),
    OpCase("elu", ag.elu, lambda x: _elu(x, 1.0), domain=(-3.0, 2.0), kinks=(0.0,)),
    OpCase("elu_alpha", lambda x: ag.elu(x, alpha=0.5), lambda x: _elu(x, 0.5),
           domain=(-3.0, 2.0), kinks=(0.0,)),
    OpCase("gelu", ag.gelu, _gelu, domain=(-4.0, 4.0)),
    OpCase("gelu_tanh", lambda x: ag.gelu(x, approximate="tanh"), _gelu_tanh, domain=(-4.0, 4.0)),
    OpCase("softplus", ag.softplus, _softplus, domain=(-6.0, 6.0)),
    # threshold / beta = 1.5 lies inside the domain: both branches and the switch are drawn.
    OpCase("softplus_beta", lambda x: ag.softplus(x, beta=2.0, threshold=3.0),
           lambda x: _softplus(x, 2.0, 3.0), domain=(-3.0, 3.0), kinks=(1.5,)),
    OpCase("clip", lambda x: x.clip(-0.5, 0.8), lambda x: np.clip(x, -0.5, 0.8),
           kinks=(-0.5, 0.8)),
    OpCase("clip_min", lambda x: ag.clip(x, min=0.25), lambda x: np.maximum(x, 0.25),
           kinks=(0.25,)),
    OpCase("clip_max", lambda x: x.clamp(max=-0.3), lambda x: np.minimum(x, -0.3),
           kinks=(-0.3,)),
    OpCase("sign", ag.sign, np.sign, kinks=(0.0,)),
    OpCase("sign_times_x", lambda x: ag.sign(x) * x, lambda x: np.sign(x) * x, kinks=(0.0,)),
    OpCase("clone", lambda x: x.clone(), np.copy),
    OpCase("cast_roundtrip", lambda x: (x * 0.0).astype("float32").astype("float64") + x,
           lambda x: x),
]
