"""More basic layers (PyTorch's names): Unflatten, Bilinear, CosineSimilarity and
PairwiseDistance."""

from __future__ import annotations

import math
from typing import Any

from autograd.creation import empty
from autograd.inputs import tensor_input
from autograd.tensor import Tensor

from .. import arguments, init
from .. import functional_vectors as V
from ..module import Module
from ..parameter import Parameter

__all__ = ["Unflatten", "Bilinear", "CosineSimilarity", "PairwiseDistance"]


class Unflatten(Module):
    """Splits axis `dim` into `unflattened_size` (the inverse of `Flatten`); one entry of the
    size may be -1.

        >>> nn.Unflatten(1, (2, 5))(ag.zeros(3, 10)).shape
        (3, 2, 5)
    """

    def __init__(self, dim: int, unflattened_size: Any) -> None:
        super().__init__()
        self.dim = arguments.axis("Unflatten", "dim", dim)
        size = tuple(unflattened_size)
        if not size or not all(arguments._is_int(v) and (v >= 0 or v == -1) for v in size) \
                or sum(v == -1 for v in size) > 1:
            raise ValueError(f"Unflatten: unflattened_size must be non-negative ints (one may "
                             f"be -1), got {unflattened_size!r}")
        self.unflattened_size = tuple(int(v) for v in size)

    def forward(self, x: Tensor) -> Tensor:
        x = tensor_input("Unflatten", x)
        ndim = x.ndim
        if not -ndim <= self.dim < ndim:
            raise ValueError(f"Unflatten: dim {self.dim} does not fit an input of shape "
                             f"{x.shape}")
        d = self.dim % ndim
        size = list(self.unflattened_size)
        known = math.prod(v for v in size if v != -1)
        if -1 in size:
            if known == 0 or x.shape[d] % known:
                raise ValueError(f"Unflatten: cannot split axis {d} of length {x.shape[d]} "
                                 f"into {self.unflattened_size}")
            size[size.index(-1)] = x.shape[d] // known
        elif known != x.shape[d]:
            raise ValueError(f"Unflatten: unflattened_size {self.unflattened_size} does not "
                             f"multiply to the length {x.shape[d]} of axis {d} (input "
                             f"{x.shape})")
        return x.reshape(x.shape[:d] + tuple(size) + x.shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Bilinear(Module):
    """``y_k = x1^T W_k x2 + b_k`` (`F.bilinear`).

    Attributes:
        weight: (out_features, in1_features, in2_features), U(-1/sqrt(in1), 1/sqrt(in1)).
        bias: (out_features,), the same distribution (PyTorch's init).

        >>> nn.Bilinear(3, 5, 2)(ag.randn(4, 3), ag.randn(4, 5)).shape
        (4, 2)
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.in1_features = arguments.size("Bilinear", "in1_features", in1_features)
        self.in2_features = arguments.size("Bilinear", "in2_features", in2_features)
        self.out_features = arguments.size("Bilinear", "out_features", out_features)
        self.weight = Parameter(empty(out_features, in1_features, in2_features, dtype=dtype,
                                      device=device))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weight and bias from U(-1/sqrt(in1_features), 1/sqrt(in1_features))."""
        bound = 1.0 / math.sqrt(self.in1_features) if self.in1_features else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Any, input2: Any) -> Tensor:
        return V.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class CosineSimilarity(Module):
    """Cosine similarity along `dim` (`F.cosine_similarity`)."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = arguments.axis("CosineSimilarity", "dim", dim)
        self.eps = arguments.number("CosineSimilarity", "eps", eps, low=0.0)

    def forward(self, x1: Any, x2: Any) -> Tensor:
        return V.cosine_similarity(x1, x2, self.dim, self.eps)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, eps={self.eps}"


class PairwiseDistance(Module):
    """``||x1 - x2 + eps||_p`` over the last axis (`F.pairwise_distance`)."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = arguments.number("PairwiseDistance", "p", p)
        self.eps = arguments.number("PairwiseDistance", "eps", eps)
        self.keepdim = keepdim

    def forward(self, x1: Any, x2: Any) -> Tensor:
        return V.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)

    def extra_repr(self) -> str:
        return f"p={self.norm}, eps={self.eps}, keepdim={self.keepdim}"
