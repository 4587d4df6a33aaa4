"""Checks and conversions of a saved per-parameter optimizer state, for ``load_state_dict``.

A saved state arrives from anywhere (a checkpoint file, PyTorch, a hand-made dict): every value
is checked before the optimizer takes it, so a bad state fails at load, naming the parameter and
the key, instead of at a later ``step()``.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Mapping
from typing import Any

from autograd.tensor import Tensor

from .validation import MAX_COUNT, brief, finite

#: State keys whose values have the parameter's shape (checked on load).
PARAM_SHAPED_STATE = (
    "momentum_buffer", "sum", "square_avg", "grad_avg", "exp_avg", "exp_avg_sq",
    "max_exp_avg_sq", "acc_delta", "exp_inf", "ax",
)


def param_state(opt: Any, index: int, saved: Any, p: Tensor) -> dict:
    """The saved state of parameter `index` (optimized tensor `p`) as `opt`'s own, checked.

    Raises:
        TypeError, ValueError: naming the optimizer, the parameter index and the key.
    """
    name = f"{type(opt).__name__}.load_state_dict"
    if not isinstance(saved, Mapping):
        raise TypeError(f"{name}: the state of parameter {index} must be a dict, got "
                        f"{type(saved).__name__}")
    for key in saved:
        if not isinstance(key, str):
            raise TypeError(f"{name}: the state of parameter {index} has a key {key!r} of type "
                            f"{type(key).__name__}; state keys are strings")
    keys = opt._state_keys
    if keys is not None and saved:
        allowed = (*keys, *opt._optional_state_keys)
        unknown = [k for k in saved if k not in allowed]
        missing = [k for k in keys if k not in saved]
        if unknown or missing:
            optional = (f" (and may hold {', '.join(opt._optional_state_keys)})"
                        if opt._optional_state_keys else "")
            raise ValueError(
                f"{name}: the state of parameter {index} holds {', '.join(saved) or 'nothing'}; "
                f"a {type(opt).__name__} state holds {', '.join(keys) or 'nothing'}{optional}: "
                "is it the state of another optimizer?"
            )
    return {key: _value(name, key, value, p, index) for key, value in saved.items()}


def _value(name: str, key: str, value: Any, p: Tensor, index: int) -> Any:
    """One saved state value as the optimizer's own copy, on `p`'s device."""
    if key == "step":
        return _step(name, value, index)
    is_array = isinstance(value, Tensor) or (hasattr(value, "shape") and hasattr(value, "dtype"))
    if not is_array:
        if key in PARAM_SHAPED_STATE:
            raise TypeError(f"{name}: state {key!r} of parameter {index} must be an array of the "
                            f"parameter's shape {p.shape}, got {type(value).__name__}")
        return copy.deepcopy(value)  # a small Python value of a user's optimizer
    host = _host(value)
    kind = host.dtype.kind
    if key in PARAM_SHAPED_STATE:
        if tuple(host.shape) != p.shape:
            raise ValueError(
                f"{name}: state {key!r} of parameter {index} has shape {tuple(host.shape)}, but "
                f"the parameter has shape {p.shape}"
            )
        if kind not in "fc" or (kind == "c" and p.dtype.kind != "c"):
            raise TypeError(
                f"{name}: state {key!r} of parameter {index} has dtype {host.dtype}; expected "
                f"floating point values for a parameter of dtype {p.dtype}"
            )
    backend = p._backend
    dtype = p.dtype if kind in "fc" and p.dtype.kind in "fc" else host.dtype
    array = backend.asarray(host, dtype=dtype)
    if array is host or getattr(array, "base", None) is not None:
        array = array.copy()  # the optimizer updates its buffers in place: never share them
    return Tensor._make(array, backend)


def _step(name: str, value: Any, index: int) -> int:
    """A saved step count (an int, or a one-element array as PyTorch saves it) as an int >= 0."""
    raw = value
    if isinstance(value, Tensor) or (hasattr(value, "shape") and hasattr(value, "dtype")):
        host = _host(value)
        if host.size == 1 and host.dtype.kind in "iuf":
            value = host.reshape(()).item()
    if finite(value) and 0 <= value <= MAX_COUNT and value == int(value):
        return int(value)
    shown = brief(raw) if isinstance(raw, (numbers.Number, str)) else type(raw).__name__
    raise ValueError(f"{name}: state 'step' of parameter {index} must be a whole number in "
                     f"[0, 2**53], got {shown}")


def _host(value: Any) -> Any:
    """A host array of a Tensor or of any backend's array."""
    if isinstance(value, Tensor):
        return value._backend.to_numpy(value.array)
    import backends

    source = backends.backend_of_array(value)
    return source.to_numpy(value) if source is not None else value
