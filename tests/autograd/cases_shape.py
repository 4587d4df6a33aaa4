"""Op-table rows for shape ops: flatten, joining, splitting, padding, repeating and indexing.

The strategies here draw an op's extra arguments (axes, split points, pad widths, indices) to
fit the drawn shapes, including 0-d and size-0 tensors wherever NumPy accepts them.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag

from .op_table import OpCase, one_shape

SIDE = 3


def _shape(min_dims: int = 0, max_dims: int = 3, min_side: int = 0) -> st.SearchStrategy:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=SIDE)


def _signed_axis(axis: int, ndim: int) -> st.SearchStrategy:
    """`axis` as itself or as its negative alias."""
    return st.sampled_from([axis, axis - ndim])


class _WithIndex(tuple):
    """Input shapes that also carry the index they were drawn for (setitem's value shape
    depends on it, and params are drawn from the shapes alone)."""

    index: object = None


def _on_device(index: object, like: ag.Tensor) -> object:
    """The index with its NumPy arrays as tensors on `like`'s device."""
    if isinstance(index, tuple):
        return tuple(_on_device(i, like) for i in index)
    if isinstance(index, np.ndarray):
        return ag.tensor(index, device=like.device)
    return index


# -- flatten ---------------------------------------------------------------------------------
def flatten_params(shapes: tuple) -> st.SearchStrategy:
    ndim = max(len(shapes[0]), 1)

    @st.composite
    def draw(draw_):
        start = draw_(st.integers(0, ndim - 1))
        end = draw_(st.integers(start, ndim - 1))
        return {"start_dim": draw_(_signed_axis(start, ndim)),
                "end_dim": draw_(_signed_axis(end, ndim))}

    return draw()


def flatten_ref(x: np.ndarray, start_dim: int, end_dim: int) -> np.ndarray:
    shape = x.shape or (1,)
    s, e = start_dim % len(shape), end_dim % len(shape)
    return x.reshape(shape[:s] + (int(np.prod(shape[s : e + 1])),) + shape[e + 1 :])


# -- concatenate, stack, split ---------------------------------------------------------------
@st.composite
def concat_shapes(draw):
    """1 to 3 shapes that agree except along one axis (lengths there may be 0)."""
    base = draw(_shape(min_dims=1))
    axis = draw(st.integers(0, len(base) - 1))
    lengths = draw(st.lists(st.integers(0, SIDE), min_size=1, max_size=3))
    return tuple(base[:axis] + (n,) + base[axis + 1 :] for n in lengths)


def concat_params(shapes: tuple) -> st.SearchStrategy:
    ndim = len(shapes[0])
    valid = [a for a in range(ndim)
             if all(s[:a] + s[a + 1 :] == shapes[0][:a] + shapes[0][a + 1 :] for s in shapes)]
    return st.sampled_from(valid).flatmap(
        lambda a: _signed_axis(a, ndim).map(lambda s: {"axis": s}))


@st.composite
def stack_shapes(draw):
    """1 to 3 copies of one shape (0-d included)."""
    shape = draw(_shape())
    return (shape,) * draw(st.integers(1, 3))


def stack_params(shapes: tuple) -> st.SearchStrategy:
    ndim = len(shapes[0]) + 1
    return st.integers(-ndim, ndim - 1).map(lambda a: {"axis": a})


def split_params(shapes: tuple) -> st.SearchStrategy:
    """An axis, and either a number of equal sections or sorted split points."""
    shape = shapes[0]

    @st.composite
    def draw(draw_):
        axis = draw_(st.integers(0, len(shape) - 1))
        n = shape[axis]
        divisors = [k for k in range(1, SIDE + 2) if n % k == 0]
        sections = st.sampled_from(divisors)
        points = st.lists(st.integers(0, n), max_size=3).map(sorted)
        return {"indices_or_sections": draw_(st.one_of(sections, points)),
                "axis": draw_(_signed_axis(axis, len(shape)))}

    return draw()


def _weighted_split(x, indices_or_sections, axis):
    # Each piece scaled differently, so a rule that mixes the pieces up fails the gradcheck.
    pieces = ag.split(x, indices_or_sections, axis=axis)
    return ag.concatenate([p * float(i + 1) for i, p in enumerate(pieces)], axis=axis)


def _weighted_split_ref(x, indices_or_sections, axis):
    pieces = np.split(x, indices_or_sections, axis=axis)
    return np.concatenate([p * float(i + 1) for i, p in enumerate(pieces)], axis=axis)


# -- pad, flip, repeat, tile -----------------------------------------------------------------
def pad_params(shapes: tuple, modes: bool = False) -> st.SearchStrategy:
    ndim = len(shapes[0])
    width = st.integers(0, 4 if modes else 2)
    pair = st.tuples(width, width)
    forms = [width, pair, st.tuples(width)]
    if ndim:
        forms.append(st.lists(pair, min_size=ndim, max_size=ndim).map(tuple))
    params = {"pad_width": st.one_of(*forms)}
    if modes:
        params["mode"] = st.sampled_from(["edge", "reflect", "symmetric", "wrap"])
    else:
        params["constant_values"] = st.sampled_from([0, 1.5, -2.0])
    return st.fixed_dictionaries(params)


def flip_params(shapes: tuple) -> st.SearchStrategy:
    ndim = len(shapes[0])
    choices = [st.none()]
    if ndim:
        choices.append(st.integers(-ndim, ndim - 1))
        choices.append(st.lists(st.integers(0, ndim - 1), max_size=ndim, unique=True).map(tuple))
    return st.fixed_dictionaries({"axis": st.one_of(*choices)})


def repeat_params(shapes: tuple) -> st.SearchStrategy:
    """An axis (or None) and an int count or one count per element along it."""
    shape = shapes[0]

    @st.composite
    def draw(draw_):
        axis = draw_(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1))
                     if shape else st.none())
        n = int(np.prod(shape)) if axis is None else shape[axis]
        counts = st.lists(st.integers(0, 2), min_size=n, max_size=n)
        return {"repeats": draw_(st.one_of(st.integers(0, 3), counts)), "axis": axis}

    return draw()


def tile_params(shapes: tuple) -> st.SearchStrategy:
    reps = st.integers(0, 2)
    return st.fixed_dictionaries(
        {"reps": st.one_of(reps, st.lists(reps, max_size=3).map(tuple))})


# -- indexing --------------------------------------------------------------------------------
def basic_index_params(shapes: tuple) -> st.SearchStrategy:
    """Ints, slices (negative steps included), None and Ellipsis."""
    return st.fixed_dictionaries(
        {"index": hnp.basic_indices(shapes[0], allow_newaxis=True, allow_ellipsis=True)})


@st.composite
def advanced_indices(draw, shape: tuple, unique: bool = False):
    """Integer arrays (negative and repeated entries) or one boolean mask, among ints, slices,
    None and Ellipsis. With `unique`, no element is picked twice (for setitem)."""
    ndim = len(shape)
    if ndim == 0:
        return np.array(draw(st.booleans()))  # a 0-d mask: a new axis of length 1 or 0
    explicit = draw(st.integers(1, ndim))  # axes indexed explicitly; Ellipsis covers the rest
    lead = draw(st.integers(0, explicit)) if draw(st.booleans()) else None
    if lead is None:  # no Ellipsis: the explicit axes are the leading ones
        segments = [range(explicit)]
    else:
        segments = [range(lead), range(ndim - (explicit - lead), ndim)]
    forced = draw(st.sampled_from([a for seg in segments for a in seg]))
    use_mask = shape[forced] == 0 or draw(st.booleans())
    array_shape = (draw(st.integers(0, SIDE)),) if unique else draw(_shape(max_dims=2))
    items = []
    for number, segment in enumerate(segments):
        if number:
            items.append(Ellipsis)
        axis = segment.start
        while axis < segment.stop:
            n = shape[axis]
            if axis == forced and use_mask:
                width = draw(st.integers(1, segment.stop - axis))
                items.append(draw(hnp.arrays(np.bool_, shape[axis : axis + width])))
                axis += width
                continue
            kinds = ["slice"] + (["int"] if n else [])
            if not use_mask and n and not unique:
                kinds.append("array")
            kind = "array" if axis == forced else draw(st.sampled_from(kinds))
            if kind == "array" and unique:
                size = min(array_shape[0], n)
                values = draw(st.lists(st.integers(-n, n - 1), min_size=size, max_size=size,
                                       unique_by=lambda v, n=n: v % n))
                items.append(np.array(values, dtype=np.int64))
            elif kind == "array":
                array = draw(hnp.arrays(np.int64, array_shape, elements=st.integers(-n, n - 1)))
                items.append(array.tolist() if array.size and draw(st.booleans()) else array)
            elif kind == "int":
                items.append(draw(st.integers(-n, n - 1)))
            else:
                items.append(draw(st.slices(n)))
            axis += 1
    for _ in range(draw(st.integers(0, 2))):
        items.insert(draw(st.integers(0, len(items))), None)
    return tuple(items)


def advanced_index_params(shapes: tuple) -> st.SearchStrategy:
    return st.fixed_dictionaries({"index": advanced_indices(shapes[0])})


@st.composite
def setitem_shapes(draw):
    """(x shape, value shape) with the index drawn on the way; value may broadcast."""
    shape = draw(_shape())
    index = draw(st.one_of(hnp.basic_indices(shape, allow_newaxis=True),
                           advanced_indices(shape, unique=True)))
    target = np.empty(shape)[index].shape
    if draw(st.booleans()):
        value = target  # one value per written element
    else:  # a value broadcast over the written elements: fewer axes, length-1 axes
        kept = target[draw(st.integers(0, len(target))) :]
        value = tuple(draw(st.sampled_from([1, n])) for n in kept)
        value = (1,) * draw(st.integers(0, 1)) + value
        try:  # NumPy refuses some extra axes (a (1,) value for x[()], 2-d values for masks)
            np.empty(shape)[index] = np.empty(value)
        except (TypeError, ValueError):
            value = target
    shapes = _WithIndex((shape, value))
    shapes.index = index
    return shapes


def setitem_ref(x: np.ndarray, value: np.ndarray, index: object) -> np.ndarray:
    y = x.copy()
    y[index] = value
    return y


def take_along_axis_params(shapes: tuple) -> st.SearchStrategy:
    """An axis and integer indices with x's number of axes (length-1 axes broadcast)."""
    shape = shapes[0]

    @st.composite
    def draw(draw_):
        if draw_(st.booleans()):
            n = int(np.prod(shape))
            indices = draw_(hnp.arrays(np.int64, draw_(st.integers(0, SIDE)),
                                       elements=st.integers(-n, n - 1)))
            return {"indices": indices, "axis": None}
        axis = draw_(st.integers(0, len(shape) - 1))
        n = shape[axis]
        ishape = tuple(draw_(st.integers(0, SIDE)) if i == axis else draw_(st.sampled_from([1, m]))
                       for i, m in enumerate(shape))
        indices = draw_(hnp.arrays(np.int64, ishape, elements=st.integers(-n, n - 1)))
        return {"indices": indices, "axis": draw_(_signed_axis(axis, len(shape)))}

    return draw()


CASES = [
    OpCase("flatten", ag.flatten, flatten_ref, shapes=one_shape(max_dims=4),
           params=flatten_params),
    OpCase("concatenate", lambda *xs, axis: ag.concatenate(xs, axis=axis),
           lambda *xs, axis: np.concatenate(xs, axis=axis), shapes=concat_shapes(),
           params=concat_params),
    OpCase("stack", lambda *xs, axis: ag.stack(xs, axis=axis),
           lambda *xs, axis: np.stack(xs, axis=axis), shapes=stack_shapes(), params=stack_params),
    OpCase("split", _weighted_split, _weighted_split_ref, shapes=one_shape(min_dims=1),
           params=split_params),
    OpCase("pad_constant", ag.pad, np.pad, params=pad_params),
    OpCase("pad_modes", ag.pad, np.pad, shapes=one_shape(min_side=1),
           params=lambda shapes: pad_params(shapes, modes=True)),
    OpCase("flip", ag.flip, np.flip, params=flip_params),
    OpCase("repeat", ag.repeat, np.repeat, params=repeat_params),
    OpCase("tile", ag.tile, np.tile, shapes=one_shape(max_dims=2), params=tile_params),
    OpCase("getitem_basic", lambda x, index: x[index], lambda x, index: x[index],
           params=basic_index_params),
    # NumPy's rule (the `autograd` function); Tensor.__getitem__ follows PyTorch's, which
    # differs for ints among index arrays (its row is getitem_torch_rule in cases_torch_shape).
    OpCase("getitem_advanced", lambda x, index: ag.getitem(x, _on_device(index, x)),
           lambda x, index: x[index], params=advanced_index_params),
    OpCase("setitem", lambda x, v, index: ag.setitem(x, _on_device(index, x), v), setitem_ref,
           shapes=setitem_shapes(), params=lambda shapes: st.just({"index": shapes.index})),
    OpCase("take_along_axis",
           lambda x, indices, axis: ag.take_along_axis(x, ag.tensor(indices, device=x.device),
                                                       axis),
           np.take_along_axis, shapes=one_shape(min_dims=1, min_side=1),
           params=take_along_axis_params),
]
