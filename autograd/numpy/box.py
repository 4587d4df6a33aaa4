"""`ArrayBox`: a Tensor that speaks NumPy, for functions written against NumPy arrays.

``grad(f)(x)`` with a NumPy array `x` calls `f` with an ArrayBox: a Tensor (so the graph is
recorded and every kedja function accepts it) whose methods and operators follow NumPy rather
than PyTorch: ``b.var()`` is the biased variance, ``b.max(axis=0)`` the values alone,
``b.repeat(2)`` repeats elements, ``b.T``, ``b.dot(c)``, ``b.astype(float)``, ``b.sum(axis,
keepdims=...)``, and NumPy's own functions and ufuncs called on it (``numpy.sin(b)``) run the
`autograd.numpy` version. Results of `autograd.numpy` functions on ArrayBoxes are ArrayBoxes.

HIPS autograd calls the value it traces an ArrayBox too; there it wraps a NumPy array, here it is
the Tensor itself (it shares the Tensor's fields and graph).
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor

_NP: Any = None  # the autograd.numpy module, bound by its __init__ once it is loaded


def _ns() -> Any:
    return _NP


class ArrayBox(Tensor):
    """A Tensor with NumPy's methods and operators (see the module docstring)."""

    __slots__ = ()

    def __setitem__(self, key: Any, value: Any) -> None:
        # The argument being differentiated cannot be assigned into: a TypeError, as HIPS
        # autograd raises for its boxes (intermediate results are recorded out of place).
        if self.grad_fn is None and self.requires_grad:
            raise TypeError(
                f"item assignment into the argument being differentiated (shape {self.shape}) "
                "is not supported: build a new array instead (np.where, np.concatenate, ...)"
            )
        super().__setitem__(key, value)

    # -- operators: NumPy's functions, so NumPy's promotion and broadcasting rules ---------------
    def __add__(self, other: Any) -> Any:
        return _NP.add(self, other)

    def __radd__(self, other: Any) -> Any:
        return _NP.add(other, self)

    def __sub__(self, other: Any) -> Any:
        return _NP.subtract(self, other)

    def __rsub__(self, other: Any) -> Any:
        return _NP.subtract(other, self)

    def __mul__(self, other: Any) -> Any:
        return _NP.multiply(self, other)

    def __rmul__(self, other: Any) -> Any:
        return _NP.multiply(other, self)

    def __truediv__(self, other: Any) -> Any:
        return _NP.true_divide(self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return _NP.true_divide(other, self)

    def __floordiv__(self, other: Any) -> Any:
        return _NP.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Any:
        return _NP.floor_divide(other, self)

    def __mod__(self, other: Any) -> Any:
        return _NP.mod(self, other)

    def __rmod__(self, other: Any) -> Any:
        return _NP.mod(other, self)

    def __pow__(self, other: Any) -> Any:
        return _NP.power(self, other)

    def __rpow__(self, other: Any) -> Any:
        return _NP.power(other, self)

    def __matmul__(self, other: Any) -> Any:
        return _NP.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Any:
        return _NP.matmul(other, self)

    def __neg__(self) -> Any:
        return _NP.negative(self)

    def __pos__(self) -> Any:
        return self

    def __abs__(self) -> Any:
        return _NP.abs(self)

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return _NP.equal(self, other)

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return _NP.not_equal(self, other)

    def __lt__(self, other: Any) -> Any:
        return _NP.less(self, other)

    def __le__(self, other: Any) -> Any:
        return _NP.less_equal(self, other)

    def __gt__(self, other: Any) -> Any:
        return _NP.greater(self, other)

    def __ge__(self, other: Any) -> Any:
        return _NP.greater_equal(self, other)

    __hash__ = Tensor.__hash__

    def __getitem__(self, index: Any) -> Any:
        return _NP._getitem(self, index)

    def __iter__(self) -> Any:
        for i in range(len(self)):
            yield self[i]

    # -- NumPy's ndarray attributes --------------------------------------------------------------
    @property
    def T(self) -> Any:  # noqa: N802 - NumPy's name
        return _NP.transpose(self)

    @property
    def mT(self) -> Any:  # noqa: N802 - NumPy's name
        return _NP.swapaxes(self, -1, -2)

    @property
    def real(self) -> Any:
        return _NP.real(self)

    @property
    def imag(self) -> Any:
        return _NP.imag(self)

    @property
    def flat(self) -> Any:
        return _NP.ravel(self)

    @property
    def itemsize(self) -> int:
        return self.array.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.array.nbytes

    def astype(self, dtype: Any, *args: Any, **kwargs: Any) -> Any:
        return _NP._astype(self, dtype)

    def reshape(self, *shape: Any, order: str = "C") -> Any:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _NP.reshape(self, shape, order=order)

    def transpose(self, *axes: Any) -> Any:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _NP.transpose(self, axes or None)

    def ravel(self, order: str = "C") -> Any:
        return _NP.ravel(self, order=order)

    def flatten(self, order: str = "C") -> Any:
        return _NP.ravel(self, order=order)

    def squeeze(self, axis: Any = None) -> Any:
        return _NP.squeeze(self, axis=axis)

    def swapaxes(self, axis1: int, axis2: int) -> Any:
        return _NP.swapaxes(self, axis1, axis2)

    def repeat(self, repeats: Any, axis: Any = None) -> Any:
        return _NP.repeat(self, repeats, axis=axis)

    def dot(self, other: Any) -> Any:
        return _NP.dot(self, other)

    def sum(self, axis: Any = None, dtype: Any = None, out: Any = None,
            keepdims: bool = False) -> Any:
        return _NP.sum(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def mean(self, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: bool = False) -> Any:
        return _NP.mean(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def var(self, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0,
            keepdims: bool = False) -> Any:
        return _NP.var(self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims)

    def std(self, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0,
            keepdims: bool = False) -> Any:
        return _NP.std(self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims)

    def prod(self, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: bool = False) -> Any:
        return _NP.prod(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def max(self, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
        return _NP.max(self, axis=axis, out=out, keepdims=keepdims)

    def min(self, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
        return _NP.min(self, axis=axis, out=out, keepdims=keepdims)

    def argmax(self, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
        return _NP.argmax(self, axis=axis, out=out, keepdims=keepdims)

    def argmin(self, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
        return _NP.argmin(self, axis=axis, out=out, keepdims=keepdims)

    def all(self, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
        return _NP.all(self, axis=axis, out=out, keepdims=keepdims)

    def any(self, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
        return _NP.any(self, axis=axis, out=out, keepdims=keepdims)

    def clip(self, min: Any = None, max: Any = None, out: Any = None) -> Any:  # noqa: A002
        return _NP.clip(self, min, max, out=out)

    def take(self, indices: Any, axis: Any = None, out: Any = None, mode: str = "raise") -> Any:
        return _NP.take(self, indices, axis=axis, out=out, mode=mode)

    def choose(self, choices: Any, out: Any = None, mode: str = "raise") -> Any:
        return _NP.choose(self, choices, out=out, mode=mode)

    def conj(self) -> Any:
        return _NP.conj(self)

    conjugate = conj

    def copy(self, order: str = "C") -> Any:
        return _NP.copy(self)

    def round(self, decimals: int = 0, out: Any = None) -> Any:
        return _NP.round(self, decimals=decimals, out=out)

    def nonzero(self) -> Any:
        return _NP.nonzero(self)

    def tolist(self) -> Any:
        return self._backend.to_numpy(self.array).tolist()

    def __getattr__(self, name: str) -> Any:
        # The rest of ndarray's methods (cumsum, diagonal, trace, argsort, sort...): NumPy's
        # function of that name with the box first, where autograd.numpy has one.
        fn = getattr(_NP, name, None) if name in _FUNCTION_METHODS else None
        if fn is None:
            raise AttributeError(f"'ArrayBox' object has no attribute {name!r}")
        return lambda *args, **kwargs: fn(self, *args, **kwargs)

    # -- NumPy's protocols: numpy.sin(box), numpy.sum(box), ndarray + box -----------------------
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        fn = getattr(_NP, ufunc.__name__, None) if method == "__call__" else None
        if fn is None or kwargs.get("out") is not None:
            return NotImplemented
        return fn(*inputs, **kwargs)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        fn = getattr(_NP, func.__name__, None)
        if fn is None:
            return NotImplemented
        return fn(*args, **kwargs)


#: ndarray methods that are NumPy's function of the same name with the array first.
_FUNCTION_METHODS = frozenset({
    "cumsum", "cumprod", "diagonal", "trace", "argsort", "argpartition", "searchsorted", "ptp",
    "compress",
})
