"""`fixed_point(f, a, x0, distance, tol)`: the fixed point x* = f(a)(x*) by iteration, with a
gradient in `a` by the implicit function theorem rather than through the iterations.

At the fixed point dx* = (I - J_x)^-1 J_a da, so the vector-Jacobian product is
``g -> w^T J_a`` with ``w = g + J_x^T w``: another fixed point, solved by iterating the same way
(it converges wherever the forward iteration does, the contraction being the same). Both
vector-Jacobian products are taken with kedja's transforms, so second derivatives work too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..differential_operators import make_vjp
from ..extend import defvjp_argnum, primitive

__all__ = ["fixed_point"]


@primitive
def fixed_point(f: Callable, a: Any, x0: Any, distance: Callable, tol: float) -> Any:
    """Iterates ``x = f(a)(x)`` from `x0` until ``distance(x, previous) <= tol``."""
    step = f(a)
    x, previous = step(x0), x0
    while distance(x, previous) > tol:
        x, previous = step(x), x
    return x


def _fixed_point_vjp(argnum: int, ans: Any, args: tuple, kwargs: dict) -> Callable:
    if argnum != 1:
        raise NotImplementedError("fixed_point is differentiable in its parameter `a` only")
    f, a, _x0, distance, tol = args
    vjp_x, _ = make_vjp(lambda x: f(a)(x))(ans)
    vjp_a, _ = make_vjp(lambda p: f(p)(ans))(a)

    def vjp(g: Any) -> Any:
        w, previous = g, g * 0.0
        while distance(w, previous) > tol:
            w, previous = g + vjp_x(w), w
        return vjp_a(w)

    return vjp


defvjp_argnum(fixed_point, _fixed_point_vjp)
