"""How the function transforms take arguments and hand back results: argnums, the tensors they
differentiate against, checks of what `f` returned, and zeros for inputs it does not use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import backends

from .ops import unary as _unary
from .pytree import tree_flatten, tree_map, tree_unflatten
from .tensor import Tensor, _complex_hint


def _named(wrapper: Callable, f: Callable, kind: str) -> Callable:
    name = getattr(f, "__name__", "f")
    wrapper.__name__ = f"{kind}({name})"
    wrapper.__qualname__ = wrapper.__name__
    wrapper.__doc__ = getattr(f, "__doc__", None)
    return wrapper


def _as_list(x: Any, what: str) -> list:
    items = list(x) if isinstance(x, (list, tuple)) else [x]
    for t in items:
        if not isinstance(t, Tensor):
            raise TypeError(f"{what} must be Tensors, got {type(t).__name__}")
    return items


def _shape_of(x: Any) -> Any:
    return x.shape if isinstance(x, Tensor) else type(x).__name__


def _argnums(argnums: Any, nargs: int, name: str) -> tuple[tuple, bool]:
    """`argnums` as a tuple of non-negative positions, and whether it was a single int."""
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    if not nums:
        raise ValueError(f"{name}: argnums must name at least one argument")
    out = []
    for n in nums:
        if not isinstance(n, int) or not -nargs <= n < nargs:
            raise ValueError(
                f"{name}: argnums {argnums!r} is out of range for a call with {nargs} "
                "positional arguments"
            )
        out.append(n % nargs)
    return tuple(out), single


def _prepare(args: Sequence[Any], nums: tuple, enabled: bool, name: str) -> tuple:
    """Replaces the differentiated arguments by tensors the transform differentiates against.

    An argument may be a Tensor, a NumPy array, a Python or NumPy float, or a nested list,
    tuple or dict of them; each leaf becomes a tensor. A tensor leaf that already requires grad
    (under grad mode) is passed through a recorded identity, so that the result stays connected
    to the enclosing graph (this is what makes ``grad(grad(f))`` work); any other leaf becomes
    a fresh leaf tensor. NumPy leaves go to the default device and reach `f` as ArrayBoxes
    (Tensors that speak NumPy), as do ArrayBox leaves. Returns the new arguments, the new
    tensors, whether any of them is connected to an enclosing graph, and the `Restore` that
    turns results for the new tensors back into the arguments' types and structures.
    """
    args = list(args)
    own: list = []
    kinds: list = []
    defs: list = []
    connected = False
    for i in nums:
        leaves, treedef = tree_flatten(args[i])
        new_leaves = []
        for leaf in leaves:
            t, kind, joined = _leaf_tensor(leaf, enabled, name, i)
            connected = connected or joined
            new_leaves.append(t)
            own.append(t)
            kinds.append(kind)
        args[i] = tree_unflatten(treedef, new_leaves)
        defs.append((treedef, len(leaves)))
    return args, own, connected, Restore(defs, kinds)


def _leaf_tensor(x: Any, enabled: bool, name: str, i: int) -> tuple:
    """The tensor a transform differentiates against for leaf `x`: (tensor, kind, connected)."""
    if isinstance(x, Tensor):
        if x.dtype.kind != "f":
            raise TypeError(
                f"{name}: argument {i} has dtype {x.dtype}; only floating point tensors can be "
                f"differentiated{_complex_hint(x.dtype)}"
            )
        box = type(x) is not Tensor and isinstance(x, _array_box())
        if enabled and x.requires_grad:
            t, joined = _unary.clone(x), True
        else:
            t, joined = x.detach().requires_grad_(True), False
        if box:
            t.__class__ = _array_box()
        return t, ("box" if box else "tensor"), joined
    host = backends.host().xp
    if isinstance(x, (complex, host.complexfloating)) or (
            isinstance(x, host.ndarray) and x.dtype.kind == "c"):
        raise TypeError(
            f"{name}: argument {i} is complex ({type(x).__name__}"
            + (f", dtype {x.dtype}" if hasattr(x, "dtype") else "") + "); complex gradients "
            "are not supported in kedja: differentiate the real and imaginary parts as real "
            "arguments instead"
        )
    if isinstance(x, (float, host.floating)) or (
            isinstance(x, host.ndarray) and x.dtype.kind == "f"):
        backend = backends.default()
        t = Tensor._make(backend.asarray(host.asarray(x)), backend).requires_grad_(True)
        t.__class__ = _array_box()
        kind = "ndarray" if isinstance(x, host.ndarray) else (
            "float" if type(x) is float else "scalar")
        return t, kind, False
    raise TypeError(
        f"{name}: argument {i}: can't differentiate w.r.t. type {type(x)}"
        + (f" (dtype {x.dtype})" if hasattr(x, "dtype") else "")
        + "; differentiate floating-point Tensors, NumPy arrays, floats, or lists, tuples and "
        "dicts of them"
    )


def _array_box() -> type:
    from .numpy.box import ArrayBox  # lazily: autograd.numpy imports autograd

    return ArrayBox


class Restore:
    """Turns per-leaf results back into each differentiated argument's type and structure."""

    def __init__(self, defs: list, kinds: list) -> None:
        self.defs = defs
        self.kinds = kinds
        #: True when every leaf came from NumPy: results then go back as NumPy values.
        self.plain = all(k in _PLAIN_KINDS for k in kinds)

    def leaf(self, value: Tensor, kind: str) -> Any:
        if kind == "tensor":
            if type(value) is not Tensor:
                value = Tensor._make(value.array, value.backend) if not value.requires_grad \
                    else _unary.clone(value)
            return value
        if kind == "box" or value.requires_grad:
            # A NumPy argument's result that depends on an enclosing transform's input (a
            # gradient taken inside a function being differentiated) stays traced: a box.
            if type(value) is Tensor:
                value.__class__ = _array_box()
            return value
        array = value.backend.to_numpy(value.array)
        return array if kind == "ndarray" else array[()]

    def arguments(self, results: Sequence[Any]) -> list:
        """One rebuilt structure per differentiated argument, from one result per leaf."""
        out = []
        start = 0
        for treedef, count in self.defs:
            leaves = [self.leaf(r, k) for r, k in zip(results[start:start + count],
                                                      self.kinds[start:start + count])]
            out.append(tree_unflatten(treedef, leaves))
            start += count
        return out

    def value(self, value: Any) -> Any:
        """An output of `f` as the caller sees it: NumPy values when every leaf was NumPy."""
        if not self.plain:
            return value
        return to_plain(value)


_PLAIN_KINDS = frozenset({"ndarray", "float", "scalar"})


def to_plain(value: Any) -> Any:
    """Tensors in `value` (containers too) as NumPy arrays, 0-d ones as NumPy scalars; a Tensor
    connected to an enclosing transform's graph stays a (NumPy-speaking) Tensor."""
    if isinstance(value, Tensor):
        if value.requires_grad:
            if type(value) is Tensor:
                value.__class__ = _array_box()
            return value
        array = value.backend.to_numpy(value.array)
        return array[()] if array.ndim == 0 else array
    if isinstance(value, (list, tuple, dict)):
        return tree_map(to_plain, value)
    return value


def _depends_on_other(outputs: Sequence[Tensor], own: Sequence[Tensor]) -> bool:
    """Whether `outputs` depend on a tensor requiring grad other than the transform's `own`."""
    own_ids = {id(t) for t in own}
    stack: list = []
    seen: set = set()
    for o in outputs:
        if not o.requires_grad:
            continue
        if o.grad_fn is None:
            if id(o) not in own_ids:
                return True
        elif id(o.grad_fn) not in seen:
            seen.add(id(o.grad_fn))
            stack.append(o.grad_fn)
    while stack:
        for edge in stack.pop().next_edges:
            if edge is None:
                continue
            if isinstance(edge, Tensor):
                if id(edge) not in own_ids:
                    return True
            elif id(edge) not in seen:
                seen.add(id(edge))
                stack.append(edge)
    return False


def _split_aux(result: Any, has_aux: bool, name: str) -> tuple:
    if not has_aux:
        return result, None
    if not isinstance(result, tuple) or len(result) != 2:
        raise TypeError(f"{name}: with has_aux=True the function must return (output, aux)")
    return result


def _outputs_of(result: Any, name: str) -> tuple[list, bool]:
    """The function's output(s) as a list of Tensors, and whether it was a single Tensor."""
    if isinstance(result, Tensor):
        return [result], True
    if isinstance(result, (tuple, list)) and result and all(isinstance(o, Tensor) for o in result):
        return list(result), False
    raise TypeError(
        f"{name}: the function must return a Tensor or a tuple of Tensors, got "
        f"{type(result).__name__}"
    )


def _detach_like(out: Any) -> Any:
    if isinstance(out, Tensor):
        return out.detach()
    return type(out)(o.detach() for o in out)


def _zeros_like(t: Tensor) -> Tensor:
    return Tensor._make(t.xp.zeros(t.array.shape, dtype=t.array.dtype), t.backend)
