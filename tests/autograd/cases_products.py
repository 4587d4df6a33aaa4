"""Op-table rows for products: dot, vdot, inner, outer, tensordot, kron (NumPy's), mm, bmm, mv,
addmm, baddbmm (PyTorch's), and einsum over a spread of subscripts (matrix products, batched
products with ellipsis, traces and diagonals from repeated indices, implicit outputs, three
operands, broadcasting of length-1 axes)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import autograd as ag

from .op_table import OpCase

S = st.integers(0, 3)  # one axis length (0 included)
P = st.integers(1, 3)


def _mat_pair():
    return st.tuples(S, S, S).map(lambda t: ((t[0], t[1]), (t[1], t[2])))


def _batch_pair():
    return st.tuples(S, S, S, S).map(lambda t: ((t[0], t[1], t[2]), (t[0], t[2], t[3])))


def _vec_pair():
    return S.map(lambda n: ((n,), (n,)))


def _dot_shapes():
    """Shapes np.dot accepts: 0-d with anything, vectors, matrices, and N-d with N-d."""
    @st.composite
    def draw(draw_):
        k = draw_(S)
        a_lead = draw_(st.lists(S, max_size=2))
        b_kind = draw_(st.sampled_from(["vec", "mat", "nd", "scalar"]))
        a = tuple(a_lead) + (k,)
        if b_kind == "scalar":
            return (a, ())
        if b_kind == "vec":
            return (a, (k,))
        b_lead = draw_(st.lists(S, max_size=1))
        return (a, tuple(b_lead) + (k, draw_(S)))
    return draw()


def _tensordot_shapes():
    @st.composite
    def draw(draw_):
        shared = tuple(draw_(st.lists(S, max_size=2)))
        a_free = tuple(draw_(st.lists(S, max_size=2)))
        b_free = tuple(draw_(st.lists(S, max_size=1)))
        return (a_free + shared, shared + b_free)
    return draw()


def _tensordot_params(shapes):
    a, b = shapes
    shared = next(k for k in range(min(len(a), len(b)), -1, -1)
                  if a[len(a) - k:] == b[:k])
    return st.just({"axes": shared})


def _kron_shapes():
    return st.tuples(st.lists(P, max_size=2), st.lists(P, max_size=3)).map(
        lambda t: (tuple(t[0]), tuple(t[1])))


def _einsum_case(name, spec, shapes, **kw):
    """An einsum row; `shapes` is a strategy, or a list of fixed shapes."""
    drawn = shapes if isinstance(shapes, st.SearchStrategy) else st.just(tuple(shapes))
    return OpCase(f"einsum_{name}", lambda *xs: ag.einsum(spec, *xs),
                  lambda *xs: np.einsum(spec, *xs), shapes=drawn, **kw)


_SQUARE = S.map(lambda n: ((n, n),))
_ANY2 = st.tuples(S, S).map(lambda t: ((t[0], t[1]),))


def _addmm_shapes():
    @st.composite
    def draw(draw_):
        n, k, m = draw_(S), draw_(S), draw_(S)
        x = draw_(st.sampled_from([(n, m), (m,), (1, m), ()]))
        return (x, (n, k), (k, m))
    return draw()


def _baddbmm_shapes():
    return st.tuples(P, S, S, S).map(lambda t: ((t[0], t[1], t[3]), (t[0], t[1], t[2]),
                                                (t[0], t[2], t[3])))


CASES = [
    OpCase("dot", ag.dot, np.dot, shapes=_dot_shapes()),
    OpCase("dot_method", lambda a, b: a.dot(b), np.dot, shapes=_vec_pair()),
    OpCase("vdot", ag.vdot, np.vdot, shapes=_mat_pair().map(lambda s: (s[0], s[0]))),
    OpCase("inner", ag.inner, np.inner, shapes=_tensordot_shapes().map(
        lambda s: (s[0] + (2,), s[1] + (2,)))),
    OpCase("outer", ag.outer, np.outer, shapes=_mat_pair()),
    OpCase("outer_method", lambda a, b: a.outer(b), np.outer, shapes=_vec_pair().map(
        lambda s: (s[0], (2,)))),
    OpCase("tensordot", ag.tensordot, np.tensordot, shapes=_tensordot_shapes(),
           params=_tensordot_params),
    OpCase("tensordot_pairs", lambda a, b: ag.tensordot(a, b, axes=([0, 2], [1, 0])),
           lambda a, b: np.tensordot(a, b, axes=([0, 2], [1, 0])),
           shapes=st.just(((2, 3, 4), (4, 2, 3)))),
    OpCase("kron", ag.kron, np.kron, shapes=_kron_shapes()),
    OpCase("mm_method", lambda a, b: a.mm(b), np.matmul, shapes=_mat_pair()),
    OpCase("bmm", ag.bmm, np.matmul, shapes=_batch_pair()),
    OpCase("mv_method", lambda a, v: a.mv(v), np.matmul,
           shapes=st.tuples(S, S).map(lambda t: ((t[0], t[1]), (t[1],)))),
    OpCase("addmm", lambda x, a, b: x.addmm(a, b, beta=0.5, alpha=-2.0),
           lambda x, a, b: 0.5 * x - 2.0 * (a @ b), shapes=_addmm_shapes()),
    OpCase("addmm_default", ag.addmm, lambda x, a, b: x + a @ b, shapes=_addmm_shapes()),
    OpCase("baddbmm", lambda x, a, b: x.baddbmm(a, b, alpha=0.5),
           lambda x, a, b: x + 0.5 * (a @ b), shapes=_baddbmm_shapes()),
    _einsum_case("matmul", "ij,jk->ik", _mat_pair()),
    _einsum_case("batched", "bij,bjk->bik", _batch_pair()),
    _einsum_case("transposed", "ij,kj->ki", _mat_pair().map(lambda s: (s[0], s[1][::-1]))),
    _einsum_case("batched_ellipsis", "...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]),
    _einsum_case("trace", "ii", _SQUARE),
    _einsum_case("diagonal", "ii->i", _SQUARE),
    _einsum_case("transpose", "ij->ji", _ANY2),
    _einsum_case("row_sums", "ij->i", _ANY2),
    _einsum_case("repeated_3", "iji->j", [(2, 3, 2)]),
    _einsum_case("implicit", "ba,ca", [(2, 3), (4, 3)]),
    _einsum_case("sum_all", "ijk->", [(2, 0, 3)]),
    _einsum_case("outer", "i,j->ij", st.tuples(S, S).map(lambda t: ((t[0],), (t[1],)))),
    _einsum_case("three", "ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    _einsum_case("broadcast_one", "ij,ij->ij", [(1, 3), (2, 3)]),
    _einsum_case("bilinear", "bn,anm,bm->ba", [(2, 3), (2, 3, 4), (2, 4)]),
    _einsum_case("scalar", ",i->i", [(), (3,)]),
    _einsum_case("diag_times", "ii,i->i", [(3, 3), (3,)]),
    OpCase("einsum_interleaved", lambda a, b: ag.einsum(a, [0, 1], b, [1, 2], [0, 2]),
           lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [0, 2]), shapes=_mat_pair()),
]
