"""The strong-Wolfe line search of `LBFGS` (Nocedal & Wright, Numerical Optimization, 2nd ed.,
algorithms 3.5 and 3.6, with the safeguarded cubic interpolation of their section 3.5).

Works on one search direction `d` from a point `x`: ``evaluate(t)`` returns the loss and the
flat gradient at ``x + t * d``. Losses, slopes and step lengths are Python floats; gradients stay
backend arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def cubic_minimizer(t1: float, f1: float, s1: float, t2: float, f2: float, s2: float,
                    bounds: tuple[float, float] | None = None) -> float:
    """The minimiser, clipped to `bounds` (default: between t1 and t2), of the cubic through two
    points with values f and slopes s (N&W eq. 3.59); the middle of the bounds where the cubic
    has no minimum."""
    lo, hi = bounds if bounds is not None else (min(t1, t2), max(t1, t2))
    d1 = s1 + s2 - 3.0 * (f1 - f2) / (t1 - t2)
    disc = d1 * d1 - s1 * s2
    if disc < 0:
        return (lo + hi) / 2.0
    d2 = math.copysign(math.sqrt(disc), t2 - t1)
    denom = s2 - s1 + 2.0 * d2
    t = t2 - (t2 - t1) * (s2 + d2 - d1) / denom if denom != 0 else math.nan
    if not math.isfinite(t):  # a straight line (no curvature): no minimiser inside
        return (lo + hi) / 2.0
    return min(max(t, lo), hi)


@dataclass
class _Trial:
    """A step length tried: its loss, flat gradient and slope along the direction."""

    t: float
    f: float
    g: Any
    slope: float


def strong_wolfe(evaluate: Callable[[float], tuple[float, Any]], dot: Callable[[Any], float],
                 t: float, f0: float, g0: Any, slope0: float, *, c1: float = 1e-4,
                 c2: float = 0.9, tolerance_change: float = 1e-9, max_ls: int = 25,
                 d_norm: float = 1.0) -> tuple[float, Any, float, int]:
    """A step length `t` along the direction with sufficient decrease and a small slope:
    ``f(t) <= f0 + c1 * t * slope0`` and ``|slope(t)| <= c2 * |slope0|``.

    Args:
        evaluate: ``t -> (loss, flat gradient)`` at ``x + t * d``.
        dot: ``g -> g . d`` (the slope of a gradient along the direction).
        t: the first step length tried.
        f0, g0, slope0: loss, gradient and slope at t = 0 (slope0 < 0: a descent direction).
        d_norm: the direction's largest absolute entry (a bracket narrower than
            `tolerance_change` in parameter space ends the search).

    Returns:
        ``(loss, gradient, t, evaluations)`` at the step length chosen.
    """
    evals = 0

    def trial(step: float) -> _Trial:
        nonlocal evals
        evals += 1
        f, g = evaluate(step)
        return _Trial(step, f, g, dot(g))

    def sufficient(p: _Trial) -> bool:
        return p.f <= f0 + c1 * p.t * slope0

    def flat(p: _Trial) -> bool:
        return abs(p.slope) <= -c2 * slope0

    prev = _Trial(0.0, f0, g0, slope0)
    cur = trial(t)
    # Bracketing (algorithm 3.5): grow the step until an interval holds an acceptable one.
    bracket: list[_Trial] | None = None
    for i in range(max_ls):
        if not sufficient(cur) or (i > 0 and cur.f >= prev.f):
            bracket = [prev, cur]
            break
        if flat(cur):
            return cur.f, cur.g, cur.t, evals
        if cur.slope >= 0:
            bracket = [prev, cur]
            break
        # extrapolate: at least 1% beyond the current step, at most ten times it
        nxt = cubic_minimizer(prev.t, prev.f, prev.slope, cur.t, cur.f, cur.slope,
                              bounds=(cur.t + 0.01 * (cur.t - prev.t), cur.t * 10.0))
        prev, cur = cur, trial(nxt)
    if bracket is None:  # out of evaluations while still growing
        bracket = [_Trial(0.0, f0, g0, slope0), cur]

    # Zoom (algorithm 3.6): shrink the bracket; `low` is its end with the lower loss.
    low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
    stalled = False
    while evals < max_ls:
        a, b = bracket[0].t, bracket[1].t
        if abs(b - a) * d_norm < tolerance_change:
            break
        step = cubic_minimizer(a, bracket[0].f, bracket[0].slope, b, bracket[1].f,
                               bracket[1].slope)
        # Keep the new step at least 10% of the bracket away from its ends; a step near an end
        # twice in a row (or outside) is moved to 10% inside.
        lo, hi = min(a, b), max(a, b)
        margin = 0.1 * (hi - lo)
        if min(hi - step, step - lo) < margin:
            if stalled or step >= hi or step <= lo:
                step = hi - margin if abs(step - hi) < abs(step - lo) else lo + margin
                stalled = False
            else:
                stalled = True
        else:
            stalled = False
        new = trial(step)
        if not sufficient(new) or new.f >= bracket[low].f:
            bracket[high] = new
        else:
            if flat(new):
                bracket[low] = new
                break
            if new.slope * (bracket[high].t - bracket[low].t) >= 0:
                bracket[high] = bracket[low]
            bracket[low] = new
        low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
    best = bracket[low]
    return best.f, best.g, best.t, evals
