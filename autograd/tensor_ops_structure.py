"""`OpsStructureMixin`: Tensor's structure methods with PyTorch's names, arguments (`dim`,
`keepdim`) and results: tril/triu/diag/diagonal/diag_embed/trace/roll, sort/argsort/topk/
kthvalue/median/nanmedian with ``(values, indices)`` named tuples, cumsum/cumprod/cummax/cummin/
logcumsumexp, norm/dist, and the tests and logic methods (isnan, isclose, logical_and, ...).
A base class of `Tensor`; the ops are in autograd/ops/, and the ``ag.`` functions of the same
names speak NumPy (``ag.sort`` returns the sorted array, ``ag.median`` averages the middles,
``ag.cumsum`` flattens for ``axis=None``).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from .tensor_ops_math import inplace_method

Tensor: Any = None
_cumulative: Any = None
_logical: Any = None
_norms: Any = None
_sorting: Any = None
_triangular: Any = None

# PyTorch's named results (torch.return_types.*): fields `values` and `indices`.
sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])
kthvalue_result = namedtuple("kthvalue", ["values", "indices"])
median_result = namedtuple("median", ["values", "indices"])
nanmedian_result = namedtuple("nanmedian", ["values", "indices"])
cummax_result = namedtuple("cummax", ["values", "indices"])
cummin_result = namedtuple("cummin", ["values", "indices"])


def bind(tensor_class: Any) -> None:
    """Binds Tensor and the op modules the methods forward to."""
    global Tensor, _cumulative, _logical, _norms, _sorting, _triangular
    from .ops import cumulative, logical, norms, sorting, triangular

    Tensor = tensor_class
    _cumulative, _logical, _norms, _sorting, _triangular = (
        cumulative, logical, norms, sorting, triangular)


def _dim(dim: Any, axis: Any, default: Any, op: str) -> Any:
    """PyTorch's `dim`, also spelled `axis` (PyTorch accepts both)."""
    if axis is not None:
        if dim is not None and dim != axis:
            raise TypeError(f"{op}: got both dim={dim!r} and axis={axis!r}")
        return axis
    return default if dim is None else dim


def _index_dim(t: Any, dim: Any, op: str) -> int:
    """`dim` for a method that also works on 0-d tensors (dim 0 or -1 there)."""
    from .ops.indexing import _axis

    return _axis(dim, max(t.ndim, 1), op)


class OpsStructureMixin:
    """`Tensor`'s triangular, diagonal, sorting, cumulative, norm and logic methods."""

    __slots__ = ()

    # -- triangles and diagonals ---------------------------------------------------------------
    def tril(self, diagonal: int = 0) -> Tensor:
        return _triangular.tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        return _triangular.triu(self, diagonal)

    def diag(self, diagonal: int = 0) -> Tensor:
        return _triangular.diag(self, diagonal)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        return _triangular.diagonal(self, offset, dim1, dim2)

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
        return _triangular.diag_embed(self, offset, dim1, dim2)

    def trace(self) -> Tensor:
        """The sum of the main diagonal of a 2-d tensor (PyTorch's ``trace``)."""
        if self.ndim != 2:
            raise ValueError(f"trace: expected a 2-d tensor, got shape {self.shape}")
        return _triangular.trace(self)

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        """Elements shifted cyclically by `shifts` along `dims` (the flattened tensor without
        dims). As in PyTorch, shifts and dims pair up one to one: ``x.roll((1, 2))`` without
        dims and ``x.roll(1, (0, 1))`` raise (``ag.roll``, NumPy's, sums or broadcasts them)."""
        n_shifts = 1 if isinstance(shifts, int) or hasattr(shifts, "__index__") else len(shifts)
        n_dims = 1 if dims is None or isinstance(dims, int) or hasattr(dims, "__index__") \
            else len(dims)
        if n_shifts != n_dims:
            raise RuntimeError(
                f"roll: shifts {shifts!r} and dims {dims!r} must align (one shift per dim; "
                "without dims, one shift of the flattened tensor)"
            )
        return _triangular.roll(self, shifts, dims)

    # -- sorting and selection -----------------------------------------------------------------
    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False, *,
             axis: Any = None) -> tuple:
        """``(values, indices)`` sorted along `dim` (ties keep their order with ``stable=True``;
        NaN sorts as the largest). The gradient of each value goes to the index returned."""
        dim = _dim(dim, axis, -1, "sort")
        x = self.reshape((1,)) if self.ndim == 0 else self
        values, indices = _sorting.sort_with_indices(x, _index_dim(self, dim, "sort"),
                                                     descending, stable)
        if self.ndim == 0:
            values, indices = values.reshape(()), indices.reshape(())
        return sort_result(values, indices)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
        x = self.reshape((1,)) if self.ndim == 0 else self
        out = _sorting.argsort(x, _index_dim(self, dim, "argsort"), descending=descending,
                               stable=stable)
        return out.reshape(()) if self.ndim == 0 else out

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> tuple:  # noqa: A002
        return topk_result(*_sorting.topk(self, k, dim, largest, sorted))

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False) -> tuple:
        return kthvalue_result(*_sorting.kthvalue(self, k, dim, keepdim))

    def median(self, dim: Any = None, keepdim: bool = False) -> Any:
        """PyTorch's ``median``: the lower of the two middle values. Without `dim` a 0-d tensor;
        with `dim` a ``(values, indices)`` tuple (the gradient goes to the index returned)."""
        out = _sorting.median_with_index(self, dim, keepdim)
        return out if dim is None else median_result(*out)

    def nanmedian(self, dim: Any = None, keepdim: bool = False) -> Any:
        """`median` ignoring NaN (NaN only for a slice that is all NaN)."""
        out = _sorting.median_with_index(self, dim, keepdim, ignore_nan=True)
        return out if dim is None else nanmedian_result(*out)

    # -- cumulative ------------------------------------------------------------------------------
    def _cumulative_op(self, name: str, dim: Any, axis: Any, dtype: Any = None) -> Tensor:
        dim = _dim(dim, axis, None, name)
        if dim is None:
            raise TypeError(f"{name}(): missing the dim argument (PyTorch's {name} needs it)")
        if self.ndim == 0:
            _index_dim(self, dim, name)
            return getattr(_cumulative, name)(self, 0, *(() if name == "logcumsumexp"
                                                          else (dtype,))).reshape(())
        return getattr(_cumulative, name)(self, dim, *(() if name == "logcumsumexp"
                                                       else (dtype,)))

    def cumsum(self, dim: Any = None, dtype: Any = None, *, axis: Any = None) -> Tensor:
        return self._cumulative_op("cumsum", dim, axis, dtype)

    def cumprod(self, dim: Any = None, dtype: Any = None, *, axis: Any = None) -> Tensor:
        return self._cumulative_op("cumprod", dim, axis, dtype)

    def logcumsumexp(self, dim: Any = None, *, axis: Any = None) -> Tensor:
        return self._cumulative_op("logcumsumexp", dim, axis)

    def cummax(self, dim: Any = None, *, axis: Any = None) -> tuple:
        """Running maximum along `dim` and its indices (ties: the later index, as PyTorch)."""
        return cummax_result(*_cumulative_extreme(self, dim, axis, True, "cummax"))

    def cummin(self, dim: Any = None, *, axis: Any = None) -> tuple:
        """Running minimum along `dim` and its indices (ties: the later index, as PyTorch)."""
        return cummin_result(*_cumulative_extreme(self, dim, axis, False, "cummin"))

    # -- norms ------------------------------------------------------------------------------------
    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False,
             dtype: Any = None) -> Tensor:
        """PyTorch's ``norm``: the p-norm over `dim` (all elements for None); ``'fro'`` is the
        2-norm. Gradient 0 at x = 0; tied inf-norm maxima share it."""
        x = self if dtype is None else self.astype(dtype)
        return _norms.vector_norm(x, p, dim, keepdim)

    def dist(self, other: Any, p: float = 2) -> Tensor:
        """The p-norm of ``self - other`` (broadcast)."""
        return _norms.vector_norm(self - other, p)

    # -- tests and logic (not differentiable) -----------------------------------------------------
    def isnan(self) -> Tensor:
        return _logical.isnan(self)

    def isinf(self) -> Tensor:
        return _logical.isinf(self)

    def isfinite(self) -> Tensor:
        return _logical.isfinite(self)

    def isposinf(self) -> Tensor:
        return _logical.isposinf(self)

    def isneginf(self) -> Tensor:
        return _logical.isneginf(self)

    def isclose(self, other: Any, rtol: float = 1e-5, atol: float = 1e-8,
                equal_nan: bool = False) -> Tensor:
        return _logical.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other: Any, rtol: float = 1e-5, atol: float = 1e-8,
                 equal_nan: bool = False) -> bool:
        return _logical.allclose(self, other, rtol, atol, equal_nan)

    def logical_and(self, other: Any) -> Tensor:
        return _logical.logical_and(self, other)

    def logical_or(self, other: Any) -> Tensor:
        return _logical.logical_or(self, other)

    def logical_xor(self, other: Any) -> Tensor:
        return _logical.logical_xor(self, other)

    def logical_not(self) -> Tensor:
        return _logical.logical_not(self)

    def bitwise_and(self, other: Any) -> Tensor:
        return _logical.bitwise_and(self, other)

    def bitwise_or(self, other: Any) -> Tensor:
        return _logical.bitwise_or(self, other)

    def bitwise_xor(self, other: Any) -> Tensor:
        return _logical.bitwise_xor(self, other)

    def bitwise_not(self) -> Tensor:
        return _logical.bitwise_not(self)


def _cumulative_extreme(x: Any, dim: Any, axis: Any, largest: bool, op: str) -> tuple:
    dim = _dim(dim, axis, None, op)
    if dim is None:
        raise TypeError(f"{op}(): missing the dim argument")
    x1 = x.reshape((1,)) if x.ndim == 0 else x
    values, indices = _cumulative.cumulative_extreme(x1, _index_dim(x, dim, op), largest)
    if x.ndim == 0:
        return values.reshape(()), indices.reshape(())
    return values, indices


# A logical result has another dtype than x: PyTorch's logical_and_ etc. write it back as x's
# dtype, as the in-place mechanism does (tensor_inplace.apply_inplace).
INPLACE = (
    "tril", "triu", "cumsum", "cumprod", "logical_and", "logical_or", "logical_xor",
    "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
)
for _name in INPLACE:
    setattr(OpsStructureMixin, f"{_name}_", inplace_method(_name))
