"""Tensor creation: `tensor`, `zeros`, `ones`, `full`, `arange`, `linspace`, `eye`, random draws.

Every creation function takes ``dtype=`` (a dtype object such as ``ag.float64``, a string or
a NumPy dtype; the default dtype, float32 unless `set_default_dtype` changed it, unless said
otherwise), ``device=`` (the default backend unless given) and ``requires_grad=``, as in PyTorch
(`from_dlpack` and `from_numpy` share memory as they find it, so they take no dtype). Random
draws come from the backend's generator, which `manual_seed` seeds for every backend at once.
"""

from __future__ import annotations

from typing import Any

import backends

from . import dtypes
from .tensor import Tensor

__all__ = [
    "tensor", "as_tensor", "zeros", "ones", "full", "empty", "arange", "linspace", "eye",
    "rand", "randn", "randint", "zeros_like", "ones_like", "full_like", "rand_like",
    "randn_like", "manual_seed", "from_dlpack", "from_numpy",
]


def _dtype(dtype: Any, backend: backends.Backend) -> Any:
    """The NumPy dtype for a ``dtype=`` argument on `backend`; None: the default dtype."""
    return dtypes.default_float() if dtype is None else dtypes.resolve(dtype, backend)


def _shape(shape: tuple) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _finish(array: Any, backend: backends.Backend, requires_grad: bool) -> Tensor:
    t = Tensor._make(array, backend)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor from nested lists, scalars or arrays (Python floats become float32).

    The data are always copied, so the tensor never shares memory with `data` (use
    `as_tensor` to share).
    """
    source = data.array if isinstance(data, Tensor) else data
    t = Tensor(data, dtype=dtype, device=device)
    if t.array is source or getattr(t.array, "base", None) is not None:
        t.array = t.array.copy()
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_tensor(data: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """`data` itself if it is already a matching Tensor, else a new tensor (sharing memory with
    a host array where dtype and device allow).

    ``requires_grad=True`` is ``as_tensor(data, dtype, device).requires_grad_()``: it marks the
    result, which is `data` itself when that already matched.
    """
    if isinstance(data, Tensor) and (device is None or backends.get(device) is data.backend):
        t = data if dtype is None else data.astype(dtype)
    else:
        t = Tensor(data, dtype=dtype, device=device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def zeros(*shape: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """A tensor of zeros."""
    backend = backends.get(device)
    return _finish(backend.xp.zeros(_shape(shape), dtype=_dtype(dtype, backend)), backend,
                   requires_grad)


def ones(*shape: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    backend = backends.get(device)
    return _finish(backend.xp.ones(_shape(shape), dtype=_dtype(dtype, backend)), backend,
                   requires_grad)


def empty(*shape: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor (its values are whatever the memory held)."""
    backend = backends.get(device)
    return _finish(backend.xp.empty(_shape(shape), dtype=_dtype(dtype, backend)), backend,
                   requires_grad)


def full(shape: Any, fill_value: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor filled with `fill_value`; without `dtype`, of the value's type, as in PyTorch
    and NumPy: bool, int64, the default dtype for a float, complex for a complex number."""
    backend = backends.get(device)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if dtype is None:
        dtype = _number_dtype(fill_value)
    return _finish(backend.xp.full(shape, fill_value, dtype=_dtype(dtype, backend)), backend,
                   requires_grad)


def _number_dtype(value: Any) -> Any:
    """The dtype PyTorch gives a Python number (NumPy scalars keep theirs)."""
    if hasattr(value, "dtype"):
        return value.dtype
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, complex):
        return dtypes.default_complex()
    return None  # a float: the default dtype


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, stop) (int64 for integer arguments, else the default
    dtype)."""
    if stop is None:
        start, stop = 0, start
    if dtype is None and all(isinstance(v, int) for v in (start, stop, step)):
        dtype = "int64"
    backend = backends.get(device)
    return _finish(backend.xp.arange(start, stop, step, dtype=_dtype(dtype, backend)), backend,
                   requires_grad)


def linspace(start: float, stop: float, num: int = 50, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """`num` evenly spaced values from `start` to `stop` inclusive."""
    backend = backends.get(device)
    return _finish(backend.xp.linspace(start, stop, num, dtype=_dtype(dtype, backend)), backend,
                   requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix."""
    backend = backends.get(device)
    return _finish(backend.xp.eye(n, m, dtype=_dtype(dtype, backend)), backend, requires_grad)


def rand(*shape: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform draws from [0, 1)."""
    backend = backends.get(device)
    return _finish(backend.uniform(0.0, 1.0, _shape(shape), _dtype(dtype, backend)), backend,
                   requires_grad)


def randn(*shape: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal draws."""
    backend = backends.get(device)
    return _finish(backend.normal(0.0, 1.0, _shape(shape), _dtype(dtype, backend)), backend,
                   requires_grad)


def randint(low: int, high: int, shape: Any, dtype: Any = "int64", device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """Integer draws from [low, high), stored as `dtype` (int64 unless given; a floating dtype
    holds the same whole numbers, and only a floating result can require grad)."""
    backend = backends.get(device)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    draws = backend.integers(low, high, shape)
    dtype = dtypes.resolve(dtype, backend)
    if draws.dtype != dtype:
        draws = draws.astype(dtype)
    return _finish(draws, backend, requires_grad)


def from_numpy(array: Any) -> Tensor:
    """A CPU tensor sharing memory with a NumPy array (writes to either show in both); its
    dtype is the array's, float64 included.

        >>> a = numpy.zeros(3); t = ag.from_numpy(a); a[0] = 1.0; t[0].item()
        1.0
    """
    host = backends.host()
    if not isinstance(array, host.array_type):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._make(array, host)


def _like(x: Tensor, dtype: Any, device: Any) -> tuple:
    return (dtype if dtype is not None else x.dtype), (device if device is not None else x.backend)


def zeros_like(x: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and by default dtype and device) of `x`."""
    dtype, device = _like(x, dtype, device)
    return zeros(x.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(x: Tensor, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and by default dtype and device) of `x`."""
    dtype, device = _like(x, dtype, device)
    return ones(x.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(x: Tensor, fill_value: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """`fill_value` everywhere, with the shape (and by default dtype and device) of `x`."""
    dtype, device = _like(x, dtype, device)
    return full(x.shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def rand_like(x: Tensor, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """Uniform [0, 1) draws with the shape (and by default dtype and device) of `x`."""
    dtype, device = _like(x, dtype, device)
    return rand(x.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def randn_like(x: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """Standard normal draws with the shape (and by default dtype and device) of `x`."""
    dtype, device = _like(x, dtype, device)
    return randn(x.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def manual_seed(seed: int) -> None:
    """Seeds every random generator the engine draws from (all backends, now and later)."""
    backends.seed_all(seed)


def from_dlpack(obj: Any, device: Any = None) -> Tensor:
    """A tensor sharing memory with `obj` (a NumPy/CuPy/PyTorch/JAX array or kedja tensor).

        >>> t = ag.from_dlpack(torch.arange(3.0))   # zero-copy; no grad history is kept
    """
    array = backends.from_dlpack(obj, device=device)
    backend = backends.backend_of_array(array) or backends.get(device)
    return Tensor._make(array, backend)
