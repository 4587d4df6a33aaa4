"""Utilities of `nn`, as in PyTorch's ``torch.nn.utils``: `rnn` (padding and packing
variable-length sequences for the recurrent layers).

    >>> from nn.utils.rnn import pack_sequence, pad_packed_sequence
"""

from . import rnn

__all__ = ["rnn"]
