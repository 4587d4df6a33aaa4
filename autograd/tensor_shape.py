"""`ShapeMixin`: Tensor's shape, view and indexing methods in PyTorch's dialect (``x.size()``,
``x.transpose(0, 1)``, ``x.split(4, dim=2)``, ``x[i]``, ``x[i] = v``, ...), which forward to the
ops; a base class of `Tensor`, to keep autograd/tensor.py short.

The dims are PyTorch's (`dim`, and NumPy's `axis` as an alias where PyTorch accepts it); the
functions of the `autograd` namespace keep NumPy's meaning (``ag.split``, ``ag.repeat``,
``ag.transpose``, ``ag.getitem``).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterator
from typing import Any

import backends

from . import tensor_inplace as _tensor_inplace
from .dialect import dims_tuple, pick_dim, wrap_dim
from .grad_mode import state as _grad_state

# Tensor and the op modules import autograd/tensor.py, which imports this file: tensor.py binds
# them here once it has defined and loaded them (an import from this file would close a circle).
Tensor: Any = None
_lift: Any = None
_indexing: Any = None
_indexing_torch: Any = None
_shape: Any = None
_views: Any = None
_unary: Any = None


class Size(tuple):
    """A tensor's shape as ``x.size()`` returns it: a tuple of ints (PyTorch's ``torch.Size``)."""

    __slots__ = ()

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        return math.prod(self)

    def __repr__(self) -> str:
        return f"Size({list(self)})"


class SizeMethod(int):
    """What ``x.size`` reads: PyTorch's method (``x.size()`` is the shape as a `Size`,
    ``x.size(dim)`` one dim's length) that is also NumPy's element count (``x.size == 0``,
    ``n = x.size``). PyTorch code calls it and NumPy code (HIPS autograd's included) reads it,
    so neither dialect's spelling runs with another meaning."""

    def __new__(cls, shape: tuple) -> SizeMethod:
        self = super().__new__(cls, math.prod(shape))
        self.shape = shape
        return self

    def __call__(self, dim: int | None = None) -> Any:
        shape = self.shape
        if dim is None:
            return Size(shape)
        if not shape:
            raise IndexError(f"size({dim}): a 0-d tensor has no dims")
        return shape[wrap_dim(dim, len(shape), "size")]


class ShapeMixin:
    """`Tensor`'s shape methods (views, dim moves, repeats, splits), indexing and iteration."""

    __slots__ = ()

    # -- sizes ----------------------------------------------------------------------------------
    @property
    def size(self) -> SizeMethod:
        """PyTorch's ``x.size()`` / ``x.size(dim)``; read uncalled, NumPy's element count."""
        return SizeMethod(self.array.shape)

    def numel(self) -> int:
        """The number of elements."""
        return int(self.array.size)

    nelement = numel

    def dim(self) -> int:
        """The number of dims (``ndim``)."""
        return self.array.ndim

    ndimension = dim

    def contiguous(self) -> Tensor:
        """Self if its memory is in C order, else a C-ordered copy (in the graph)."""
        if self.array.flags.c_contiguous:
            return self
        return _unary.clone(self)

    def is_contiguous(self) -> bool:
        return bool(self.array.flags.c_contiguous)

    # -- reshaping --------------------------------------------------------------------------------
    @property
    def T(self) -> Tensor:
        """The tensor with its dims reversed."""
        return _shape.transpose(self)

    @property
    def mT(self) -> Tensor:
        """The last two dims swapped (a batch of matrices transposed)."""
        return _shape.swapaxes(self, -1, -2)

    def reshape(self, *shape: Any) -> Tensor:
        return _shape.reshape(self, *shape)

    def view(self, *shape: Any) -> Tensor:
        """The same data in a new shape; ``view(dtype)`` reinterprets the bytes (no gradient)."""
        if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)) and not hasattr(
            shape[0], "__index__"
        ):
            dtype = backends.dtype_of(shape[0])
            return Tensor._make(self.array.view(dtype), self._backend)
        return _shape.reshape(self, *shape)

    def view_as(self, other: Tensor) -> Tensor:
        return _shape.reshape(self, other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return _shape.reshape(self, other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return _shape.flatten(self, start_dim, end_dim)

    def ravel(self) -> Tensor:
        return _shape.reshape(self, (-1,))

    def unflatten(self, dim: int, sizes: Any) -> Tensor:
        """Dim `dim` split into dims of `sizes` (one may be -1)."""
        return _views.unflatten(self, wrap_dim(dim, self.ndim, "unflatten"), tuple(sizes))

    # -- moving dims ------------------------------------------------------------------------------
    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Swaps dims `dim0` and `dim1` (PyTorch's; ``ag.transpose`` permutes as NumPy's)."""
        ndim = self.ndim
        d0, d1 = wrap_dim(dim0, ndim, "transpose"), wrap_dim(dim1, ndim, "transpose")
        if ndim == 0 or d0 == d1:
            return _shape.reshape(self, self.shape)
        return _shape.swapaxes(self, d0, d1)

    swapaxes = swapdims = transpose

    def permute(self, *dims: Any) -> Tensor:
        """The dims reordered: ``x.permute(2, 0, 1)`` or ``x.permute((2, 0, 1))``."""
        dims = dims_tuple(dims, "permute")
        if len(dims) != self.ndim:
            raise ValueError(
                f"permute: got {len(dims)} dims {dims} for a tensor of dimension {self.ndim}"
            )
        return _shape.transpose(self, tuple(wrap_dim(d, self.ndim, "permute") for d in dims))

    def t(self) -> Tensor:
        """A matrix transposed; 0-d and 1-d tensors unchanged."""
        if self.ndim > 2:
            raise ValueError(f"t(): expects a tensor of at most 2 dims, got shape {self.shape}; "
                             "use transpose(d0, d1) or mT")
        return _shape.transpose(self) if self.ndim == 2 else _shape.reshape(self, self.shape)

    def movedim(self, source: Any, destination: Any) -> Tensor:
        """Dims `source` moved to positions `destination` (ints or sequences of ints)."""
        src = dims_tuple((source,), "movedim")
        dst = dims_tuple((destination,), "movedim")
        ndim = self.ndim
        return _views.moveaxis(self, tuple(wrap_dim(d, ndim, "movedim") for d in src),
                               tuple(wrap_dim(d, ndim, "movedim") for d in dst))

    moveaxis = movedim

    def squeeze(self, dim: Any = None, *, axis: Any = None) -> Tensor:
        """Without the dims of length 1 among `dim` (an int or a tuple; all when None); a
        named dim of another length stays, as in PyTorch."""
        dim = pick_dim("squeeze", dim, axis)
        shape = self.shape
        if dim is None:
            axes = tuple(i for i, n in enumerate(shape) if n == 1)
        else:
            dims = dims_tuple((dim,), "squeeze") if isinstance(dim, (tuple, list)) else (dim,)
            axes = tuple(sorted({d for d in (wrap_dim(d, len(shape), "squeeze") for d in dims)
                                 if shape and shape[d] == 1}))
        if not axes:
            return _shape.reshape(self, shape)
        return _shape.squeeze(self, axes)

    def unsqueeze(self, dim: int | None = None, *, axis: int | None = None) -> Tensor:
        """A new dim of length 1 at `dim` (-1 appends)."""
        d = wrap_dim(_required(pick_dim("unsqueeze", dim, axis), "unsqueeze"), self.ndim + 1,
                     "unsqueeze")
        return _shape.expand_dims(self, d)

    def expand_dims(self, axis: Any) -> Tensor:
        return _shape.expand_dims(self, axis)

    # -- broadcasting and repeating -------------------------------------------------------------
    def expand(self, *sizes: Any) -> Tensor:
        """A broadcast view of `sizes`; -1 keeps a dim's length, new dims go in front."""
        sizes = dims_tuple(sizes, "expand")
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: {len(sizes)} sizes {sizes} for a tensor of shape "
                             f"{self.shape}; give at least one size per dim")
        shape = []
        for i, n in enumerate(sizes):
            if n == -1:
                if i < lead:
                    raise ValueError(f"expand: -1 is not allowed for the new leading dim {i}")
                n = self.shape[i - lead]
            shape.append(n)
        shape = tuple(shape)
        if shape == self.shape:
            return _shape.reshape(self, shape)
        return _shape.broadcast_to(self, shape)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def broadcast_to(self, shape: Any) -> Tensor:
        return _shape.broadcast_to(self, shape)

    def repeat(self, *sizes: Any) -> Tensor:
        """The whole tensor tiled `sizes` times along each dim (PyTorch's ``repeat``, NumPy's
        ``tile``); use `repeat_interleave` to repeat each element."""
        sizes = dims_tuple(sizes, "repeat")
        if len(sizes) < self.ndim:
            raise ValueError(f"repeat: {len(sizes)} repeats {sizes} for a tensor of shape "
                             f"{self.shape}; give at least one per dim")
        return _shape.tile(self, sizes)

    def tile(self, *dims: Any) -> Tensor:
        return _shape.tile(self, dims_tuple(dims, "tile"))

    def repeat_interleave(self, repeats: Any, dim: int | None = None, *,
                          output_size: int | None = None, axis: int | None = None) -> Tensor:
        """Each element repeated `repeats` times (an int or one count per element) along `dim`
        (of the flattened tensor when None)."""
        dim = pick_dim("repeat_interleave", dim, axis)
        if isinstance(repeats, Tensor) and repeats.ndim == 0:
            repeats = int(repeats.item())
        axis = None if dim is None else wrap_dim(dim, self.ndim, "repeat_interleave")
        if axis is not None and self.ndim == 0:
            axis = None
        out = _shape.repeat(self, repeats, axis)
        if output_size is not None and out.shape[axis or 0] != output_size:
            raise ValueError(f"repeat_interleave: output_size {output_size} does not match "
                             f"the result's length {out.shape[axis or 0]}")
        return out

    def flip(self, *dims: Any) -> Tensor:
        """Reverses the order along `dims` (``x.flip(0)``, ``x.flip((0, 1))``)."""
        if not dims or dims == (None,):
            return _shape.flip(self)
        axes = [wrap_dim(d, self.ndim, "flip") for d in dims_tuple(dims, "flip")]
        if len(set(axes)) != len(axes):
            raise ValueError(f"flip: dims {dims_tuple(dims, 'flip')} name a dim more than once")
        return _shape.flip(self, tuple(axes)) if self.ndim else _shape.reshape(self, ())

    # -- splitting --------------------------------------------------------------------------------
    def split(self, split_size_or_sections: Any, dim: int | None = None, *,
              axis: int | None = None) -> tuple:
        """Pieces of `split_size_or_sections` elements along `dim` (the last may be shorter), or
        of the lengths in a list (PyTorch's ``split``; ``ag.split`` is NumPy's)."""
        axis = wrap_dim(pick_dim("split", dim, axis, 0), self.ndim, "split")
        if self.ndim == 0:
            raise ValueError("split: a 0-d tensor cannot be split")
        n = self.shape[axis]
        if isinstance(split_size_or_sections, (list, tuple)):
            return _views.split_sizes(self, split_size_or_sections, axis)
        size = operator.index(split_size_or_sections)
        if size <= 0 and not (size == 0 and n == 0):
            raise ValueError(f"split: split_size must be positive, got {size}")
        if n == 0:
            return (self,)
        sizes = [size] * (n // size) + ([n % size] if n % size else [])
        return _views.split_sizes(self, sizes, axis)

    def chunk(self, chunks: int, dim: int | None = None, *, axis: int | None = None) -> tuple:
        """At most `chunks` pieces along `dim`, each ``ceil(n / chunks)`` long but the last."""
        chunks = operator.index(chunks)
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be positive, got {chunks}")
        axis = wrap_dim(pick_dim("chunk", dim, axis, 0), self.ndim, "chunk")
        if self.ndim == 0:
            raise ValueError("chunk: a 0-d tensor cannot be chunked")
        n = self.shape[axis]
        if n == 0:
            return tuple(_views.split_sizes(self, [0], axis) * chunks)
        return self.split(-(-n // chunks), axis)

    def tensor_split(self, indices_or_sections: Any, dim: int | None = None, *,
                     axis: int | None = None) -> tuple:
        """NumPy's ``array_split``: n nearly equal pieces, or pieces between the given
        indices."""
        axis = wrap_dim(pick_dim("tensor_split", dim, axis, 0), self.ndim, "tensor_split")
        n = self.shape[axis]
        if isinstance(indices_or_sections, (list, tuple)):
            points = [operator.index(i) for i in indices_or_sections]
            lead = (slice(None),) * axis
            return tuple(_indexing.getitem(self, lead + (slice(a, b),))
                         for a, b in zip([0, *points], [*points, None]))
        k = operator.index(indices_or_sections)
        if k <= 0:
            raise ValueError(f"tensor_split: sections must be positive, got {k}")
        q, r = divmod(n, k)
        return _views.split_sizes(self, [q + (1 if i < r else 0) for i in range(k)], axis)

    def unbind(self, dim: int | None = None, *, axis: int | None = None) -> tuple:
        """The slices along `dim`, each without it."""
        return _views.unbind(self, wrap_dim(pick_dim("unbind", dim, axis, 0), self.ndim,
                                            "unbind"))

    def narrow(self, dim: int, start: Any, length: int) -> Tensor:
        """The view of `length` elements from `start` along `dim`."""
        return _views.narrow(self, wrap_dim(dim, self.ndim, "narrow"), start, length)

    def unfold(self, dimension: int, size: int, step: int) -> Tensor:
        """Every window of `size` elements, `step` apart, along `dimension` (a new last dim)."""
        return _views.unfold(self, wrap_dim(dimension, self.ndim, "unfold"), size, step)

    # -- new tensors like this one ----------------------------------------------------------------
    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        return _new(self, "zeros", size, dtype, device, requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        return _new(self, "ones", size, dtype, device, requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        return _new(self, "empty", size, dtype, device, requires_grad)

    def new_full(self, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        return _new(self, "full", (size,), dtype, device, requires_grad, fill_value)

    def new_tensor(self, data: Any, *, dtype: Any = None, device: Any = None,
                   requires_grad: bool = False) -> Tensor:
        """A new leaf holding a copy of `data`, with this tensor's dtype and device by default."""
        if isinstance(data, Tensor):
            data = data.detach()
            backend = backends.get(device) if device is not None else data._backend
            array = backend.asarray(data.to(backend).array, dtype=dtype or self.dtype).copy()
        else:
            backend = backends.get(device) if device is not None else self._backend
            array = backend.asarray(data, dtype=dtype or self.dtype)
        out = Tensor._make(array, backend)
        return out.requires_grad_(True) if requires_grad else out

    # -- indexing and iteration -------------------------------------------------------------------
    def __len__(self) -> int:
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, index: Any) -> Tensor:
        return _indexing_torch.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        value = _lift(value, self)
        recorded = _grad_state.enabled and (
            self.requires_grad or (isinstance(value, Tensor) and value.requires_grad)
        )
        if not recorded:
            _indexing.check_raw_index(self, index, "setitem")
            _tensor_inplace.write(self, value, index)
            return
        # Recorded: computed out of place and rebound, as Tensor's in-place operators do.
        if self.grad_fn is None and self.requires_grad:
            raise RuntimeError(
                f"__setitem__ on a leaf tensor that requires grad (shape {self.shape}) would "
                "change it behind autograd's back; wrap it in `with no_grad():` or build a new "
                "tensor (e.g. with where)"
            )
        self._rebind(_indexing_torch.setitem(self, index, value))

    def take_along_axis(self, indices: Any, axis: int) -> Tensor:
        return _indexing.take_along_axis(self, indices, axis)


def _required(dim: Any, op: str) -> Any:
    if dim is None:
        raise TypeError(f"{op}(): missing the dim (dim=...)")
    return dim


def _new(like: Any, kind: str, size: tuple, dtype: Any, device: Any, requires_grad: bool,
         fill_value: Any = None) -> Tensor:
    """A new leaf of shape `size` with `like`'s dtype and device unless given."""
    shape = dims_tuple(size, f"new_{kind}") if size else ()
    backend = backends.get(device) if device is not None else like._backend
    dtype = backends.dtype_of(dtype) if dtype is not None else like.dtype
    xp = backend.xp
    if kind == "full":
        array = xp.full(shape, fill_value, dtype=dtype)
    else:
        array = getattr(xp, kind)(shape, dtype=dtype)
    out = Tensor._make(array, backend)
    return out.requires_grad_(True) if requires_grad else out
