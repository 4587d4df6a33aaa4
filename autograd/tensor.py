"""`Tensor`: a backend array plus what backward needs (its producing op, its gradient).

Dtype rules (NumPy's, with one default): data made from Python floats are float32; float64 arrays
stay float64; mixing float32 and float64 tensors gives float64; Python scalars never upcast a
tensor (``float32_tensor * 2.0`` is float32). Gradients have the dtype and shape of their tensor.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Iterator

import backends

from .grad_mode import state as _grad_state

_SCALARS = (int, float, bool)
# Operand types that arithmetic passes to ops as they are (checked by exact type: fast).
_PASS: set = {int, float}


def _default_backend() -> backends.Backend:
    return backends.default()


class Tensor:
    """An n-dimensional array that records the operations applied to it for backward.

    Args:
        data: nested lists, a scalar, a host array or a backend array.
        requires_grad: whether to accumulate a gradient in ``.grad`` on backward.
        dtype: element type (default float32 for Python floats; arrays keep theirs).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ... (default: the default backend).
    """

    __slots__ = (
        "data",
        "grad",
        "requires_grad",
        "grad_fn",
        "_backend",
        "_version",
        "_hooks",
        "__weakref__",
    )
    __array_priority__ = 1000  # so ndarray + Tensor defers to Tensor.__radd__

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        dtype: Any = None,
        device: Any = None,
    ) -> None:
        if isinstance(data, Tensor):
            data = data.data
        backend = backends.get(device) if device is not None else None
        if backend is None:
            # Device arrays stay where they are; host data (lists, NumPy arrays) go to the
            # default device, as the docstring promises.
            backend = _backend_of(data)
            if backend is None or not backend.is_device:
                backend = _default_backend()
        array = _to_array(data, backend, dtype)
        self.data = array
        self.grad = None
        self.grad_fn = None
        self._backend = backend
        self._version = [0]
        self._hooks = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data: Any, backend: backends.Backend) -> Tensor:
        """Wraps a backend array without checks (the fast path ops use)."""
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t.grad_fn = None
        t.requires_grad = False
        t._backend = backend
        t._version = [0]
        t._hooks = None
        return t

    # -- properties ---------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return int(self.data.size)

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def device(self) -> str:
        return self._backend.device

    @property
    def backend(self) -> backends.Backend:
        return self._backend

    @property
    def xp(self) -> Any:
        """The array namespace of this tensor's backend (``numpy`` or ``cupy``)."""
        return self._backend.xp

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:
        """The tensor with its axes reversed (NumPy's ``.T``)."""
        return _shape.transpose(self)

    @property
    def mT(self) -> Tensor:
        """The last two axes swapped (a batch of matrices transposed)."""
        return _shape.swapaxes(self, -1, -2)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    __hash__ = object.__hash__

    # -- conversion ---------------------------------------------------------------------------
    def numpy(self) -> Any:
        """The data as a host NumPy array (a copy from the device; the same array on the CPU)."""
        return self._backend.to_numpy(self.data)

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item(): only a tensor with one element can be converted to a Python scalar, "
                f"got a tensor of shape {self.shape}"
            )
        return self._backend.to_numpy(self.data).reshape(()).item()

    def tolist(self) -> Any:
        """The data as (nested) Python lists."""
        return self._backend.to_numpy(self.data).tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        if self._backend.is_device:
            raise TypeError(
                f"Tensor on {self.device} cannot be converted to a host array implicitly; "
                "call .cpu() or .numpy() explicitly"
            )
        return self.data if dtype is None else self.data.astype(dtype)

    def __dlpack__(self, *, stream: Any = None, max_version: Any = None, dl_device: Any = None,
                   copy: Any = None) -> Any:
        """Exports the data zero-copy through DLPack (to NumPy, CuPy, PyTorch, JAX...)."""
        if self.requires_grad:
            raise RuntimeError(
                "__dlpack__: cannot export a tensor that requires grad (the receiver would "
                "bypass autograd); call .detach() first"
            )
        options = {"stream": stream, "max_version": max_version, "dl_device": dl_device,
                   "copy": copy}
        return self._backend.to_dlpack(
            self.data, **{k: v for k, v in options.items() if v is not None}
        )

    def __dlpack_device__(self) -> tuple:
        return self._backend.dlpack_device(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"bool(): the truth value of a tensor with {self.data.size} elements is "
                "ambiguous; use .any() or .all()"
            )
        return bool(self.item())

    def __index__(self) -> int:
        return int(self.item())

    # -- autograd -----------------------------------------------------------------------------
    def detach(self) -> Tensor:
        """A tensor sharing this data but cut from the graph."""
        t = Tensor._make(self.data, self._backend)
        t._version = self._version
        return t

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Sets `requires_grad` on a leaf in place; returns self."""
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError(
                "requires_grad_(False): only leaf tensors can stop requiring grad; use .detach()"
            )
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError(
                f"requires_grad_: only floating point tensors can require gradients, "
                f"got dtype {self.data.dtype}"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keeps ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if self.grad_fn is None:
            if not self.requires_grad:
                raise RuntimeError("retain_grad(): the tensor does not require grad")
            return
        self.grad_fn._retained = _weak(self)
        self.grad_fn._observed = True

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Callable[[], None]:
        """Calls ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a function that removes the hook."""
        if not self.requires_grad:
            raise RuntimeError("register_hook(): cannot register a hook on a tensor that "
                               "does not require grad")
        owner = self.grad_fn if self.grad_fn is not None else self
        if owner._hooks is None:
            owner._hooks = []
        owner._hooks.append(hook)
        if owner is not self:
            owner._observed = True  # the engine looks at a node's hooks only when this is set

        def remove() -> None:
            if owner._hooks and hook in owner._hooks:
                owner._hooks.remove(hook)

        return remove

    def backward(
        self,
        grad: Tensor | None = None,
        retain_graph: bool = False,
        create_graph: bool = False,
    ) -> None:
        """Accumulates d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        Args:
            grad: the upstream gradient; may be omitted only for a one-element tensor.
            retain_graph: keep saved arrays so that backward can run through the graph again.
            create_graph: record the backward pass, for gradients of gradients.
        """
        from .engine import run_backward

        run_backward([self], [grad], retain_graph=retain_graph, create_graph=create_graph)

    def clone(self) -> Tensor:
        """A copy with its own memory that stays in the graph."""
        return _unary.clone(self)

    # -- devices ------------------------------------------------------------------------------
    def to(self, device: Any = None, dtype: Any = None) -> Tensor:
        """This tensor on `device` and/or as `dtype` (differentiable; self if nothing changes)."""
        out = self
        if device is not None and backends.get(device) is not self._backend:
            out = _unary.to_device(out, backends.get(device))
        if dtype is not None:
            out = out.astype(dtype)
        return out

    def cpu(self) -> Tensor:
        """This tensor on the host."""
        return self.to("cpu")

    def cuda(self, index: int = 0) -> Tensor:
        """This tensor on CUDA device `index`."""
        return self.to(f"cuda:{index}")

    # -- representation -----------------------------------------------------------------------
    def __repr__(self) -> str:
        body = repr(self._backend.to_numpy(self.data))
        body = body[body.index("(") + 1 : body.rindex(")")] if body.startswith("array") else body
        extras = [f"dtype={self.dtype}", f"device={self.device}"]
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        body = body.split(", dtype=")[0].replace("\n", "\n ")  # "tensor(" is one wider
        return f"tensor({body}, {', '.join(extras)})"

    # -- arithmetic ---------------------------------------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return _arith.Add.apply(self, (other if other.__class__ in _PASS else _lift(other, self)))

    def __radd__(self, other: Any) -> Tensor:
        return _arith.Add.apply((other if other.__class__ in _PASS else _lift(other, self)), self)

    def __sub__(self, other: Any) -> Tensor:
        return _arith.Sub.apply(self, (other if other.__class__ in _PASS else _lift(other, self)))

    def __rsub__(self, other: Any) -> Tensor:
        return _arith.Sub.apply((other if other.__class__ in _PASS else _lift(other, self)), self)

    def __mul__(self, other: Any) -> Tensor:
        return _arith.Mul.apply(self, (other if other.__class__ in _PASS else _lift(other, self)))

    def __rmul__(self, other: Any) -> Tensor:
        return _arith.Mul.apply((other if other.__class__ in _PASS else _lift(other, self)), self)

    def __truediv__(self, other: Any) -> Tensor:
        return _arith.Div.apply(self, (other if other.__class__ in _PASS else _lift(other, self)))

    def __rtruediv__(self, other: Any) -> Tensor:
        return _arith.Div.apply((other if other.__class__ in _PASS else _lift(other, self)), self)

    def __pow__(self, other: Any) -> Tensor:
        return _arith.pow(self, (other if other.__class__ in _PASS else _lift(other, self)))

    def __rpow__(self, other: Any) -> Tensor:
        return _arith.pow((other if other.__class__ in _PASS else _lift(other, self)), self)

    def __matmul__(self, other: Any) -> Tensor:
        return _linalg.matmul(self, _lift(other, self, scalar_ok=False))

    def __rmatmul__(self, other: Any) -> Tensor:
        return _linalg.matmul(_lift(other, self, scalar_ok=False), self)

    def __neg__(self) -> Tensor:
        return _arith.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _unary.abs(self)

    # -- comparisons: plain results, never differentiable ---------------------------------------
    def _compare(self, other: Any, op: str) -> Tensor:
        other = _lift(other, self)
        b = other.data if isinstance(other, Tensor) else other
        if isinstance(other, Tensor) and other._backend is not self._backend:
            raise RuntimeError(
                f"{op}: tensors on different devices ({self.device} and {other.device})"
            )
        return Tensor._make(self._backend.asarray(getattr(self.data, op)(b)), self._backend)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, "__eq__")

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, "__ne__")

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, "__lt__")

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, "__le__")

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, "__gt__")

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, "__ge__")

    def eq(self, other: Any) -> Tensor:
        return self.__eq__(other)

    def ne(self, other: Any) -> Tensor:
        return self.__ne__(other)

    def lt(self, other: Any) -> Tensor:
        return self.__lt__(other)

    def le(self, other: Any) -> Tensor:
        return self.__le__(other)

    def gt(self, other: Any) -> Tensor:
        return self.__gt__(other)

    def ge(self, other: Any) -> Tensor:
        return self.__ge__(other)

    def any(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return Tensor._make(self._backend.asarray(self.data.any(axis=axis, keepdims=keepdims)),
                            self._backend)

    def all(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return Tensor._make(self._backend.asarray(self.data.all(axis=axis, keepdims=keepdims)),
                            self._backend)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return _reduction.argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return _reduction.argmin(self, axis=axis, keepdims=keepdims)

    # -- in place -----------------------------------------------------------------------------
    def _inplace(self, op: Callable[..., Tensor], ufunc: str, other: Any) -> Tensor:
        """``self op= other``: recorded out of place where autograd needs it, else in memory."""
        other = _lift(other, self)
        recorded = _grad_state.enabled and (
            self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)
        )
        if not recorded:
            b = other.data if isinstance(other, Tensor) else other
            if isinstance(other, Tensor) and other._backend is not self._backend:
                _fn._raise_device_mismatch(op, (self, other))
            getattr(self.xp, ufunc)(self.data, b, out=self.data, casting="same_kind")
            self._version[0] += 1
            return self
        if self.grad_fn is None and self.requires_grad:
            raise RuntimeError(
                f"in-place {ufunc} on a leaf tensor that requires grad (shape {self.shape}, "
                f"dtype {self.dtype}) would change it behind autograd's back; wrap the update "
                "in `with no_grad():` or use an out-of-place operation"
            )
        result = op(self, other)
        if result.dtype != self.dtype:
            result = result.astype(self.dtype)
        self._rebind(result)
        return self

    def _rebind(self, result: Tensor) -> None:
        # The old array stays untouched for whatever saved it, so no version bump is needed.
        # The new array gets the result's counter: the old one belongs to the old array and
        # its views, whose later writes must not be blamed on this tensor (and vice versa).
        self.data = result.data
        self.grad_fn = result.grad_fn
        self.requires_grad = result.requires_grad
        self._version = result._version

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace(Tensor.__add__, "add", other)

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace(Tensor.__sub__, "subtract", other)

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace(Tensor.__mul__, "multiply", other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace(Tensor.__truediv__, "true_divide", other)

    def __ipow__(self, other: Any) -> Tensor:
        return self._inplace(Tensor.__pow__, "power", other)

    def __getitem__(self, index: Any) -> Tensor:
        return _indexing.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        value = _lift(value, self)
        recorded = _grad_state.enabled and (
            self.requires_grad or (isinstance(value, Tensor) and value.requires_grad)
        )
        if not recorded:
            self.data[_indexing.raw_index(index)] = (
                value.data if isinstance(value, Tensor) else value
            )
            self._version[0] += 1
            return
        if self.grad_fn is None and self.requires_grad:
            raise RuntimeError(
                f"__setitem__ on a leaf tensor that requires grad (shape {self.shape}) would "
                "change it behind autograd's back; wrap it in `with no_grad():` or build a new "
                "tensor (e.g. with where)"
            )
        self._rebind(_indexing.setitem(self, index, value))

    def zero_(self) -> Tensor:
        """Fills with zeros in place (not recorded)."""
        self.data[...] = 0
        self._version[0] += 1
        return self

    def fill_(self, value: float) -> Tensor:
        """Fills with `value` in place (not recorded)."""
        self.data[...] = value
        self._version[0] += 1
        return self

    def copy_(self, src: Any) -> Tensor:
        """Copies `src` into this tensor's memory in place (not recorded)."""
        src = _lift(src, self)
        self.data[...] = src.data if isinstance(src, Tensor) else src
        self._version[0] += 1
        return self

    # -- methods forwarding to ops (NumPy names, PyTorch aliases) --------------------------------
    def astype(self, dtype: Any) -> Tensor:
        return _unary.astype(self, dtype)

    def float(self) -> Tensor:
        return _unary.astype(self, "float32")

    def double(self) -> Tensor:
        return _unary.astype(self, "float64")

    def long(self) -> Tensor:
        return _unary.astype(self, "int64")

    def exp(self) -> Tensor:
        return _unary.exp(self)

    def log(self) -> Tensor:
        return _unary.log(self)

    def log1p(self) -> Tensor:
        return _unary.log1p(self)

    def expm1(self) -> Tensor:
        return _unary.expm1(self)

    def sqrt(self) -> Tensor:
        return _unary.sqrt(self)

    def sin(self) -> Tensor:
        return _unary.sin(self)

    def cos(self) -> Tensor:
        return _unary.cos(self)

    def tanh(self) -> Tensor:
        return _unary.tanh(self)

    def square(self) -> Tensor:
        return _unary.square(self)

    def sign(self) -> Tensor:
        return _unary.sign(self)

    def erf(self) -> Tensor:
        return _unary.erf(self)

    def sigmoid(self) -> Tensor:
        return _activation.sigmoid(self)

    def relu(self) -> Tensor:
        return _activation.relu(self)

    def abs(self) -> Tensor:
        return _unary.abs(self)

    def neg(self) -> Tensor:
        return _arith.Neg.apply(self)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - NumPy's names
        return _unary.clip(self, min, max)

    clamp = clip

    def pow(self, exponent: Any) -> Tensor:
        return self.__pow__(exponent)

    def matmul(self, other: Any) -> Tensor:
        return self.__matmul__(other)

    def maximum(self, other: Any) -> Tensor:
        return _arith.maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        return _arith.minimum(self, other)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _reduction.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _reduction.mean(self, axis=axis, keepdims=keepdims)

    def var(self, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        return _reduction.var(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def std(self, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        return _reduction.std(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def prod(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _reduction.prod(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _reduction.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _reduction.min(self, axis=axis, keepdims=keepdims)

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _reduction.logsumexp(self, axis=axis, keepdims=keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        return _reduction.softmax(self, axis=axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return _reduction.log_softmax(self, axis=axis)

    def reshape(self, *shape: Any) -> Tensor:
        return _shape.reshape(self, *shape)

    view = reshape

    def transpose(self, *axes: Any) -> Tensor:
        return _shape.transpose(self, *axes)

    def permute(self, *axes: Any) -> Tensor:
        return _shape.transpose(self, *axes)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        return _shape.swapaxes(self, axis1, axis2)

    def squeeze(self, axis: Any = None) -> Tensor:
        return _shape.squeeze(self, axis)

    def expand_dims(self, axis: Any) -> Tensor:
        return _shape.expand_dims(self, axis)

    unsqueeze = expand_dims

    def broadcast_to(self, shape: Any) -> Tensor:
        return _shape.broadcast_to(self, shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return _shape.flatten(self, start_dim, end_dim)

    def flip(self, axis: Any = None) -> Tensor:
        return _shape.flip(self, axis)

    def repeat(self, repeats: Any, axis: int | None = None) -> Tensor:
        return _shape.repeat(self, repeats, axis)

    def tile(self, reps: Any) -> Tensor:
        return _shape.tile(self, reps)

    def split(self, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
        return _shape.split(self, indices_or_sections, axis)

    def take_along_axis(self, indices: Any, axis: int) -> Tensor:
        return _indexing.take_along_axis(self, indices, axis)


def _weak(t: Tensor) -> Any:
    import weakref

    return weakref.ref(t)


def _backend_of(data: Any) -> backends.Backend | None:
    """The backend whose array type `data` is, if any (lists and scalars have none)."""
    return backends.backend_of_array(data)


def _to_array(data: Any, backend: backends.Backend, dtype: Any) -> Any:
    source_backend = backends.backend_of_array(data)
    if source_backend is not None and source_backend is not backend:
        data = source_backend.to_numpy(data)
    is_array = hasattr(data, "dtype") and hasattr(data, "shape")
    array = backend.asarray(data, dtype=dtype)
    if dtype is None and not is_array and array.dtype == backends.dtype_of("float64"):
        array = array.astype("float32")  # Python floats default to float32
    return array


def _lift(other: Any, like: Tensor, scalar_ok: bool = True) -> Any:
    """Makes `other` an operand for an op with `like`: Tensors and Python scalars pass through."""
    if isinstance(other, Tensor):
        return other
    if scalar_ok and isinstance(other, _SCALARS):
        return other
    backend = like._backend
    source = backends.backend_of_array(other)
    if source is not None and source is not backend:
        raise RuntimeError(
            f"cannot combine a tensor on {like.device} with an array from {source.device}; "
            "move one of them first"
        )
    array = backend.asarray(other)
    if source is None and not hasattr(other, "dtype") and array.dtype.kind == "f":
        array = array.astype(like.data.dtype if like.data.dtype.kind == "f" else "float32")
    return Tensor._make(array, backend)


_PASS.add(Tensor)

from . import function as _fn  # noqa: E402  (ops need Tensor defined first)
from .ops import activation as _activation  # noqa: E402
from .ops import arithmetic as _arith  # noqa: E402
from .ops import indexing as _indexing  # noqa: E402
from .ops import linalg as _linalg  # noqa: E402
from .ops import reduction as _reduction  # noqa: E402
from .ops import shape as _shape  # noqa: E402
from .ops import unary as _unary  # noqa: E402
