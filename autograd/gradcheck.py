"""`gradcheck` and `gradgradcheck`: analytic gradients against float64 central differences.

    >>> x = ag.randn(3, 4, dtype="float64", requires_grad=True)
    >>> ag.gradcheck(lambda t: (t.tanh() * t).sum(axis=1), (x,))
    True

The upstream gradient is random (a ``.sum()`` would hide a rule that forgets to multiply by
``gy``); gradients must have their input's shape and dtype; two backward runs must agree
(reentrancy). A failure names the input, the worst element, and both values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import backends

from .engine import run_backward
from .grad_mode import enable_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """A gradient disagreed with its finite-difference estimate (or was malformed)."""


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(f: Callable, inputs: Sequence[Any]) -> tuple:
    with enable_grad():
        return tuple(o for o in _as_tuple(f(*inputs)) if isinstance(o, Tensor))


def _weighted_sum(outputs: tuple, weights: list) -> float:
    """sum_i <out_i, w_i> on the host, in float64."""
    total = 0.0
    for out, w in zip(outputs, weights):
        total += float((out.backend.to_numpy(out.array).astype("float64") * w).sum())
    return total


def _perturbed(t: Tensor, host: Any, flat_index: int, delta: float) -> Tensor:
    moved = host.copy()
    moved.reshape(-1)[flat_index] += delta
    out = Tensor._make(t.backend.asarray(moved), t.backend)
    out.requires_grad = t.requires_grad
    return out


def numerical_gradients(f: Callable, inputs: Sequence[Any], weights: list, eps: float) -> list:
    """Central differences of ``sum <f(inputs), weights>`` for each input that requires grad."""
    inputs = list(inputs)
    numeric = []
    xp_host = backends.host().xp
    for i, t in enumerate(inputs):
        if not (isinstance(t, Tensor) and t.requires_grad):
            numeric.append(None)
            continue
        host = t.backend.to_numpy(t.array)
        grad = xp_host.zeros(host.shape, dtype="float64")
        flat = grad.reshape(-1)
        for k in range(host.size):
            inputs[i] = _perturbed(t, host, k, eps)
            plus = _weighted_sum(_outputs(f, inputs), weights)
            inputs[i] = _perturbed(t, host, k, -eps)
            minus = _weighted_sum(_outputs(f, inputs), weights)
            flat[k] = (plus - minus) / (2 * eps)
        inputs[i] = t
        numeric.append(grad)
    return numeric


def _analytic(f: Callable, inputs: Sequence[Any], seeds: list) -> list:
    outputs = _outputs(f, inputs)
    diff_inputs = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    live = [(o, s) for o, s in zip(outputs, seeds) if o.requires_grad]
    if not live:
        return [None] * len(diff_inputs)
    with enable_grad():
        return run_backward(
            [o for o, _ in live], [s for _, s in live], inputs=diff_inputs, allow_unused=True
        )


def _fail(message: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(message)
    return False


def gradcheck(
    f: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Checks the gradients of `f` at `inputs` against central differences.

    Args:
        f: a function of `inputs` returning a Tensor (or a tuple of Tensors).
        inputs: Tensors (those with ``requires_grad`` are checked; use float64) and constants.
        eps: finite-difference step.
        atol, rtol: tolerance, ``|analytic - numeric| <= atol + rtol * |numeric|``.
        seed: seeds the random upstream gradient.
        raise_exception: raise `GradcheckError` on failure (else return False).

    Returns:
        True when every gradient matches.
    """
    inputs = _as_tuple(inputs)
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != backends.dtype_of("float64"):
            return _fail(f"gradcheck: input {i} has dtype {t.dtype}; use float64 inputs "
                         "(finite differences in float32 are too coarse)", raise_exception)
    outputs = _outputs(f, inputs)
    host = backends.host()
    rng = host.xp.random.default_rng(seed)
    weights = [rng.standard_normal(o.shape) for o in outputs]
    seeds = [Tensor._make(o.backend.asarray(w.astype(o.dtype)), o.backend)
             for o, w in zip(outputs, weights)]

    analytic = _analytic(f, inputs, seeds)
    again = _analytic(f, inputs, seeds)
    numeric = numerical_gradients(f, inputs, weights, eps)
    numeric = [n for n in numeric if n is not None]
    diff_inputs = [
        (i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad
    ]

    for (i, t), a, a2, n in zip(diff_inputs, analytic, again, numeric):
        if a is None:
            if abs(n).max(initial=0.0) > atol:
                return _fail(f"gradcheck: input {i} got no gradient, but the numeric gradient "
                             f"is nonzero (max |numeric| = {abs(n).max():.3g})", raise_exception)
            continue
        if tuple(a.shape) != tuple(t.shape) or a.dtype != t.dtype:
            return _fail(f"gradcheck: gradient of input {i} has shape {a.shape} and dtype "
                         f"{a.dtype}, expected shape {t.shape} and dtype {t.dtype}",
                         raise_exception)
        if a.device != t.device:
            return _fail(f"gradcheck: gradient of input {i} is on {a.device}, expected "
                         f"{t.device}", raise_exception)
        a_host = a.backend.to_numpy(a.array).astype("float64")
        a2_host = a2.backend.to_numpy(a2.array).astype("float64")
        if not host.xp.allclose(a_host, a2_host, rtol=1e-10, atol=1e-12, equal_nan=True):
            return _fail(f"gradcheck: backward is not reentrant: two runs gave different "
                         f"gradients for input {i}", raise_exception)
        error = abs(a_host - n) - (atol + rtol * abs(n))
        if error.size and not (error <= 0).all():
            worst = int(host.xp.nanargmax(host.xp.where(host.xp.isnan(error), host.xp.inf, error)))
            where = tuple(int(v) for v in host.xp.unravel_index(worst, a_host.shape))
            return _fail(
                f"gradcheck: gradient of input {i} (shape {t.shape}) is wrong; worst element "
                f"{where}: analytic {float(a_host.reshape(-1)[worst])!r} vs numeric "
                f"{float(n.reshape(-1)[worst])!r} (atol={atol}, rtol={rtol})\n"
                f"analytic:\n{a_host}\nnumeric:\n{n}",
                raise_exception,
            )
    return True


def gradgradcheck(
    f: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Checks second derivatives: gradcheck of ``(inputs, v) -> d<f(inputs), v>/d inputs``.

    The backward pass is recorded (``create_graph=True``) and itself checked against central
    differences, with respect to the inputs and to the upstream gradient `v`.
    """
    inputs = _as_tuple(inputs)
    outputs = _outputs(f, inputs)
    rng = backends.host().xp.random.default_rng(seed + 1)
    vs = [
        Tensor._make(o.backend.asarray(rng.standard_normal(o.shape).astype(o.dtype)), o.backend)
        .requires_grad_(o.dtype.kind == "f")
        for o in outputs
    ]
    n_in = len(inputs)

    def first_order(*args: Any) -> tuple:
        xs, seeds = args[:n_in], args[n_in:]
        outs = _outputs(f, xs)
        diff = [t for t in xs if isinstance(t, Tensor) and t.requires_grad]
        live = [(o, s) for o, s in zip(outs, seeds) if o.requires_grad]
        if not live or not diff:
            return ()
        with enable_grad():
            grads = run_backward([o for o, _ in live], [s for _, s in live], create_graph=True,
                                 inputs=diff, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_order, (*inputs, *vs), eps=eps, atol=atol, rtol=rtol, seed=seed,
                     raise_exception=raise_exception)
