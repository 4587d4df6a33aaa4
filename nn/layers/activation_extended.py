"""More activation layers (PyTorch's names and arguments), over `nn.functional_activation`:
SiLU, Mish, SELU, CELU, Hardtanh, ReLU6, Hardsigmoid, Hardswish, LogSigmoid, Softsign,
Tanhshrink, Softshrink, Hardshrink, Threshold, Softmin, PReLU (learned slopes) and GLU.

`inplace=True` is accepted where PyTorch has it and computes out of place (same values).
"""

from __future__ import annotations

from typing import Any

from autograd.creation import full
from autograd.tensor import Tensor

from .. import arguments
from .. import functional_activation as A
from ..module import Module
from ..parameter import Parameter

__all__ = ["SiLU", "Mish", "SELU", "CELU", "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish",
           "LogSigmoid", "Softsign", "Tanhshrink", "Softshrink", "Hardshrink", "Threshold",
           "Softmin", "PReLU", "GLU"]


class _Elementwise(Module):
    """An activation without parameters: ``forward(x) = _fn(x)``."""

    _fn: Any = None

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return type(self)._fn(x)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class SiLU(_Elementwise):
    """``x * sigmoid(x)`` elementwise."""

    _fn = staticmethod(A.silu)


class Mish(_Elementwise):
    """``x * tanh(softplus(x))`` elementwise."""

    _fn = staticmethod(A.mish)


class SELU(_Elementwise):
    """Scaled ELU with the self-normalising constants (alpha 1.6733, scale 1.0507)."""

    _fn = staticmethod(A.selu)


class ReLU6(_Elementwise):
    """``min(max(x, 0), 6)`` elementwise."""

    _fn = staticmethod(A.relu6)


class Hardsigmoid(_Elementwise):
    """``relu6(x + 3) / 6`` elementwise."""

    _fn = staticmethod(A.hardsigmoid)


class Hardswish(_Elementwise):
    """``x * relu6(x + 3) / 6`` elementwise."""

    _fn = staticmethod(A.hardswish)


class _NoInplace(_Elementwise):
    def __init__(self) -> None:
        super().__init__(False)


class LogSigmoid(_NoInplace):
    """``log(sigmoid(x))`` elementwise, stable."""

    _fn = staticmethod(A.logsigmoid)


class Softsign(_NoInplace):
    """``x / (1 + |x|)`` elementwise."""

    _fn = staticmethod(A.softsign)


class Tanhshrink(_NoInplace):
    """``x - tanh(x)`` elementwise."""

    _fn = staticmethod(A.tanhshrink)


class CELU(Module):
    """``max(0, x) + min(0, alpha (exp(x / alpha) - 1))`` elementwise."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = arguments.number("CELU", "alpha", alpha)
        if self.alpha == 0:
            raise ValueError("CELU: alpha must not be 0 (it divides x)")
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return A.celu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Hardtanh(Module):
    """``clip(x, min_val, max_val)`` elementwise."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0,
                 inplace: bool = False) -> None:
        super().__init__()
        self.min_val = arguments.number("Hardtanh", "min_val", min_val)
        self.max_val = arguments.number("Hardtanh", "max_val", max_val)
        if self.min_val > self.max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not exceed max_val "
                             f"({max_val})")
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return A.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class _Shrink(Module):
    _fn: Any = None

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = arguments.number(type(self).__name__, "lambd", lambd, low=0.0)

    def forward(self, x: Tensor) -> Tensor:
        return type(self)._fn(x, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(_Shrink):
    """Shrinks towards 0 by `lambd` elementwise."""

    _fn = staticmethod(A.softshrink)


class Hardshrink(_Shrink):
    """Zeroes the entries with ``|x| <= lambd``."""

    _fn = staticmethod(A.hardshrink)


class Threshold(Module):
    """`x` where ``x > threshold``, else `value`."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold = arguments.number("Threshold", "threshold", threshold)
        self.value = arguments.number("Threshold", "value", value)
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return A.threshold(x, self.threshold, self.value)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}"


class Softmin(Module):
    """``softmax(-x, dim)``."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return A.softmin(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class PReLU(Module):
    """`x` where positive, ``a * x`` elsewhere, with the slope `a` learned: one for all
    channels or one per channel (``num_parameters = C``, channels on axis 1).

    Attributes:
        weight: (num_parameters,), initialised to `init` (0.25).

        >>> nn.PReLU(3)(ag.randn(2, 3, 4)).shape
        (2, 3, 4)
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.num_parameters = arguments.size("PReLU", "num_parameters", num_parameters,
                                             minimum=1)
        self.init = arguments.number("PReLU", "init", init)
        self.weight = Parameter(full((self.num_parameters,), self.init,
                                     dtype=dtype, device=device))

    def reset_parameters(self) -> None:
        """Every slope back to `init`."""
        self.weight.fill_(self.init)

    def forward(self, x: Tensor) -> Tensor:
        return A.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class GLU(Module):
    """Gated linear unit over `dim`: first half times sigmoid(second half)."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = arguments.axis("GLU", "dim", dim)

    def forward(self, x: Tensor) -> Tensor:
        return A.glu(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
