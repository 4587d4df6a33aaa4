"""Op-table rows for `autograd.numpy`'s own functions (joining, splitting, axis moves, flips,
rotations, differences, cross products, selections, creation from Tensors, complex parts and
NumPy-dialect reductions).

Most rows use one function for both columns: called on NumPy arrays, `autograd.numpy` runs
NumPy's own functions (the reference); called on Tensors, kedja's ops.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd.numpy as anp

from .op_table import OpCase, broadcast_shapes

SIDE = 3


def shape_(min_dims: int = 0, max_dims: int = 3, min_side: int = 0) -> st.SearchStrategy:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=SIDE).map(lambda s: (s,))


def same(name: str, f, **kwargs) -> OpCase:
    """A row whose kedja call and NumPy reference are the same autograd.numpy expression."""
    return OpCase(name, f, f, **kwargs)


def pair_same_shape(min_dims: int = 0, max_dims: int = 3, min_side: int = 0):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=SIDE).map(lambda s: (s, s))


def axis_of(shapes: tuple, keepdims: bool = False) -> st.SearchStrategy:
    ndim = len(shapes[0])
    axis = st.integers(-ndim, ndim - 1) if ndim else st.just(None)
    if keepdims:
        return st.fixed_dictionaries({"axis": axis, "keepdims": st.booleans()})
    return st.fixed_dictionaries({"axis": axis})


def ddof_params(shapes: tuple) -> st.SearchStrategy:
    ndim = len(shapes[0])
    axis = st.one_of(st.none(), st.integers(-ndim, ndim - 1)) if ndim else st.none()
    return st.fixed_dictionaries({"axis": axis, "ddof": st.integers(0, 1),
                                  "keepdims": st.booleans()})


def _split_pieces(pieces: list, axis: int):
    return anp.concatenate([p * (i + 1.0) for i, p in enumerate(pieces)], axis=axis)


def _cross_inputs(rng: np.random.Generator, shapes: tuple) -> list:
    return [rng.uniform(-2, 2, size=s) for s in shapes]


def _cross_shapes(n_a: int, n_b: int):
    return hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=SIDE).map(
        lambda s: (s + (n_a,), s + (n_b,)))


def _choose_ref(x, y, z):
    index = (np.arange(np.broadcast(x, y, z).size) % 3).reshape(np.broadcast(x, y, z).shape)
    return np.choose(index, [x, y, z])


def _choose_fn(x, y, z):
    shape = np.broadcast_shapes(x.shape, y.shape, z.shape)
    index = (np.arange(int(np.prod(shape))) % 3).reshape(shape)
    return anp.choose(index, [x, y, z])


def _take_fn(x):
    n = x.shape[0]
    return anp.take(x, [0, n - 1, 0], axis=0)


def _select_fn(x, y):
    return anp.select([x > 0.5, y < 0.0], [x, y * 2.0], default=-1.0)


CASES = [
    # -- joining ---------------------------------------------------------------------------
    same("np_hstack", lambda a, b: anp.hstack([a, b * 2.0]), shapes=pair_same_shape()),
    same("np_vstack", lambda a, b: anp.vstack((a, b * 2.0)), shapes=pair_same_shape()),
    same("np_dstack", lambda a, b: anp.dstack([a, b - 1.0]), shapes=pair_same_shape()),
    same("np_column_stack", lambda a, b: anp.column_stack([a, b * 3.0]),
         shapes=pair_same_shape(min_dims=1, max_dims=2)),
    same("np_row_stack", lambda a, b: anp.vstack([a, b]), shapes=pair_same_shape()),
    same("np_concatenate_axis_none", lambda a, b: anp.concatenate([a, b], axis=None),
         shapes=broadcast_shapes(2)),
    same("np_stack_axis", lambda a, b: anp.stack([a, b], axis=-1), shapes=pair_same_shape()),
    same("np_append", lambda a, b: anp.append(a, b), shapes=broadcast_shapes(2)),
    same("np_append_axis", lambda a, b: anp.append(a, b * 2.0, axis=0),
         shapes=pair_same_shape(min_dims=1)),
    # -- splitting -------------------------------------------------------------------------
    same("np_array_split", lambda x: _split_pieces(anp.array_split(x, 2, axis=0), 0),
         shapes=shape_(min_dims=1)),
    same("np_split_indices", lambda x: _split_pieces(anp.split(x, [1, 2], axis=-1), -1),
         shapes=shape_(min_dims=1)),
    same("np_hsplit", lambda x: _split_pieces(anp.hsplit(x, [1]), 1 if x.ndim > 1 else 0),
         shapes=shape_(min_dims=1)),
    same("np_vsplit", lambda x: _split_pieces(anp.vsplit(x, [1]), 0),
         shapes=shape_(min_dims=2)),
    same("np_dsplit", lambda x: _split_pieces(anp.dsplit(x, [1]), 2),
         shapes=shape_(min_dims=3)),
    # -- axes, flips, rotations ------------------------------------------------------------
    same("np_moveaxis", lambda x: anp.moveaxis(x, 0, -1), shapes=shape_(min_dims=1)),
    same("np_moveaxis_many", lambda x: anp.moveaxis(x, [0, 1], [-1, 0]),
         shapes=shape_(min_dims=2)),
    same("np_rollaxis", lambda x: anp.rollaxis(x, -1, 0), shapes=shape_(min_dims=1)),
    same("np_swapaxes", lambda x: anp.swapaxes(x, 0, -1), shapes=shape_(min_dims=1)),
    same("np_transpose", lambda x: anp.transpose(x), shapes=shape_()),
    same("np_reshape_F", lambda x: anp.reshape(x, (-1,), order="F"), shapes=shape_()),
    same("np_ravel", lambda x: anp.ravel(x), shapes=shape_()),
    same("np_expand_dims_tuple", lambda x: anp.expand_dims(x, (0, -1)), shapes=shape_()),
    same("np_squeeze", lambda x: anp.squeeze(anp.expand_dims(x, 1)), shapes=shape_(min_dims=1)),
    same("np_flipud", lambda x: anp.flipud(x), shapes=shape_(min_dims=1)),
    same("np_fliplr", lambda x: anp.fliplr(x), shapes=shape_(min_dims=2)),
    same("np_rot90", lambda x: anp.rot90(x), shapes=shape_(min_dims=2)),
    same("np_rot90_k3", lambda x: anp.rot90(x, 3, axes=(1, 0)), shapes=shape_(min_dims=2)),
    same("np_rot90_k2", lambda x: anp.rot90(x, 2), shapes=shape_(min_dims=2)),
    same("np_atleast_1d", lambda x: anp.atleast_1d(x), shapes=shape_()),
    same("np_atleast_2d", lambda x: anp.atleast_2d(x), shapes=shape_()),
    same("np_atleast_3d", lambda x: anp.atleast_3d(x), shapes=shape_()),
    same("np_meshgrid_xy", lambda a, b: anp.stack(anp.meshgrid(a, b * 2.0)),
         shapes=pair_same_shape(min_dims=1, max_dims=1)),
    same("np_meshgrid_ij", lambda a, b: anp.stack(anp.meshgrid(a, b, indexing="ij")),
         shapes=pair_same_shape(min_dims=1, max_dims=1)),
    same("np_broadcast_to", lambda x: anp.broadcast_to(x, (2,) + x.shape), shapes=shape_()),
    same("np_tile", lambda x: anp.tile(x, (2, 1)), shapes=shape_()),
    same("np_repeat", lambda x: anp.repeat(x, 2, axis=None), shapes=shape_()),
    # -- differences, cross products, selections -------------------------------------------
    same("np_diff", lambda x: anp.diff(x), shapes=shape_(min_dims=1)),
    same("np_diff_n2_axis0", lambda x: anp.diff(x, n=2, axis=0), shapes=shape_(min_dims=1)),
    same("np_diff_prepend", lambda x: anp.diff(x, prepend=0.5, append=x[..., :1]),
         shapes=shape_(min_dims=1)),
    same("np_gradient", lambda x: anp.gradient(x, 0.5, axis=0), shapes=shape_(min_dims=1,
                                                                            min_side=2)),
    same("np_gradient_order2", lambda x: anp.stack(anp.gradient(x, edge_order=2)),
         shapes=shape_(min_dims=2, min_side=3)),
    same("np_cross_3", lambda a, b: anp.cross(a, b), shapes=_cross_shapes(3, 3),
         make_inputs=_cross_inputs),
    same("np_cross_2", lambda a, b: anp.cross(a, b), shapes=_cross_shapes(2, 2),
         make_inputs=_cross_inputs),
    same("np_cross_2_3", lambda a, b: anp.cross(a, b), shapes=_cross_shapes(2, 3),
         make_inputs=_cross_inputs),
    same("np_take", _take_fn, shapes=shape_(min_dims=1, min_side=1)),
    same("np_take_flat_wrap", lambda x: anp.take(x, [0, 5, -1], mode="wrap"),
         shapes=shape_(min_dims=1, min_side=1)),
    same("np_take_along_axis", lambda x: anp.take_along_axis(
        x, np.zeros((1,) * x.ndim, dtype=np.int64), axis=0), shapes=shape_(min_dims=1,
                                                                          min_side=1)),
    OpCase("np_choose", _choose_fn, _choose_ref, shapes=broadcast_shapes(3)),
    same("np_select", _select_fn, shapes=broadcast_shapes(2), kinks=(0.5, 0.0)),
    same("np_where", lambda c, x: anp.where(c > 0, x, -x * 2.0), shapes=broadcast_shapes(2),
         kinks=(0.0,)),
    same("np_clip_arrays", lambda x, lo: anp.clip(x, lo - 1.0, 1.0), shapes=broadcast_shapes(2),
         kinks=(1.0,), margin=0.05),
    # -- creation from Tensors ---------------------------------------------------------------
    same("np_array_of_tensors", lambda a, b: anp.array([a, b * 2.0, a - b]),
         shapes=pair_same_shape()),
    same("np_asarray", lambda x: anp.asarray(x) * 2.0, shapes=shape_()),
    same("np_full_tensor_fill", lambda x: anp.full((2, 3), anp.sum(x)), shapes=shape_()),
    same("np_full_like", lambda x: anp.full_like(x, 2.0) * x, shapes=shape_()),
    same("np_linspace", lambda a, b: anp.linspace(a, b, 5), shapes=broadcast_shapes(2)),
    same("np_linspace_no_endpoint", lambda a, b: anp.linspace(a, b, 4, endpoint=False, axis=-1),
         shapes=broadcast_shapes(2)),
    same("np_logspace", lambda a, b: anp.logspace(a, b, 4, base=2.0),
         shapes=broadcast_shapes(2)),
    # -- complex parts on real data ----------------------------------------------------------
    same("np_real", lambda x: anp.real(x) * 2.0, shapes=shape_()),
    same("np_conj", lambda x: anp.conj(x) + anp.imag(x), shapes=shape_()),
    same("np_angle", lambda x: anp.angle(x) + x, shapes=shape_(), kinks=(0.0,)),
    # -- NumPy-dialect reductions and arithmetic ----------------------------------------------
    same("np_sum_dtype", lambda x: anp.sum(x, axis=0, keepdims=True) if x.ndim
         else anp.sum(x), shapes=shape_()),
    same("np_mean_axis", lambda x: anp.mean(x, axis=-1) if x.ndim else anp.mean(x),
         shapes=shape_(min_side=1)),
    same("np_var_ddof", lambda x, **p: anp.var(x, **p), shapes=shape_(min_dims=1, min_side=2),
         params=ddof_params),
    same("np_std_ddof", lambda x, **p: anp.std(x, **p), shapes=shape_(min_dims=1, min_side=2),
         params=ddof_params),
    same("np_max_axis", lambda x, **p: anp.max(x, **p), shapes=shape_(min_dims=1, min_side=1),
         params=lambda s: axis_of(s, keepdims=True), distinct=True),
    same("np_amin_initial", lambda x: anp.amin(x, initial=0.5), shapes=shape_(),
         kinks=(0.5,), distinct=True),
    same("np_prod_initial", lambda x: anp.prod(x, axis=None, initial=2.0), shapes=shape_()),
    same("np_power_arrays", lambda a, b: anp.power(a, b), shapes=broadcast_shapes(2),
         domain=(0.3, 2.0)),
    same("np_float_power", lambda a, b: anp.float_power(a, b), shapes=broadcast_shapes(2),
         domain=(0.3, 2.0)),
    same("np_maximum_scalar", lambda x: anp.maximum(x, 0.25), shapes=shape_(), kinks=(0.25,)),
    same("np_deg2rad", lambda x: anp.rad2deg(anp.deg2rad(x) * 3.0), shapes=shape_()),
    same("np_matmul_vectors", lambda a, b: anp.matmul(a, b),
         shapes=pair_same_shape(min_dims=1, max_dims=1)),
    same("np_roll", lambda x: anp.roll(x, 1, axis=0), shapes=shape_(min_dims=1)),
    same("np_fftshift", lambda x: anp.fft.fftshift(x), shapes=shape_(min_dims=1)),
    same("np_ifftshift", lambda x: anp.fft.ifftshift(x, axes=0), shapes=shape_(min_dims=1)),
    same("np_r_", lambda a, b: anp.r_[a, b, 1:3], shapes=pair_same_shape(min_dims=1,
                                                                         max_dims=1)),
    same("np_c_", lambda a, b: anp.c_[a, b], shapes=pair_same_shape(min_dims=1, max_dims=1)),
    same("np_make_diagonal", lambda x: anp.make_diagonal(x, axis1=-1, axis2=-2),
         shapes=shape_(min_dims=1)),
]

