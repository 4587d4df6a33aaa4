"""Op-table rows for the elementwise math of issues 13/14: rounding and remainders,
trigonometric and hyperbolic functions, exp/log variants, bounds and NaN handling, and the
PyTorch blends (lerp, addcmul, addcdiv). Both spellings are drawn where they differ (the Tensor
method and the ``ag.`` function).

Kinks: the piecewise-constant ops (floor, round, ...) are checked away from their jumps, where
their zero gradient is exact; the gradient AT a jump is pinned in test_math_ops.py.
"""

from __future__ import annotations

import numpy as np

import autograd as ag

from .op_table import OpCase, broadcast_shapes

_INTEGERS = (-2.0, -1.0, 0.0, 1.0, 2.0)
_HALVES = (-1.5, -0.5, 0.5, 1.5)
_TENTHS = tuple(np.round(np.arange(-2.05, 2.1, 0.1), 2))  # round(x, 1) jumps here
_B2 = broadcast_shapes(2)
_B3 = broadcast_shapes(3)


def _quotients_away_from_integers(rng, shapes):
    """a and b with every a / b at least 0.03 from an integer and |b| in [0.7, 2]."""
    for _ in range(200):
        b = rng.uniform(0.7, 2.0, size=shapes[1]) * rng.choice([-1.0, 1.0], size=shapes[1])
        a = rng.uniform(-4.0, 4.0, size=shapes[0])
        q = np.broadcast_arrays(a, b)[0] / np.broadcast_arrays(a, b)[1]
        if q.size == 0 or np.min(np.abs(q - np.round(q))) > 0.03:
            return [a, b]
    a = rng.uniform(0.05, 0.6, size=shapes[0])  # |a / b| < 1: the only integer near is 0
    return [a, np.full(shapes[1], 1.0)]


def _with_nan(rng, shapes):
    """NaN only: the default replacements of inf (the largest floats) would swamp the finite
    differences of the other outputs."""
    return _with_nonfinite(rng, shapes, (np.nan,))


def _with_nonfinite(rng, shapes, specials=(np.nan, np.inf, -np.inf)):
    x = rng.uniform(-2.0, 2.0, size=shapes[0])
    flat = x.reshape(-1)
    special = rng.choice(list(specials), size=flat.size)
    replace = rng.random(flat.size) < 0.4
    flat[replace] = special[replace]
    return [x]


def _apart(rng, shapes):
    """Two inputs on interleaved grids (multiples of 0.1, and those plus 0.05): never tied."""
    a = rng.integers(-20, 21, size=shapes[0]) * 0.1
    b = rng.integers(-20, 21, size=shapes[1]) * 0.1 + 0.05
    return [a, b]


def _round1(x):
    return np.round(x, 1)


CASES = [
    # -- rounding and remainders (zero gradient between the jumps) -----------------------------
    OpCase("floor", ag.floor, np.floor, kinks=_INTEGERS),
    OpCase("ceil_method", lambda x: x.ceil(), np.ceil, kinks=_INTEGERS),
    OpCase("trunc", ag.trunc, np.trunc, kinks=_INTEGERS),
    OpCase("round", lambda x: x.round(), np.round, kinks=_HALVES),
    OpCase("round_decimals", lambda x: ag.round(x, 1), _round1, kinks=_TENTHS, margin=5e-3),
    OpCase("floor_times_x", lambda x: x.floor() * x, lambda x: np.floor(x) * x, kinks=_INTEGERS),
    OpCase("frac", lambda x: x.frac(), lambda x: x - np.trunc(x), kinks=_INTEGERS),
    OpCase("fmod", ag.fmod, np.fmod, shapes=_B2, make_inputs=_quotients_away_from_integers),
    OpCase("remainder", ag.remainder, np.remainder, shapes=_B2,
           make_inputs=_quotients_away_from_integers),
    OpCase("mod_operator", lambda a, b: a % b, np.mod, shapes=_B2,
           make_inputs=_quotients_away_from_integers),
    OpCase("mod_scalar", lambda a: a % 0.75, lambda a: np.mod(a, 0.75),
           kinks=tuple(np.arange(-3, 4) * 0.75)),
    OpCase("rmod_scalar", lambda b: 1.3 % b, lambda b: np.mod(1.3, b), domain=(0.3, 2.0),
           kinks=(1.3, 0.65, 1.3 / 3, 1.3 / 4)),
    OpCase("floor_divide", lambda a, b: a // b, np.floor_divide, shapes=_B2,
           make_inputs=_quotients_away_from_integers),
    OpCase("copysign", ag.copysign, np.copysign, shapes=_B2, kinks=(0.0,)),
    # -- trigonometric and hyperbolic ---------------------------------------------------------
    OpCase("tan", ag.tan, np.tan, domain=(-1.2, 1.2)),
    OpCase("arcsin", ag.arcsin, np.arcsin, domain=(-0.9, 0.9)),
    OpCase("asin_method", lambda x: x.asin(), np.arcsin, domain=(-0.9, 0.9)),
    OpCase("arccos", ag.arccos, np.arccos, domain=(-0.9, 0.9)),
    OpCase("atan_method", lambda x: x.atan(), np.arctan),
    OpCase("arctan2", ag.arctan2, np.arctan2, shapes=_B2, kinks=(0.0,), margin=0.1),
    OpCase("atan2_method", lambda a, b: a.atan2(b), np.arctan2, shapes=_B2, kinks=(0.0,),
           margin=0.1),
    OpCase("sinh", ag.sinh, np.sinh),
    OpCase("cosh_method", lambda x: x.cosh(), np.cosh),
    OpCase("arcsinh", ag.arcsinh, np.arcsinh),
    OpCase("acosh_method", lambda x: x.acosh(), np.arccosh, domain=(1.1, 3.0)),
    OpCase("arctanh", ag.arctanh, np.arctanh, domain=(-0.9, 0.9)),
    OpCase("hypot", ag.hypot, np.hypot, shapes=_B2, kinks=(0.0,), margin=0.1),
    OpCase("sinc", ag.sinc, np.sinc, kinks=(0.0,), margin=0.05),
    OpCase("deg2rad", ag.deg2rad, np.deg2rad),
    OpCase("rad2deg_method", lambda x: x.rad2deg(), np.rad2deg),
    # -- exponential and logarithmic ---------------------------------------------------------
    OpCase("log2", ag.log2, np.log2, domain=(0.1, 3.0)),
    OpCase("log10_method", lambda x: x.log10(), np.log10, domain=(0.1, 3.0)),
    OpCase("exp2", ag.exp2, np.exp2),
    OpCase("logit", ag.logit, lambda x: np.log(x / (1 - x)), domain=(0.05, 0.95)),
    OpCase("logit_eps", lambda x: x.logit(eps=0.2),
           lambda x: np.log(np.clip(x, 0.2, 0.8) / (1 - np.clip(x, 0.2, 0.8))),
           domain=(0.02, 0.98), kinks=(0.2, 0.8)),
    OpCase("rsqrt", ag.rsqrt, lambda x: 1 / np.sqrt(x), domain=(0.2, 3.0)),
    OpCase("reciprocal_method", lambda x: x.reciprocal(), lambda x: 1 / x, kinks=(0.0,),
           margin=0.3),
    OpCase("cbrt", ag.cbrt, np.cbrt, kinks=(0.0,), margin=0.1),
    OpCase("logaddexp", ag.logaddexp, np.logaddexp, shapes=_B2, domain=(-4.0, 4.0)),
    OpCase("logaddexp2_method", lambda a, b: a.logaddexp2(b), np.logaddexp2, shapes=_B2,
           domain=(-4.0, 4.0)),
    # -- bounds and NaN ------------------------------------------------------------------------
    OpCase("clamp_min", lambda x: x.clamp_min(0.3), lambda x: np.maximum(x, 0.3), kinks=(0.3,)),
    OpCase("clamp_max", lambda x: ag.clamp_max(x, -0.2), lambda x: np.minimum(x, -0.2),
           kinks=(-0.2,)),
    OpCase("clamp_min_tensor", lambda x, m: x.clamp_min(m), np.maximum, shapes=_B2,
           make_inputs=_apart),
    OpCase("fmax", ag.fmax, np.fmax, shapes=_B2, make_inputs=_apart),
    OpCase("fmin_method", lambda a, b: a.fmin(b), np.fmin, shapes=_B2, make_inputs=_apart),
    OpCase("nan_to_num", ag.nan_to_num, np.nan_to_num, make_inputs=_with_nan),
    OpCase("nan_to_num_values", lambda x: x.nan_to_num(1.5, 9.0, -9.0),
           lambda x: np.nan_to_num(x, nan=1.5, posinf=9.0, neginf=-9.0),
           make_inputs=_with_nonfinite),
    # -- blends --------------------------------------------------------------------------------
    OpCase("lerp", ag.lerp, lambda a, b, w: a + w * (b - a), shapes=_B3),
    OpCase("lerp_scalar_method", lambda a, b: a.lerp(b, 0.3), lambda a, b: a + 0.3 * (b - a),
           shapes=_B2),
    OpCase("addcmul", lambda x, a, b: x.addcmul(a, b, value=0.5), lambda x, a, b: x + 0.5 * a * b,
           shapes=_B3),
    OpCase("addcdiv", lambda x, a, b: ag.addcdiv(x, a, b, value=-2.0),
           lambda x, a, b: x - 2.0 * a / b, shapes=_B3, kinks=(0.0,), margin=0.3),
]
