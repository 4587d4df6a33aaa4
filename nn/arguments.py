"""Checks of the plain arguments of layers, functions and data loaders (sizes, rates, axes).

Each returns the value in its canonical form or raises an error that names the owner (a class
or function name), the argument, what it got and what it expected, at construction time rather
than deep inside the first forward:

    >>> size("Linear", "in_features", -1)
    ValueError: Linear: in_features must be a non-negative int, got -1
"""

from __future__ import annotations

import numbers
import operator
from typing import Any


def _is_int(value: Any) -> bool:
    """Python and NumPy integers (not bools, not floats)."""
    if type(value) is int:
        return True
    if isinstance(value, (bool, float)):
        return False
    try:
        operator.index(value)
    except TypeError:
        return False
    return True


def size(owner: str, name: str, value: Any, minimum: int = 0) -> int:
    """`value` as an int >= `minimum` (a size, a count, a kernel length)."""
    if not _is_int(value) or operator.index(value) < minimum:
        what = {0: "a non-negative int", 1: "a positive int"}.get(minimum, f"an int >= {minimum}")
        raise (TypeError if not _is_int(value) else ValueError)(
            f"{owner}: {name} must be {what}, got {value!r}"
        )
    return operator.index(value)


def sizes(owner: str, name: str, value: Any, n: int, minimum: int = 0) -> tuple:
    """An int or `n` ints, each >= `minimum`, as a tuple of `n` ints."""
    if _is_int(value):
        return (size(owner, name, value, minimum),) * n
    try:
        items = tuple(value)
    except TypeError:
        items = None
    if items is None or len(items) != n or not all(_is_int(v) for v in items):
        raise TypeError(f"{owner}: {name} must be an int or {n} ints, got {value!r}")
    for v in items:
        size(owner, name, v, minimum)
    return tuple(operator.index(v) for v in items)


def shape(owner: str, name: str, value: Any) -> tuple:
    """An int or a sequence of ints (each >= 0) as a shape tuple."""
    if _is_int(value):
        return (size(owner, name, value),)
    try:
        items = tuple(value)
    except TypeError:
        items = None
    if items is None or not all(_is_int(v) for v in items):
        raise TypeError(f"{owner}: {name} must be an int or a sequence of ints, got {value!r}")
    return tuple(size(owner, name, v) for v in items)


def number(owner: str, name: str, value: Any, low: float | None = None,
           high: float | None = None, low_open: bool = False) -> float:
    """`value` as a finite real number in [low, high] ((low, high] with `low_open`)."""
    if type(value) is not float:  # the usual case first: no ABC check (forward calls this)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{owner}: {name} must be a real number, got {value!r}")
        value = float(value)
    if (value - value != 0.0 or (low is not None and (value <= low if low_open else value < low))
            or (high is not None and value > high)):  # value - value: NaN for NaN and inf
        if low is not None and high is not None:
            expected = f"in {'(' if low_open else '['}{low:g}, {high:g}]"
        elif low is not None:
            expected = f"{'>' if low_open else '>='} {low:g}"
        elif high is not None:
            expected = f"<= {high:g}"
        else:
            expected = "finite"
        raise ValueError(f"{owner}: {name} must be {expected}, got {value!r}")
    return value


def axis(owner: str, name: str, value: Any) -> int:
    """`value` as an int axis (its range is checked against the input at forward time)."""
    if not _is_int(value):
        raise TypeError(f"{owner}: {name} must be an int, got {value!r}")
    return operator.index(value)
