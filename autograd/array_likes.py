"""The NumPy-dialect `ag.` functions take what NumPy's functions take: lists, scalars, arrays.

``ag.add([1, 2], [3, 4])`` is ``tensor([4, 6])`` (int64), as ``np.add`` gives, never the list
concatenation Python's ``+`` would make of two lists. At the entry of each such function, its
array arguments that are not Tensors become Tensors the way NumPy converts them:

* next to a Tensor, a list, tuple or NumPy array becomes a Tensor on that Tensor's device with
  NumPy's dtype for it (a list of Python floats is float64, as in NumPy, not kedja's float32
  default); Python scalars stay Python scalars, so NEP 50 (a Python scalar never widens an
  array) decides the result's dtype, as it does in NumPy;
* with no Tensor among them, the data go to the default device the same way, and a call on
  Python scalars alone converts the first one (``ag.add(1, 2.5)`` is a float64 0-d Tensor, as
  ``np.add(1, 2.5)`` is float64).

A list that holds Tensors is stacked differentiably (``autograd.numpy.array``). The wrapping is
done once, when `autograd` is imported, from the parameter names of each function; a call whose
array arguments are Tensors already pays one ``isinstance`` test per argument.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any

import backends

from .tensor import Tensor

#: The parameter names under which the NumPy-dialect functions take an array.
ARRAY_PARAMETERS = frozenset({"x", "a", "b", "condition", "weights", "v", "indices"})
#: The parameter names under which they take a sequence of arrays (concatenate, stack).
SEQUENCE_PARAMETERS = frozenset({"tensors"})
_SCALARS = (bool, int, float, complex)
_TENSOR_OR_SCALAR = (Tensor, *_SCALARS)


def accept_array_likes(fn: Callable) -> Callable:
    """`fn` taking array-likes for its array parameters (see the module docstring).

    Returns `fn` itself when it has no parameter named as an array.
    """
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return fn
    positional = [p for p in parameters
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    arrays = tuple(i for i, p in enumerate(positional) if p.name in ARRAY_PARAMETERS)
    sequences = tuple(i for i, p in enumerate(positional) if p.name in SEQUENCE_PARAMETERS)
    names = frozenset(p.name for p in parameters
                      if p.name in ARRAY_PARAMETERS | SEQUENCE_PARAMETERS)
    operands_in_varargs = fn.__name__ == "einsum"
    if not (arrays or sequences or operands_in_varargs):
        return fn

    op = fn.__name__
    if operands_in_varargs:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if args and isinstance(args[0], str) and _any_plain(args[1:]) and not (
                    len(args) == 2 and isinstance(args[1], (list, tuple)) and args[1]
                    and all(isinstance(t, Tensor) for t in args[1])):  # einsum(eq, [a, b])
                args = (args[0], *_convert_all(op, args[1:]))
            return fn(*args, **kwargs)

    elif arrays == (0,) and not sequences:
        # the common shapes get a fast path: one type test per array argument
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if args and isinstance(args[0], Tensor) and (not kwargs or names.isdisjoint(kwargs)):
                return fn(*args, **kwargs)
            return fn(*_converted(op, args, kwargs, arrays, sequences, names), **kwargs)

    elif arrays == (0, 1) and not sequences:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if len(args) > 1 and (not kwargs or names.isdisjoint(kwargs)):
                a, b = args[0], args[1]
                if isinstance(a, Tensor):
                    if isinstance(b, _TENSOR_OR_SCALAR):
                        return fn(*args, **kwargs)
                elif isinstance(b, Tensor) and isinstance(a, _SCALARS):
                    return fn(*args, **kwargs)
            return fn(*_converted(op, args, kwargs, arrays, sequences, names), **kwargs)

    else:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if _all_tensors(args, kwargs, arrays, sequences, names):
                return fn(*args, **kwargs)
            return fn(*_converted(op, args, kwargs, arrays, sequences, names), **kwargs)

    functools.update_wrapper(wrapper, fn)
    return wrapper


def wrap_namespace(namespace: dict, names: Iterable[str]) -> None:
    """Replaces each function `names` in `namespace` by its array-like-accepting wrapper."""
    for name in names:
        fn = namespace.get(name)
        if callable(fn) and not isinstance(fn, type):
            namespace[name] = accept_array_likes(fn)


def _all_tensors(args: tuple, kwargs: dict, arrays: tuple, sequences: tuple,
                 names: frozenset) -> bool:
    n = len(args)
    for i in arrays:
        if i < n and not isinstance(args[i], Tensor) and args[i] is not None:
            return False
    for i in sequences:
        if i < n and not all(isinstance(t, Tensor) for t in args[i]):
            return False
    for key in names.intersection(kwargs) if kwargs else ():
        value = kwargs[key]
        if key in SEQUENCE_PARAMETERS:
            if not all(isinstance(t, Tensor) for t in value):
                return False
        elif value is not None and not isinstance(value, Tensor):
            return False
    return True


def _converted(op: str, args: tuple, kwargs: dict, arrays: tuple, sequences: tuple,
               names: frozenset) -> tuple:
    """`args` (and `kwargs`, in place) with their array-likes made Tensors, NumPy's way."""
    n = len(args)
    slots = [(args, i) for i in arrays if i < n and args[i] is not None]
    seq_slots = [i for i in sequences if i < n]
    values = [args[i] for _, i in slots]
    keyed = [k for k in names.intersection(kwargs) if kwargs[k] is not None]
    values += [kwargs[k] for k in keyed if k in ARRAY_PARAMETERS]
    for i in seq_slots:
        values += list(args[i])
    values += [t for k in keyed if k in SEQUENCE_PARAMETERS for t in kwargs[k]]
    like, source = _like(op, values)
    new_args = list(args)
    for _, i in slots:
        new_args[i] = like if args[i] is source else _operand(op, args[i], like)
    for i in seq_slots:
        new_args[i] = [like if t is source else _as_tensor(op, t, like) for t in args[i]]
    for k in keyed:
        value = kwargs[k]
        if k in SEQUENCE_PARAMETERS:
            kwargs[k] = [like if t is source else _as_tensor(op, t, like) for t in value]
        else:
            kwargs[k] = like if value is source else _operand(op, value, like)
    return tuple(new_args)


def _like(op: str, values: list) -> tuple:
    """The Tensor whose backend the others join, and the value it was made from (None if it
    is an argument): the first Tensor among `values` (or in a list among them), else the first
    array-like (the first scalar if there is none) converted onto its device or the default."""
    from .numpy.dispatch import tensors_in

    found = tensors_in(tuple(values))
    if found:
        return found[0], None
    plain = [v for v in values if not isinstance(v, _SCALARS)]
    first = plain[0] if plain else values[0]
    backend = backends.backend_of_array(first)
    if backend is None:
        backend = backends.default()
    return _make(op, first, backend), first


def _operand(op: str, value: Any, like: Tensor) -> Any:
    """`value` next to `like`: Python scalars stay scalars (weak, as in NEP 50); `like` itself
    and other Tensors pass; array-likes become Tensors on like's backend."""
    if isinstance(value, _SCALARS):
        return value
    return _as_tensor(op, value, like)


def _as_tensor(op: str, value: Any, like: Tensor) -> Tensor:
    from .numpy.dispatch import as_tensor

    if isinstance(value, Tensor):
        return as_tensor(value, like)
    try:
        return as_tensor(value, like)
    except (ValueError, TypeError) as error:
        raise TypeError(
            f"{op}: expected an array-like (a Tensor, a NumPy array, a nested list of numbers "
            f"or a number), got {type(value).__name__} ({error})"
        ) from None


def _make(op: str, value: Any, backend: backends.Backend) -> Tensor:
    """The first array-like of a call without Tensors, as a Tensor with NumPy's dtype."""
    from .numpy.dispatch import tensors_in

    if isinstance(value, (list, tuple)) and tensors_in((value,)):
        from .numpy.creation import array

        return array(value)
    source = backends.backend_of_array(value)
    if source is not None and source is not backend:
        value = source.to_numpy(value)
    try:
        return Tensor._make(backend.asarray(value), backend)
    except (ValueError, TypeError) as error:
        raise TypeError(
            f"{op}: expected an array-like (a Tensor, a NumPy array, a nested list of numbers "
            f"or a number), got {type(value).__name__} ({error})"
        ) from None


def _any_plain(values: tuple) -> bool:
    return any(not isinstance(v, Tensor) for v in values)


def _convert_all(op: str, values: tuple) -> list:
    """Every value as a Tensor (einsum's operands: scalars are 0-d arrays there)."""
    like, source = _like(op, list(values))
    return [like if v is source else _as_tensor(op, v, like) for v in values]
