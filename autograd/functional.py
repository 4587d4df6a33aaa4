"""Function transforms over the engine: `gradients`, `grad`, `value_and_grad`, `vjp`, `jvp`,
`jacobian`, `hessian`.

`gradients` is the low-level call (PyTorch's ``torch.autograd.grad``): the gradients of some
outputs with respect to some inputs, returned instead of accumulated into ``.grad``. The
transforms take a Python function of Tensors and return a new function (JAX-style)::

    >>> f = lambda x: (x ** 3).sum()
    >>> x = ag.tensor([1.0, 2.0], dtype="float64")
    >>> ag.grad(f)(x)                       # 3 x^2
    tensor([ 3., 12.], dtype=float64, device=cpu)
    >>> ag.hessian(f)(x)                    # diag(6 x)
    tensor([[ 6.,  0.],
            [ 0., 12.]], dtype=float64, device=cpu)

Rules shared by the transforms:

* Differentiated arguments are floating-point Tensors, or NumPy arrays, floats and nested lists,
  tuples and dicts of them (HIPS autograd's convention): each result has its argument's type and
  structure, NumPy data reach the function as ArrayBoxes (NumPy-speaking Tensors) and come back
  as NumPy data; other arguments pass through as they are. The function's inputs do not need
  ``requires_grad``: the transform makes its own.
* Transforms compose (``grad(grad(f))``, ``jacobian(grad(f))``): under grad mode, a result stays
  differentiable with respect to whatever tensors requiring grad the function's output depends on
  (the arguments of an enclosing transform, or model parameters it closes over). Otherwise (under
  `no_grad`, or when the output depends on nothing else) results are plain constants and the
  backward pass is not recorded, which is cheaper.
* The function is always recorded, even when called under `no_grad`: the transform asks for it.

How arguments and results are handled lives in `transform_io.py`; the differentiable stack that
assembles Jacobians in `jacobian_stack.py`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import backends

from .engine import run_backward
from .grad_mode import enable_grad, is_grad_enabled
from .jacobian_stack import _Embed, _Row, _Stack  # noqa: F401  (_Row, _Embed: as before)
from .pytree import tree_flatten, tree_unflatten
from .tensor import Tensor
from .transform_io import (
    _argnums,
    _as_list,
    _depends_on_other,
    _named,
    _outputs_of,
    _prepare,
    _shape_of,
    _split_aux,
    _zeros_like,
)

__all__ = ["gradients", "grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian"]


def gradients(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """The gradients of `outputs` with respect to `inputs` (``.grad`` is left untouched).

    Args:
        outputs: a Tensor or a sequence of Tensors to differentiate.
        inputs: a Tensor or a sequence of Tensors that require grad (leaves or not).
        grad_outputs: the upstream gradient of each output (``None`` entries, or ``None`` for
            all, mean ones; allowed only for one-element outputs).
        retain_graph: keep the graph's saved arrays for another backward (default:
            `create_graph`).
        create_graph: record the backward pass, so that the results can be differentiated.
        allow_unused: give ``None`` for an input the outputs do not depend on (else raise).

    Returns:
        A tuple with one gradient (or None) per input, each with its input's shape and dtype.

    Example:
        >>> x = ag.tensor(3.0, requires_grad=True)
        >>> (gx,) = ag.gradients(x * x, x, create_graph=True)   # 2x = 6, differentiable
        >>> ag.gradients(gx, x)                                  # (2,)
    """
    outputs = _as_list(outputs, "gradients: outputs")
    inputs = _as_list(inputs, "gradients: inputs")
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    else:
        grad_outputs = list(grad_outputs) if isinstance(grad_outputs, (list, tuple)) else [
            grad_outputs
        ]
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"gradients: got {len(outputs)} outputs but {len(grad_outputs)} grad_outputs"
        )
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(
                f"gradients: input {i} (shape {t.shape}) does not require grad; create it with "
                "requires_grad=True or call .requires_grad_() first"
            )
    if retain_graph is None:
        retain_graph = create_graph
    results = run_backward(outputs, grad_outputs, retain_graph=retain_graph,
                           create_graph=create_graph, inputs=inputs, allow_unused=allow_unused)
    return tuple(results)  # type: ignore[arg-type]


def grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False, *,
         argnum: int | Sequence[int] | None = None) -> Callable[..., Any]:
    """The gradient of a scalar-valued function, as a new function.

    Args:
        f: a function returning a one-element Tensor (or ``(value, aux)`` with `has_aux`).
        argnums: which positional argument(s) to differentiate; a tuple gives a tuple of grads.
            `argnum` is the same (HIPS autograd's name).
        has_aux: `f` returns ``(value, aux)``; the new function returns ``(grads, aux)``.

    Returns:
        A function with `f`'s signature (keyword arguments pass through) returning
        d f / d args[argnums], each with its argument's type and structure: a Tensor for a
        Tensor, a NumPy array for an array, a NumPy float for a float, and lists, tuples and
        dicts of those for containers of them (see the module docstring).

    Example:
        >>> df = ag.grad(lambda x: (x.sin() * x).sum())
        >>> ddf = ag.grad(lambda x: df(x).sum())     # transforms compose
        >>> ag.grad(lambda p: np.sum(p["w"] ** 2))({"w": np.ones(2)})   # {'w': array([2., 2.])}
    """
    argnums = argnums if argnum is None else argnum

    def grad_f(*args: Any, **kwargs: Any) -> Any:
        _, grads, aux = _value_and_grad(f, args, kwargs, argnums, has_aux, "grad")
        return (grads, aux) if has_aux else grads

    return _named(grad_f, f, "grad")


def value_and_grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0,
                   has_aux: bool = False, *,
                   argnum: int | Sequence[int] | None = None) -> Callable[..., Any]:
    """Like `grad`, but the new function returns ``(value, grads)``.

    With `has_aux`, it returns ``((value, aux), grads)``. The value is a Tensor, detached unless
    it must stay differentiable (see the module docstring); a NumPy value (a NumPy scalar for a
    scalar) when every differentiated argument was NumPy data.

    Example:
        >>> loss, g = ag.value_and_grad(lambda w: ((x @ w - y) ** 2).mean())(w)
    """
    argnums = argnums if argnum is None else argnum

    def value_and_grad_f(*args: Any, **kwargs: Any) -> Any:
        value, grads, aux = _value_and_grad(f, args, kwargs, argnums, has_aux, "value_and_grad")
        return ((value, aux), grads) if has_aux else (value, grads)

    return _named(value_and_grad_f, f, "value_and_grad")


def vjp(f: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple:
    """Evaluates `f` at `primals` and returns ``(out, vjp_fn)``.

    ``vjp_fn(cotangent)`` (one cotangent per output of `f`, each of that output's shape) returns
    a tuple with ``cotangent^T . d out / d primal`` for every primal. It may be called many
    times; the graph of `f` stays alive as long as `vjp_fn` does. With `has_aux`, `f` returns
    ``(out, aux)`` and vjp returns ``(out, vjp_fn, aux)``. Primals may be NumPy data (and
    containers), as for `grad`; then `out` and the results are NumPy data too.

    Example:
        >>> out, vjp_fn = ag.vjp(lambda x: x.exp(), x)
        >>> (gx,) = vjp_fn(ag.ones_like(out))        # exp(x)
    """
    enabled = is_grad_enabled()
    out, outs, own, depends, aux, restore = _vjp(f, primals, {}, has_aux, enabled)

    def vjp_fn(*cotangents: Any) -> tuple:
        return tuple(restore.arguments(_pull_back(outs, own, cotangents, depends, None)))

    out = restore.value(out)
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple:
    """Forward-mode product ``(f(primals), J . tangents)``, computed with two reverse passes.

    The double-vjp trick: ``g(u) = J^T u`` is linear in a dummy cotangent `u`, so the vjp of `g`
    with respect to `u`, taken along the tangents, is ``J . tangents``. It costs about two
    backward passes and needs every op's backward to be differentiable (ours are).

    Args:
        f: a function of Tensors returning a Tensor or a tuple of Tensors.
        primals: the point (a tuple with one argument of `f` each: Tensors, or NumPy data and
            containers as for `grad`).
        tangents: one direction per primal, each with its primal's shape (and structure).

    Returns:
        ``(out, tangent_out)`` with the structure of `f`'s result.
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: got {len(primals)} primals but {len(tangents)} tangents")
    enabled = is_grad_enabled()
    out, outs, own, depends, _, restore = _vjp(f, primals, {}, False, enabled)
    directions = _tangents_like(own, tangents)
    single = isinstance(out, Tensor)
    dummies = [_zeros_like(o).requires_grad_(True) for o in outs]
    with enable_grad():
        pulled = _pull_back(outs, own, dummies, depends, True)
    live = [(g, t) for g, t in zip(pulled, directions) if g.requires_grad]
    if live:
        create = enabled and (depends or any(t.requires_grad for t in directions))
        pushed = gradients([g for g, _ in live], dummies, [t for _, t in live],
                           create_graph=create, allow_unused=True)
    else:
        pushed = (None,) * len(dummies)
    tangent_out = [_zeros_like(o) if p is None else p for p, o in zip(pushed, outs)]
    tangent_out = tangent_out[0] if single else tree_unflatten(tree_flatten(out)[1], tangent_out)
    return restore.value(out), restore.value(tangent_out)


def jacobian(f: Callable[..., Any], argnums: int | Sequence[int] = 0, *,
             argnum: int | Sequence[int] | None = None) -> Callable[..., Any]:
    """The Jacobian of `f`, as a new function (one backward pass per output element).

    For an output of shape ``S`` and an argument of shape ``T`` the Jacobian has shape ``S + T``
    (and the argument's type: a NumPy array for NumPy data). With a tuple `argnums` the new
    function returns a tuple over the arguments; when `f` returns a tuple, the result is a
    tuple over its outputs (of tuples over arguments). `argnum` is HIPS autograd's name.

    Example:
        >>> ag.jacobian(lambda x: x.exp())(ag.zeros(3, dtype="float64"))   # the identity
    """
    argnums = argnums if argnum is None else argnum

    def jacobian_f(*args: Any, **kwargs: Any) -> Any:
        nums, single_arg = _argnums(argnums, len(args), "jacobian")
        enabled = is_grad_enabled()
        with enable_grad():
            inner, own, connected, restore = _prepare(args, nums, enabled, "jacobian")
            result = f(*inner, **kwargs)
        outs, single_out = _outputs_of(_constants_as_tensors(result, own), "jacobian")
        create = enabled and (connected or _depends_on_other(outs, own))
        per_output = []
        for out in outs:
            blocks = restore.arguments(_jacobian_blocks(out, own, create))
            per_output.append(blocks[0] if single_arg else tuple(blocks))
        return per_output[0] if single_out else tuple(per_output)

    return _named(jacobian_f, f, "jacobian")


def hessian(f: Callable[..., Any], argnums: int | Sequence[int] = 0, *,
            argnum: int | Sequence[int] | None = None) -> Callable[..., Any]:
    """The Hessian of a scalar-valued `f`: ``jacobian(grad(f, argnums), argnums)``.

    For an argument of shape ``T`` the Hessian has shape ``T + T``; with a tuple `argnums` the
    result is a tuple of tuples (``H[i][j] = d^2 f / d arg_i d arg_j``).
    """
    argnums = argnums if argnum is None else argnum
    return _named(jacobian(grad(f, argnums), argnums), f, "hessian")


# -- internals -------------------------------------------------------------------------------
def _vjp(f: Callable, primals: tuple, kwargs: dict, has_aux: bool, enabled: bool) -> tuple:
    """Runs `f` for vjp/jvp: (out as returned, its recorded outputs, own inputs, depends, aux,
    restore). `f` may return a Tensor or a list, tuple or dict of them (constants allowed)."""
    with enable_grad():
        args, own, connected, restore = _prepare(primals, tuple(range(len(primals))), enabled,
                                                 "vjp")
        result = f(*args, **kwargs)
    out, aux = _split_aux(result, has_aux, "vjp")
    leaves, treedef = tree_flatten(out)
    leaves = [_constants_as_tensors(v, own) for v in leaves]
    if not leaves or not all(isinstance(v, Tensor) for v in leaves):
        raise TypeError(
            f"vjp: the function must return a Tensor or a list, tuple or dict of Tensors, got "
            f"{type(out).__name__}"
        )
    out = tree_unflatten(treedef, leaves)
    depends = connected or _depends_on_other(leaves, own)
    if not (enabled and depends):
        out = tree_unflatten(treedef, [_detach_keeping_type(v) for v in leaves])
    return out, leaves, own, depends, aux, restore


def _value_and_grad(f: Callable, args: tuple, kwargs: dict, argnums: Any, has_aux: bool,
                    name: str) -> tuple:
    nums, single = _argnums(argnums, len(args), name)
    enabled = is_grad_enabled()
    with enable_grad():
        inner, own, connected, restore = _prepare(args, nums, enabled, name)
        result = f(*inner, **kwargs)
    out, aux = _split_aux(result, has_aux, name)
    if not isinstance(out, Tensor) and _is_scalar_constant(out):
        warnings.warn(f"{name}: the output seems independent of the input (it is a constant "
                      f"{type(out).__name__}); its gradient is zero", stacklevel=3)
        grads = restore.arguments([_zeros_like(x) for x in own])
        return out, (grads[0] if single else tuple(grads)), aux
    if not isinstance(out, Tensor) or out.numel() != 1 or out.array.dtype.kind == "c":
        raise TypeError(
            f"{name}: the function must return a real one-element Tensor (a scalar loss), got "
            f"{_shape_of(out)}" + (f" of dtype {out.dtype}" if isinstance(out, Tensor) else "")
            + "; use jacobian or vjp for other outputs"
        )
    create = enabled and (connected or _depends_on_other([out], own))
    if out.requires_grad:
        grads = gradients(out, own, create_graph=create, allow_unused=True)
    else:
        grads = (None,) * len(own)
    grads = restore.arguments([_zeros_like(x) if g is None else g for g, x in zip(grads, own)])
    if not create:
        out = _detach_keeping_type(out)
    return restore.value(out), (grads[0] if single else tuple(grads)), aux


def _is_scalar_constant(value: Any) -> bool:
    """A plain number, or a one-element NumPy array: a function output that is a constant."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    return hasattr(value, "dtype") and getattr(value, "size", 0) == 1 and \
        value.dtype.kind in "fiuc"


def _constants_as_tensors(result: Any, own: list) -> Any:
    """Plain numbers and NumPy arrays among `f`'s outputs as constant Tensors (so that a
    function of NumPy arrays may return a constant, as HIPS autograd allows)."""
    def lift(value: Any) -> Any:
        if isinstance(value, Tensor) or not (_is_scalar_constant(value) or (
                hasattr(value, "dtype") and hasattr(value, "shape"))):
            return value
        backend = own[0].backend
        array = backend.asarray(backends.host().xp.asarray(value))
        return Tensor._make(array, backend)

    if isinstance(result, (tuple, list)):
        return type(result)(lift(v) for v in result)
    return lift(result)


def _detach_keeping_type(t: Tensor) -> Tensor:
    detached = t.detach()
    if type(t) is not Tensor:
        detached.__class__ = type(t)
    return detached


def _tangents_like(own: list, tangents: tuple) -> list:
    """The tangents as Tensors matching the flattened primals `own` (shape, dtype, device)."""
    flat = []
    for tangent in tangents:
        leaves, _ = tree_flatten(tangent)
        flat.extend(leaves)
    if len(flat) != len(own):
        raise ValueError(f"jvp: the tangents hold {len(flat)} values for {len(own)} primal "
                         "values; give each primal a tangent of its structure")
    out = []
    for i, (t, p) in enumerate(zip(flat, own)):
        t = _as_like(t, p)
        if t is None or t.shape != p.shape:
            raise ValueError(
                f"jvp: tangent {i} must be a Tensor with its primal's shape {_shape_of(p)}, "
                f"got {_shape_of(t) if t is not None else type(flat[i]).__name__}"
            )
        out.append(t)
    return out


def _as_like(value: Any, like: Tensor) -> Tensor | None:
    """`value` (a Tensor, NumPy array or number) as a Tensor on like's backend and dtype."""
    if isinstance(value, Tensor):
        return value
    host = backends.host().xp
    if isinstance(value, (int, float, complex, host.ndarray, host.generic)):
        array = host.asarray(value, dtype=like.array.dtype)
        return Tensor._make(like.backend.asarray(array), like.backend)
    return None


def _pull_back(outs: list, own: list, cotangents: Sequence[Any], depends: bool,
               create: bool | None) -> list:
    if len(cotangents) == 1 and isinstance(cotangents[0], (tuple, list, dict)):
        cotangents = tuple(tree_flatten(cotangents[0])[0])
    if len(cotangents) != len(outs):
        raise ValueError(f"vjp: expected {len(outs)} cotangents (one per output), "
                         f"got {len(cotangents)}")
    live = []
    for i, (o, ct) in enumerate(zip(outs, cotangents)):
        ct = _as_like(ct, o)
        if ct is None or ct.shape != o.shape:
            raise ValueError(f"vjp: cotangent {i} must be a Tensor of shape {o.shape}, "
                             f"got {_shape_of(cotangents[i])}")
        if o.requires_grad:
            live.append((o, ct))
    if create is None:
        create = is_grad_enabled() and (depends or any(ct.requires_grad for _, ct in live))
    if live:
        grads = gradients([o for o, _ in live], own, [ct for _, ct in live], retain_graph=True,
                          create_graph=create, allow_unused=True)
    else:
        grads = (None,) * len(own)
    return [_zeros_like(x) if g is None else g for g, x in zip(grads, own)]


def _jacobian_blocks(out: Tensor, own: list, create: bool) -> list:
    """d out / d x for each x in `own`, each of shape ``out.shape + x.shape``."""
    if not out.requires_grad or out.numel() == 0:
        return [
            Tensor._make(x.xp.zeros(out.shape + x.shape, dtype=x.array.dtype), x.backend)
            for x in own
        ]
    rows: list[list] = [[] for _ in own]
    xp = out.xp
    for k in range(out.numel()):
        seed = xp.zeros(out.numel(), dtype=out.array.dtype)
        seed[k] = 1
        seed = Tensor._make(seed.reshape(out.array.shape), out.backend)
        grads = gradients(out, own, seed, retain_graph=True, create_graph=create,
                          allow_unused=True)
        for j, (g, x) in enumerate(zip(grads, own)):
            rows[j].append(_zeros_like(x) if g is None else g)
    blocks = []
    for row, x in zip(rows, own):
        if create:
            stacked = _Stack.apply(*row)
        else:
            stacked = Tensor._make(xp.stack([g.array for g in row]), x.backend)
        blocks.append(stacked.reshape(out.shape + x.shape))
    return blocks
