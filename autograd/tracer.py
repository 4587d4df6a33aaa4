"""HIPS autograd's ``autograd.tracer`` entry points: `primitive`, `notrace_primitive`, `Box`
(here the Tensor: every traced value is one), `isbox` and `getval`."""

from __future__ import annotations

from typing import Any

from .extend import Box, notrace_primitive, primitive
from .tensor import Tensor

__all__ = ["primitive", "notrace_primitive", "Box", "isbox", "getval"]


def isbox(x: Any) -> bool:
    """True for a traced value (a Tensor)."""
    return isinstance(x, Tensor)


def getval(x: Any) -> Any:
    """The plain value of a traced one (a Tensor's array); anything else as it is."""
    return x.array if isinstance(x, Tensor) else x


_ = (Box, notrace_primitive, primitive)
