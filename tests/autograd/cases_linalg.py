"""Op-table rows for `autograd.numpy.linalg`: inverses, determinants, solves, factorisations
(cholesky, eigh, qr, svd), pinv, norms, matrix powers, least squares.

Inputs are built well conditioned (a dominant diagonal, spread eigen- and singular values) over
hypothesis-drawn batch shapes, including empty batches. Factors defined only up to sign
(eigenvectors, singular vectors, Q and R) enter through sign-invariant expressions (v * v,
u @ vh, q @ r), so the rows hold on any LAPACK, cuSOLVER included.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd.numpy as anp
import autograd.scipy.linalg as aspla
import autograd.scipy.signal as asig
from autograd.scipy.integrate import odeint

from .op_table import OpCase

_BATCH = hnp.array_shapes(min_dims=0, max_dims=1, min_side=0, max_side=2)


def square(count: int = 1, min_n: int = 1, max_n: int = 3) -> st.SearchStrategy:
    return st.tuples(_BATCH, st.integers(min_n, max_n)).map(
        lambda bn: tuple(bn[0] + (bn[1], bn[1]) for _ in range(count)))


def rectangular(max_n: int = 3) -> st.SearchStrategy:
    return st.tuples(_BATCH, st.integers(1, max_n), st.integers(1, max_n)).map(
        lambda bmn: (bmn[0] + (bmn[1], bmn[2]),))


def dominant(rng: np.random.Generator, shapes: tuple) -> list:
    """Matrices with a dominant diagonal: far from singular."""
    out = []
    for shape in shapes:
        a = rng.uniform(-1.0, 1.0, size=shape)
        n = min(shape[-2:])
        idx = np.arange(n)
        a[..., idx, idx] += 3.0 * np.sign(a[..., idx, idx] + 0.1)
        out.append(a)
    return out


def spd(rng: np.random.Generator, shapes: tuple) -> list:
    """Symmetric positive definite matrices (B B^T + n I)."""
    (shape,) = shapes
    b = rng.uniform(-1.0, 1.0, size=shape)
    n = shape[-1]
    return [b @ np.swapaxes(b, -1, -2) + n * np.eye(n)]


def spread_symmetric(rng: np.random.Generator, shapes: tuple) -> list:
    """Symmetric matrices with eigenvalues at least 1 apart (eigh is differentiable there)."""
    (shape,) = shapes
    n = shape[-1]
    q, _ = np.linalg.qr(rng.normal(size=shape))
    w = np.arange(n) * 1.5 + rng.uniform(-0.2, 0.2, size=shape[:-1])
    return [(q * w[..., None, :]) @ np.swapaxes(q, -1, -2)]


def spread_singular(rng: np.random.Generator, shapes: tuple) -> list:
    """Matrices with singular values at least 0.8 apart and at least 1."""
    (shape,) = shapes
    m, n = shape[-2:]
    k = min(m, n)
    u, _ = np.linalg.qr(rng.normal(size=shape[:-2] + (m, k)))
    v, _ = np.linalg.qr(rng.normal(size=shape[:-2] + (n, k)))
    s = 1.0 + np.arange(k)[::-1] * 0.8 + rng.uniform(0, 0.1, size=shape[:-2] + (k,))
    return [(u * s[..., None, :]) @ np.swapaxes(v, -1, -2)]


def _solve_shapes(vector: bool) -> st.SearchStrategy:
    def build(bn):
        batch, n = bn
        return (batch + (n, n), (n,) if vector else batch + (n, 2))

    return st.tuples(_BATCH, st.integers(1, 3)).map(build)


def _solve_inputs(rng: np.random.Generator, shapes: tuple) -> list:
    return dominant(rng, shapes[:1]) + [rng.uniform(-1, 1, size=shapes[1])]


def _lstsq_shapes(vector: bool) -> st.SearchStrategy:
    def build(mn):
        m, n = mn
        return ((m, n), (m,) if vector else (m, 2))

    return st.tuples(st.integers(2, 4), st.integers(1, 2)).filter(lambda mn: mn[0] > mn[1]).map(
        build)


def _lstsq_inputs(rng: np.random.Generator, shapes: tuple) -> list:
    return dominant(rng, shapes[:1]) + [rng.uniform(-1, 1, size=shapes[1])]


def _vector_shapes() -> st.SearchStrategy:
    return hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3).map(lambda s: (s,))


def _norm_params(ords: list, matrix: bool) -> object:
    def params(shapes: tuple) -> st.SearchStrategy:
        ndim = len(shapes[0])
        if matrix:
            axis = st.sampled_from([None, (0, 1), (1, 0), (-1, -2)] if ndim == 2 else [(0, 1)])
        else:
            axis = st.sampled_from([None] if ndim == 1 else [0, 1, -1])
        return st.fixed_dictionaries({"ord": st.sampled_from(ords), "axis": axis,
                                      "keepdims": st.booleans()})

    return params


def _nonzero(rng: np.random.Generator, shapes: tuple) -> list:
    """Entries of magnitude 0.2..2 with distinct absolute values (no kinks, no ties)."""
    (shape,) = shapes
    size = int(np.prod(shape))
    # Random gaps, not an arithmetic progression: sums of its terms would tie (max-norm kinks).
    magnitudes = rng.permutation(0.2 + np.cumsum(rng.uniform(0.05, 0.4, size=size)))
    signs = rng.choice([-1.0, 1.0], size=size)
    return [(magnitudes * signs).reshape(shape)]


def _slogdet_ref(a):
    return np.linalg.slogdet(a)[1]


def _sqrtm_spd(a):
    w, v = np.linalg.eigh(a)
    return (v * np.sqrt(w)[..., None, :]) @ np.swapaxes(v, -1, -2)


def _sylvester_ref(a, b, q):
    n, m = a.shape[-1], b.shape[-1]
    k = np.einsum("...ik,jl->...ijkl", a, np.eye(m)) + np.einsum("ik,...lj->...ijkl",
                                                                  np.eye(n), b)
    k = k.reshape(k.shape[:-4] + (n * m, n * m))
    x = np.linalg.solve(k, q.reshape(q.shape[:-2] + (n * m, 1)))
    return x.reshape(x.shape[:-2] + (n, m))


def _sylvester_inputs(rng: np.random.Generator, shapes: tuple) -> list:
    # dominant positive diagonals: A and -B share no eigenvalue, the equation is well posed
    a, b = (np.abs(x) for x in dominant(rng, shapes[:2]))
    return [a, b, rng.uniform(-1, 1, size=shapes[2])]


def _triangular_ref(a, b, lower=False, trans=0, unit_diagonal=False):
    t = np.tril(a) if lower else np.triu(a)
    if unit_diagonal:
        np.fill_diagonal(t, 1.0)
    return np.linalg.solve(t.T if trans else t, b)


def _ordered(sa: tuple, sb: tuple) -> bool:
    return all(m <= n for n, m in zip(sa, sb)) or all(n <= m for n, m in zip(sa, sb))


def _convolve_ref(a, b, mode="full"):
    """SciPy's n-D convolve, written out: full by sums of shifted products, then cropped."""
    full = np.zeros(tuple(n + m - 1 for n, m in zip(a.shape, b.shape)))
    for index in np.ndindex(*a.shape):
        window = tuple(slice(i, i + m) for i, m in zip(index, b.shape))
        full[window] += a[index] * b
    if mode == "full":
        return full
    if mode == "valid":
        sizes = [abs(n - m) + 1 for n, m in zip(a.shape, b.shape)]
        starts = [min(n, m) - 1 for n, m in zip(a.shape, b.shape)]
    else:
        sizes = list(a.shape)
        starts = [(m - 1) // 2 for m in b.shape]
    return full[tuple(slice(s, s + n) for s, n in zip(starts, sizes))]


def _banded_inputs(rng: np.random.Generator, shapes: tuple) -> list:
    ab = rng.uniform(-1, 1, size=shapes[0])
    ab[1] += 3.0  # a dominant diagonal
    return [ab, rng.uniform(-1, 1, size=shapes[1])]


def _banded_ref(ab, b):
    n = ab.shape[1]
    dense = np.diag(ab[1]) + np.diag(ab[0, 1:], 1) + np.diag(ab[2, :-1], -1) if n > 1 \
        else np.diag(ab[1])
    return np.linalg.solve(dense, b)


_TIMES = np.array([0.0, 0.05])


def _decay(y, t, a):
    return -a * y


CASES = [
    OpCase("linalg_inv", anp.linalg.inv, np.linalg.inv, shapes=square(), make_inputs=dominant),
    OpCase("linalg_det", anp.linalg.det, np.linalg.det, shapes=square(), make_inputs=dominant),
    OpCase("linalg_slogdet", lambda a: anp.linalg.slogdet(a)[1], _slogdet_ref, shapes=square(),
           make_inputs=dominant),
    OpCase("linalg_solve_matrix", anp.linalg.solve, np.linalg.solve, shapes=_solve_shapes(False),
           make_inputs=_solve_inputs),
    OpCase("linalg_solve_vector", anp.linalg.solve, np.linalg.solve, shapes=_solve_shapes(True),
           make_inputs=_solve_inputs),
    OpCase("linalg_cholesky", anp.linalg.cholesky, np.linalg.cholesky, shapes=square(),
           make_inputs=spd),
    OpCase("linalg_eigh_values", lambda a: anp.linalg.eigh(a)[0],
           lambda a: np.linalg.eigh(a)[0], shapes=square(), make_inputs=spread_symmetric),
    OpCase("linalg_eigh_vectors", lambda a: anp.linalg.eigh(a)[1] ** 2,
           lambda a: np.linalg.eigh(a)[1] ** 2, shapes=square(), make_inputs=spread_symmetric),
    OpCase("linalg_eigh_upper", lambda a: anp.linalg.eigh(a, "U")[1] ** 2,
           lambda a: np.linalg.eigh(a, "U")[1] ** 2, shapes=square(),
           make_inputs=spread_symmetric),
    OpCase("linalg_eigvalsh", anp.linalg.eigvalsh, np.linalg.eigvalsh, shapes=square(),
           make_inputs=spread_symmetric),
    OpCase("linalg_qr_product", lambda a: anp.matmul(*anp.linalg.qr(a)) * 2.0,
           lambda a: np.matmul(*np.linalg.qr(a)) * 2.0, shapes=rectangular(),
           make_inputs=dominant),
    OpCase("linalg_qr_q", lambda a: anp.linalg.qr(a)[0] ** 2, lambda a: np.linalg.qr(a)[0] ** 2,
           shapes=rectangular(), make_inputs=dominant),
    OpCase("linalg_qr_r", lambda a: anp.linalg.qr(a)[1] ** 2, lambda a: np.linalg.qr(a)[1] ** 2,
           shapes=rectangular(), make_inputs=dominant),
    OpCase("linalg_svd_values", lambda a: anp.linalg.svd(a, compute_uv=False),
           lambda a: np.linalg.svd(a, compute_uv=False), shapes=rectangular(),
           make_inputs=spread_singular),
    OpCase("linalg_svd_u", lambda a: anp.linalg.svd(a, full_matrices=False)[0] ** 2,
           lambda a: np.linalg.svd(a, full_matrices=False)[0] ** 2, shapes=rectangular(),
           make_inputs=spread_singular),
    OpCase("linalg_svd_vh", lambda a: anp.linalg.svd(a, full_matrices=False)[2] ** 2,
           lambda a: np.linalg.svd(a, full_matrices=False)[2] ** 2, shapes=rectangular(),
           make_inputs=spread_singular),
    OpCase("linalg_svd_product", lambda a: _svd_product(anp, a), lambda a: _svd_product(np, a),
           shapes=rectangular(), make_inputs=spread_singular),
    OpCase("linalg_pinv", anp.linalg.pinv, np.linalg.pinv, shapes=rectangular(),
           make_inputs=dominant),
    OpCase("linalg_matrix_power_3", lambda a: anp.linalg.matrix_power(a, 3),
           lambda a: np.linalg.matrix_power(a, 3), shapes=square(), make_inputs=dominant),
    OpCase("linalg_matrix_power_neg", lambda a: anp.linalg.matrix_power(a, -2),
           lambda a: np.linalg.matrix_power(a, -2), shapes=square(), make_inputs=dominant,
           atol=1e-4),
    OpCase("linalg_lstsq_matrix", lambda a, b: anp.linalg.lstsq(a, b)[0],
           lambda a, b: np.linalg.lstsq(a, b)[0], shapes=_lstsq_shapes(False),
           make_inputs=_lstsq_inputs),
    OpCase("linalg_lstsq_residuals", lambda a, b: anp.linalg.lstsq(a, b)[1],
           lambda a, b: np.linalg.lstsq(a, b)[1], shapes=_lstsq_shapes(True),
           make_inputs=_lstsq_inputs),
    OpCase("linalg_multi_dot", lambda a, b: anp.linalg.multi_dot([a, b, a]),
           lambda a, b: np.linalg.multi_dot([a, b, a]),
           shapes=st.integers(1, 3).map(lambda n: ((n, n), (n, n)))),
    OpCase("linalg_norm_vector", lambda x, **p: anp.linalg.norm(x, **p),
           lambda x, **p: np.linalg.norm(x, **p), shapes=_vector_shapes(),
           params=_norm_params([None, 1, 2, 3, 0.5, np.inf, -np.inf, 0], False),
           make_inputs=_nonzero),
    OpCase("linalg_norm_matrix", lambda x, **p: anp.linalg.norm(x, **p),
           lambda x, **p: np.linalg.norm(x, **p),
           shapes=hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=3).map(
               lambda s: (s,)),
           params=_norm_params([None, "fro", 1, -1, np.inf, -np.inf], True),
           make_inputs=_nonzero),
    OpCase("linalg_norm_spectral", lambda x, **p: anp.linalg.norm(x, **p),
           lambda x, **p: np.linalg.norm(x, **p), shapes=rectangular(),
           params=lambda s: st.fixed_dictionaries({
               "ord": st.sampled_from([2, -2, "nuc"]), "axis": st.just((-2, -1)),
               "keepdims": st.booleans()}), make_inputs=spread_singular),
    OpCase("linalg_norm_flat", lambda x: anp.linalg.norm(x), lambda x: np.linalg.norm(x),
           shapes=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3).map(
               lambda s: (s,)), make_inputs=_nonzero),
    # -- the array-API spellings (the namespace's own functions over the last axes) --------------
    OpCase("linalg_cross", anp.linalg.cross, np.linalg.cross,
           shapes=_BATCH.map(lambda b: (b + (3,), (3,)))),
    OpCase("linalg_diagonal", lambda x, **p: anp.linalg.diagonal(x, **p),
           lambda x, **p: np.linalg.diagonal(x, **p), shapes=rectangular(),
           params=lambda s: st.fixed_dictionaries({"offset": st.integers(-1, 1)})),
    OpCase("linalg_trace", lambda x, **p: anp.linalg.trace(x, **p),
           lambda x, **p: np.linalg.trace(x, **p), shapes=rectangular(),
           params=lambda s: st.fixed_dictionaries({"offset": st.integers(-1, 1)})),
    OpCase("linalg_outer", anp.linalg.outer, np.linalg.outer,
           shapes=st.tuples(st.integers(0, 3), st.integers(0, 3)).map(
               lambda mn: ((mn[0],), (mn[1],)))),
    OpCase("linalg_tensordot", lambda a, b: anp.linalg.tensordot(a, b, axes=1),
           lambda a, b: np.linalg.tensordot(a, b, axes=1),
           shapes=st.tuples(st.integers(0, 3), st.integers(1, 3), st.integers(0, 2)).map(
               lambda s: ((s[0], s[1]), (s[1], s[2])))),
    # -- autograd.scipy.linalg --------------------------------------------------------------------
    OpCase("scipy_sqrtm", aspla.sqrtm, _sqrtm_spd, shapes=square(), make_inputs=spd),
    OpCase("scipy_solve_sylvester", aspla.solve_sylvester, _sylvester_ref,
           shapes=st.tuples(_BATCH, st.integers(1, 3), st.integers(1, 2)).map(
               lambda bnm: (bnm[0] + (bnm[1], bnm[1]), bnm[0] + (bnm[2], bnm[2]),
                            bnm[0] + (bnm[1], bnm[2]))),
           make_inputs=_sylvester_inputs),
    OpCase("scipy_solve_triangular", lambda a, b, **p: aspla.solve_triangular(a, b, **p),
           _triangular_ref, shapes=st.integers(1, 3).map(lambda n: ((n, n), (n, 2))),
           params=lambda s: st.fixed_dictionaries({
               "lower": st.booleans(), "trans": st.sampled_from([0, 1]),
               "unit_diagonal": st.booleans()}),
           make_inputs=_solve_inputs),
    OpCase("scipy_convolve", lambda a, b, **p: asig.convolve(a, b, **p), _convolve_ref,
           shapes=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3),
                            st.integers(1, 3)).map(lambda s: ((s[0], s[2]), (s[1], s[3]))),
           params=lambda s: st.fixed_dictionaries({"mode": st.sampled_from(
               ["full", "same"] + (["valid"] if _ordered(*s) else []))})),
    OpCase("scipy_convolve_dot_axes",
           lambda a, b: asig.convolve(a, b, axes=([1], [2]), dot_axes=([0], [0])),
           lambda a, b: sum(np.convolve(a[i], b[i, 0]) for i in range(a.shape[0]))[None, :],
           shapes=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)).map(
               lambda s: ((s[0], s[1]), (s[0], 1, s[2])))),
    OpCase("scipy_solve_banded", lambda ab, b: aspla.solve_banded((1, 1), ab, b),
           _banded_ref, shapes=st.integers(1, 4).map(lambda n: ((3, n), (n,))),
           make_inputs=_banded_inputs),
    OpCase("scipy_odeint", lambda y0, a: odeint(_decay, y0, _TIMES, (a,), rtol=1e-12,
                                                atol=1e-12),
           lambda y0, a: y0 * np.exp(-a * _TIMES[:, None]),
           shapes=st.integers(0, 3).map(lambda n: ((n,), (n,))), domain=(0.5, 1.5)),
    OpCase("linalg_vecdot", anp.linalg.vecdot, np.linalg.vecdot,
           shapes=st.tuples(_BATCH, st.integers(0, 3)).map(
               lambda bn: (bn[0] + (bn[1],), (bn[1],)))),
]



def _svd_product(xp, a):
    """U diag(s^2) Vh: sign-invariant, and it exercises U, s and Vh together."""
    u, s, vh = xp.linalg.svd(a, full_matrices=False)
    return xp.matmul(u * s[..., None, :] ** 2, vh)
