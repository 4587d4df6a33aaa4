"""Utilities of `nn`, as in PyTorch's ``torch.nn.utils``: `rnn` (padding and packing
variable-length sequences for the recurrent layers), and `clip_grad_norm_` /
`clip_grad_value_` where PyTorch code looks for them (they live in `optim.clip`).

    >>> from nn.utils.rnn import pack_sequence, pad_packed_sequence
    >>> nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
"""

from __future__ import annotations

from typing import Any

from . import rnn

__all__ = ["rnn", "clip_grad_norm_", "clip_grad_value_"]


def __getattr__(name: str) -> Any:
    if name in ("clip_grad_norm_", "clip_grad_value_"):
        from optim import clip

        return getattr(clip, name)
    raise AttributeError(f"module 'nn.utils' has no attribute {name!r}")
