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

from .tensor import Tensor, _lift

#: dtype kinds a tensor argument may hold: bool, ints, floats, complex (not strings, objects).
_NUMERIC = "biufc"


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
    if floating or not allow_bool:
        kind = value.array.dtype.kind
        if (floating and kind != "f") or kind == "b":
            expected = "a floating point" if floating else "a numeric (not bool)"
            raise TypeError(
                f"{op}: expected {expected} {name}, got dtype {value.dtype} (shape "
                f"{value.shape}); convert it first, e.g. with .float()"
            )
    return value


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

