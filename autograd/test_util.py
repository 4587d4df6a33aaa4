"""`check_grads` as HIPS autograd's tests call it: ``check_grads(f, modes=["fwd", "rev"],
order=2)(*args)`` compares reverse-mode (vjp) and forward-mode (jvp) products with central
differences, recursively up to `order`, along random directions.

Arguments may be NumPy arrays, floats, Tensors or nested lists, tuples and dicts of them; the
random directions come from NumPy's global generator (seed it for reproducible checks). For
float64 property tests of single ops kedja's own `gradcheck`/`gradgradcheck` are stricter
(every element, a random upstream gradient, reentrancy).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import product
from typing import Any

from .differential_operators import make_jvp, make_vjp
from .pytree import tree_flatten, tree_unflatten
from .tensor import Tensor

__all__ = ["check_grads", "combo_check", "scalar_close", "check_vjp", "check_jvp",
           "check_equivalent"]

TOL = 1e-6
RTOL = 1e-6
EPS = 1e-6


def _onp() -> Any:
    from .numpy.dispatch import onp

    return onp


def scalar_close(a: float, b: float) -> bool:
    """|a - b| within TOL, or within RTOL relative to |a + b|."""
    return abs(a - b) < TOL or abs(a - b) / abs(a + b) < RTOL


def _host(x: Any) -> Any:
    if isinstance(x, Tensor):
        return x.backend.to_numpy(x.array)
    return _onp().asarray(x)


def _flat(value: Any) -> Any:
    onp = _onp()
    leaves, _ = tree_flatten(value)
    if not leaves:
        return onp.zeros(0)
    return onp.concatenate([_host(x).astype(complex).ravel() if _host(x).dtype.kind == "c"
                            else _host(x).astype(float).ravel() for x in leaves])


def _inner(a: Any, b: Any) -> float:
    return float(_onp().real(_onp().vdot(_flat(a), _flat(b))))


def _random_like(value: Any) -> Any:
    """A random direction with `value`'s structure, shapes and types."""
    onp = _onp()
    leaves, treedef = tree_flatten(value)
    out = []
    for x in leaves:
        host = _host(x)
        r = onp.asarray(onp.random.randn(*host.shape))
        if host.dtype.kind == "c":
            r = r + 1j * onp.asarray(onp.random.randn(*host.shape))
        r = r.astype(host.dtype if host.dtype.kind in "fc" else float)
        if isinstance(x, Tensor):
            out.append(Tensor._make(x.backend.asarray(r), x.backend))
        else:
            out.append(r if host.ndim or not isinstance(x, (float, complex)) else r[()])
    return tree_unflatten(treedef, out)


def _axpy(a: float, x: Any, y: Any) -> Any:
    """``a * x + y`` leaf by leaf (the result has y's leaf types)."""
    leaves_x, _ = tree_flatten(x)
    leaves_y, treedef = tree_flatten(y)
    return tree_unflatten(treedef, [a * lx + ly for lx, ly in zip(leaves_x, leaves_y)])


def _numerical_jvp(f: Callable, x: Any) -> Callable:
    def jvp(v: Any) -> Any:
        plus = f(_axpy(EPS / 2, v, x))
        minus = f(_axpy(-EPS / 2, v, x))
        return _axpy(-1.0 / EPS, minus, _axpy(1.0 / EPS, plus, _zeros_like(plus)))

    return jvp


def _zeros_like(value: Any) -> Any:
    leaves, treedef = tree_flatten(value)
    return tree_unflatten(treedef, [x * 0 for x in leaves])


def check_vjp(f: Callable, x: Any) -> None:
    """The vjp along a random cotangent against central differences along a random tangent."""
    vjp, y = make_vjp(f)(x)
    x_v, y_v = _random_like(x), _random_like(y)
    exact = _inner(x_v, vjp(y_v))
    numeric = _inner(y_v, _numerical_jvp(f, x)(x_v))
    assert scalar_close(numeric, exact), (
        f"Derivative (VJP) check of {getattr(f, '__name__', f)} failed with arg {x}:\n"
        f"analytic: {exact}\nnumeric:  {numeric}"
    )


def check_jvp(f: Callable, x: Any) -> None:
    """The jvp along a random tangent against central differences."""
    v = _random_like(x)
    exact = make_jvp(f)(x)(v)[1]
    numeric = _numerical_jvp(f, x)(v)
    w = _random_like(numeric)
    a, b = _inner(exact, w), _inner(numeric, w)
    assert scalar_close(a, b), (
        f"Derivative (JVP) check of {getattr(f, '__name__', f)} failed with arg {x}:\n"
        f"analytic: {a}\nnumeric:  {b}"
    )


def check_equivalent(x: Any, y: Any) -> None:
    """`x` and `y` have one structure and shapes, and agree along a random direction."""
    leaves_x, def_x = tree_flatten(x)
    leaves_y, def_y = tree_flatten(y)
    shapes_x = [_host(v).shape for v in leaves_x]
    shapes_y = [_host(v).shape for v in leaves_y]
    assert def_x == def_y and shapes_x == shapes_y, f"Structure mismatch:\nx: {x}\ny: {y}"
    v = _random_like(x)
    assert scalar_close(_inner(x, v), _inner(y, v)), f"Value mismatch:\nx: {x}\ny: {y}"


def _check(f: Callable, x: Any, modes: list, order: int) -> None:
    if "fwd" in modes:
        check_jvp(f, x)
        if order > 1:
            def jvp_of(xv: Any) -> Any:
                return make_jvp(f)(xv[0])(xv[1])[1]

            jvp_of.__name__ = f"jvp_{getattr(f, '__name__', 'f')}"
            _check(jvp_of, (x, _random_like(x)), modes, order - 1)
    if "rev" in modes:
        check_vjp(f, x)
        if order > 1:
            def vjp_of(xv: Any) -> Any:
                return make_vjp(f)(xv[0])[0](xv[1])

            vjp_of.__name__ = f"vjp_{getattr(f, '__name__', 'f')}"
            _check(vjp_of, (x, _random_like(f(x))), modes, order - 1)


def check_grads(f: Callable, argnum: Any = 0, modes: list | None = None,
                order: int = 2) -> Callable:
    """``check_grads(f, argnum, modes, order)(*args, **kwargs)`` raises AssertionError where a
    derivative of `f` (up to `order`, in each of `modes`: "fwd", "rev") disagrees with
    central differences."""
    modes = ["fwd", "rev"] if modes is None else list(modes)
    if any(m not in ("fwd", "rev") for m in modes):
        raise ValueError(f"check_grads: modes must be 'fwd' and/or 'rev', got {modes}")

    def checker(*args: Any, **kwargs: Any) -> None:
        nums = (argnum,) if isinstance(argnum, int) else tuple(argnum)

        def unary(x: Any) -> Any:
            new = list(args)
            for i, value in zip(nums, (x,) if isinstance(argnum, int) else x):
                new[i] = value
            return f(*new, **kwargs)

        unary.__name__ = getattr(f, "__name__", "f")
        x = args[argnum] if isinstance(argnum, int) else tuple(args[i] for i in nums)
        _check(unary, x, modes, order)

    return checker


def combo_check(fun: Callable, *args: Any, **kwargs: Any) -> Callable:
    """``combo_check(f, argnums, modes=..., order=...)(arg_choices..., kw=[choices])``: runs
    `check_grads` on every combination of the given arguments and keyword values."""
    def run(*arg_choices: Any, **kwarg_choices: Any) -> None:
        keyed = [[(k, v) for v in values] for k, values in kwarg_choices.items()]
        for combo in product(*arg_choices):
            for kw in product(*keyed):
                check_grads(fun, *args, **kwargs)(*combo, **dict(kw))

    return run
