"""Matrix factorisations, batched over leading axes: cholesky, eigh, qr (reduced), svd
(reduced) and the value-only eigvalsh and svdvals.

Multi-output factorisations are packed ops (packing.py). Rules, written with kedja's ops so that
second derivatives work (real matrices):

* cholesky (A = L L^T): G = sym(L^-T Phi(L^T gL) L^-1), Phi = the lower triangle with its
  diagonal halved (Murray 2016).
* eigh (A = V diag(w) V^T): G = sym(V (diag(gw) + F o (V^T gV)) V^T), F_ij = 1/(w_j - w_i);
  it needs distinct eigenvalues (degenerate ones make F infinite: the eigenvectors are not
  differentiable there, and the gradient is inf or NaN).
* qr (A = Q R, m >= n): gA = (gQ + Q copyltu(R gR^T - gQ^T Q)) R^-T; a wide A = [X | Y] is
  done as X = Q U (that rule) and Y = Q V.
* svd (A = U diag(s) V^T, reduced): Townsend's (2016) formula with F_ij = 1/(s_j^2 - s_i^2)
  plus the terms for U's and V's complements; it needs distinct, nonzero singular values.

cholesky and eigh read one triangle of A (NumPy's functions do: the lower one, or the upper one
for ``UPLO="U"``), so their gradient is the derivative of that function: the symmetric gradient
G doubled below (above) the diagonal and zero on the other side. Along symmetric directions
(A built symmetric, as usual) this is the same as PyTorch's symmetric gradient.
"""

from __future__ import annotations

from ..function import Function
from ..tensor import Tensor
from .arithmetic import Add, Div, Mul, Sub, Where
from .indexing import getitem
from .joining import Concatenate
from .layout import Reshape
from .linalg_inverse import Solve, _check_square, constant, eye, mm, mT
from .packing import PackedFunction, apply_unpacked


def _sym(g: Tensor) -> Tensor:
    return Mul.apply(Add.apply(g, mT(g)), 0.5)


def _triangle_gradient(g: Tensor, like: Tensor, uplo: str) -> Tensor:
    """The symmetric gradient `g` as the derivative of a function of one triangle of A."""
    n = like.shape[-1]
    xp = like.xp
    lower = xp.tri(n, dtype=like.array.dtype)
    weights = 2.0 * (lower if uplo == "L" else lower.T) - xp.eye(n, dtype=like.array.dtype)
    return Mul.apply(_sym(g), constant(like, weights))


def _row(v: Tensor) -> Tensor:
    """(..., k) -> (..., 1, k)."""
    return Reshape.apply(v, shape=tuple(v.shape[:-1]) + (1, v.shape[-1]))


def _col(v: Tensor) -> Tensor:
    """(..., k) -> (..., k, 1)."""
    return Reshape.apply(v, shape=tuple(v.shape) + (1,))


def _weighted_by_inverse(diff: Tensor, m: Tensor) -> Tensor:
    """F o m with F = 1 / diff off the diagonal and 0 on it.

    Where an entry of m is exactly 0 (its output's gradient is unused, e.g. eigenvalues taken
    without eigenvectors) the term is 0 even where diff is 0 (a degenerate spectrum): such
    gradients stay finite. A used entry at a degeneracy gives inf or NaN, as it should: the
    factor is not differentiable there.
    """
    k = diff.shape[-1]
    xp = diff.xp
    skip = xp.eye(k, dtype=bool) | ((diff.array == 0) & (m.array == 0))
    skip = constant(diff, skip)
    safe = Where.apply(skip, 1.0, diff)
    return Where.apply(skip, 0.0, Mul.apply(Div.apply(1.0, safe), m))


# -- cholesky ----------------------------------------------------------------------------------
class Cholesky(Function):
    """L = the lower Cholesky factor of each matrix (only A's lower triangle is read)."""

    def forward(self, a):
        _check_square("cholesky", a)
        y = self.xp.linalg.cholesky(a)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        n = y.shape[-1]
        xp = y.xp
        phi = constant(y, xp.tri(n, dtype=y.array.dtype) - 0.5 * xp.eye(n, dtype=y.array.dtype))
        s = Mul.apply(mm(mT(y), gy), phi)
        y_t = mT(y)
        left = Solve.apply(y_t, s)  # L^-T Phi(L^T gL)
        g = mT(Solve.apply(y_t, mT(left)))  # ... L^-1
        return _triangle_gradient(g, y, "L")


# -- eigh ------------------------------------------------------------------------------------
class Eigh(PackedFunction):
    """(w, V) = the eigendecomposition of each symmetric matrix, packed (see packing.py)."""

    def compute(self, a):
        _check_square("eigh", a)
        return self.xp.linalg.eigh(a, UPLO=self.uplo)

    def backward_parts(self, g, y, a):
        (gw, gv), (w, v) = g, y
        inner = _weighted_by_inverse(Sub.apply(_row(w), _col(w)), mm(mT(v), gv))  # 1/(w_j-w_i)
        inner = Add.apply(inner, Mul.apply(_row(gw), eye(a, a.shape[-1])))
        return _triangle_gradient(mm(mm(v, inner), mT(v)), a, self.uplo)


def eigh(a: Tensor, uplo: str = "L") -> list:
    """``[w, V]`` for each symmetric matrix of `a` (differentiable, distinct eigenvalues)."""
    n = a.shape[-1]
    return apply_unpacked(Eigh, a, batch=a.shape[:-2], tails=((n,), (n, n)), uplo=uplo)


class EighValues(Function):
    """w = the eigenvalues of each symmetric matrix (ascending)."""

    def forward(self, a):
        _check_square("eigvalsh", a)
        self.save_for_backward(a)
        return self.xp.linalg.eigvalsh(a, UPLO=self.uplo)

    def backward(self, gw):
        (a,) = self.saved_tensors
        _w, v = eigh(a, self.uplo)  # recomputed, differentiable: second derivatives need V(A)
        return _triangle_gradient(mm(Mul.apply(v, _row(gw)), mT(v)), a, self.uplo)


# -- qr --------------------------------------------------------------------------------------
class QR(PackedFunction):
    """(Q, R) = the reduced QR factorisation of each matrix, packed (see packing.py)."""

    def compute(self, a):
        return self.xp.linalg.qr(a, mode="reduced")

    def backward_parts(self, g, y, a):
        (gq, gr), (q, r) = g, y
        m, n = a.shape[-2], a.shape[-1]
        if m >= n:
            return _qr_tall(gq, gr, q, r)
        # Wide A = [X | Y] with X square: X = Q U, Y = Q V (so V's gradient reaches Q too).
        lead = (Ellipsis, slice(None))
        u, gu = getitem(r, lead + (slice(0, m),)), getitem(gr, lead + (slice(0, m),))
        gv = getitem(gr, lead + (slice(m, None),))
        y_part = getitem(a, lead + (slice(m, None),))
        gx = _qr_tall(Add.apply(gq, mm(y_part, mT(gv))), gu, q, u)
        return Concatenate.apply(gx, mm(q, gv), axis=a.ndim - 1)


def _qr_tall(gq: Tensor, gr: Tensor, q: Tensor, r: Tensor) -> Tensor:
    """gA for A = Q R with A (..., m, n), m >= n."""
    k = r.shape[-1]
    lower = r.xp.tri(k, dtype=r.array.dtype)
    m = Sub.apply(mm(r, mT(gr)), mm(mT(gq), q))
    # copyltu(M): M's lower triangle mirrored onto the upper one.
    copied = Add.apply(Mul.apply(m, constant(r, lower)),
                       mT(Mul.apply(m, constant(r, lower - r.xp.eye(k, dtype=r.array.dtype)))))
    b = Add.apply(gq, mm(q, copied))
    return mT(Solve.apply(r, mT(b)))  # b R^-T


def qr(a: Tensor) -> list:
    """``[Q, R]``, the reduced QR factorisation of each matrix of `a` (differentiable)."""
    m, n = a.shape[-2], a.shape[-1]
    k = min(m, n)
    return apply_unpacked(QR, a, batch=a.shape[:-2], tails=((m, k), (k, n)))


# -- svd -------------------------------------------------------------------------------------
class SVD(PackedFunction):
    """(U, s, Vh) = the reduced singular value decomposition of each matrix, packed."""

    def compute(self, a):
        return self.xp.linalg.svd(a, full_matrices=False)

    def backward_parts(self, g, y, a):
        (gu, gs, gvh), (u, s, vh) = g, y
        m, n, k = a.shape[-2], a.shape[-1], s.shape[-1]
        v, gv = mT(vh), mT(gvh)
        s_row, s_col = _row(s), _col(s)
        s2 = Mul.apply(s, s)
        diff = Sub.apply(_row(s2), _col(s2))  # s_j^2 - s_i^2
        ut_gu = mm(mT(u), gu)
        vt_gv = mm(mT(v), gv)
        j = _weighted_by_inverse(diff, Sub.apply(ut_gu, mT(ut_gu)))
        kk = _weighted_by_inverse(diff, Sub.apply(vt_gv, mT(vt_gv)))
        inner = Add.apply(Add.apply(Mul.apply(j, s_row), Mul.apply(_row(gs), eye(a, k))),
                          Mul.apply(s_col, kk))
        ga = mm(mm(u, inner), vh)
        inv_s = Div.apply(1.0, s_row)
        if m > k:  # the part of gU outside U's column space
            outside = Sub.apply(gu, mm(u, ut_gu))
            ga = Add.apply(ga, mm(Mul.apply(outside, inv_s), vh))
        if n > k:  # the part of gV outside V's column space
            outside = Sub.apply(gv, mm(v, vt_gv))
            ga = Add.apply(ga, mm(Mul.apply(u, inv_s), mT(outside)))
        return ga


def svd(a: Tensor) -> list:
    """``[U, s, Vh]``, the reduced SVD of each matrix of `a` (differentiable)."""
    m, n = a.shape[-2], a.shape[-1]
    k = min(m, n)
    return apply_unpacked(SVD, a, batch=a.shape[:-2], tails=((m, k), (k,), (k, n)))


class SingularValues(Function):
    """s = the singular values of each matrix (descending)."""

    def forward(self, a):
        if a.ndim < 2:
            raise ValueError(f"svd: expected a matrix or a stack of them, got shape {a.shape}")
        self.save_for_backward(a)
        return self.xp.linalg.svd(a, compute_uv=False)

    def backward(self, gs):
        (a,) = self.saved_tensors
        u, _s, vh = svd(a)  # recomputed, differentiable: second derivatives need U(A), V(A)
        return mm(Mul.apply(u, _row(gs)), vh)

