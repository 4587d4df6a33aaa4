"""Special functions on the host for NumPy without SciPy: erfc, erfinv, gammaln, digamma,
polygamma and log_ndtr, elementwise in float64 (SciPy's versions are used where SciPy is
installed; tests hold these to SciPy's values).

erfc and gammaln call Python's math module per element (exact, slow); digamma and polygamma
shift the argument up by the recurrence psi(x) = psi(x + 1) - 1/x until it is large, then use
the asymptotic series; erfinv refines a rational first guess with Newton steps on erf;
log_ndtr switches to its asymptotic series far in the left tail, where erfc underflows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# The Bernoulli numbers B_2k for k = 1..8, for the asymptotic series.
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)
_LARGE = 12.0  # shift arguments above this before using the asymptotic series


def _vectorized(fn: Any, x: Any) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.frompyfunc(fn, 1, 1)(x).astype(np.float64)


def erf(x: Any) -> np.ndarray:
    return _vectorized(math.erf, x)


def erfc(x: Any) -> np.ndarray:
    return _vectorized(math.erfc, x)


def gammaln(x: Any) -> np.ndarray:
    def lgamma(v: float) -> float:
        if v <= 0 and v == math.floor(v):
            return math.inf
        return math.lgamma(v)

    return _vectorized(lgamma, x)


def _shift_up(x: np.ndarray) -> tuple[np.ndarray, int]:
    steps = int(max(0.0, math.ceil(_LARGE - float(np.nanmin(x))))) if x.size else 0
    return x, steps


def digamma(x: Any) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    x, steps = _shift_up(x)
    total = np.zeros_like(x)
    z = x.copy()
    for _ in range(steps):
        small = z < _LARGE
        total = total - np.where(small, 1.0 / np.where(small, z, 1.0), 0.0)
        z = np.where(small, z + 1.0, z)
    inv2 = 1.0 / (z * z)
    series = np.zeros_like(z)
    power = inv2.copy()
    for k, b in enumerate(_BERNOULLI, start=1):
        series = series + b / (2 * k) * power
        power = power * inv2
    out = total + np.log(z) - 0.5 / z - series
    return np.where((x <= 0) & (x == np.floor(x)), np.nan, out)


def polygamma(n: Any, x: Any) -> np.ndarray:
    n = int(np.asarray(n).reshape(-1)[0]) if np.ndim(n) else int(n)
    if n == 0:
        return digamma(x)
    x = np.asarray(x, dtype=np.float64)
    x, steps = _shift_up(x)
    sign = -1.0 if n % 2 == 0 else 1.0  # (-1)^(n+1)
    factorial = math.factorial(n)
    total = np.zeros_like(x)
    z = x.copy()
    for _ in range(steps):
        small = z < _LARGE
        safe = np.where(small, z, 1.0)
        total = total + np.where(small, sign * factorial / safe ** (n + 1), 0.0)
        z = np.where(small, z + 1.0, z)
    # (-1)^(n+1) [ (n-1)!/z^n + n!/(2 z^(n+1)) + sum_k B_2k (2k+n-1)!/((2k)! z^(2k+n)) ]
    series = math.factorial(n - 1) / z**n + factorial / (2 * z ** (n + 1))
    for k, b in enumerate(_BERNOULLI, start=1):
        series = series + b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) / z ** (
            2 * k + n)
    out = total + sign * series
    return np.where((x <= 0) & (x == np.floor(x)), np.nan, out)


def erfinv(y: Any) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    inside = np.abs(y) < 1
    t = np.where(inside, y, 0.0)
    # First guess (Giles' single-precision approximation), then Newton steps on erf.
    w = -np.log((1.0 - t) * (1.0 + t))
    small = w < 5.0
    ws = np.where(small, w - 2.5, np.sqrt(np.maximum(w, 5.0)) - 3.0)
    p_small = _poly(ws, (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                         0.00021858087, -0.00125372503, -0.00417768164, 0.246640727,
                         1.50140941))
    p_large = _poly(ws, (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
                         0.00573950773, -0.0076224613, 0.00943887047, 1.00167406,
                         2.83297682))
    x = np.where(small, p_small, p_large) * t
    for _ in range(3):
        x = x - (erf(x) - t) / (2.0 / math.sqrt(math.pi) * np.exp(-x * x))
    x = np.where(inside, x, np.where(np.abs(y) == 1, np.sign(y) * np.inf, np.nan))
    return x


def _poly(w: np.ndarray, coefficients: tuple) -> np.ndarray:
    p = np.full_like(w, coefficients[0])
    for c in coefficients[1:]:
        p = p * w + c
    return p


def log_ndtr(x: Any) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    tail = x < -30.0
    safe = np.where(tail, -31.0, x)
    # log(1 - Q(x)) with log1p where Phi(x) is close to 1, so the tiny result keeps its digits.
    upper = 0.5 * erfc(np.abs(safe) / math.sqrt(2.0))
    direct = np.where(safe > 0, np.log1p(-upper), np.log(upper))
    # log Phi(x) ~ log phi(x) - log(-x) + log(1 - 1/x^2 + 3/x^4 - 15/x^6 + 105/x^8)
    xt = np.where(tail, x, -31.0)
    inv2 = 1.0 / (xt * xt)
    series = 1.0 - inv2 + 3 * inv2**2 - 15 * inv2**3 + 105 * inv2**4
    asymptotic = -0.5 * xt * xt - 0.5 * math.log(2 * math.pi) - np.log(-xt) + np.log(series)
    return np.where(tail, asymptotic, direct)


FUNCTIONS = {
    "erf": erf, "erfc": erfc, "erfinv": erfinv, "gammaln": gammaln, "digamma": digamma,
    "polygamma": polygamma, "log_ndtr": log_ndtr,
}
