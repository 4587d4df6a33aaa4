"""Padding: pad with NumPy's modes. Constant padding is one op whose rule crops gy; the other
modes are a gather along each axis (indexing's GetItemAdvanced), so they get their rules free.
"""

from __future__ import annotations

import operator
from typing import Any

from ..function import Function
from ..tensor import Tensor
from .indexing import GetItemAdvanced, _Slot, getitem


class Pad(Function):
    """y = x surrounded by `value` (``pad_width`` pairs per axis); the rule crops gy."""

    def forward(self, x):
        self.in_shape = x.shape
        shape = tuple(b + n + a for (b, a), n in zip(self.pad_width, x.shape))
        y = self.xp.full(shape, self.value, dtype=x.dtype)
        y[self._interior()] = x
        return y

    def _interior(self) -> tuple:
        return tuple(slice(b, b + n) for (b, _), n in zip(self.pad_width, self.in_shape))

    def backward(self, gy):
        return getitem(gy, self._interior())


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def _pad_pairs(pad_width: Any, ndim: int) -> tuple:
    """NumPy's pad_width forms (int, (n,), (before, after), one pair per axis) as pairs."""

    def pair(p: Any) -> tuple:
        if isinstance(p, (tuple, list)):
            if len(p) not in (1, 2):
                raise ValueError(f"pad: cannot read pad_width {pad_width!r}")
            return (operator.index(p[0]), operator.index(p[-1]))
        return (operator.index(p), operator.index(p))

    if not isinstance(pad_width, (tuple, list)):
        pairs = [pair(pad_width)] * ndim
    elif not any(isinstance(p, (tuple, list)) for p in pad_width):
        pairs = [pair(pad_width)] * ndim
    elif len(pad_width) == 1:
        pairs = [pair(pad_width[0])] * ndim
    elif len(pad_width) == ndim:
        pairs = [pair(p) for p in pad_width]
    else:
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not fit a {ndim}-d tensor (give an int, one "
            f"(before, after) pair, or {ndim} pairs)"
        )
    if any(v < 0 for p in pairs for v in p):
        raise ValueError(f"pad: pad widths must be non-negative, got {pad_width!r}")
    return tuple(pairs)


def _pad_source(xp: Any, n: int, before: int, after: int, mode: str) -> Any:
    """For each position of a padded axis, the position of x it copies (NumPy's modes)."""
    i = xp.arange(-before, n + after)
    if mode == "edge":
        return xp.clip(i, 0, n - 1)
    if mode == "wrap":
        return i % n
    if mode == "symmetric":  # mirrored with the edge repeated: period 2n
        m = i % (2 * n)
        return xp.where(m >= n, 2 * n - 1 - m, m)
    if n == 1:  # reflect about a single element
        return i * 0
    period = 2 * (n - 1)  # mirrored without repeating the edge
    m = i % period
    return xp.where(m >= n, period - m, m)


def pad(x: Tensor, pad_width: Any, mode: str = "constant", constant_values: float = 0) -> Tensor:
    """Pads `x` (NumPy's ``pad``).

    Args:
        pad_width: an int, ``(before, after)`` for every axis, or one pair per axis.
        mode: ``"constant"`` (fill with `constant_values`), ``"edge"``, ``"reflect"``,
            ``"symmetric"`` or ``"wrap"``. The other modes copy elements of x, so their
            gradient adds up over every copy (they are a gather along each axis); they need
            a non-empty axis wherever padding is added.
        constant_values: one scalar fill value (per-axis values are not supported).

    Example: ``pad(x, ((0, 0), (1, 1)))`` adds a zero column on each side of a matrix.
    """
    pairs = _pad_pairs(pad_width, x.ndim)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: unsupported mode {mode!r}; use one of {', '.join(_PAD_MODES)}")
    if mode == "constant":
        if isinstance(constant_values, (tuple, list)) or getattr(constant_values, "ndim", 0):
            raise ValueError("pad: constant_values must be one scalar (per-axis values are "
                             "not supported)")
        if not any(v for p in pairs for v in p):
            return x
        return Pad.apply(x, pad_width=pairs, value=constant_values)
    y = x
    for axis, (before, after) in enumerate(pairs):
        if not before and not after:
            continue
        n = x.shape[axis]
        if n == 0:
            raise ValueError(
                f"pad: mode {mode!r} cannot pad the empty axis {axis} of shape {x.shape}"
            )
        source = _pad_source(x.xp, n, before, after, mode)
        y = GetItemAdvanced.apply(y, source, parts=(slice(None),) * axis + (_Slot(0),))
    return y
