"""How the function transforms take arguments and hand back results: argnums, the tensors they
differentiate against, checks of what `f` returned, and zeros for inputs it does not use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .ops import unary as _unary
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

    An argument that already requires grad (under grad mode) is passed through a recorded
    identity, so that the result stays connected to the enclosing graph (this is what makes
    ``grad(grad(f))`` work); any other one becomes a fresh leaf. Returns the new arguments, the
    new tensors, and whether any of them is connected to an enclosing graph.
    """
    args = list(args)
    own = []
    connected = False
    for i in nums:
        x = args[i]
        if not isinstance(x, Tensor):
            raise TypeError(
                f"{name}: argument {i} must be a Tensor to be differentiated, got "
                f"{type(x).__name__}; wrap it with ag.tensor(...)"
            )
        if x.dtype.kind != "f":
            raise TypeError(
                f"{name}: argument {i} has dtype {x.dtype}; only floating point tensors can be "
                f"differentiated{_complex_hint(x.dtype)}"
            )
        if enabled and x.requires_grad:
            x = _unary.clone(x)
            connected = True
        else:
            x = x.detach().requires_grad_(True)
        args[i] = x
        own.append(x)
    return args, own, connected


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
