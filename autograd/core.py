"""HIPS autograd's ``autograd.core`` entry points, for code written against its internals:
``make_vjp(fun, x) -> (vjp, ans)`` and ``make_jvp(fun, x)(v) -> (ans, jvp)`` on one-argument
functions, `vspace`, and the primitive definitions (see `autograd.extend`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .extend import (  # noqa: F401
    VSpace,
    def_linear,
    defjvp,
    defjvp_argnum,
    defjvp_argnums,
    defvjp,
    defvjp_argnum,
    defvjp_argnums,
    primitive,
    primitive_vjps,
    vspace,
)
from .functional import jvp, vjp

__all__ = ["make_vjp", "make_jvp", "vspace", "VSpace", "primitive", "defvjp", "defvjp_argnum",
           "defvjp_argnums", "defjvp", "defjvp_argnum", "defjvp_argnums", "def_linear",
           "primitive_vjps"]


def make_vjp(fun: Callable, x: Any) -> tuple:
    """``(vjp, ans)`` for the one-argument function `fun` at `x`."""
    ans, pull = vjp(fun, x)
    return (lambda g: pull(g)[0]), ans


def make_jvp(fun: Callable, x: Any) -> Callable:
    """``v -> (ans, J v)`` for the one-argument function `fun` at `x`."""
    return lambda v: jvp(fun, (x,), (v,))
