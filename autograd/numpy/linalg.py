"""`autograd.numpy.linalg`: NumPy's linear algebra, differentiable and batched over leading
axes, on every backend (CuPy has the same functions).

Differentiable (first and second order): inv, det, slogdet (its log|det|), solve, cholesky,
eigh and eigvalsh (distinct eigenvalues), qr (reduced), svd (reduced or square; distinct,
nonzero singular values for U and V), svdvals, norm (every ord, vector and matrix, axis and
keepdims), pinv (where the rank does not change), matrix_power, lstsq (its solution, residuals
and singular values), multi_dot, and the array-API spellings (cross, diagonal, outer, trace,
tensordot, vecdot, matmul, matrix_transpose). The rules and their conditions are in autograd/ops/
linalg_inverse.py and linalg_factor.py. Other NumPy linalg functions (eig, matrix_rank, cond, ...)
run on tensors that need no gradient.
"""

from __future__ import annotations

import operator
from collections import namedtuple
from typing import Any

from ..ops import linalg_factor as _factor
from ..ops import linalg_inverse as _inv
from ..ops.layout import Reshape
from ..tensor import Tensor
from .calls import forward_only
from .dispatch import as_tensor, cast, like_of, numpy_function, onp, tensor_args

__all__ = [
    "inv", "det", "slogdet", "solve", "cholesky", "eigh", "eigvalsh", "qr", "svd", "svdvals",
    "norm", "vector_norm", "matrix_norm", "pinv", "matrix_power", "lstsq", "multi_dot",
    "matmul", "matrix_transpose", "LinAlgError", "cross", "diagonal", "outer", "trace",
    "tensordot", "vecdot",
]

_np_linalg = onp.linalg
LinAlgError = _np_linalg.LinAlgError
SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
QRResult = namedtuple("QRResult", ["Q", "R"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])
LstsqResult = namedtuple("LstsqResult", ["x", "residuals", "rank", "s"])


def _matrix(a: Any) -> Tensor:
    """`a` as a floating Tensor (NumPy's linalg computes integers in float64)."""
    a = as_tensor(a, like_of(a))
    return cast(a, "float64") if a.array.dtype.kind in "biu" else a


def _np(name: str) -> Any:
    return getattr(_np_linalg, name)


@numpy_function(_np("inv"))
def inv(a: Any) -> Any:
    """NumPy's ``linalg.inv``: the inverse of each matrix (gA = -A^-T gy A^-T)."""
    return _inv.Inv.apply(_matrix(a))


@numpy_function(_np("det"))
def det(a: Any) -> Any:
    """NumPy's ``linalg.det``: the determinant of each matrix (gA = gy det(A) A^-T)."""
    return _inv.Det.apply(_matrix(a))


@numpy_function(_np("slogdet"))
def slogdet(a: Any) -> Any:
    """NumPy's ``linalg.slogdet``: ``(sign, log|det|)``; the sign is a constant."""
    a = _matrix(a)
    sign = Tensor._make(a.xp.linalg.slogdet(a.array)[0], a.backend)
    return SlogdetResult(sign, _inv.LogAbsDet.apply(a))


@numpy_function(_np("solve"))
def solve(a: Any, b: Any) -> Any:
    """NumPy's ``linalg.solve``: x with A x = b; `b` is a vector only when it is 1-D (NumPy
    2's rule), else a (stack of) matrices; batch axes broadcast."""
    a, b = (cast(t, "float64") if t.array.dtype.kind in "biu" else t for t in tensor_args(a, b))
    if b.ndim == 1:
        x = _inv.Solve.apply(a, Reshape.apply(b, shape=(b.shape[0], 1)))
        return Reshape.apply(x, shape=x.shape[:-1])
    return _inv.Solve.apply(a, b)


@numpy_function(_np("cholesky"))
def cholesky(a: Any, /, *, upper: bool = False) -> Any:
    """NumPy's ``linalg.cholesky``: the lower factor L (``upper=True``: L^T). Only A's lower
    triangle is read, so only it gets a gradient (see autograd/ops/linalg_factor.py)."""
    lower = _factor.Cholesky.apply(_matrix(a))
    return _inv.mT(lower) if upper else lower


@numpy_function(_np("eigh"))
def eigh(a: Any, UPLO: str = "L") -> Any:  # noqa: N803 - NumPy's name
    """NumPy's ``linalg.eigh``: ``(eigenvalues, eigenvectors)`` of symmetric matrices.

    Differentiable where the eigenvalues are distinct; with repeated eigenvalues the
    eigenvectors are not unique and their gradient is inf or NaN. Only the `UPLO` triangle of
    A is read, so only it gets a gradient.
    """
    w, v = _factor.eigh(_matrix(a), _uplo(UPLO))
    return EighResult(w, v)


def _uplo(uplo: str) -> str:
    uplo = uplo.upper()
    if uplo not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    return uplo


@numpy_function(_np("eigvalsh"))
def eigvalsh(a: Any, UPLO: str = "L") -> Any:  # noqa: N803 - NumPy's name
    """NumPy's ``linalg.eigvalsh``: the eigenvalues (ascending) of symmetric matrices."""
    return _factor.EighValues.apply(_matrix(a), uplo=_uplo(UPLO))


@numpy_function(_np("qr"))
def qr(a: Any, mode: str = "reduced") -> Any:
    """NumPy's ``linalg.qr``; differentiable in modes "reduced" and "r" ("complete" where it
    equals "reduced", m <= n)."""
    a = _matrix(a)
    if mode == "complete" and a.shape[-2] <= a.shape[-1]:
        mode = "reduced"
    if mode not in ("reduced", "r"):
        return forward_only("qr", (a,), {"mode": mode}, "linalg")
    q, r = _factor.qr(a)
    return r if mode == "r" else QRResult(q, r)


@numpy_function(_np("svd"))
def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True,
        hermitian: bool = False) -> Any:
    """NumPy's ``linalg.svd``: ``(U, S, Vh)``, or S alone with ``compute_uv=False``.

    Differentiable for the reduced factors (``full_matrices=False``, or a square matrix);
    U and Vh need distinct, nonzero singular values (otherwise they are not unique and the
    gradient is inf or NaN). The singular values alone are differentiable wherever they are
    distinct.
    """
    a = _matrix(a)
    if not compute_uv:
        return _factor.SingularValues.apply(a)
    if full_matrices and a.shape[-2] != a.shape[-1]:
        return forward_only("svd", (a,), {"full_matrices": True}, "linalg")
    u, s, vh = _factor.svd(a)
    return SVDResult(u, s, vh)


@numpy_function(getattr(_np_linalg, "svdvals", None), "svdvals")
def svdvals(x: Any, /) -> Any:
    """NumPy's ``linalg.svdvals``: the singular values, descending."""
    return _factor.SingularValues.apply(_matrix(x))


@numpy_function(_np("pinv"))
def pinv(a: Any, rcond: Any = None, hermitian: bool = False, **kwargs: Any) -> Any:
    """NumPy's ``linalg.pinv``; differentiable where the rank does not change (singular
    values below the cutoff are dropped, as in NumPy)."""
    options = {} if rcond is None else {"rcond": rcond}
    return _inv.Pinv.apply(_matrix(a), options=options)


@numpy_function(_np("matrix_power"))
def matrix_power(a: Any, n: int) -> Any:
    """NumPy's ``linalg.matrix_power``: A**n by repeated squaring (n < 0 uses inv)."""
    a = as_tensor(a, like_of(a))
    n = operator.index(n)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise LinAlgError(f"matrix_power: expected square matrices, got shape {a.shape}")
    if n == 0:
        eye = a.xp.broadcast_to(a.xp.eye(a.shape[-1], dtype=a.array.dtype), a.shape)
        return Tensor._make(eye.copy(), a.backend)
    if n < 0:
        a, n = inv(a), -n
    result = None
    square = a
    while n:
        if n & 1:
            result = square if result is None else _inv.mm(result, square)
        n >>= 1
        if n:
            square = _inv.mm(square, square)
    return result


@numpy_function(_np("lstsq"))
def lstsq(a: Any, b: Any, rcond: Any = None) -> Any:
    """NumPy's ``linalg.lstsq``: ``(x, residuals, rank, s)``; x = pinv(a) @ b (the minimum-norm
    least-squares solution), differentiable where the rank does not change."""
    from .elementwise import subtract
    from .reductions import sum as _sum

    a, b = (cast(t, "float64") if t.array.dtype.kind in "biu" else t for t in tensor_args(a, b))
    if a.ndim != 2 or b.ndim not in (1, 2) or a.shape[0] != b.shape[0]:
        raise LinAlgError(f"lstsq: a must be (M, N) and b (M,) or (M, K), got {a.shape} "
                          f"and {b.shape}")
    m, n = a.shape
    if rcond is None:
        rcond = onp.finfo(a.array.dtype).eps * max(m, n)
    x = _inv.mm(pinv(a, rcond=rcond), b if b.ndim == 2 else Reshape.apply(b, shape=(m, 1)))
    s = svdvals(a)
    rank = int(a.xp.sum(s.array > rcond * s.array.max())) if s.size else 0
    if b.ndim == 1:
        x = Reshape.apply(x, shape=(n,))
    if rank == n and m > n:
        residual = subtract(b, _inv.mm(a, x) if x.ndim == 2 else
                            Reshape.apply(_inv.mm(a, Reshape.apply(x, shape=(n, 1))),
                                          shape=(m,)))
        residuals = _sum(residual * residual, axis=0)
        if b.ndim == 1:
            residuals = Reshape.apply(residuals, shape=(1,))
    else:
        residuals = Tensor._make(a.xp.zeros((0,), dtype=a.array.dtype), a.backend)
    return LstsqResult(x, residuals, rank, s)


@numpy_function(_np("multi_dot"))
def multi_dot(arrays: Any, *, out: Any = None) -> Any:
    """NumPy's ``linalg.multi_dot``: the chained product (a 1-D first/last array is a row/column
    vector, as in NumPy), left to right."""
    tensors = tensor_args(*arrays)
    if len(tensors) < 2:
        raise ValueError("Expecting at least two arrays.")
    result = tensors[0]
    for t in tensors[1:]:
        result = _inv.mm(result, t)
    return result


@numpy_function(_np("matmul"))
def matmul(x1: Any, x2: Any, /) -> Any:
    """NumPy's ``linalg.matmul`` (the same as ``numpy.matmul``)."""
    from .elementwise import matmul as _matmul

    return _matmul(x1, x2)


@numpy_function(getattr(_np_linalg, "matrix_transpose", None), "matrix_transpose")
def matrix_transpose(x: Any, /) -> Any:
    """NumPy's ``linalg.matrix_transpose``: the last two axes swapped."""
    return _inv.mT(as_tensor(x, like_of(x)))


# -- the array-API spellings in numpy.linalg: the namespace's own functions, last axes ----------
def _anp() -> Any:
    from .. import numpy as anp  # (the package imports this module: bound at call time)

    return anp


@numpy_function(getattr(_np_linalg, "cross", None), "cross")
def cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """NumPy's ``linalg.cross``: cross products of 3-vectors along `axis`."""
    return _anp().cross(x1, x2, axis=axis)


@numpy_function(getattr(_np_linalg, "diagonal", None), "diagonal")
def diagonal(x: Any, /, *, offset: int = 0) -> Any:
    """NumPy's ``linalg.diagonal``: the diagonals of the matrices (last two axes)."""
    return _anp().diagonal(x, offset=offset, axis1=-2, axis2=-1)


@numpy_function(getattr(_np_linalg, "outer", None), "outer")
def outer(x1: Any, x2: Any, /) -> Any:
    """NumPy's ``linalg.outer``: the outer product of two 1-D arrays."""
    for x in (x1, x2):
        if getattr(x, "ndim", 1) != 1:
            raise ValueError(f"linalg.outer: expected 1-D arrays, got shape {x.shape}")
    return _anp().outer(x1, x2)


@numpy_function(getattr(_np_linalg, "trace", None), "trace")
def trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Any:
    """NumPy's ``linalg.trace``: the traces of the matrices (last two axes)."""
    y = _anp().trace(x, offset=offset, axis1=-2, axis2=-1)
    return cast(y, onp.dtype(dtype)) if dtype is not None else y


@numpy_function(getattr(_np_linalg, "tensordot", None), "tensordot")
def tensordot(x1: Any, x2: Any, /, *, axes: Any = 2) -> Any:
    """NumPy's ``linalg.tensordot``."""
    return _anp().tensordot(x1, x2, axes=axes)


@numpy_function(getattr(_np_linalg, "vecdot", None), "vecdot")
def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """NumPy's ``linalg.vecdot``: sum(conj(x1) * x2) along `axis`, broadcasting the rest."""
    anp = _anp()
    return anp.sum(anp.conj(x1) * x2, axis=axis)


def _swap_last(x: Any) -> Any:
    return onp.swapaxes(x, -1, -2)


@numpy_function(_swap_last, "T")
def T(x: Any) -> Any:  # noqa: N802 - HIPS autograd's name
    """The matrices of `x` transposed (last two axes swapped): a helper HIPS autograd's
    ``autograd.numpy.linalg`` has, kept for programs (and tests) written against it."""
    return _inv.mT(as_tensor(x, like_of(x)))


@numpy_function(onp.matmul, "_dot")
def _dot(a: Any, b: Any) -> Any:
    """Matrix product batched over leading axes (HIPS autograd's ``linalg._dot`` helper)."""
    return matmul(a, b)


# -- norms -------------------------------------------------------------------------------------
@numpy_function(_np("norm"))
def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A002
    """NumPy's ``linalg.norm``: every vector and matrix `ord`, over `axis`, with `keepdims`.

    Composed from differentiable ops (abs, sums, max/min, sqrt, powers, singular values). At
    points where a norm has a kink (a zero vector for the 2-norm, ties for the max norms) the
    gradient follows those ops' conventions.
    """
    from . import elementwise as el
    from . import reductions as red

    x = _matrix(x)
    ndim = x.ndim
    if axis is None:
        if ord is None:
            r = el.sqrt(red.sum(el.square(Reshape.apply(x, shape=(-1,)))))
            return Reshape.apply(r, shape=(1,) * ndim) if keepdims else r
        if ndim == 1:
            axis = (0,)
        elif ndim == 2:
            axis = (0, 1)
        else:
            raise ValueError("Improper number of dimensions to norm.")
    elif not isinstance(axis, tuple):
        axis = (operator.index(axis),)
    axis = tuple(a % ndim for a in axis)
    if len(axis) == 1:
        r = _vector_norm(x, ord, axis[0])
    elif len(axis) == 2:
        if axis[0] == axis[1]:
            raise ValueError("Duplicate axes given.")
        r = _matrix_norm(x, ord, axis)
    else:
        raise ValueError("Improper number of dimensions to norm.")
    if keepdims:
        shape = [1 if i in axis else n for i, n in enumerate(x.shape)]
        r = Reshape.apply(r, shape=tuple(shape))
    return r


def _vector_norm(x: Tensor, ord: Any, axis: int) -> Tensor:  # noqa: A002
    from . import elementwise as el
    from . import reductions as red

    if ord is None or ord == 2:
        return el.sqrt(red.sum(el.square(x), axis=axis))
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    if ord == onp.inf:
        return red.max(el.abs(x), axis=axis)
    if ord == -onp.inf:
        return red.min(el.abs(x), axis=axis)
    if ord == 0:
        return red.sum(cast(el.not_equal(x, 0), x.array.dtype), axis=axis)
    if ord == 1:
        return red.sum(el.abs(x), axis=axis)
    return el.power(red.sum(el.power(el.abs(x), ord), axis=axis), 1.0 / ord)


def _matrix_norm(x: Tensor, ord: Any, axis: tuple) -> Tensor:  # noqa: A002
    from . import elementwise as el
    from . import reductions as red
    from .shaping import moveaxis

    row, col = axis
    if ord is None or ord == "fro":
        return el.sqrt(red.sum(el.square(x), axis=axis))
    if ord in (2, -2, "nuc"):
        s = _factor.SingularValues.apply(moveaxis(x, (row, col), (-2, -1)))
        if ord == "nuc":
            return red.sum(s, axis=-1)
        return red.max(s, axis=-1) if ord == 2 else red.min(s, axis=-1)
    if ord in (1, -1):
        col_after = col - 1 if col > row else col
        sums = red.sum(el.abs(x), axis=row)
        return red.max(sums, axis=col_after) if ord == 1 else red.min(sums, axis=col_after)
    if ord in (onp.inf, -onp.inf):
        row_after = row - 1 if row > col else row
        sums = red.sum(el.abs(x), axis=col)
        return red.max(sums, axis=row_after) if ord > 0 else red.min(sums, axis=row_after)
    raise ValueError("Invalid norm order for matrices.")


@numpy_function(getattr(_np_linalg, "vector_norm", None), "vector_norm")
def vector_norm(x: Any, /, *, axis: Any = None, keepdims: bool = False,
                ord: Any = 2) -> Any:  # noqa: A002 - NumPy's name
    """NumPy's ``linalg.vector_norm`` (all elements as one vector for ``axis=None``)."""
    x = _matrix(x)
    if axis is None:
        r = norm(Reshape.apply(x, shape=(-1,)), ord=ord, axis=0)
        return Reshape.apply(r, shape=(1,) * x.ndim) if keepdims else r
    if isinstance(axis, tuple) and len(axis) > 1:
        from .shaping import moveaxis

        moved = moveaxis(x, axis, tuple(range(-len(axis), 0)))
        flat = Reshape.apply(moved, shape=moved.shape[: -len(axis)] + (-1,))
        r = norm(flat, ord=ord, axis=-1)
        if keepdims:
            r = Reshape.apply(r, shape=tuple(1 if i in {a % x.ndim for a in axis} else n
                                             for i, n in enumerate(x.shape)))
        return r
    return norm(x, ord=ord, axis=axis, keepdims=keepdims)


@numpy_function(getattr(_np_linalg, "matrix_norm", None), "matrix_norm")
def matrix_norm(x: Any, /, *, keepdims: bool = False,
                ord: Any = "fro") -> Any:  # noqa: A002 - NumPy's name
    """NumPy's ``linalg.matrix_norm`` over the last two axes."""
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


def __getattr__(name: str) -> Any:
    # The rest of numpy.linalg (eig, eigvals, matrix_rank, cond, ...): forward only on tensors.
    attr = getattr(_np_linalg, name)
    if callable(attr) and not isinstance(attr, type):
        def f(*args: Any, **kwargs: Any) -> Any:
            return forward_only(name, args, kwargs, "linalg")

        attr = numpy_function(attr, name, f"NumPy's ``linalg.{name}``: forward only on "
                              "tensors (not differentiable).", kind="forward only")(f)
    globals()[name] = attr
    return attr
