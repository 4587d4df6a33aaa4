"""Gradient clipping: by total norm (`clip_grad_norm_`) or by value (`clip_grad_value_`)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import backends
from autograd.tensor import Tensor
from backends.device_scope import call_scoped


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _vector_norm(xp: Any, a: Any, norm_type: float) -> Any:
    """The `norm_type`-norm of all elements of `a` as a 0-d array (never read to the host)."""
    flat = a.reshape(-1)
    if flat.size == 0:
        return xp.zeros((), dtype=a.dtype)
    if norm_type == math.inf:
        return xp.max(xp.abs(flat))
    if norm_type == 2:
        return xp.sqrt(xp.vdot(flat, flat).real)
    if norm_type == 1:
        return xp.sum(xp.abs(flat))
    if norm_type == 0:
        return xp.sum(flat != 0, dtype=a.dtype)
    return xp.sum(xp.abs(flat) ** norm_type) ** (1.0 / norm_type)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Rescales gradients in place so that their total norm is at most `max_norm`.

    The total norm is the `norm_type`-norm of the per-parameter norms (equal to the norm of all
    gradients concatenated). Gradients are multiplied by
    ``min(1, max_norm / (total_norm + 1e-6))``, computed as an array op on the device: no value
    is read back to the host unless `error_if_nonfinite` is set.

    Non-finite gradients: an inf or NaN total norm makes the coefficient 0 or NaN, so the
    gradients become 0 or NaN (PyTorch's behaviour); skip such steps, or pass
    ``error_if_nonfinite=True`` to raise instead (this check reads the norm back to the host,
    a synchronisation on a GPU).

    Args:
        parameters: a tensor or an iterable of tensors whose ``.grad`` is clipped; tensors
            without a gradient are skipped.
        max_norm: the largest allowed total norm.
        norm_type: the order of the norm (``float("inf")`` for the largest absolute value).
        error_if_nonfinite: raise RuntimeError if the total norm is inf or NaN.

    Returns:
        The total norm of the gradients before clipping, as a 0-d Tensor.

        >>> loss.backward()
        >>> optim.clip_grad_norm_(model.parameters(), max_norm=1.0)
        >>> opt.step()
    """
    grads = _grads(parameters)
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not grads:
        backend = backends.default()
        return Tensor._make(backend.xp.zeros((), dtype="float32"), backend)
    backend = grads[0]._backend
    others = [g.device for g in grads if g._backend is not backend]
    if others:
        raise RuntimeError(
            f"clip_grad_norm_: gradients live on several devices ({backend.device} and "
            f"{others[0]}); clip each device's parameters separately"
        )
    # raw array operators run on the current device (cuda:N)
    return call_scoped(backend, _clip_norm, backend, grads, max_norm, norm_type,
                       error_if_nonfinite)


def _clip_norm(backend: Any, grads: list, max_norm: float, norm_type: float,
               error_if_nonfinite: bool) -> Tensor:
    xp = backend.xp
    norms = xp.stack([_vector_norm(xp, g.array, norm_type) for g in grads])
    total = norms[0] if len(grads) == 1 else _vector_norm(xp, norms, norm_type)
    total = xp.asarray(total)  # NumPy reductions give scalars; a Tensor holds a 0-d array
    if error_if_nonfinite and not bool(backend.to_numpy(xp.isfinite(total))):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            "non-finite, so it cannot be clipped; to scale the gradients by the non-finite norm "
            "anyway, pass error_if_nonfinite=False"
        )
    coef = xp.minimum(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        xp.multiply(g.array, coef, out=g.array, casting="same_kind")
        g._version[0] += 1
    return Tensor._make(total, backend)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clips every gradient element into ``[-clip_value, clip_value]`` in place.

    NaN gradient elements stay NaN.

    Args:
        parameters: a tensor or an iterable of tensors whose ``.grad`` is clipped.
        clip_value: the largest allowed absolute value (must be >= 0).
    """
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for g in _grads(parameters):
        call_scoped(g._backend, g.xp.clip, g.array, -clip_value, clip_value, out=g.array)
        g._version[0] += 1
