"""The matrix square root and the Sylvester equation, batched over leading axes.

* sylvester: X solving A X + X B = Q, as one (n m) x (n m) linear system
  (I_n (x) B^T + A (x) I_m) vec X = vec Q, built and solved with kedja's ops (einsum, reshape,
  solve), so every order of derivative comes from theirs. The system costs O((n m)^3): meant
  for the small matrices it is used with (n m up to a few hundred).
* sqrtm: X = A^(1/2), the principal square root, by the Denman-Beavers iteration (inverses
  only: the same code on every backend). Differentiating X X = A gives X dX + dX X = dA, so
  gA solves the adjoint Sylvester equation X^T gA + gA X^T = gX.
"""

from __future__ import annotations

from ..function import Function
from ..tensor import Tensor
from .einsum import einsum
from .layout import Reshape
from .linalg_inverse import Solve, constant, mT

#: Denman-Beavers iterations before giving up (it converges quadratically once close).
_MAX_ITERATIONS = 100


def sylvester(a: Tensor, b: Tensor, q: Tensor) -> Tensor:
    """X with A X + X B = Q, for A (..., n, n), B (..., m, m), Q (..., n, m)."""
    n, m = a.shape[-1], b.shape[-1]
    if a.ndim < 2 or a.shape[-2] != n or b.ndim < 2 or b.shape[-2] != m \
            or q.shape[-2:] != (n, m):
        raise ValueError(
            f"solve_sylvester: expected a (..., n, n), b (..., m, m) and q (..., n, m), got "
            f"shapes {a.shape}, {b.shape} and {q.shape}"
        )
    eye_n = constant(a, a.xp.eye(n, dtype=a.array.dtype))
    eye_m = constant(b, b.xp.eye(m, dtype=b.array.dtype))
    # K[i, j, k, l] multiplies X[k, l] in (A X + X B)[i, j] = A[i, k] X[k, j] + X[i, l] B[l, j]
    k = einsum("...ik,jl->...ijkl", a, eye_m) + einsum("ik,...lj->...ijkl", eye_n, b)
    batch = k.shape[:-4]
    system = Reshape.apply(k, shape=batch + (n * m, n * m))
    rhs = Reshape.apply(q, shape=q.shape[:-2] + (n * m, 1))
    return Reshape.apply(Solve.apply(system, rhs), shape=system.shape[:-2] + (n, m))


class Sqrtm(Function):
    """X = A^(1/2), the principal square root of each matrix of a batch."""

    def forward(self, a):
        xp = self.xp
        if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
            raise ValueError(f"sqrtm: expected a square matrix or a stack of them (..., n, n), "
                             f"got shape {tuple(a.shape)}")
        if a.size == 0:
            y = a.copy()
            self.save_for_backward(y)
            return y
        n = a.shape[-1]
        eye = xp.eye(n, dtype=a.dtype)
        tol = float(xp.finfo(a.dtype).eps) * n * 10
        m, y = a, a
        residual = float("inf")
        try:
            for _ in range(_MAX_ITERATIONS):  # product form: M -> I, Y -> A^(1/2)
                m_inv = xp.linalg.inv(m)
                y = 0.5 * xp.matmul(y, eye + m_inv)
                m = 0.5 * eye + 0.25 * (m + m_inv)
                if float(xp.max(xp.abs(m - eye))) <= tol:  # a host read per step (not hot)
                    break
            scale = max(float(xp.max(xp.abs(a))), 1e-300)
            residual = float(xp.max(xp.abs(xp.matmul(y, y) - a))) / scale
        except ValueError:  # (LinAlgError) an iterate went singular
            pass
        if not residual <= 1e-6:
            raise ValueError(
                f"sqrtm: no real principal square root found for a matrix of shape "
                f"{tuple(a.shape)} (an eigenvalue on the closed negative real axis: singular, "
                f"or one whose root is complex); relative residual {residual:.2e}"
            )
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved_tensors
        y_t = mT(y)
        return sylvester(y_t, y_t, gy)
