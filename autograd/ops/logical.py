"""Tests and logic: isnan, isinf, isfinite, isclose, allclose, logical_and/or/xor/not,
bitwise_and/or/xor/not (invert). None of them is differentiable: each returns a plain boolean
(or integer) tensor with no ``grad_fn``, as PyTorch and NumPy do.
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor, _lift

__all__ = [
    "isnan", "isinf", "isfinite", "isposinf", "isneginf", "isclose", "allclose",
    "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or",
    "bitwise_xor", "bitwise_not", "invert", "bitwise_invert",
]


def _plain(like: Tensor, array: Any) -> Tensor:
    return Tensor._make(like._backend.asarray(array), like._backend)


def _arrays(a: Any, b: Any, op: str) -> tuple:
    """(like, a, b) with a and b as backend arrays or Python scalars on like's backend."""
    like = a if isinstance(a, Tensor) else b
    if not isinstance(like, Tensor):
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    a, b = _lift(a, like), _lift(b, like)
    for t in (a, b):
        if isinstance(t, Tensor) and t._backend is not like._backend:
            raise RuntimeError(f"{op}: tensors on different devices ({like.device} and "
                               f"{t.device})")
    return like, (a.array if isinstance(a, Tensor) else a), (
        b.array if isinstance(b, Tensor) else b)


def _test(name: str, x: Tensor) -> Tensor:
    xp = x.xp
    if x.dtype.kind not in "fc":  # integers and booleans are always finite numbers
        fill = name == "isfinite"
        return _plain(x, xp.full(x.shape, fill, dtype=bool))
    return _plain(x, getattr(xp, name)(x.array))


def isnan(x: Tensor) -> Tensor:
    """Elementwise ``x != x``: True where x is NaN (boolean, not differentiable)."""
    return _test("isnan", x)


def isinf(x: Tensor) -> Tensor:
    """True where x is +inf or -inf."""
    return _test("isinf", x)


def isfinite(x: Tensor) -> Tensor:
    """True where x is neither NaN nor infinite."""
    return _test("isfinite", x)


def isposinf(x: Tensor) -> Tensor:
    """True where x is +inf."""
    return _plain(x, x.array == float("inf"))


def isneginf(x: Tensor) -> Tensor:
    """True where x is -inf."""
    return _plain(x, x.array == float("-inf"))


def isclose(a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8,
            equal_nan: bool = False) -> Tensor:
    """Elementwise ``|a - b| <= atol + rtol * |b|`` (NumPy's and PyTorch's ``isclose``, the
    same defaults); infinities are close only to themselves."""
    like, a, b = _arrays(a, b, "isclose")
    return _plain(like, like.xp.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8,
             equal_nan: bool = False) -> bool:
    """Whether every pair is `isclose` (a Python bool; on a device this reads one value)."""
    return bool(isclose(a, b, rtol, atol, equal_nan).array.all())


def _logical(name: str, a: Any, b: Any) -> Tensor:
    like, a, b = _arrays(a, b, name)
    return _plain(like, getattr(like.xp, name)(a, b))


def logical_and(a: Any, b: Any) -> Tensor:
    """Elementwise truth of ``a and b`` (nonzero is true), boolean."""
    return _logical("logical_and", a, b)


def logical_or(a: Any, b: Any) -> Tensor:
    """Elementwise truth of ``a or b``, boolean."""
    return _logical("logical_or", a, b)


def logical_xor(a: Any, b: Any) -> Tensor:
    """Elementwise truth of ``bool(a) != bool(b)``, boolean."""
    return _logical("logical_xor", a, b)


def logical_not(x: Tensor) -> Tensor:
    """Elementwise ``not x`` (true where x is zero), boolean."""
    return _plain(x, x.xp.logical_not(x.array))


def _bitwise(name: str, a: Any, b: Any) -> Tensor:
    like, ra, rb = _arrays(a, b, name)
    for t in (ra, rb):
        kind = t.dtype.kind if hasattr(t, "dtype") else ("f" if isinstance(t, float) else "i")
        if kind not in "biu":
            raise TypeError(f"{name}: expected integer or boolean operands, got dtype "
                            f"{getattr(t, 'dtype', type(t).__name__)}")
    return _plain(like, getattr(like.xp, name)(ra, rb))


def bitwise_and(a: Any, b: Any) -> Tensor:
    """Elementwise ``a & b`` of integer or boolean tensors."""
    return _bitwise("bitwise_and", a, b)


def bitwise_or(a: Any, b: Any) -> Tensor:
    """Elementwise ``a | b`` of integer or boolean tensors."""
    return _bitwise("bitwise_or", a, b)


def bitwise_xor(a: Any, b: Any) -> Tensor:
    """Elementwise ``a ^ b`` of integer or boolean tensors."""
    return _bitwise("bitwise_xor", a, b)


def bitwise_not(x: Tensor) -> Tensor:
    """Elementwise ``~x``: bitwise complement of integers, logical not of booleans."""
    if x.dtype.kind not in "biu":
        raise TypeError(f"bitwise_not: expected an integer or boolean tensor, got dtype "
                        f"{x.dtype}")
    return _plain(x, x.xp.invert(x.array))


invert = bitwise_invert = bitwise_not
