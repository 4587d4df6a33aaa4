"""What a user passes as a tensor argument, made a Tensor once at the entry of an op or layer.

`nn` layers, `nn.functional` and the convolution and pooling ops accept what `ag.tensor`
accepts (nested lists, Python scalars, host arrays, device arrays), as arithmetic does, and
refuse the rest with an error that names the op, what it got and what it expected:

    >>> F.relu([[1.0, -2.0]])             # as F.relu(ag.tensor([[1.0, -2.0]]))
    >>> nn.Linear(3, 2)([1.0, 2.0, 3.0])  # on the layer's device, in its dtype

A Tensor passes through after one ``isinstance`` check: the cost of accepting lists.
"""

from __future__ import annotations

from typing import Any

import backends

from .tensor import Tensor, _lift

#: dtype kinds a tensor argument may hold: bool, ints, floats, complex (not strings, objects).
_NUMERIC = "biufc"
#: The floating dtypes (a set lookup is cheaper than reading ``dtype.kind``: layers call this
#: on every forward).
_FLOATING = frozenset(backends.dtype_of(name) for name in ("float16", "float32", "float64",
                                                            "longdouble"))
_BOOL = backends.dtype_of("bool")


def tensor_input(op: str, value: Any, like: Tensor | None = None, floating: bool = False,
                 name: str = "input", allow_bool: bool = True,
                 like_name: str = "the weight") -> Tensor:
    """`value` as a Tensor for `op`: Tensors pass, array-like data are converted.

    Args:
        op: the op or layer name errors start with.
        value: a Tensor, or what ``ag.tensor`` accepts.
        like: a tensor (the layer's weight) whose device data go to, and whose floating dtype
            Python floats take, as in arithmetic; host arrays must then be on its device too.
            Without it, data go to the default device as ``ag.tensor`` puts them.
        floating: require a floating point result (layers that compute in floating point).
        name: what `value` is, for the error ("input", "target", ...).
        allow_bool: accept a bool tensor (where `floating` is False).
        like_name: what `like` is, for the device error.
    """
    if not isinstance(value, Tensor):
        value = _convert(op, value, like, name)
    elif like is not None and value._backend is not like._backend:
        raise RuntimeError(
            f"{op}: the {name} is on {value.device} but {like_name} is on {like.device}; "
            "move one of them with .to(device)"
        )
    if floating:
        dtype = value.array.dtype
        if dtype not in _FLOATING and dtype.kind != "f":  # (byte-swapped floats are floats)
            _refuse_dtype(op, value, "a floating point", name)
    elif not allow_bool and value.array.dtype is _BOOL:
        _refuse_dtype(op, value, "a numeric (not bool)", name)
    return value


def float_input(op: str, value: Any, like: Tensor | None = None) -> Tensor:
    """``tensor_input(op, value, like, floating=True)`` with its common case first: a Tensor
    of a floating dtype on `like`'s device passes after three tests (layers call this on every
    forward)."""
    if (value.__class__ is Tensor and value.array.dtype in _FLOATING
            and (like is None or value._backend is like._backend)):
        return value
    return tensor_input(op, value, like, True)


def _refuse_dtype(op: str, value: Tensor, expected: str, name: str) -> None:
    raise TypeError(
        f"{op}: expected {expected} {name}, got dtype {value.dtype} (shape {value.shape}); "
        "convert it first, e.g. with .float()"
    )


def _convert(op: str, value: Any, like: Tensor | None, name: str) -> Tensor:
    if value is None or isinstance(value, (str, bytes, dict, set)):
        raise TypeError(
            f"{op}: expected a Tensor (or data ag.tensor accepts: nested lists, numbers, "
            f"arrays) as the {name}, got {type(value).__name__}"
        )
    try:
        if like is not None:
            t = _lift(value, like, scalar_ok=False)
        else:
            t = Tensor(value)
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"{op}: cannot make a tensor of the {name} ({type(value).__name__}): {e}"
        ) from None
    if t.array.dtype.kind not in _NUMERIC:
        raise TypeError(
            f"{op}: expected numbers as the {name}, got {type(value).__name__} holding "
            f"{_element_kind(t)}"
        )
    return t


def _element_kind(t: Tensor) -> str:
    kind = t.array.dtype.kind
    return {"U": "strings", "S": "bytes", "O": "Python objects"}.get(kind, f"dtype {t.dtype}")

