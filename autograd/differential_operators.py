"""HIPS autograd's differential operators, on kedja's transforms.

`grad`, `value_and_grad`, `jacobian` and `hessian` are the ones of `autograd.functional`
(they take HIPS's ``argnum`` too); this module adds the rest of HIPS autograd's API with its
names, signatures and return conventions: ``make_vjp(f)(x) -> (vjp, ans)``, ``make_jvp(f)(x)(v)
-> (ans, jvp)``, `elementwise_grad`, `deriv`, `hessian_tensor_product`, `make_hvp`,
`make_ggnvp`, `tensor_jacobian_product`, `grad_and_aux`, `grad_named`, `multigrad_dict`,
`holomorphic_grad` and `checkpoint`. Arguments may be Tensors, NumPy arrays, floats, or nested
lists, tuples and dicts of them; results come back in the same type and structure.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from .functional import grad, hessian, jacobian, jvp, value_and_grad, vjp
from .pytree import tree_flatten, tree_map
from .tensor import Tensor
from .transform_io import _named

__all__ = [
    "grad", "value_and_grad", "jacobian", "hessian", "make_vjp", "make_jvp", "elementwise_grad",
    "deriv", "hessian_tensor_product", "hessian_vector_product", "make_hvp", "make_ggnvp",
    "tensor_jacobian_product", "vector_jacobian_product", "grad_and_aux", "grad_named",
    "multigrad_dict", "holomorphic_grad", "checkpoint",
]


def _at(args: tuple, argnum: Any) -> tuple:
    """The function of the differentiated argument(s) alone, for a unary transform."""
    if isinstance(argnum, int):
        return (args[argnum],), (argnum,), True
    return tuple(args[i] for i in argnum), tuple(argnum), False


def _unary(f: Callable, args: tuple, kwargs: dict, argnum: Any) -> tuple:
    """``(g, x)``: `f` as a function of its differentiated argument(s) alone, and their value
    (a tuple of values for a tuple `argnum`, as HIPS autograd does)."""
    values, nums, single = _at(args, argnum)

    def g(x: Any) -> Any:
        new = list(args)
        for i, value in zip(nums, (x,) if single else x):
            new[i] = value
        return f(*new, **kwargs)

    return g, (values[0] if single else values)


def make_vjp(f: Callable, argnum: Any = 0) -> Callable:
    """``make_vjp(f)(*args) -> (vjp, ans)``: ``vjp(g)`` is ``g^T d ans / d args[argnum]``."""

    def vjp_maker(*args: Any, **kwargs: Any) -> tuple:
        g, x = _unary(f, args, kwargs, argnum)
        ans, pull = vjp(g, x)
        return (lambda cotangent: pull(cotangent)[0]), ans

    return _named(vjp_maker, f, "make_vjp")


def make_jvp(f: Callable, argnum: Any = 0) -> Callable:
    """``make_jvp(f)(*args)(v) -> (ans, J v)``, by two reverse passes (see `jvp`)."""

    def jvp_maker(*args: Any, **kwargs: Any) -> Callable:
        g, x = _unary(f, args, kwargs, argnum)
        return lambda v: jvp(g, (x,), (v,))

    return _named(jvp_maker, f, "make_jvp")


def elementwise_grad(f: Callable, argnum: Any = 0) -> Callable:
    """The sum of each column of the Jacobian (the derivative itself for an elementwise `f`),
    in one backward pass: the vjp with ones."""

    def elementwise_grad_f(*args: Any, **kwargs: Any) -> Any:
        g, x = _unary(f, args, kwargs, argnum)
        ans, pull = vjp(g, x)
        if _is_complex(ans):
            raise TypeError("elementwise_grad only applies to real-output functions.")
        return pull(tree_map(_ones_like, ans))[0]

    return _named(elementwise_grad_f, f, "elementwise_grad")


def deriv(f: Callable, argnum: Any = 0) -> Callable:
    """The Jacobian-vector product with ones (the derivative of a function of a scalar)."""

    def deriv_f(*args: Any, **kwargs: Any) -> Any:
        g, x = _unary(f, args, kwargs, argnum)
        return jvp(g, (x,), (tree_map(_ones_like, x),))[1]

    return _named(deriv_f, f, "deriv")


def holomorphic_grad(f: Callable, argnum: Any = 0) -> Callable:
    """HIPS autograd's gradient of a holomorphic function: kedja refuses complex gradients, so
    this is `grad` for real arguments and a clear TypeError for complex ones."""
    real_grad = grad(f, argnum)

    def holomorphic_grad_f(*args: Any, **kwargs: Any) -> Any:
        values, _, _ = _at(args, argnum)
        if any(_is_complex(v) for v in values):
            raise TypeError(
                "holomorphic_grad: complex gradients are not supported in kedja; the argument "
                "is complex"
            )
        return real_grad(*args, **kwargs)

    return _named(holomorphic_grad_f, f, "holomorphic_grad")


def grad_and_aux(f: Callable, argnum: Any = 0) -> Callable:
    """The gradient of the first output of ``f -> (value, aux)``; returns ``(grad, aux)``."""
    return grad(f, argnum, has_aux=True)


def grad_named(f: Callable, argname: str) -> Callable:
    """The gradient with respect to the argument named `argname`."""
    names = list(inspect.signature(f).parameters)
    return grad(f, names.index(argname))


def hessian_tensor_product(f: Callable, argnum: Any = 0) -> Callable:
    """``H v`` as a function of ``(*args, v)``: the gradient of ``<grad f, v>``."""
    from . import numpy as anp

    df = grad(f, argnum)

    def vector_dot_grad(*args: Any, **kwargs: Any) -> Any:
        args, vector = args[:-1], args[-1]
        return anp.sum(df(*args, **kwargs) * vector)

    return grad(vector_dot_grad, argnum)


hessian_vector_product = hessian_tensor_product


def tensor_jacobian_product(f: Callable, argnum: Any = 0) -> Callable:
    """``v . J`` as a function of ``(*args, v)``: `v` contracted with the leading axes of f's
    Jacobian (those of f's output it covers), as ``tensordot(v, J, v.ndim)``."""
    from . import numpy as anp

    def vector_dot_fun(*args: Any, **kwargs: Any) -> Any:
        args, vector = args[:-1], args[-1]
        out = f(*args, **kwargs)
        lead = anp.ndim(vector)
        shape = anp.shape(out)
        flat = anp.reshape(out, (int(anp.size(vector)), -1))
        picked = anp.matmul(anp.reshape(vector, (1, -1)), flat)
        return anp.reshape(picked, shape[lead:])

    return jacobian(vector_dot_fun, argnum)


vector_jacobian_product = tensor_jacobian_product


def make_hvp(f: Callable, argnum: Any = 0) -> Callable:
    """``make_hvp(f)(*args) -> (hvp, grad)``: ``hvp(v)`` is the Hessian of `f` times `v`."""

    def hvp_maker(*args: Any, **kwargs: Any) -> tuple:
        g, x = _unary(f, args, kwargs, argnum)
        ans, pull = vjp(grad(g), x)
        return (lambda v: pull(v)[0]), ans

    return _named(hvp_maker, f, "make_hvp")


def make_ggnvp(f: Callable, g: Callable | None = None, f_argnum: int = 0) -> Callable:
    """The generalized Gauss-Newton product ``J_f^T H_g J_f v`` (for ``g(f(x))``; g defaults
    to half the squared norm over the last axis): ``make_ggnvp(f, g)(*args)(v)``."""
    from . import numpy as anp

    if g is None:
        def g(y: Any) -> Any:
            return 0.5 * anp.sum(y**2, axis=-1)

    def ggnvp_maker(*args: Any, **kwargs: Any) -> Callable:
        fx_of, x = _unary(f, args, kwargs, f_argnum)
        f_x, f_pull = vjp(fx_of, x)
        _, g_pull = vjp(grad(lambda y: anp.sum(g(y))), f_x)

        def ggnvp(v: Any) -> Any:
            jv = jvp(fx_of, (x,), (v,))[1]
            return f_pull(g_pull(jv)[0])[0]

        return ggnvp

    return _named(ggnvp_maker, f, "make_ggnvp")


def multigrad_dict(f: Callable) -> Callable:
    """Gradients with respect to all arguments at once, as an ordered dict by argument name."""
    signature = inspect.signature(f)

    def multigrad_f(*args: Any, **kwargs: Any) -> OrderedDict:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        named = OrderedDict(bound.arguments)

        def of_dict(values: dict) -> Any:
            call = signature.bind_partial()
            call.arguments.update(values)
            return f(*call.args, **call.kwargs)

        grads = grad(of_dict)(dict(named))
        return OrderedDict((name, grads[name]) for name in named)

    return _named(multigrad_f, f, "multigrad_dict")


def checkpoint(f: Callable) -> Callable:
    """`f` recomputed in the backward pass instead of keeping its intermediate values (less
    memory, one more forward; see `autograd.checkpointing`)."""
    from .checkpointing import checkpoint as _checkpoint

    return _checkpoint(f)


def _is_complex(value: Any) -> bool:
    leaves, _ = tree_flatten(value)
    for leaf in leaves:
        dtype = getattr(leaf, "dtype", None)
        if (dtype is not None and dtype.kind == "c") or isinstance(leaf, complex):
            return True
    return False


def _ones_like(x: Any) -> Any:
    if isinstance(x, Tensor):
        return Tensor._make(x.xp.ones(x.array.shape, dtype=x.array.dtype), x.backend)
    from .numpy.dispatch import onp

    return onp.ones_like(x)

