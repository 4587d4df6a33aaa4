"""`Tensor`: a backend array plus what backward needs (its producing op, its gradient).

Dtype rules: data made from Python floats get the default dtype (float32; see dtypes.py);
arrays keep theirs. Tensor's operators and methods promote as PyTorch does (promotion.py: a float32
tensor times a float64 vector is float64, times a Python float float32, ``int / int`` float32);
the `autograd` functions as NumPy does. Gradients have the dtype and shape of their tensor.

The methods that only forward to ops, and the conversions, live in Tensor's base classes (cold
code kept out of this file): tensor_math.py, tensor_shape.py (with indexing), tensor_conversion.py.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

import backends

from . import tensor_base as _tensor_base
from ._native import core as _core
from .tensor_base import _FLOATING, _SCALARS
from .tensor_conversion import ConversionMixin
from .tensor_inplace import InplaceMixin
from .tensor_select import SelectMixin
from .tensor_math import MathMixin
from .tensor_ops_math import OpsMathMixin
from .tensor_ops_structure import OpsStructureMixin
from .tensor_random import RandomMixin
from .tensor_reductions import ReductionExtrasMixin
from .tensor_aliases import AliasesMixin
from .tensor_shape import ShapeMixin

def _default_backend() -> backends.Backend:
    return backends.default()


#: The fields, `_make` and the ``+ - * /`` operators: from the C core where it is built.
TensorBase = _core.TensorBase if _core is not None else _tensor_base.TensorBase


class Tensor(TensorBase, MathMixin, ShapeMixin, SelectMixin, ConversionMixin, OpsMathMixin,
             OpsStructureMixin, InplaceMixin, RandomMixin, ReductionExtrasMixin,
             AliasesMixin):
    """An n-dimensional array that records the operations applied to it for backward.

    Args:
        data: nested lists, a scalar, a host array or a backend array.
        requires_grad: whether to accumulate a gradient in ``.grad`` on backward.
        dtype: element type (``ag.float64``, ``"float64"``, ...; by default Python floats
            get the default dtype, float32, and arrays keep theirs).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ... (default: the default backend).
    """

    __slots__ = ()  # the fields are TensorBase's
    __array_priority__ = 1000  # so ndarray + Tensor defers to Tensor.__radd__

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        dtype: Any = None,
        device: Any = None,
    ) -> None:
        source = data if isinstance(data, Tensor) else None
        if source is not None:
            data = data.array
        backend = backends.get(device) if device is not None else None
        if backend is None:
            # Device arrays stay where they are; host data (lists, NumPy arrays) go to the
            # default device, as the docstring promises.
            backend = _backend_of(data)
            if backend is None or not backend.is_device:
                backend = _default_backend()
        array = _to_array(data, backend, dtype)
        self.array = array
        self._grad = None
        self.grad_fn = None
        self._backend = backend
        # Tensor(t) without a copy shares t's memory, so it shares its version counter too.
        self._version = source._version if source is not None and array is data else [0]
        self._hooks = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # -- properties ---------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return tuple(self.array.shape)

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def dtype(self) -> Any:
        return self.array.dtype

    @property
    def device(self) -> Any:
        """Where the data live, as an `autograd.device` (a string such as ``"cuda:0"``)."""
        return _devices.of(self._backend.device)

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
    def data(self) -> Tensor:
        """PyTorch's ``.data``: this tensor's memory as a tensor outside autograd.

        It shares the memory but not the version counter, so writes through it (``p.data -=
        lr * p.grad``, ``p.data.add_(...)``) are not seen by autograd, exactly as in PyTorch.
        The raw backend array is ``.array``.
        """
        return Tensor._make(self.array, self._backend)

    @data.setter
    def data(self, value: Tensor) -> None:
        # As PyTorch's `x.data = y`: x takes y's memory (shape, dtype and device may change).
        if not isinstance(value, Tensor):
            raise TypeError(
                f"Tensor.data: expected a Tensor, got {type(value).__name__}; to set the raw "
                "backend array use .array, to copy values in place use .data.copy_(...)"
            )
        if self.requires_grad and value.array.dtype.kind != "f" and \
                value.array.dtype.name != "bfloat16":
            raise TypeError(
                f"Tensor.data: a tensor that requires grad cannot take data of dtype "
                f"{value.dtype} (floating point only{_complex_hint(value.array.dtype)})"
            )
        self.array = value.array
        self._backend = value._backend

    __hash__ = object.__hash__

    # copy/deepcopy (and pickle) by the fields, whichever core holds them.
    def __getstate__(self) -> dict:
        return {name: getattr(self, name) for name in _FIELDS}

    def __setstate__(self, state: dict) -> None:
        for name, value in state.items():
            setattr(self, name, value)

    # -- autograd -----------------------------------------------------------------------------
    def detach(self) -> Tensor:
        """A tensor sharing this data but cut from the graph."""
        t = Tensor._make(self.array, self._backend)
        t._version = self._version
        return t

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Sets `requires_grad` on a leaf in place; returns self."""
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError(
                "requires_grad_(False): only leaf tensors can stop requiring grad; use .detach()"
            )
        if requires_grad and self.array.dtype.kind != "f" and \
                self.array.dtype.name != "bfloat16":
            raise TypeError(
                f"requires_grad_: only floating point tensors can require gradients, "
                f"got dtype {self.array.dtype}{_complex_hint(self.array.dtype)}"
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

    # -- arithmetic (``+ - * /`` and unary ``-`` are TensorBase's) ---------------------------
    # As there: straight to the op where NumPy's result type is PyTorch's, else through
    # promotion.py (which casts the operands to PyTorch's result type).
    def __pow__(self, other: Any) -> Tensor:
        k = other.__class__
        if k is int or (self.array.dtype in _FLOATING if k is float else isinstance(
                other, Tensor) and self.array.dtype is other.array.dtype):
            return _arith.pow(self, other)
        return _promotion.binary(_arith.pow, self, other)

    def __rpow__(self, other: Any) -> Tensor:
        k = other.__class__
        if k is int or (k is float and self.array.dtype in _FLOATING):
            return _arith.pow(other, self)
        return _promotion.binary(_arith.pow, other, self)

    def __matmul__(self, other: Any) -> Tensor:
        other = _lift(other, self, scalar_ok=False)
        if self.array.dtype is other.array.dtype:
            return _linalg.matmul(self, other)
        return _promotion.binary(_linalg.matmul, self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        other = _lift(other, self, scalar_ok=False)
        if self.array.dtype is other.array.dtype:
            return _linalg.matmul(other, self)
        return _promotion.binary(_linalg.matmul, other, self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _unary.abs(self)

    # -- comparisons: plain results, never differentiable ---------------------------------------
    def _compare(self, other: Any, op: str) -> Tensor:
        other = _lift(other, self)
        b = other.array if isinstance(other, Tensor) else other
        if isinstance(other, Tensor) and other._backend is not self._backend:
            raise RuntimeError(
                f"{op}: tensors on different devices ({self.device} and {other.device})"
            )
        backend = self._backend
        if backend.needs_device_scope:  # a raw operator runs on the current device
            with backend.device_scope():
                return Tensor._make(backend.asarray(getattr(self.array, op)(b)), backend)
        return Tensor._make(backend.asarray(getattr(self.array, op)(b)), backend)

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

    # -- in place: the mechanism and the ``foo_`` methods are in tensor_inplace.py -------------
    def _rebind(self, result: Tensor) -> None:
        # The old array stays untouched for whatever saved it, so no version bump is needed.
        # The new array gets the result's counter: the old one belongs to the old array and
        # its views, whose later writes must not be blamed on this tensor (and vice versa).
        self.array = result.array
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


#: Tensor's fields, as the Python reference declares them (the C core's members share the names).
_FIELDS = tuple(name for name in _tensor_base.TensorBase.__slots__ if name != "__weakref__")


def _complex_hint(dtype: Any) -> str:
    """For a complex dtype, why it cannot require grad and what to do instead."""
    if dtype.kind != "c":
        return ""
    from .function_base import COMPLEX_ADVICE

    return f"; complex tensors cannot require grad: {COMPLEX_ADVICE}"


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
    if dtype is not None:
        dtype = _dtypes.resolve(dtype, backend)
    array = backend.asarray(data, dtype=dtype)
    if dtype is None and not is_array and array.dtype.name in ("float64", "complex128"):
        # Python floats (float64 to NumPy) and complex numbers get the default dtype, as in
        # PyTorch; NumPy scalars in a list keep theirs.
        default = _dtypes.default_float() if array.dtype.kind == "f" else \
            _dtypes.default_complex()
        if array.dtype != default:
            array = backend.asarray(array, dtype=default)  # on backend's device (cuda:N)
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
        # Python floats take the tensor's floating type, else the default dtype.
        dtype = like.array.dtype
        array = backend.asarray(array, dtype=dtype if dtype.kind == "f"
                                or dtype.name == "bfloat16" else _dtypes.default_float())
    return Tensor._make(array, backend)


from . import devices as _devices  # noqa: E402
from . import dtypes as _dtypes  # noqa: E402
from . import function as _fn  # noqa: E402, F401  (ops need Tensor defined first)
from .ops import activation as _activation  # noqa: E402
from .ops import arithmetic as _arith  # noqa: E402
from .ops import indexing as _indexing  # noqa: E402
from .ops import indexing_torch as _indexing_torch  # noqa: E402
from .ops import linalg as _linalg  # noqa: E402
from .ops import reduction as _reduction  # noqa: E402
from .ops import shape as _shape  # noqa: E402
from .ops import unary as _unary  # noqa: E402
from .ops import views as _views  # noqa: E402
from . import promotion as _promotion  # noqa: E402
from . import tensor_conversion as _tensor_conversion  # noqa: E402
from . import tensor_inplace as _tensor_inplace  # noqa: E402
from . import tensor_select as _tensor_select  # noqa: E402
from .ops import scatter as _scatter  # noqa: E402
from .ops import scatter_reduce as _scatter_reduce  # noqa: E402
from . import tensor_math as _tensor_math  # noqa: E402
from . import tensor_shape as _tensor_shape  # noqa: E402
from . import tensor_ops_math as _tensor_ops_math  # noqa: E402
from . import tensor_ops_structure as _tensor_ops_structure  # noqa: E402
from . import tensor_random as _tensor_random  # noqa: E402
from . import tensor_reductions as _tensor_reductions  # noqa: E402
from . import tensor_aliases as _tensor_aliases  # noqa: E402
from .ops import products as _products  # noqa: E402
from .ops import triangular as _triangular  # noqa: E402
from . import return_types as _return_types  # noqa: E402
from .ops import statistics as _statistics  # noqa: E402
from .ops import sampling as _sampling  # noqa: E402

# The mixins' methods need Tensor and the op modules, which import this file: they are bound into
# the mixin modules here, once loaded, since importing them there would close a circle.
_tensor_conversion.Tensor, _tensor_conversion._unary = Tensor, _unary
_tensor_math.Tensor, _tensor_math._activation, _tensor_math._arith = Tensor, _activation, _arith
_tensor_math._reduction, _tensor_math._unary = _reduction, _unary
_tensor_math._shape, _tensor_math._indexing = _shape, _indexing
_tensor_shape.Tensor, _tensor_shape._lift = Tensor, _lift
_tensor_shape._indexing, _tensor_shape._shape = _indexing, _shape
_tensor_shape._indexing_torch, _tensor_shape._views = _indexing_torch, _views
_tensor_shape._unary = _unary
_tensor_base._arith, _tensor_base._promote = _arith, _promotion.binary
_promotion._arith, _promotion._unary = _arith, _unary
_tensor_math._promotion = _promotion
_tensor_ops_math.bind(Tensor)
_tensor_ops_structure.bind(Tensor)
_tensor_inplace.Tensor, _tensor_inplace._lift, _tensor_inplace._unary = Tensor, _lift, _unary
_tensor_inplace._arith, _tensor_inplace._shape = _arith, _shape
_tensor_inplace._indexing_torch = _indexing_torch
_tensor_select.Tensor, _tensor_select._arith = Tensor, _arith
_tensor_select._scatter, _tensor_select._scatter_reduce = _scatter, _scatter_reduce
_tensor_select._lift, _tensor_select._indexing_torch = _lift, _indexing_torch
_tensor_random.Tensor, _tensor_random._sampling = Tensor, _sampling
_tensor_random._inplace = _tensor_inplace
_tensor_reductions.Tensor, _tensor_reductions._reduction = Tensor, _reduction
_tensor_reductions._statistics, _tensor_reductions._unary = _statistics, _unary
_tensor_reductions._return_types = _return_types
_tensor_aliases.Tensor, _tensor_aliases._arith, _tensor_aliases._shape = Tensor, _arith, _shape
_tensor_aliases._statistics, _tensor_aliases._products = _statistics, _products
_tensor_aliases._triangular, _tensor_aliases._lift = _triangular, _lift
_tensor_inplace.install(Tensor)  # every out-of-place `foo` with an in-place form gets `foo_`
_tensor_base._tensor_types = (TensorBase,)
if _core is not None:
    _core.configure(Tensor=Tensor, lift=_lift, Add=_arith.Add, Sub=_arith.Sub, Mul=_arith.Mul,
                    Div=_arith.Div, Neg=_arith.Neg, promote=_promotion.binary,
                    floating=_FLOATING, grad_error=_tensor_base._raise_bad_grad)
