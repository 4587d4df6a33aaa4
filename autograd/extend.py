"""Custom primitives the way HIPS autograd users write them::

    from autograd.extend import primitive, defvjp

    @primitive
    def logsumexp(x):                      # runs on plain arrays (the backend's: NumPy on CPU)
        m = np.max(x)
        return m + np.log(np.sum(np.exp(x - m)))

    defvjp(logsumexp, lambda ans, x: lambda g: g * np.exp(x - ans))

A `primitive` becomes a kedja op. Its body runs untraced on the plain values of its Tensor
arguments: NumPy arrays on the CPU; on a GPU, constant ArrayBoxes on the device, so that a body
written with `autograd.numpy` runs there. Its vjp makers run at backward time on the saved
inputs, the answer and the upstream gradient as ArrayBoxes (NumPy-speaking Tensors), so a vjp
written with `autograd.numpy` is itself differentiable: second derivatives work.

``defvjp(f, None, ...)`` gives an argument a zero gradient; `defvjp_argnum` and
`defvjp_argnums` take HIPS's ``maker(argnum(s), ans, args, kwargs)`` form. `defjvp` and its
friends are accepted and kept on the function but unused: kedja computes forward-mode products
from reverse mode (see `jvp`).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

from .function import Function
from .grad_mode import no_grad
from .pytree import tree_flatten, tree_unflatten
from .tensor import Tensor

__all__ = [
    "primitive", "defvjp", "defvjp_argnum", "defvjp_argnums", "defjvp", "defjvp_argnum",
    "defjvp_argnums", "def_linear", "notrace_primitive", "vspace", "VSpace", "Box",
]

#: HIPS autograd's traced value: here every traced value is a Tensor.
Box = Tensor


def _box(t: Tensor) -> Tensor:
    """`t` as an ArrayBox without changing the caller's object (a view for a foreign one)."""
    from .numpy.box import ArrayBox
    from .numpy.dispatch import _alias

    if type(t) is ArrayBox:
        return t
    t = _alias(t)
    t.__class__ = ArrayBox
    return t


class Primitive(Function):
    """One call of a `primitive`: forward runs the plain function, backward its vjp makers."""

    def forward(self, *arrays):
        args = list(self.args)
        device = self.backend.is_device
        for i, array in zip(self.positions, arrays):
            args[i] = _constant_box(array, self.backend) if device else array
        if device:
            with no_grad():
                y = self.primitive.fun(*args, **self.kwargs)
            y = y.array if isinstance(y, Tensor) else y
        else:
            y = self.primitive.fun(*args, **self.kwargs)
        if not self.backend.is_array(y):
            y = self.backend.asarray(y)
        self.save_for_backward(*arrays, y)
        return y

    def backward(self, gy):
        *inputs, ans = self.saved_tensors
        args = list(self.args)
        for i, t in zip(self.positions, inputs):
            args[i] = _box(t)
        ans, g = _box(ans), _box(gy)
        vjps = primitive_vjps.get(self.primitive, {})
        grads = []
        for k, position in enumerate(self.positions):
            if not self.needs_input_grad[k]:
                grads.append(None)
                continue
            if position in vjps:
                maker = vjps[position]
                gx = None if maker is None else maker(ans, *args, **self.kwargs)(g)
            elif self.primitive.vjp_argnum is not None:
                gx = self.primitive.vjp_argnum(position, ans, args, self.kwargs)(g)
            elif self.primitive.vjp_argnums is not None:
                gx = self.primitive.vjp_argnums(self.positions, ans, args, self.kwargs)(g)[k]
            else:
                raise NotImplementedError(
                    f"VJP of {self.primitive.__name__} wrt argnum {position} not defined "
                    "(give it with autograd.extend.defvjp)"
                )
            grads.append(_as_gradient(gx, inputs[k]))
        return tuple(grads)


def _constant_box(array: Any, backend: Any) -> Tensor:
    """A device array as a constant ArrayBox, so that `autograd.numpy` code runs on the device."""
    from .numpy.box import ArrayBox

    t = Tensor._make(array, backend)
    t.__class__ = ArrayBox
    return t


def _as_gradient(gx: Any, like: Tensor) -> Tensor | None:
    if gx is None:
        return None
    if isinstance(gx, Tensor):
        return gx
    array = like.backend.asarray(gx)
    if array.dtype != like.array.dtype:
        array = array.astype(like.array.dtype)
    return Tensor._make(array, like.backend)


#: The vjp makers of each primitive, by argument position (HIPS autograd's registry of the same
#: name: taking a primitive out of it takes its gradient away).
primitive_vjps: dict = {}


def primitive(f: Callable) -> Callable:
    """`f` (a function of arrays) as a kedja op, to be given rules with `defvjp`."""

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        if not positions:
            return f(*args, **kwargs)
        tensors = [args[i] for i in positions]
        constants = [None if isinstance(a, Tensor) else a for a in args]
        out = Primitive.apply(*tensors, primitive=wrapped, positions=positions,
                              args=constants, kwargs=kwargs)
        if any(type(t) is not Tensor for t in tensors):
            out.__class__ = type(next(t for t in tensors if type(t) is not Tensor))
        return out

    wrapped.__name__ = getattr(f, "__name__", "primitive")
    wrapped.__qualname__ = getattr(f, "__qualname__", wrapped.__name__)
    wrapped.__doc__ = f.__doc__
    wrapped.fun = f  # type: ignore[attr-defined]
    wrapped.vjps = primitive_vjps[wrapped] = {}  # type: ignore[attr-defined]
    wrapped.jvps = {}  # type: ignore[attr-defined]
    wrapped.vjp_argnum = None  # type: ignore[attr-defined]
    wrapped.vjp_argnums = None  # type: ignore[attr-defined]
    return wrapped


def defvjp(fun: Callable, *vjpmakers: Callable | None, argnums: Any = None) -> None:
    """Gives `fun` (a `primitive`) one vjp maker per argument: ``maker(ans, *args, **kwargs)``
    returns ``g -> gradient`` (None: that argument's gradient is zero)."""
    for argnum, maker in zip(count() if argnums is None else argnums, vjpmakers):
        vjps = primitive_vjps.setdefault(fun, fun.vjps)
        vjps[argnum] = _zero_maker(argnum) if maker is None else maker


def _zero_maker(argnum: int) -> Callable:
    def maker(ans: Any, *args: Any, **kwargs: Any) -> Callable:
        from . import numpy as anp

        return lambda g: anp.zeros_like(args[argnum])

    return maker


def defvjp_argnum(fun: Callable, vjpmaker: Callable) -> None:
    """One vjp maker for every argument: ``vjpmaker(argnum, ans, args, kwargs)``."""
    fun.vjp_argnum = vjpmaker


def defvjp_argnums(fun: Callable, vjpmaker: Callable) -> None:
    """One vjp maker for all arguments at once: ``vjpmaker(argnums, ans, args, kwargs)``
    returns ``g -> tuple of gradients``."""
    fun.vjp_argnums = vjpmaker


def defjvp(fun: Callable, *jvpfuns: Any, argnums: Any = None) -> None:
    """Accepted for HIPS autograd's code: kept on `fun` but unused (forward mode comes from
    reverse mode in kedja)."""
    for argnum, jvp in zip(count() if argnums is None else argnums, jvpfuns):
        fun.jvps[argnum] = jvp


def defjvp_argnum(fun: Callable, jvpmaker: Callable) -> None:
    """Accepted and unused (see `defjvp`)."""
    fun.jvp_argnum = jvpmaker


def defjvp_argnums(fun: Callable, jvpmaker: Callable) -> None:
    """Accepted and unused (see `defjvp`)."""
    fun.jvp_argnums = jvpmaker


def def_linear(fun: Callable) -> None:
    """Accepted and unused: HIPS autograd uses it for forward mode only (see `defjvp`)."""
    fun.linear = True


def notrace_primitive(f: Callable) -> Callable:
    """`f` called on the plain values of its arguments (a Tensor's host array on the CPU, its
    backend array elsewhere); its result is never differentiated."""

    def plain(*args: Any, **kwargs: Any) -> Any:
        return f(*(a.array if isinstance(a, Tensor) else a for a in args),
                 **{k: v.array if isinstance(v, Tensor) else v for k, v in kwargs.items()})

    plain.__name__ = getattr(f, "__name__", "notrace_primitive")
    plain.__doc__ = f.__doc__
    return plain


class VSpace:
    """The vector space of a value (array, Tensor, float or container of them), as HIPS
    autograd's vjp code uses it: shape, dtype, zeros, ones, randn and inner products."""

    def __init__(self, value: Any) -> None:
        from .numpy.dispatch import onp

        leaves, self._treedef = tree_flatten(value)
        self._onp = onp
        self._leaves = [self._host(x) for x in leaves]
        first = self._leaves[0] if len(self._leaves) == 1 else None
        self.shape = first.shape if first is not None else None
        self.dtype = first.dtype if first is not None else None
        # real degrees of freedom: a complex entry counts twice, as in HIPS autograd
        self.size = sum(x.size * (2 if x.dtype.kind == "c" else 1) for x in self._leaves)
        self.ndim = first.ndim if first is not None else None
        self.iscomplex = any(x.dtype.kind == "c" for x in self._leaves)

    def _host(self, x: Any) -> Any:
        if isinstance(x, Tensor):
            return x.backend.to_numpy(x.array)
        return self._onp.asarray(x)

    def _build(self, make: Callable) -> Any:
        values = [make(x) for x in self._leaves]
        values = [v[()] if v.ndim == 0 else v for v in values]
        return tree_unflatten(self._treedef, values)

    def zeros(self) -> Any:
        return self._build(self._onp.zeros_like)

    def ones(self) -> Any:
        return self._build(self._onp.ones_like)

    def randn(self) -> Any:
        return self._build(lambda x: self._onp.asarray(
            self._onp.random.randn(*x.shape)).astype(x.dtype))

    def flatten(self, value: Any) -> Any:
        leaves, _ = tree_flatten(value)
        return self._onp.concatenate([self._host(x).ravel() for x in leaves]) if leaves \
            else self._onp.zeros(0)

    def inner_prod(self, a: Any, b: Any) -> Any:
        """The real inner product of two values of this space: differentiable (a traced
        scalar inside a transform), a NumPy float on plain data."""
        from . import numpy as anp

        leaves_a, _ = tree_flatten(a)
        leaves_b, _ = tree_flatten(b)
        total: Any = 0.0
        for x, y in zip(leaves_a, leaves_b):
            total = total + anp.real(anp.vdot(x, y))
        return total

    def standard_basis(self) -> Any:
        """The unit vectors of the space, one per real degree of freedom (an imaginary unit
        too for each complex entry), as values of its structure."""
        for i, leaf in enumerate(self._leaves):
            units = (1.0, 1.0j) if leaf.dtype.kind == "c" else (1.0,)
            for index in self._onp.ndindex(*leaf.shape):
                for unit in units:
                    values = [self._onp.zeros_like(x) for x in self._leaves]
                    values[i][index] = unit
                    values = [v[()] if v.ndim == 0 else v for v in values]
                    yield tree_unflatten(self._treedef, values)

    def add(self, a: Any, b: Any) -> Any:
        return _tree_zip(lambda x, y: x + y, a, b)

    def scalar_mul(self, a: Any, c: float) -> Any:
        return _tree_zip(lambda x, _: x * c, a, a)

    def covector(self, a: Any) -> Any:
        return a

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VSpace) and [(x.shape, x.dtype) for x in self._leaves] == [
            (x.shape, x.dtype) for x in other._leaves]

    def __repr__(self) -> str:
        return f"VSpace({[(x.shape, str(x.dtype)) for x in self._leaves]})"


def _tree_zip(fn: Callable, a: Any, b: Any) -> Any:
    leaves_a, treedef = tree_flatten(a)
    leaves_b, _ = tree_flatten(b)
    return tree_unflatten(treedef, [fn(x, y) for x, y in zip(leaves_a, leaves_b)])


def vspace(value: Any) -> VSpace:
    """The `VSpace` of `value`."""
    return VSpace(value)
