"""Fused-looking elementwise combinations PyTorch programs use: lerp, addcmul, addcdiv.

Each is composed from + - * / (PyTorch's formulas, the same number of array passes as one op
would make), so gradients and second derivatives come from those ops' rules.
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor, _lift

__all__ = ["lerp", "addcmul", "addcdiv"]


def _operands(op: str, *values: Any) -> list:
    like = next((v for v in values if isinstance(v, Tensor)), None)
    if like is None:
        raise TypeError(f"{op}: expected at least one Tensor operand")
    return [_lift(v, like) for v in values]


def lerp(start: Any, end: Any, weight: Any) -> Tensor:
    """Linear interpolation ``start + weight * (end - start)`` (`weight` a number or tensor)."""
    start, end, weight = _operands("lerp", start, end, weight)
    return start + weight * (end - start)


def addcmul(x: Any, tensor1: Any, tensor2: Any, value: float = 1.0) -> Tensor:
    """``x + value * tensor1 * tensor2`` with broadcasting (PyTorch's ``addcmul``)."""
    x, tensor1, tensor2 = _operands("addcmul", x, tensor1, tensor2)
    product = tensor1 * tensor2
    return x + (product if value == 1 else value * product)


def addcdiv(x: Any, tensor1: Any, tensor2: Any, value: float = 1.0) -> Tensor:
    """``x + value * tensor1 / tensor2`` with broadcasting (PyTorch's ``addcdiv``)."""
    x, tensor1, tensor2 = _operands("addcdiv", x, tensor1, tensor2)
    quotient = tensor1 / tensor2
    return x + (quotient if value == 1 else value * quotient)
