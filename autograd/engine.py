"""Backward: an iterative walk of the graph in dependency order.

Each node runs once, after every consumer of its output has handed it a gradient (counted in a
first pass), so graphs of any depth work without recursion. Gradients are summed back to each
input's shape and dtype here, in one place, so op rules may return broadcast gradients.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

from .function import Function
from .grad_mode import state as _grad_state
from .tensor import Tensor


def run_backward(
    outputs: Sequence[Tensor],
    grads: Sequence[Tensor | None],
    retain_graph: bool = False,
    create_graph: bool = False,
    inputs: Sequence[Tensor] | None = None,
    allow_unused: bool = False,
) -> list[Tensor | None] | None:
    """Back-propagates `grads` from `outputs`.

    Without `inputs`, accumulates into ``.grad`` of every leaf that requires grad. With `inputs`,
    returns the gradients with respect to those tensors instead and touches no ``.grad``.
    """
    roots, root_grads = _check_roots(outputs, grads)
    # A recorded backward refers to the saved arrays of this graph, so it must keep them.
    retain_graph = retain_graph or create_graph
    captured: dict[Any, Any] | None = None
    if inputs is not None:
        captured = {}
        for t in inputs:
            if not isinstance(t, Tensor) or not t.requires_grad:
                raise RuntimeError("grad: every input must be a Tensor that requires grad")
            captured[t.grad_fn if t.grad_fn is not None else t] = None

    prev = _grad_state.enabled
    _grad_state.enabled = create_graph
    try:
        backend = root_grads[0]._backend if root_grads else None
        if backend is not None and backend.needs_device_scope:
            # Leaf accumulation adds arrays outside Function.apply: run it on their device too.
            with backend.device_scope():
                _walk(roots, root_grads, retain_graph, create_graph, captured)
        else:
            _walk(roots, root_grads, retain_graph, create_graph, captured)
    finally:
        _grad_state.enabled = prev

    if captured is None:
        return None
    results = []
    for t in inputs:  # type: ignore[union-attr]
        g = captured[t.grad_fn if t.grad_fn is not None else t]
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: an input (shape {t.shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        results.append(g)
    return results


def _check_roots(outputs: Sequence[Tensor], grads: Sequence[Any]) -> tuple[list, list]:
    if len(outputs) != len(grads):
        raise RuntimeError(
            f"backward: got {len(outputs)} outputs but {len(grads)} gradients for them"
        )
    roots, root_grads = [], []
    for out, g in zip(outputs, grads):
        if not isinstance(out, Tensor):
            raise TypeError(f"backward: outputs must be Tensors, got {type(out).__name__}")
        if not out.requires_grad:
            raise RuntimeError(
                f"backward: the tensor (shape {out.shape}) does not require grad and has no "
                "grad_fn; did you compute it under no_grad() or from tensors without "
                "requires_grad=True?"
            )
        if g is None:
            if out.data.size != 1:
                raise RuntimeError(
                    f"backward: grad can be implicitly created only for a one-element output, "
                    f"got shape {out.shape}; pass grad= with the same shape"
                )
            g = Tensor._make(out.xp.ones_like(out.data), out._backend)
        elif not isinstance(g, Tensor):
            g = Tensor(g, device=out._backend, dtype=out.dtype)
        if tuple(g.shape) != tuple(out.shape):
            raise RuntimeError(
                f"backward: grad has shape {g.shape} but the output has shape {out.shape}"
            )
        if g._backend is not out._backend:
            raise RuntimeError(
                f"backward: grad is on {g.device} but the output is on {out.device}"
            )
        if g.data.dtype != out.data.dtype:
            # Gradients have their tensor's dtype (a float64 seed for a float32 output is cast).
            g = g.astype(out.data.dtype)
        roots.append(out.grad_fn if out.grad_fn is not None else out)
        root_grads.append(g)
    return roots, root_grads


def _count_dependencies(roots: list) -> dict:
    """For every node reachable from `roots`, how many edges point at it."""
    deps: dict[Any, int] = {}
    stack = [r for r in roots if isinstance(r, Function)]
    seen = set(map(id, stack))
    for r in roots:
        deps.setdefault(r, 0)
    while stack:
        node = stack.pop()
        for edge in node.next_edges:
            if edge is None:
                continue
            if edge in deps:
                deps[edge] += 1
            else:
                deps[edge] = 1
            if isinstance(edge, Function) and id(edge) not in seen:
                seen.add(id(edge))
                stack.append(edge)
    return deps


def _reaching(roots: list, deps: dict, captured: dict) -> set:
    """The nodes from which a captured node can be reached: only these need to run backward."""
    remaining = dict(deps)
    order = []
    ready = [node for node in dict.fromkeys(roots) if remaining[node] == 0]
    while ready:  # consumers before producers, as the walk goes
        node = ready.pop()
        order.append(node)
        if isinstance(node, Function):
            for edge in node.next_edges:
                if edge is not None:
                    remaining[edge] -= 1
                    if remaining[edge] == 0:
                        ready.append(edge)
    reach = set()
    for node in reversed(order):  # producers first
        if node in captured or (
            isinstance(node, Function) and any(e in reach for e in node.next_edges if e is not None)
        ):
            reach.add(node)
    return reach


def _walk(roots: list, root_grads: list, retain: bool, create: bool, captured: Any) -> None:
    deps = _count_dependencies(roots)
    # With `inputs`, skip the parts of the graph that lead to none of them.
    reach = _reaching(roots, deps, captured) if captured is not None else None
    pending: dict[Any, Any] = {}
    for node, g in zip(roots, root_grads):
        pending[node] = pending[node] + g if node in pending else g
    # Roots that are consumed by another root wait for it like any other node.
    ready = [node for node in dict.fromkeys(roots) if deps[node] == 0]
    # How many places each gradient array was handed to: a leaf must own its .grad, so it
    # copies an array that is also held elsewhere (or is a view of one).
    handed: dict[int, int] = {id(g.data): 2 for g in root_grads}

    while ready:
        node = ready.pop()
        g = pending.pop(node, None)
        if isinstance(node, Tensor):
            if g is not None:
                _accumulate_leaf(node, g, captured, create, handed)
            continue
        if g is not None and node._hooks:
            g = _run_hooks(node._hooks, g)
            handed[id(g.data)] = 2  # a hook's result may be held by the hook's owner
        if g is not None and node._retained is not None:
            t = node._retained()
            if t is not None:
                t.grad = _own(g, create, handed) if t.grad is None else t.grad + g
        if captured is not None and g is not None and node in captured:
            captured[node] = _own(g, create, handed)
        run = g is not None and (reach is None or any(
            e in reach for e in node.next_edges if e is not None))
        grads = _node_backward(node, g) if run else ()
        if run and not retain:
            node.release()
        for i, edge in enumerate(node.next_edges):
            if edge is None:
                continue
            gx = grads[i] if i < len(grads) else None
            if gx is not None:
                gx = _fit(gx, node.input_meta[i], node)
                if edge in pending:
                    pending[edge] = pending[edge] + gx
                else:
                    pending[edge] = gx
                    key = id(gx.data)
                    handed[key] = handed.get(key, 0) + 1
            deps[edge] -= 1
            if deps[edge] == 0:
                ready.append(edge)


def _own(g: Tensor, create: bool, handed: dict) -> Tensor:
    """`g` as a gradient its holder owns: a copy if its array is a view or held elsewhere."""
    data = g.data
    aliased = getattr(data, "base", None) is not None or handed.get(id(data), 0) > 1
    if create:
        # Recorded, so higher-order gradients still flow through the copy.
        return _unary_ops.clone(g) if aliased else g
    if aliased:
        data = data.copy()
    handed[id(data)] = 2  # now held here: whoever gets it next must copy
    return Tensor._make(data, g._backend)


def _node_backward(node: Function, g: Tensor) -> tuple:
    if not hasattr(node, "next_edges"):
        raise RuntimeError(f"{node.name()}: node was never recorded")
    grads = node.backward(g)
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) != len(node.next_edges):
        raise RuntimeError(
            f"{node.name()}.backward returned {len(grads)} gradients for "
            f"{len(node.next_edges)} inputs"
        )
    return grads


def _fit(gx: Any, meta: tuple, node: Function) -> Tensor:
    """Sums a (possibly broadcast) gradient back to its input's shape and casts to its dtype."""
    if not isinstance(gx, Tensor):
        raise TypeError(f"{node.name()}.backward returned {type(gx).__name__}, expected a Tensor")
    shape, dtype = meta
    if gx.data.shape != shape:
        gx = _shape_ops.sum_to(gx, shape)
    if gx.data.dtype != dtype:
        gx = gx.astype(dtype)
    return gx


def _run_hooks(hooks: list, g: Tensor) -> Tensor:
    for hook in list(hooks):
        replaced = hook(g)
        if replaced is not None:
            g = replaced
    return g


def _accumulate_leaf(leaf: Tensor, g: Tensor, captured: Any, create: bool, handed: dict) -> None:
    if leaf._hooks:
        g = _run_hooks(leaf._hooks, g)
        handed[id(g.data)] = 2
    if captured is not None:
        if leaf in captured:
            captured[leaf] = _own(g, create, handed)
        return
    if leaf.grad is None:
        # A leaf owns its .grad: no other leaf's .grad (nor a user's array) shares its memory.
        leaf.grad = _own(g, create, handed)
    elif create:
        leaf.grad = leaf.grad + g
    else:
        leaf.grad = Tensor._make(leaf.grad.data + g.data, leaf._backend)


from .ops import shape as _shape_ops  # noqa: E402
from .ops import unary as _unary_ops  # noqa: E402
