"""Gradient clipping under PyTorch's ``torch.nn.utils`` names: the functions of
`optim.clip` (one implementation, two addresses)."""

from __future__ import annotations

from optim.clip import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_"]
