"""Building blocks for `autograd.numpy`'s wrappers: ufunc keyword handling, NumPy functions run
on Tensors' raw arrays (for results that carry no gradient), and the error for a function that
cannot be differentiated.
"""

from __future__ import annotations

from typing import Any

from ..grad_mode import is_grad_enabled
from ..tensor import Tensor
from .dispatch import as_tensor, like_of, onp, tensors_in


def check_out(name: str, out: Any = None) -> None:
    """Refuses ``out=``: kedja computes out of place, so that autograd can record the result."""
    if out is not None:
        raise TypeError(
            f"autograd.numpy.{name}: out= is not supported on Tensors (results are new "
            "tensors, so that autograd can record them); assign the result instead"
        )


def ufunc_options(name: str, kwargs: dict) -> Any:
    """The ``dtype=`` of a ufunc call (None if not given); refuses out=, where= and the rest."""
    dtype = kwargs.pop("dtype", None)
    check_out(name, kwargs.pop("out", None))
    where = kwargs.pop("where", True)
    if where is not True:
        raise TypeError(f"autograd.numpy.{name}: where= is not supported on Tensors; use "
                        "np.where on the result")
    kwargs.pop("casting", None)
    kwargs.pop("order", None)
    kwargs.pop("subok", None)
    if kwargs:
        raise TypeError(f"autograd.numpy.{name}: unexpected keyword arguments {sorted(kwargs)}")
    return dtype


def _raw(x: Any, like: Tensor) -> Any:
    """`x` as something the backend's functions take: arrays for Tensors, arrays, lists."""
    if isinstance(x, Tensor):
        return as_tensor(x, like).array
    if isinstance(x, (list, tuple)):
        if tensors_in((x,)):
            return [_raw(item, like) for item in x]
        return like.backend.asarray(x) if x and not isinstance(x[0], (str, slice)) else x
    if hasattr(x, "__array__") and hasattr(x, "dtype") and not isinstance(x, onp.generic):
        return like.backend.asarray(x)
    return x


def wrap_result(r: Any, like: Tensor) -> Any:
    """A backend function's result as Tensors (outside the graph); scalars and tuples kept."""
    backend = like.backend
    if backend.is_array(r):
        return Tensor._make(r, backend)
    if isinstance(r, onp.generic):  # NumPy's scalar result: a 0-d Tensor, as for arrays
        return Tensor._make(backend.asarray(r), backend)
    if isinstance(r, tuple):
        return type(r)(*(wrap_result(x, like) for x in r)) if hasattr(r, "_fields") else \
            tuple(wrap_result(x, like) for x in r)
    if isinstance(r, list):
        return [wrap_result(x, like) for x in r]
    return r


def constant_call(name: str, args: tuple, kwargs: dict, module: str = "") -> Any:
    """NumPy's `name` on the Tensors' backend arrays; the result carries no gradient.

    For functions whose result does not depend differentiably on the inputs (comparisons,
    indices, counts, piecewise-constant values) and for any function called on Tensors that
    do not require grad.
    """
    like = like_of(*args, *kwargs.values())
    xp = like.xp
    for part in module.split(".") if module else ():
        xp = getattr(xp, part)
    fn = getattr(xp, name, None)
    if fn is None:
        raise TypeError(f"autograd.numpy.{name}: the {like.backend.name} backend has no "
                        f"{name}, so it cannot run on a tensor on {like.device}")
    raw_args = [_raw(a, like) for a in args]
    raw_kwargs = {k: _raw(v, like) for k, v in kwargs.items()}
    with like.backend.device_scope():
        return wrap_result(fn(*raw_args, **raw_kwargs), like)


def forward_only(name: str, args: tuple, kwargs: dict, module: str = "") -> Any:
    """NumPy's `name` on Tensors that need no gradient; a clear error for those that do."""
    found = tensors_in(args, kwargs)
    if is_grad_enabled() and any(t.requires_grad for t in found):
        where = f"autograd.numpy.{module + '.' if module else ''}{name}"
        raise TypeError(
            f"{where} is not differentiable in kedja: it was called on a tensor that requires "
            "grad (shapes " + ", ".join(str(t.shape) for t in found) + "). It runs on tensors "
            "outside differentiation (under no_grad or on constants); see docs/numpy.md for the "
            "functions that are differentiable"
        )
    return constant_call(name, args, kwargs, module)


def plain_numpy(name: str) -> Any:
    return getattr(onp, name)
