"""Utilities of `nn`, as PyTorch's ``torch.nn.utils``: gradient clipping (`clip_grad_norm_`,
`clip_grad_value_`, the same functions as `optim.clip`), parameters to and from one flat
vector (`parameters_to_vector`, `vector_to_parameters`), and the submodule `rnn` (padding
and packing variable-length sequences) where it is present.

    >>> nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    >>> flat = nn.utils.parameters_to_vector(model.parameters())
"""

from __future__ import annotations

import importlib
from typing import Any

from .clip_grad import clip_grad_norm_, clip_grad_value_
from .convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters", "clip_grad", "convert_parameters", "rnn"]


def __getattr__(name: str) -> Any:
    # rnn (packing, padding) loads on first use, so `import nn.utils` stays cheap
    if name == "rnn":
        return importlib.import_module(".rnn", __name__)
    raise AttributeError(f"module 'nn.utils' has no attribute {name!r}")
