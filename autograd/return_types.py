"""The named tuples that PyTorch-dialect methods return (``values, indices = x.max(dim)``).

Each is a plain `namedtuple` named after its method, as ``torch.return_types`` are, so results
unpack, index and print alike in both libraries.
"""

from __future__ import annotations

from collections import namedtuple

# The names are the methods'; the fields are PyTorch's.
max = namedtuple("max", ["values", "indices"])  # noqa: A001
min = namedtuple("min", ["values", "indices"])  # noqa: A001
aminmax = namedtuple("aminmax", ["min", "max"])
topk = namedtuple("topk", ["values", "indices"])  # ag.topk and ag.kthvalue: PyTorch-only names
kthvalue = namedtuple("kthvalue", ["values", "indices"])
