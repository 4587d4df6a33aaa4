"""`autograd.scipy.integrate.odeint`: SciPy's ``odeint`` signature, differentiable in `y0`, `t`
and `args` (to any order), on every backend.

kedja integrates with the classical Runge-Kutta method (order 4) written in
`autograd.numpy`, so the derivatives are those of the computed solution, exactly
("discretise, then differentiate"): no adjoint equation, no SciPy. Each interval
[t_i, t_i+1] is cut into N equal steps, N doubling until the solution with 2N steps agrees
with the one with N within ``atol + rtol * |y|`` (N stays fixed under a small change of the
inputs, so the result is smooth in them). The steps are fractions of the interval, so the
result is differentiable in the times too. Values agree with SciPy's LSODA to about the
tolerances; stiff systems need many steps (LSODA is better there: use SciPy on plain data).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import backends

from .. import numpy as anp
from ..numpy.dispatch import onp, tensors_in
from ..tensor import Tensor

__all__ = ["odeint"]

#: The most steps per interval (2**12) before the tolerances are declared out of reach.
_MAX_DOUBLINGS = 12


def odeint(func: Callable, y0: Any, t: Any, args: tuple = (), rtol: float = 1.49012e-8,
           atol: float = 1.49012e-8, mxstep: int = 0, **kwargs: Any) -> Any:
    """y(t) for ``dy/dt = func(y, t, *args)`` with ``y(t[0]) = y0``: an array (len(t), *y0.shape).

    Args:
        func: the dynamics, written with `autograd.numpy` (it gets Tensors while
            differentiating).
        y0: the initial state; t: the increasing (or decreasing) times; args: extra arguments.
        rtol, atol: the tolerances (SciPy's defaults); `mxstep` and SciPy's other keyword
            arguments are accepted and ignored.
    """
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    if not tensors_in((y0, t, args)):
        from ..transform_io import to_plain

        host = backends.host()
        y0 = Tensor._make(host.asarray(onp.asarray(y0, dtype=float)), host)
        return to_plain(odeint(func, y0, t, args, rtol, atol))
    t = anp.asarray(t)
    y0 = anp.asarray(y0)
    if t.ndim != 1:
        raise ValueError(f"odeint: t must be a 1-D array of times, got shape {t.shape}")
    states = [y0]
    y = y0
    for i in range(t.shape[0] - 1):
        y = _interval(func, y, t[i], t[i + 1], args, rtol, atol)
        states.append(y)
    return anp.stack(states)


def _interval(func: Callable, y: Any, t0: Any, t1: Any, args: tuple, rtol: float,
              atol: float) -> Any:
    coarse = _rk4(func, y, t0, t1, args, 1)
    for doubling in range(1, _MAX_DOUBLINGS + 1):
        fine = _rk4(func, y, t0, t1, args, 2 ** doubling)
        # the step count is chosen on the values alone (no gradient flows through the choice)
        error = onp.max(onp.abs(_host(fine) - _host(coarse)) /
                        (atol + rtol * onp.abs(_host(fine)))) if _host(fine).size else 0.0
        if error <= 1.0:
            return fine
        coarse = fine
    raise ValueError(
        f"odeint: the tolerances (rtol={rtol}, atol={atol}) were not reached with "
        f"{2 ** _MAX_DOUBLINGS} steps on one interval (a stiff system? use SciPy's odeint on "
        "plain data)"
    )


def _rk4(func: Callable, y: Any, t0: Any, t1: Any, args: tuple, steps: int) -> Any:
    h = (t1 - t0) / steps
    for k in range(steps):
        tk = t0 + h * k
        k1 = func(y, tk, *args)
        k2 = func(y + k1 * (h / 2), tk + h / 2, *args)
        k3 = func(y + k2 * (h / 2), tk + h / 2, *args)
        k4 = func(y + k3 * h, tk + h, *args)
        y = y + (k1 + 2 * k2 + 2 * k3 + k4) * (h / 6)
    return y


def _host(x: Any) -> Any:
    """The values of `x` as a NumPy array (one device read per check, not per step)."""
    if isinstance(x, Tensor):
        return x.backend.to_numpy(x.array)
    return onp.asarray(x)
