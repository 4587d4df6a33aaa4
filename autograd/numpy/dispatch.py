"""How `autograd.numpy` routes a call: plain data to NumPy itself, Tensors to kedja's ops.

The rule every function of the namespace follows:

* no argument is a Tensor: NumPy's own function runs and returns what NumPy returns (plain
  arrays and scalars, exactly NumPy's values and dtypes);
* some argument is a Tensor: the kedja implementation runs on the Tensors' backend; other array
  arguments (NumPy arrays, lists, 0-d arrays) are moved onto that backend (a host -> device
  transfer where the Tensors live on a device) and keep NumPy's dtype (a list of Python floats
  is float64, as in NumPy, not kedja's float32 default); Python scalars stay Python scalars, so
  NumPy's promotion rules (NEP 50: a Python scalar never widens an array) decide the result;
* some argument is an `ArrayBox` (the NumPy-speaking Tensor the function transforms hand to a
  function of NumPy arrays): the result is an ArrayBox too, so its methods keep speaking NumPy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import backends

from ..tensor import Tensor
from .box import ArrayBox

#: NumPy, for the calls that get plain data (NumPy is the host backend's namespace).
onp: Any = backends.host().xp
_CONTAINERS = (list, tuple)


def _scan(obj: Any, found: list, depth: int = 0) -> None:
    """Appends the Tensors in `obj` (looking into lists, tuples and dicts) to `found`."""
    if isinstance(obj, Tensor):
        found.append(obj)
    elif depth < 8 and isinstance(obj, _CONTAINERS):
        for item in obj:
            _scan(item, found, depth + 1)
    elif depth < 8 and isinstance(obj, dict):
        for item in obj.values():
            _scan(item, found, depth + 1)


def tensors_in(args: tuple, kwargs: dict | None = None) -> list:
    """Every Tensor among the arguments (nested in lists, tuples and dicts too)."""
    found: list = []
    for a in args:
        if isinstance(a, Tensor):
            found.append(a)
        elif isinstance(a, (list, tuple, dict)):
            _scan(a, found)
    if kwargs:
        for a in kwargs.values():
            _scan(a, found)
    return found


def retag(out: Any, inputs: list) -> Any:
    """`out` with its Tensors made ArrayBoxes (lists and tuples of them too).

    A result that is one of the plain-Tensor inputs (an op that returned its argument) is not
    re-tagged in place, which would change the caller's object: it gets a view instead.
    """
    if isinstance(out, Tensor):
        if type(out) is ArrayBox:
            return out
        if any(out is t for t in inputs):
            out = _alias(out)
        out.__class__ = ArrayBox
        return out
    if isinstance(out, tuple):
        return type(out)(*(retag(o, inputs) for o in out)) if hasattr(out, "_fields") else \
            tuple(retag(o, inputs) for o in out)
    if isinstance(out, list):
        return [retag(o, inputs) for o in out]
    return out


def _alias(t: Tensor) -> Tensor:
    """A new Tensor object for `t`'s data, in the graph where `t` is."""
    from ..ops.layout import Reshape

    if t.requires_grad:
        return Reshape.apply(t, shape=t.array.shape)
    alias = Tensor._make(t.array, t.backend)
    alias._version = t._version
    return alias


def numpy_function(plain: Callable | None, name: str | None = None, doc: str | None = None,
                   kind: str = "differentiable") -> Callable:
    """Decorator: the kedja implementation of a NumPy function, with the routing above.

    Args:
        plain: NumPy's function, run when no argument is a Tensor (None: always the kedja
            implementation, for functions that take no arrays or handle plain data themselves).
        name: the public name (default: the implementation's).
        doc: the docstring (default: the implementation's).
        kind: what it is on Tensors, for docs/numpy.md: "differentiable", "constant" (a result
            without gradient by nature) or "forward only" (an error when asked for gradients).
    """

    def decorate(impl: Callable) -> Callable:
        @functools.wraps(impl)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            found = tensors_in(args, kwargs)
            if not found:
                if plain is not None:
                    return plain(*args, **kwargs)
                return impl(*args, **kwargs)
            out = impl(*args, **kwargs)
            if any(type(t) is ArrayBox for t in found):
                return retag(out, found)
            return out

        wrapper.__name__ = wrapper.__qualname__ = name or impl.__name__
        wrapper.__doc__ = doc or impl.__doc__
        wrapper._plain = plain  # type: ignore[attr-defined]
        wrapper._kedja = impl  # type: ignore[attr-defined]
        wrapper._kind = kind  # type: ignore[attr-defined]
        return wrapper

    return decorate


# -- operands ----------------------------------------------------------------------------------
def like_of(*args: Any) -> Tensor:
    """The first Tensor among `args` (lists and tuples searched), whose backend others join."""
    found = tensors_in(args)
    if not found:
        raise TypeError("expected at least one Tensor among the arguments")
    return found[0]


def as_tensor(x: Any, like: Tensor) -> Tensor:
    """`x` as a Tensor on `like`'s backend, with NumPy's dtype for it (not kedja's defaults).

    Tensors pass through (a Tensor on another device is an error, as everywhere in kedja).
    """
    if isinstance(x, Tensor):
        if x.backend is not like.backend:
            raise RuntimeError(
                f"autograd.numpy: tensors on different devices ({like.device} and {x.device}); "
                "move one with .to(device) first"
            )
        return x
    if isinstance(x, _CONTAINERS) and tensors_in((x,)):
        from .creation import array

        return array(x)
    backend = like.backend
    source = backends.backend_of_array(x)
    if source is not None and source is not backend and source.is_device:
        raise RuntimeError(
            f"autograd.numpy: an array on {source.device} cannot join a tensor on "
            f"{backend.device}; move it first"
        )
    if source is not None and source is not backend:
        x = source.to_numpy(x)
    return Tensor._make(backend.asarray(x), backend)


def operand(x: Any, like: Tensor) -> Any:
    """`x` for an op next to `like`: Python and NumPy scalars stay scalars (NEP 50 decides the
    dtype), everything else becomes a Tensor on like's backend."""
    if isinstance(x, Tensor):
        return as_tensor(x, like)
    if isinstance(x, (bool, int, float, complex, onp.generic)):
        return x
    return as_tensor(x, like)


def tensor_args(*args: Any) -> list:
    """All of `args` as Tensors on the backend of the first Tensor among them."""
    like = like_of(*args)
    return [as_tensor(a, like) for a in args]


def result_dtype(*operands: Any) -> Any:
    """The dtype NumPy gives an operation on `operands` (Tensors by dtype, scalars weakly)."""
    parts = [o.array.dtype if isinstance(o, Tensor) else o for o in operands]
    return onp.result_type(*parts)


def cast(x: Any, dtype: Any) -> Any:
    """`x` as `dtype` (differentiable between float types; Tensors only, scalars unchanged)."""
    from ..ops.unary import astype

    if isinstance(x, Tensor) and x.array.dtype != dtype:
        return astype(x, dtype)
    return x


def is_float_kind(x: Tensor) -> bool:
    return x.array.dtype.kind in "fc"
