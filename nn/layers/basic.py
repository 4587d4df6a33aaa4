"""Basic layers: Linear, Identity, Flatten, Embedding, Dropout."""

from __future__ import annotations

from typing import Any

from autograd.creation import empty
from autograd.inputs import float_input, tensor_input
from autograd.ops import linalg as _linalg
from autograd.tensor import Tensor

from .. import arguments, init
from .. import functional as F
from ..module import Module
from ..parameter import Parameter

__all__ = ["Linear", "Identity", "Flatten", "Embedding", "Dropout"]


class Linear(Module):
    """``y = x @ weight.T + bias`` over the last axis of `x`.

    Args:
        in_features / out_features: sizes of the last axis of the input and of the output.
        bias: whether to add a learned bias.
        device / dtype: where and how the parameters are made (default: the default backend,
            the default dtype, float32 unless ``ag.set_default_dtype`` changed it).

    Attributes:
        weight: shape (out_features, in_features), ``kaiming_uniform_(a=sqrt(5))`` as PyTorch,
            i.e. U(-1/sqrt(in_features), 1/sqrt(in_features)).
        bias: shape (out_features,), U(-1/sqrt(in_features), 1/sqrt(in_features)).

        >>> layer = nn.Linear(3, 2)
        >>> layer(ag.randn(5, 3)).shape
        (5, 2)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.in_features = arguments.size("Linear", "in_features", in_features)
        self.out_features = arguments.size("Linear", "out_features", out_features)
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draws the weight and bias afresh (PyTorch's default init)."""
        init._reset_layer(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        weight = self.weight  # (read once: parameters are found by Module.__getattr__)
        x = float_input("Linear", x, weight)
        return _linalg.linear(x, weight, self.bias)  # F.linear's op, one call shorter

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input unchanged (accepts and ignores constructor arguments)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Merges axes `start_dim` .. `end_dim` (inclusive) into one; by default all but the batch.

        >>> nn.Flatten()(ag.zeros(8, 3, 4, 4)).shape
        (8, 48)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = arguments.axis("Flatten", "start_dim", start_dim)
        self.end_dim = arguments.axis("Flatten", "end_dim", end_dim)

    def forward(self, x: Tensor) -> Tensor:
        x = tensor_input("Flatten", x)
        ndim = max(x.ndim, 1)
        start, end = self.start_dim % ndim, self.end_dim % ndim
        if not (-ndim <= self.start_dim < ndim and -ndim <= self.end_dim < ndim) or start > end:
            raise ValueError(
                f"Flatten: start_dim={self.start_dim}, end_dim={self.end_dim} do not fit an "
                f"input of shape {x.shape}"
            )
        shape = x.shape
        merged = 1
        for n in shape[start:end + 1]:
            merged *= n
        return x.reshape(shape[:start] + (merged,) + shape[end + 1:])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Embedding(Module):
    """A lookup table: integer indices of any shape -> rows of `weight` (shape + (dim,)).

    Args:
        num_embeddings: number of rows.
        embedding_dim: size of each row.
        padding_idx: a row that starts at zero and receives no gradient.
        device / dtype: as for Linear.

    Attributes:
        weight: shape (num_embeddings, embedding_dim), drawn from N(0, 1).

        >>> emb = nn.Embedding(10, 3)
        >>> emb(ag.tensor([[1, 2], [2, 9]])).shape
        (2, 2, 3)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        num_embeddings = arguments.size("Embedding", "num_embeddings", num_embeddings)
        embedding_dim = arguments.size("Embedding", "embedding_dim", embedding_dim)
        if padding_idx is not None:
            padding_idx = arguments.axis("Embedding", "padding_idx", padding_idx)
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx {padding_idx} is out of range for "
                    f"{num_embeddings} embeddings"
                )
            padding_idx %= num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.weight = Parameter(
            empty(num_embeddings, embedding_dim, dtype=dtype, device=device)
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draws the table from N(0, 1) and zeroes the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0
            self.weight._version[0] += 1

    def forward(self, indices: Any) -> Tensor:
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text


class Dropout(Module):
    """Inverted dropout in training mode (zero with probability `p`, scale by 1/(1-p));
    the identity in eval mode.

        >>> drop = nn.Dropout(0.5)
        >>> drop.eval()(x) is x
        True
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = arguments.number("Dropout", "p", p, low=0.0, high=1.0)

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
