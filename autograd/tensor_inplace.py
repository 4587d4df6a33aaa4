"""In-place methods (``x.add_(y, alpha=2)``, ``x.clamp_(0, 1)``, ``x.masked_fill_(m, 0)``, ...):
one mechanism gives every out-of-place method `foo` its `foo_` form.

`apply_inplace` runs the out-of-place method and puts the result into the tensor. Where autograd
records (grad mode on and an operand requires grad) the result is computed out of place and the
tensor is rebound to it: the old array stays untouched for whatever saved it, so gradients are
exact. Otherwise the result is written into the tensor's memory and its version counter bumped,
so views see the write and a saved tensor that is overwritten is caught at backward.

A method gets its ``_`` form by carrying the `inplace` decorator, or by having one of PyTorch's
in-place names (`TORCH_INPLACE`), when `install` runs on the Tensor class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backends.device_scope import scoped

from .grad_mode import state as _grad_state

# Bound by tensor.py once Tensor and the ops are loaded (they import this file's importer).
Tensor: Any = None
_lift: Any = None
_unary: Any = None
_arith: Any = None
_shape: Any = None
_indexing_torch: Any = None

#: PyTorch's out-of-place methods whose in-place ``name_`` forms exist: each gets one here as
#: soon as Tensor has the method (so an op added later gets its ``_`` form with no extra line).
TORCH_INPLACE = frozenset("""
    abs absolute acos acosh add addbmm addcdiv addcmul addmm addmv addr arccos arccosh arcsin
    arcsinh arctan arctan2 arctanh asin asinh atan atan2 atanh baddbmm bitwise_and
    bitwise_left_shift bitwise_not bitwise_or bitwise_right_shift bitwise_xor ceil clamp
    clamp_max clamp_min clip copysign cos cosh cumprod cumsum deg2rad digamma div divide eq erf
    erfc erfinv exp exp2 expm1 fix float_power floor floor_divide fmod frac gcd ge gt heaviside
    hypot i0 index_add index_copy index_fill index_put index_reduce lcm ldexp le lerp lgamma log
    log10 log1p log2 logical_and logical_not logical_or logical_xor logit lt masked_fill
    masked_scatter mul multiply mvlgamma nan_to_num ne neg negative nextafter pow put rad2deg
    reciprocal relu remainder renorm round rsqrt scatter scatter_add scatter_reduce sgn sigmoid
    sign sin sinc sinh sqrt square sub subtract tan tanh tril triu true_divide trunc xlogy
""".split())

#: Rank of a dtype kind in PyTorch's "can cast" order: a result of a higher kind cannot be
#: written into a tensor of a lower one (a float result into an int tensor, say).
_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def inplace(method: Callable) -> Callable:
    """Marks a Tensor method whose result has self's shape: Tensor gets its ``name_`` form."""
    method.has_inplace = True
    return method


def records(self: Any, args: tuple, kwargs: dict) -> bool:
    """Whether autograd records an in-place op on `self` with these operands."""
    if not _grad_state.enabled:
        return False
    if self.requires_grad:
        return True
    return any(isinstance(a, Tensor) and a.requires_grad for a in (*args, *kwargs.values()))


def check_recordable(self: Any, name: str) -> None:
    """Raises where a recorded in-place op would not mean what it means in PyTorch."""
    if self.grad_fn is None and self.requires_grad:
        raise RuntimeError(
            f"{name} on a leaf tensor that requires grad (shape {self.shape}, dtype "
            f"{self.dtype}) would change it behind autograd's back; wrap the update in "
            "`with no_grad():` or use an out-of-place operation"
        )
    node = self.grad_fn
    while node is not None and node.is_view:  # a view (of a view...) of a leaf: PyTorch refuses
        node = node.next_edges[0]
        if isinstance(node, Tensor):
            raise RuntimeError(
                f"{name} on a view of a leaf tensor that requires grad (shape {node.shape}) "
                "would change the leaf behind autograd's back; wrap the update in "
                "`with no_grad():` or use an out-of-place operation"
            )


def check_result(self: Any, result: Any, name: str) -> None:
    """The result must fit self: the same shape, and a dtype that casts to self's."""
    if tuple(result.shape) != tuple(self.array.shape):
        raise RuntimeError(
            f"{name}: the result has shape {tuple(result.shape)}, which does not fit the tensor "
            f"of shape {tuple(self.array.shape)} it would be written into (an in-place op "
            "cannot broadcast its tensor)"
        )
    if _KIND_RANK.get(result.dtype.kind, 4) > _KIND_RANK.get(self.array.dtype.kind, 4):
        raise RuntimeError(
            f"{name}: the result type {result.dtype} can't be cast to the tensor's dtype "
            f"{self.array.dtype}"
        )


def apply_inplace(self: Any, name: str, out_of_place: Callable, args: tuple,
                  kwargs: dict) -> Any:
    """``self.name(*args, **kwargs)`` put into self: rebound where recorded, else in memory."""
    if records(self, args, kwargs):
        check_recordable(self, name)
        result = out_of_place(self, *args, **kwargs)
        check_result(self, result, name)
        rebind(self, result)
        return self
    result = out_of_place(self, *args, **kwargs)
    check_result(self, result, name)
    write(self, result)
    return self


def rebind(self: Any, result: Any) -> None:
    """Makes self the (recorded) `result`, cast to self's dtype."""
    if result.dtype != self.array.dtype:
        result = _unary.astype(result, self.array.dtype)
    self._rebind(result)


def write(self: Any, result: Any, index: Any = Ellipsis) -> None:
    """Writes `result` (a Tensor, raw array or scalar) into self's memory, at `index` (all of it
    by default; PyTorch's indexing rule), and bumps its version: library code's one raw write
    into a tensor (in-place methods, ``x[i] = v``, fill_/copy_, nn.init, random fills)."""
    _put(self, index, result.array if isinstance(result, Tensor) else result)
    self._version[0] += 1


@scoped(lambda self, index, value: self._backend)  # a raw write runs on the current device
def _put(self: Any, index: Any, value: Any) -> None:
    if index is Ellipsis:
        self.array[...] = value
    else:
        _indexing_torch.setitem_raw(self, index, value)


def _make_inplace(name: str, out_of_place: Callable) -> Callable:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return apply_inplace(self, name + "_", out_of_place, args, kwargs)

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"In-place `{name}`: ``x.{name}_(...)`` puts ``x.{name}(...)`` into x."
    return method


def install(cls: type) -> None:
    """Gives `cls` a ``name_`` method for each marked or PyTorch-listed method `name` it has
    (an explicitly written ``name_`` wins)."""
    names = set(TORCH_INPLACE)
    for klass in cls.__mro__:
        names.update(n for n, f in vars(klass).items() if getattr(f, "has_inplace", False))
    for name in sorted(names):
        fn = getattr(cls, name, None)
        if callable(fn) and not hasattr(cls, name + "_"):
            setattr(cls, name + "_", _make_inplace(name, fn))


class InplaceMixin:
    """`Tensor`'s hand-written in-place methods: those with a fast in-memory path (arithmetic,
    fill, copy) or that change metadata (``t_``, ``squeeze_``, ...)."""

    __slots__ = ()

    # -- arithmetic: ``x += y`` and its named forms ---------------------------------------------
    def _inplace(self, op: Callable, ufunc: str, other: Any, name: str | None = None) -> Any:
        """``self op= other``: recorded out of place where autograd needs it, else in memory
        through the ufunc's ``out=`` (no temporary)."""
        other = _lift(other, self)
        if not (_grad_state.enabled and (
                self.requires_grad or (isinstance(other, Tensor) and other.requires_grad))):
            b = other.array if isinstance(other, Tensor) else other
            if isinstance(other, Tensor) and other._backend is not self._backend:
                from . import function as _fn

                _fn._raise_device_mismatch(op, (self, other))
            try:
                getattr(self.xp, ufunc)(self.array, b, out=self.array, casting="same_kind")
            except (TypeError, ValueError) as e:
                # A float result into an int tensor, or an operand that would enlarge self.
                raise RuntimeError(
                    f"{name or ufunc}: cannot write the result into the tensor of shape "
                    f"{self.shape} and dtype {self.dtype} in place (operand shape "
                    f"{tuple(getattr(b, 'shape', ()))}, type {getattr(b, 'dtype', type(b))}): {e}"
                ) from None
            self._version[0] += 1
            return self
        check_recordable(self, name or f"in-place {ufunc}")
        result = op(self, other)
        check_result(self, result, name or ufunc)
        rebind(self, result)
        return self

    def add_(self, other: Any, *, alpha: Any = 1) -> Any:
        """``self += alpha * other`` in place."""
        return self._inplace(_add, "add", other if alpha == 1 else _scaled(other, alpha, self),
                             "add_")

    def sub_(self, other: Any, *, alpha: Any = 1) -> Any:
        """``self -= alpha * other`` in place."""
        return self._inplace(_sub, "subtract",
                             other if alpha == 1 else _scaled(other, alpha, self), "sub_")

    subtract_ = sub_

    def mul_(self, other: Any) -> Any:
        return self._inplace(_mul, "multiply", other, "mul_")

    multiply_ = mul_

    def div_(self, other: Any, *, rounding_mode: str | None = None) -> Any:
        if rounding_mode is not None:
            return apply_inplace(self, "div_", type(self).div, (other,),
                                 {"rounding_mode": rounding_mode})
        return self._inplace(_div, "true_divide", other, "div_")

    divide_ = true_divide_ = div_

    # -- filling and copying --------------------------------------------------------------------
    def zero_(self) -> Any:
        """Fills with zeros."""
        return self.fill_(0)

    def fill_(self, value: Any) -> Any:
        """Fills with `value` (a number or a 0-d tensor, differentiable in the tensor)."""
        if isinstance(value, Tensor) and value.ndim:
            raise RuntimeError(f"fill_: the value must be a number or a 0-d tensor, got a "
                               f"tensor of shape {value.shape}")
        if not records(self, (value,), {}):
            write(self, value.array if isinstance(value, Tensor) else value)
            return self
        check_recordable(self, "fill_")
        rebind(self, _filled(self, value))
        return self

    def copy_(self, src: Any, non_blocking: bool = False) -> Any:
        """Copies `src` (broadcast to this shape, from any device) into this tensor."""
        if isinstance(src, Tensor) and src._backend is not self._backend:
            src = src.to(self._backend)
        src = _lift(src, self)
        if not records(self, (src,), {}):
            write(self, src.array if isinstance(src, Tensor) else src)
            return self
        check_recordable(self, "copy_")
        rebind(self, _filled(self, src))
        return self

    # -- metadata: the tensor becomes a view of itself in a new shape ---------------------------
    def _reshaped_(self, view: Any) -> Any:
        if _grad_state.enabled and self.requires_grad:
            check_recordable(self, "in-place view")
            self._rebind(view)
        else:
            self.array = view.array
        return self

    def t_(self) -> Any:
        return self._reshaped_(self.t())

    def transpose_(self, dim0: int, dim1: int) -> Any:
        return self._reshaped_(self.transpose(dim0, dim1))

    swapaxes_ = swapdims_ = transpose_

    def squeeze_(self, dim: Any = None) -> Any:
        return self._reshaped_(self.squeeze(dim))

    def unsqueeze_(self, dim: int) -> Any:
        return self._reshaped_(self.unsqueeze(dim))

    def detach_(self) -> Any:
        """Cuts this tensor from the graph in place: it becomes a leaf that needs no grad."""
        self.grad_fn = None
        self.requires_grad = False
        return self


def _add(a: Any, b: Any) -> Any:
    return a + b


def _sub(a: Any, b: Any) -> Any:
    return a - b


def _mul(a: Any, b: Any) -> Any:
    return a * b


def _div(a: Any, b: Any) -> Any:
    return a / b


def _scaled(other: Any, alpha: Any, like: Any) -> Any:
    return _lift(other, like) * alpha


def _filled(self: Any, value: Any) -> Any:
    """self's shape and dtype filled with `value` (broadcast), recorded: the gradient goes to
    `value` (summed over the copies), zero to self's old values, which stay in the graph (as in
    PyTorch, a zeroed tensor that required grad still does)."""
    if isinstance(value, Tensor) and value.array.dtype != self.array.dtype:
        value = _unary.astype(value, self.array.dtype)
    nowhere = Tensor._make(self.xp.zeros(self.array.shape, dtype=bool), self._backend)
    return _arith.where(nowhere, self, value)
