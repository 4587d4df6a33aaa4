"""Backward: an iterative walk of the graph in dependency order.

Each node runs once, after every consumer of its output has handed it a gradient, so graphs of
any depth work without recursion. The order comes from creation: every node is numbered when it
is recorded (`Function._key`, counting down), and a consumer is always recorded after its inputs'
producers, so running the pending nodes from the lowest key up (a heap) is a topological order,
with no counting pass over the graph first. Leaves have no consumers to wait for: they take their
gradients last. Gradients are summed back to each input's shape and dtype
here, in one place, so op rules may return broadcast gradients.

Threads may run backward at once into shared leaves (a model trained by several threads): each
read-add-write of a leaf's ``.grad`` holds `_leaf_lock`, so no gradient is lost. The lock is
taken about once per backward (nothing per op), never around hooks (user code).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from heapq import heappop, heappush
from typing import Any

from . import anomaly_mode as _anomaly_mode
from ._native import core as _core
from .anomaly_mode import mode as _anomaly
from .function import _FREED, Function
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
    prev_captured = _grad_state.captured
    _grad_state.enabled = create_graph
    _grad_state.captured = captured
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
        _grad_state.captured = prev_captured

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
            if out.array.size != 1:
                raise RuntimeError(
                    f"backward: grad can be implicitly created only for a one-element output, "
                    f"got shape {out.shape}; pass grad= with the same shape"
                )
            data = out.array
            # A 0-d seed by asarray: ones_like is a Python-level wrapper in NumPy.
            seed = (out.xp.asarray(1, dtype=data.dtype) if data.ndim == 0
                    else out.xp.ones_like(data))
            g = Tensor._make(seed, out._backend)
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
        if g.array.dtype != out.array.dtype:
            # Gradients have their tensor's dtype (a float64 seed for a float32 output is cast).
            g = g.astype(out.array.dtype)
        roots.append(out.grad_fn if out.grad_fn is not None else out)
        root_grads.append(g)
    return roots, root_grads


def _rank(node: Any) -> int:
    """Backward order: consumers (recorded later, lower `_key`) first, leaves last."""
    return 1 if isinstance(node, Tensor) else node._key


def _reaching(roots: list, captured: dict) -> set:
    """The nodes from which a captured node can be reached: only these need to run backward."""
    seen = set(roots)
    stack = list(seen)
    nodes = []
    while stack:
        node = stack.pop()
        nodes.append(node)
        if isinstance(node, Function):
            for edge in node.next_edges:
                if edge is not None and edge not in seen:
                    seen.add(edge)
                    stack.append(edge)
    nodes.sort(key=_rank, reverse=True)  # producers first: leaves, then by creation
    reach = set()
    for node in nodes:
        if node in captured or (
            isinstance(node, Function) and any(e in reach for e in node.next_edges if e is not None)
        ):
            reach.add(node)
    return reach


def _walk(roots: list, root_grads: list, retain: bool, create: bool, captured: Any) -> None:
    """Runs every node once, in dependency order, then hands the leaves their gradients."""
    try:
        if not create and captured is None and _core_walk is not None and not _anomaly.enabled:
            leaves, pending, handed = _core_walk(roots, root_grads, retain)  # the C twin
        else:
            leaves, pending, handed = _run_ops(roots, root_grads, retain, create, captured)
        _give_leaves(leaves, pending, not create, captured, create, handed)
    finally:
        _grad_state.raw_backend = None


def _run_ops(roots: list, root_grads: list, retain: bool, create: bool,
             captured: Any) -> tuple[list, dict, dict]:
    """Runs every reached op once, consumers first; returns the reached leaves (in the order
    first reached), the gradients pending for them, and the `handed` counts.

    A recorded backward (`create`) passes Tensors between nodes. A first-order backward passes
    raw arrays: ops with ``raw_backward`` run their rule on arrays directly, the others get
    their gradient wrapped in a Tensor and return Tensors that are unwrapped again. The C core's
    ``walk`` is this function for a first-order backward without `captured`.
    """
    # With `inputs`, skip the parts of the graph that lead to none of them.
    reach = _reaching(roots, captured) if captured is not None else None
    raw = not create
    # The gradient each reached node has so far (None: reached, but only by None gradients);
    # the heap of reached ops by `_key` (roots consumed by another root wait for it); and the
    # reached leaves, in the order they were first reached.
    pending: dict[Any, Any] = {}
    ready: list = []
    leaves: list = []
    for node, g in zip(roots, root_grads):
        g = g.array if raw else g
        if node in pending:
            pending[node] = pending[node] + g
        else:
            pending[node] = g
            if isinstance(node, Tensor):
                leaves.append(node)
            else:
                heappush(ready, (node._key, node))
    # How many leaves each gradient array was handed to: a leaf must own its .grad, so it
    # copies an array that another leaf (or the caller, for a root gradient) also holds, or a
    # view. Only leaves count: a node's rule never writes into the gradient it was given.
    handed: dict[int, int] = {id(g.array): 2 for g in root_grads}
    state = _grad_state
    current = None  # the backend raw rules run on (state.raw_backend), set per change
    check_nan = _anomaly.enabled and _anomaly.check_nan
    try:
        following = None  # the op recorded just before the last one run, when it was reached
        while ready or following is not None:
            if following is not None:
                node, following = following, None
            else:
                node = heappop(ready)[1]
            g = pending.pop(node)
            edges = node.next_edges
            if g is not None and (node._observed or captured):
                if current is not None:  # hooks and captures work on Tensors
                    current = state.raw_backend = None
                g = _observe(node, g, raw, create, captured, handed)
            if g is None or (reach is not None and not any(
                    e in reach for e in edges if e is not None)):
                grads = (None,) * len(edges)
            else:
                try:
                    if not raw:
                        grads = node.backward(g)
                    elif node.raw_backward:
                        backend = node.backend
                        if backend is not current:
                            current = state.raw_backend = backend
                        grads = node.backward(g)
                    else:
                        if current is not None:  # a Tensor rule must not see raw mode
                            current = state.raw_backend = None
                        grads = _tensor_rule(node, g)
                except Exception as e:
                    if _anomaly.enabled:  # say where the forward recorded the failing op
                        _anomaly_mode.annotate(node, e)
                    raise
                if type(grads) is not tuple:
                    grads = (grads,)
                if len(grads) != len(edges):
                    raise RuntimeError(
                        f"{node.name()}.backward returned {len(grads)} gradients for "
                        f"{len(edges)} inputs"
                    )
                if check_nan:
                    _anomaly_mode.check_gradients(node, grads)
                if not retain and node._saved is not None:
                    node._saved = _FREED
            if raw:
                array_type = node.backend.array_type
            metas = node.input_meta
            if len(metas) != len(edges):  # changed by Python code (walk.c checks the same)
                raise ValueError(
                    f"backward: {type(node).__name__}'s input_meta has {len(metas)} entries "
                    f"for {len(edges)} next_edges"
                )
            for edge, gx, meta in zip(edges, grads, metas):
                if edge is None:
                    continue
                if gx is not None:
                    if raw:
                        if (type(gx) is not array_type or gx.shape != meta[0]
                                or gx.dtype is not meta[1]):
                            gx = _fit_raw(gx, meta[0], meta[1], node)
                    elif gx.array.shape != meta[0] or gx.array.dtype != meta[1]:
                        gx = _fit(gx, meta[0], meta[1], node)
                held = pending.get(edge, _ABSENT)
                if held is _ABSENT:
                    # First reached: it runs (and frees its arrays) even if only None arrives.
                    pending[edge] = gx
                    if not isinstance(edge, Tensor):
                        edge_key = edge._key
                        if edge_key == node._key + 1:
                            # Recorded right before this node: no other op can run before
                            # it, so it skips the heap (every step of a chain does this).
                            following = edge
                        elif edge_key > node._key:
                            heappush(ready, (edge_key, edge))
                        else:
                            _raise_cycle(node, edge)
                        continue
                    leaves.append(edge)
                    if gx is None:
                        continue
                elif held is not None:
                    if gx is not None:
                        pending[edge] = held + gx
                    continue
                elif gx is None:
                    continue
                else:
                    pending[edge] = gx
                    if not isinstance(edge, Tensor):
                        continue
                key = id(gx) if raw else id(gx.array)  # a leaf's gradient: see `handed`
                handed[key] = handed.get(key, 0) + 1
    finally:
        state.raw_backend = None  # leaf hooks are user code, on Tensors
    return leaves, pending, handed


_ABSENT = object()


def _raise_cycle(node: Function, edge: Any) -> None:
    """A producer is always recorded before its consumers (a higher `_key`); anything else is
    a cycle, which would never end (walk.c raises the same)."""
    raise RuntimeError(
        f"backward: {type(node).__name__} leads back to {type(edge).__name__}, recorded after "
        "it: the graph has a cycle or its _key was changed"
    )


#: Held for each read-add-write of a leaf's ``.grad`` (see the module docstring). Reentrant:
#: a Tensor subclass's ``+`` may run backward itself.
_leaf_lock = threading.RLock()


def _give_leaves(leaves: list, pending: dict, raw: bool, captured: Any, create: bool,
                 handed: dict) -> None:
    """Accumulates each leaf's gradient (None: reached only by None gradients) into ``.grad``,
    in the order the leaves were first reached.

    The common first-order case (no hooks, no captures) adds raw arrays while holding
    `_leaf_lock` across a run of such leaves: one acquire per backward, not one per leaf
    (a lock per leaf cost 2.6 % of a backward into 200 small leaves). It is released before a
    leaf with hooks (user code), whose accumulation takes it on its own.
    """
    fast = raw and captured is None
    locked = False
    try:
        for leaf in leaves:
            g = pending.pop(leaf)
            if g is None:
                continue
            if fast and not leaf._hooks:
                # The leaf's .grad, owned (see `handed`); `_grad`: what the engine writes fits.
                backend = leaf._backend
                if type(g) is not backend.array_type:
                    g = backend.asarray(g)  # a NumPy scalar from an op on 0-d arrays
                if not locked:
                    _leaf_lock.acquire()
                    locked = True
                held = leaf._grad
                if held is not None:
                    leaf._grad = Tensor._make(held.array + g, backend)
                else:
                    leaf._grad = Tensor._make(_owned(g, handed), backend)
                continue
            if locked:
                _leaf_lock.release()
                locked = False
            _accumulate_leaf(leaf, _wrap(g, leaf._backend, raw), captured, create, handed)
    finally:
        if locked:
            _leaf_lock.release()


def _wrap(g: Any, backend: Any, raw: bool) -> Tensor:
    if not raw:
        return g
    if type(g) is not backend.array_type:
        g = backend.asarray(g)  # a NumPy scalar from an op on 0-d arrays
    return Tensor._make(g, backend)


def _tensor_rule(node: Function, g: Any) -> Any:
    """A Tensor-only rule on a first-order walk: its gradient wrapped, its results unwrapped."""
    return _unwrap(node.backward(Tensor._make(g, node.backend)), node)


def _unwrap(grads: Any, node: Function) -> Any:
    """The arrays of the Tensors a Tensor-only rule returned (for a raw first-order walk)."""
    if isinstance(grads, tuple):
        return tuple(_unwrap(gx, node) for gx in grads)
    if grads is None:
        return None
    if not isinstance(grads, Tensor):
        raise TypeError(
            f"{node.name()}.backward returned {type(grads).__name__}, expected a Tensor"
        )
    return grads.array


def _observe(node: Function, g: Any, raw: bool, create: bool, captured: Any,
             handed: dict) -> Any:
    """Runs the hooks, `retain_grad` and capture of the tensor `node` produced; returns its
    gradient (a hook may replace it)."""
    t = _wrap(g, node.backend, raw)
    if node._hooks:
        t = _run_hooks(node._hooks, t)
        handed[id(t.array)] = 2  # a hook's result may be held by the hook's owner
    if node._retained is not None:
        owner = node._retained()
        if owner is not None:
            with _leaf_lock:
                held = owner._grad
                owner._grad = _own(t, create, handed) if held is None else held + t
    if captured is not None and node in captured:
        captured[node] = _own(t, create, handed)
    return t.array if raw else t


def _aliased(data: Any, handed: dict) -> bool:
    """Whether a gradient array is a view or also held elsewhere (its holder must copy it)."""
    return getattr(data, "base", None) is not None or handed.get(id(data), 0) > 1


def _owned(data: Any, handed: dict) -> Any:
    """`data`, or a copy of it if aliased, marked as held (whoever gets it next must copy)."""
    if _aliased(data, handed):
        data = data.copy()
    handed[id(data)] = 2
    return data


def _own(g: Tensor, create: bool, handed: dict) -> Tensor:
    """`g` as a gradient its holder owns: a copy if its array is a view or held elsewhere."""
    if create:
        # Recorded, so higher-order gradients still flow through the copy.
        return _unary_ops.clone(g) if _aliased(g.array, handed) else g
    return Tensor._make(_owned(g.array, handed), g._backend)


def _fit(gx: Any, shape: tuple, dtype: Any, node: Function) -> Tensor:
    """Sums a (possibly broadcast) gradient back to its input's shape and casts to its dtype."""
    if not isinstance(gx, Tensor):
        raise TypeError(f"{node.name()}.backward returned {type(gx).__name__}, expected a Tensor")
    if gx.array.shape != shape:
        gx = _shape_ops.sum_to(gx, shape)
    if gx.array.dtype != dtype:
        gx = gx.astype(dtype)
    return gx


def _fit_raw(gx: Any, shape: tuple, dtype: Any, node: Function) -> Any:
    """`_fit` for a raw array: the same sum over broadcast axes and cast, without a Tensor."""
    backend = node.backend
    if type(gx) is not backend.array_type:
        if isinstance(gx, Tensor) or not hasattr(gx, "dtype"):
            raise TypeError(
                f"{node.name()}.backward returned {type(gx).__name__} on the raw first-order "
                "path, expected an array (a rule with raw_backward may only use operations "
                "that raw arrays share with Tensors)"
            )
        gx = backend.asarray(gx)  # a NumPy scalar from an op on 0-d arrays
    if gx.shape != shape:
        gx = _shape_ops.sum_to_array(gx, shape)
    if gx.dtype != dtype:
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
        handed[id(g.array)] = 2
    if captured is not None:
        if leaf in captured:
            captured[leaf] = _own(g, create, handed)
        return
    with _leaf_lock:
        held = leaf._grad
        if held is None:
            # A leaf owns its .grad: no other leaf's .grad (nor a user's array) shares its
            # memory.
            leaf._grad = _own(g, create, handed)
        elif create:
            leaf._grad = held + g
        else:
            leaf._grad = Tensor._make(held.array + g.array, leaf._backend)


from .ops import shape as _shape_ops  # noqa: E402
from .ops import unary as _unary_ops  # noqa: E402

if _core is not None:
    _core.configure(observe=_observe, tensor_rule=_tensor_rule, fit_raw=_fit_raw)
#: The C core's first-order walk (`_run_ops` without create_graph or captures), or None.
_core_walk = _core.walk if _core is not None else None
