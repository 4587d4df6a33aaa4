"""Variable-length sequences for the recurrent layers: padding and packing, PyTorch's API.

A batch of sequences of different lengths travels either *padded* (one tensor of the longest
length, the tails filled with `padding_value`) or *packed*: a `PackedSequence` whose ``data``
holds, for each time step, the rows of the sequences still running at that step (longest
first), and whose ``batch_sizes`` says how many rows each step has. `nn.RNN`, `nn.LSTM` and
`nn.GRU` take a `PackedSequence` and return one; padded steps then never reach a final state.

    >>> seqs = [ag.randn(5, 8), ag.randn(3, 8), ag.randn(2, 8)]
    >>> packed = pack_sequence(seqs)                 # data (10, 8), batch_sizes [3, 3, 2, 1, 1]
    >>> out, (h, c) = nn.LSTM(8, 16)(packed)
    >>> padded, lengths = pad_packed_sequence(out)   # (5, 3, 16), lengths [5, 3, 2]

Every function is differentiable in the data (its gradient skips the padding). The index
bookkeeping runs on host integers: ``batch_sizes``, ``sorted_indices`` and
``unsorted_indices`` are int64 tensors on the host (PyTorch keeps the two permutations on the
data's device), so packing and unpacking a device tensor never reads device data back.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import backends
from autograd.creation import full, tensor
from autograd.ops.indexing import getitem
from autograd.ops.joining import concatenate
from autograd.tensor import Tensor

__all__ = [
    "PackedSequence", "pad_sequence", "pack_padded_sequence", "pad_packed_sequence",
    "pack_sequence", "unpad_sequence", "unpack_sequence", "invert_permutation",
]

_Fields = namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices",
                                        "unsorted_indices"])


def _host_ints(values: Any, what: str) -> Any:
    """`values` (a list, host array or host Tensor of integers) as a 1-D host int64 array."""
    xp = backends.host().xp
    if isinstance(values, Tensor):
        if values.backend.is_device:
            raise RuntimeError(
                f"{what}: expected a 1-D host (cpu) int64 tensor, got one on {values.device}; "
                "keep lengths and permutations on the host (reading a device would synchronise)"
            )
        values = values.array
    array = xp.asarray(values)
    if array.size == 0 and array.dtype.kind == "f":
        array = array.astype(xp.int64)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise ValueError(f"{what}: expected a 1-D sequence of integers, got shape "
                         f"{tuple(array.shape)} and dtype {array.dtype}")
    return array.astype(xp.int64)


def _host_tensor(array: Any) -> Tensor:
    return tensor(array, dtype="int64", device=backends.host())


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation (host int64 tensor), or None."""
    if permutation is None:
        return None
    xp = backends.host().xp
    p = _host_ints(permutation, "invert_permutation")
    inverse = xp.empty_like(p)
    inverse[p] = xp.arange(p.size, dtype=xp.int64)
    return _host_tensor(inverse)


class PackedSequence(_Fields):
    """A packed batch of variable-length sequences (a named tuple, as in PyTorch).

    Attributes:
        data: (sum of lengths, *) the steps' rows, time-major, longest sequences first.
        batch_sizes: host int64 (max length,): the rows of each time step (non-increasing).
        sorted_indices: host int64 (batch,): the original index of each sorted sequence, or
            None when the batch was already sorted.
        unsorted_indices: its inverse (None with it).

    Build one with `pack_padded_sequence` or `pack_sequence` rather than by hand.
    """

    __slots__ = ()

    def __new__(cls, data: Tensor, batch_sizes: Any, sorted_indices: Any = None,
                unsorted_indices: Any = None) -> PackedSequence:
        sizes = _host_ints(batch_sizes, "PackedSequence")
        sorted_t = None if sorted_indices is None else _host_tensor(
            _host_ints(sorted_indices, "PackedSequence"))
        if unsorted_indices is None:
            unsorted_t = invert_permutation(sorted_t)
        else:
            unsorted_t = _host_tensor(_host_ints(unsorted_indices, "PackedSequence"))
        return super().__new__(cls, data, _host_tensor(sizes), sorted_t, unsorted_t)

    def to(self, device: Any = None, dtype: Any = None) -> PackedSequence:
        """The same packing with `data` moved and/or cast (the index tensors stay on the host)."""
        data = self.data.to(device=device, dtype=dtype)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self) -> PackedSequence:
        return self.to("cpu")

    def cuda(self, index: int = 0) -> PackedSequence:
        return self.to(f"cuda:{index}")

    def double(self) -> PackedSequence:
        return self.to(dtype="float64")

    def float(self) -> PackedSequence:
        return self.to(dtype="float32")

    @property
    def is_cuda(self) -> bool:
        return self.data.device.startswith("cuda")

    def sizes(self) -> list[int]:
        """``batch_sizes`` as Python ints (host data: no synchronisation)."""
        return [int(n) for n in self.batch_sizes.array]


def _lengths_from_sizes(sizes: Any) -> Any:
    """Sequence lengths (sorted order) from non-increasing batch sizes."""
    xp = backends.host().xp
    batch = int(sizes[0]) if sizes.size else 0
    return (xp.arange(batch)[:, None] < sizes[None, :]).sum(axis=1).astype(xp.int64)


def _row_index(lengths: Any) -> Any:
    """For each time step and sorted sequence, its row in the packed data (-1 past its end)."""
    xp = backends.host().xp
    steps = int(lengths.max()) if lengths.size else 0
    active = xp.arange(steps)[:, None] < lengths[None, :]          # (T, B)
    rows = xp.full(active.shape, -1, dtype=xp.int64)
    rows[active] = xp.arange(int(active.sum()), dtype=xp.int64)    # time-major order
    return rows


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,  # noqa: A002
                         enforce_sorted: bool = True) -> PackedSequence:
    """Packs a padded batch (T, B, *) (or (B, T, *) with `batch_first`) of sequences of the
    given `lengths` (host integers: a list, or a host int64 tensor).

    With `enforce_sorted` the lengths must be non-increasing; otherwise the batch is sorted
    here and the permutation kept (``sorted_indices``), so that the layers and
    `pad_packed_sequence` restore the original order.
    """
    xp = backends.host().xp
    lengths = _host_ints(lengths, "pack_padded_sequence")
    if input.ndim < 2:
        raise ValueError(f"pack_padded_sequence: expected an input of shape (T, B, *), got "
                         f"{input.shape}")
    batch_axis = 0 if batch_first else 1
    batch, steps = input.shape[batch_axis], input.shape[1 - batch_axis]
    if lengths.size != batch:
        raise ValueError(f"pack_padded_sequence: expected len(lengths) to be equal to the batch "
                         f"size, but got {lengths.size} (batch_size={batch})")
    if lengths.size and lengths.min() <= 0:
        raise ValueError("pack_padded_sequence: length of all samples has to be greater than 0, "
                         f"but found an element in 'lengths' that is <= 0: {lengths.tolist()}")
    if lengths.size and lengths.max() > steps:
        raise ValueError(f"pack_padded_sequence: a length of {int(lengths.max())} exceeds the "
                         f"{steps} time steps of the input (shape {input.shape})")
    if enforce_sorted:
        if (lengths[1:] > lengths[:-1]).any():
            raise ValueError(
                "pack_padded_sequence: `lengths` array must be sorted in decreasing order when "
                "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                "pack_padded_sequence and/or pack_sequence to sidestep this requirement"
            )
        order = None
    else:
        order = xp.argsort(-lengths, kind="stable")
    ordered = lengths if order is None else lengths[order]
    rows = _row_index(ordered)                                     # (T, B)
    step_of, sorted_col = xp.nonzero(rows >= 0)                    # time-major, as rows
    seq = sorted_col if order is None else order[sorted_col]
    index = (seq, step_of) if batch_first else (step_of, seq)
    data = getitem(input, index)
    sizes = (rows >= 0).sum(axis=1).astype(xp.int64)
    if order is None:
        return PackedSequence(data, sizes)
    return PackedSequence(data, sizes, order)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Unpacks a `PackedSequence` into a padded tensor (T, B, *) (or (B, T, *)) in the
    original batch order, and the lengths (a host int64 tensor).

    `total_length` pads to that many steps (at least the longest sequence), as a module that
    packs and unpacks inside a fixed-length batch needs.
    """
    xp = backends.host().xp
    sizes = _host_ints(sequence.batch_sizes, "pad_packed_sequence")
    steps = sizes.size
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "pad_packed_sequence: expected total_length to be at least the length of the "
                f"longest sequence in input, but got total_length={total_length} and max "
                f"sequence length being {steps}"
            )
        steps = int(total_length)
    lengths = _lengths_from_sizes(sizes)
    rows = _row_index(lengths)                                      # (max length, B) sorted
    data = sequence.data
    filler = full((1, *data.shape[1:]), padding_value, dtype=data.dtype, device=data.backend)
    index = xp.full((steps, lengths.size), data.shape[0], dtype=xp.int64)  # the filler row
    index[:rows.shape[0]][rows >= 0] = rows[rows >= 0]
    if sequence.unsorted_indices is not None:
        unsorted = _host_ints(sequence.unsorted_indices, "pad_packed_sequence")
        index = index[:, unsorted]
        lengths = lengths[unsorted]
    padded = getitem(concatenate([data, filler]), index.T if batch_first else index)
    return padded, _host_tensor(lengths)


def pad_sequence(sequences: Sequence[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Stacks tensors of shapes (L_i, *) into one (T, B, *) (or (B, T, *)), T = max L_i,
    filling with `padding_value` on the right (or, with ``padding_side="left"``, the left)."""
    xp = backends.host().xp
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got "
                         f"{padding_side!r}")
    first = sequences[0]
    for s in sequences:
        if not isinstance(s, Tensor) or s.ndim < 1 or s.shape[1:] != first.shape[1:]:
            shapes = ", ".join(str(getattr(q, "shape", type(q).__name__)) for q in sequences)
            raise ValueError(f"pad_sequence: expected tensors of shapes (L_i, *) with the same "
                             f"trailing axes, got {shapes}")
    lengths = xp.asarray([s.shape[0] for s in sequences], dtype=xp.int64)
    steps = int(lengths.max())
    starts = xp.concatenate([[0], xp.cumsum(lengths)[:-1]]).astype(xp.int64)
    t = xp.arange(steps)[:, None]
    offset = t - (steps - lengths[None, :]) if padding_side == "left" else t + 0 * lengths
    inside = (offset >= 0) & (offset < lengths[None, :])
    filler_row = int(lengths.sum())
    index = xp.where(inside, starts[None, :] + offset, filler_row)   # (T, B)
    filler = full((1, *first.shape[1:]), padding_value, dtype=first.dtype,
                  device=first.backend)
    padded = getitem(concatenate([*sequences, filler]), index.T if batch_first else index)
    return padded


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Packs a list of tensors (L_i, *): `pad_sequence` then `pack_padded_sequence`."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths: Any,
                   batch_first: bool = False) -> list[Tensor]:
    """The inverse of `pad_sequence`: a list of tensors (L_i, *)."""
    lengths = _host_ints(lengths, "unpad_sequence")
    out = []
    for b, n in enumerate(lengths.tolist()):
        out.append(padded_sequences[b, :n] if batch_first else padded_sequences[:n, b])
    return out


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The inverse of `pack_sequence`: a list of tensors (L_i, *) in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
