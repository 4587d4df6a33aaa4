"""Parameters to and from one flat vector (PyTorch's ``parameters_to_vector`` and
``vector_to_parameters``): for optimisers and analyses that see a model as one vector."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from autograd.grad_mode import no_grad
from autograd.inputs import tensor_input
from autograd.ops.joining import concatenate
from autograd.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _listed(op: str, parameters: Any) -> list:
    if isinstance(parameters, Tensor):
        raise TypeError(f"{op}: expected an iterable of tensors (e.g. model.parameters()), "
                        f"got one Tensor")
    params = list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: expected tensors, got {type(p).__name__}")
    devices = {p.device for p in params}
    if len(devices) > 1:
        raise RuntimeError(f"{op}: the parameters are on several devices {sorted(devices)}; "
                           "move them to one first")
    return params


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and concatenated, in order, into one 1-D tensor (a
    differentiable copy: gradients flow back to each parameter)."""
    params = _listed("parameters_to_vector", parameters)
    if not params:
        raise ValueError("parameters_to_vector: no parameters given")
    return concatenate([p.reshape(p.size) for p in params])


def vector_to_parameters(vec: Any, parameters: Iterable[Tensor]) -> None:
    """Copies consecutive slices of the 1-D `vec` into the parameters, in order (in place,
    not recorded: the parameters keep their identity, so an optimizer holding them works)."""
    op = "vector_to_parameters"
    params = _listed(op, parameters)
    like = params[0] if params else None
    vec = tensor_input(op, vec, like=like, name="vec", like_name="the parameters")
    if vec.ndim != 1:
        raise TypeError(f"{op}: expected a 1-D vector, got shape {vec.shape}")
    total = sum(p.size for p in params)
    if vec.shape[0] != total:
        raise ValueError(f"{op}: the vector has {vec.shape[0]} entries but the parameters "
                         f"hold {total}")
    flat = vec.array
    offset = 0
    with no_grad():
        for p in params:
            part = flat[offset:offset + p.size].reshape(p.shape).astype(p.dtype)
            p.copy_(Tensor._make(part, vec.backend))
            offset += p.size
