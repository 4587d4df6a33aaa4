"""`autograd.scipy.linalg`: SciPy's linear-algebra functions HIPS autograd differentiates, on
kedja Tensors, batched over leading axes, differentiable to any order.

* ``sqrtm(A)``: the principal square root (real matrices without eigenvalues on the closed
  negative real axis: SciPy would return a complex result there; kedja raises a ValueError).
* ``solve_sylvester(A, B, Q)``: X with A X + X B = Q (an (n m) x (n m) linear system).
* ``solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False)``: only the triangle
  `lower` names is read (and differentiated).
* ``solve_banded((l, u), ab, b)``: the banded matrix in SciPy's storage, expanded to a dense
  one (a gather) and solved: O(n^3), for the modest n it is used with.

On plain data each is SciPy's own where SciPy is installed (kedja's on host tensors otherwise).
"""

from __future__ import annotations

from typing import Any

from ..numpy.dispatch import as_tensor, cast, like_of, numpy_function, onp
from ..ops import linalg_inverse as _inv
from ..ops import linalg_sqrtm as _sqrtm
from ..ops.triangular import tril, triu
from ..tensor import Tensor

__all__ = ["sqrtm", "solve_sylvester", "solve_triangular", "solve_banded"]

try:  # SciPy serves plain-data calls where it is installed
    from scipy import linalg as _scipy
except ImportError:  # pragma: no cover - depends on the environment
    _scipy = None


def _plain(name: str) -> Any:
    if _scipy is not None:
        return getattr(_scipy, name)

    def on_host(*args: Any, **kwargs: Any) -> Any:
        import backends

        from ..transform_io import to_plain

        host = backends.host()
        lifted = [Tensor._make(host.asarray(onp.asarray(a)), host)
                  if isinstance(a, (list, tuple, float, int, onp.ndarray, onp.generic)) else a
                  for a in args]
        return to_plain(globals()[name](*lifted, **kwargs))

    return on_host


def _floats(*args: Any) -> list:
    """The arguments as Tensors on one backend; integers computed in float64, as SciPy does."""
    like = like_of(*args)
    out = []
    for a in args:
        t = as_tensor(a, like)
        out.append(cast(t, onp.dtype("float64")) if t.array.dtype.kind in "biu" else t)
    return out


@numpy_function(_plain("sqrtm"), "sqrtm")
def sqrtm(A: Any, disp: bool = True, blocksize: int = 64) -> Any:  # noqa: N803 - SciPy's name
    """The principal matrix square root X (X @ X = A)."""
    (a,) = _floats(A)
    return _sqrtm.Sqrtm.apply(a)


@numpy_function(_plain("solve_sylvester"), "solve_sylvester")
def solve_sylvester(a: Any, b: Any, q: Any) -> Any:
    """X with ``a @ X + X @ b = q``."""
    a, b, q = _floats(a, b, q)
    return _sqrtm.sylvester(a, b, q)


@numpy_function(_plain("solve_triangular"), "solve_triangular")
def solve_triangular(a: Any, b: Any, trans: Any = 0, lower: bool = False,
                     unit_diagonal: bool = False, overwrite_b: bool = False,
                     check_finite: bool = True) -> Any:
    """x with ``T @ x = b`` (``trans`` 0 / "N"), ``T.T @ x = b`` (1 / "T" / 2 / "C"), where T
    is `a`'s lower or upper triangle (with ones on the diagonal if `unit_diagonal`)."""
    a, b = _floats(a, b)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"solve_triangular: expected a square matrix, got shape {a.shape}")
    t = tril(a) if lower else triu(a)
    if unit_diagonal:
        n = a.shape[-1]
        eye = _inv.eye(a, n)
        t = t - t * eye + eye
    if trans in (1, 2, "T", "C"):
        t = _inv.mT(t)
    elif trans not in (0, "N"):
        raise ValueError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")
    vector = b.ndim == 1
    x = _inv.Solve.apply(t, b.reshape(b.shape + (1,)) if vector else b)
    return x.reshape(x.shape[:-1]) if vector else x


@numpy_function(_plain("solve_banded"), "solve_banded")
def solve_banded(l_and_u: Any, ab: Any, b: Any, overwrite_ab: bool = False,
                 overwrite_b: bool = False, check_finite: bool = True) -> Any:
    """x with ``A @ x = b``, A banded with `l` sub- and `u` super-diagonals, stored as SciPy
    stores it: ``ab[u + i - j, j] == A[i, j]``."""
    from .. import numpy as anp

    lower, upper = (int(v) for v in l_and_u)
    ab, b = _floats(ab, b)
    rows, n = ab.shape[-2:] if ab.ndim == 2 else (None, None)
    if rows != lower + upper + 1:
        raise ValueError(f"solve_banded: expected ab of shape ({lower + upper + 1}, n) for "
                         f"(l, u) = ({lower}, {upper}), got {ab.shape}")
    i, j = onp.meshgrid(onp.arange(n), onp.arange(n), indexing="ij")
    band = upper + i - j
    inside = (band >= 0) & (band < rows)
    flat = onp.where(inside, band * n + j, 0)
    dense = anp.multiply(anp.take(anp.reshape(ab, (-1,)), flat), inside.astype(ab.array.dtype))
    vector = b.ndim == 1
    x = _inv.Solve.apply(dense, b.reshape((n, 1)) if vector else b)
    return x.reshape((n,)) if vector else x
