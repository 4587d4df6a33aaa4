"""The host backend: NumPy arrays on the CPU."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .base import Backend

_erf_impl: Any = None  # scipy.special.erf when importable, else _math_erf; chosen on first use


def _math_erf(array: Any) -> np.ndarray:
    """Elementwise erf via `math.erf` (the fallback without SciPy: slow but accurate)."""
    array = np.asarray(array)
    dtype = array.dtype if array.dtype.kind == "f" else np.dtype(np.float64)
    return np.asarray(np.frompyfunc(math.erf, 1, 1)(array), dtype=dtype)


def _host_erf() -> Any:
    global _erf_impl
    if _erf_impl is None:
        try:
            from scipy.special import erf as scipy_erf  # optional: faster than math.erf
        except ImportError:
            _erf_impl = _math_erf
        else:
            _erf_impl = scipy_erf
    return _erf_impl


_special_impl: dict = {}


def _host_special(name: str, *args: Any) -> np.ndarray:
    """SciPy's special function `name` where SciPy is installed, else backends.special_host's."""
    fn = _special_impl.get(name)
    if fn is None:
        try:
            from scipy import special as scipy_special  # optional: fast C versions
        except ImportError:
            from .special_host import FUNCTIONS

            fn = FUNCTIONS.get(name)
            if fn is None:
                raise NotImplementedError(
                    f"special function {name}: on the CPU it needs SciPy (pip install scipy); "
                    f"without it kedja has {', '.join(sorted(FUNCTIONS))}"
                ) from None
        else:
            fn = getattr(scipy_special, name)
        _special_impl[name] = fn
    floats = [a for a in args if getattr(a, "dtype", None) is not None and a.dtype.kind == "f"]
    out = np.asarray(fn(*args))
    if floats and out.dtype != floats[-1].dtype:
        out = out.astype(floats[-1].dtype)  # SciPy computes float16 in float32
    return out


class NumpyBackend(Backend):
    """Runs every op with NumPy on the CPU."""

    name = "numpy"
    device = "cpu"
    xp = np
    array_type = np.ndarray
    is_device = False
    supports_graphs = False  # capture_graph raises: there is no stream to capture on the host

    def __init__(self, seed: int | None = None) -> None:
        self._seed = seed  # the generator is made at the first draw: numpy.random costs ~10 ms

    @property
    def _rng(self) -> Any:
        rng = self.__dict__.get("_generator")
        if rng is None:
            rng = self._generator = np.random.default_rng(self._seed)
        return rng

    def asarray(self, data: Any, dtype: Any = None) -> np.ndarray:
        if getattr(data, "_kedja_device_array", False) or hasattr(data, "__cuda_array_interface__"):
            raise TypeError(
                f"numpy backend: refusing to convert a device array ({type(data).__name__}) to the "
                "host implicitly; move it explicitly with Tensor.cpu() or Tensor.to('cpu')"
            )
        return np.asarray(data, dtype=dtype)

    def to_numpy(self, array: Any) -> np.ndarray:
        return np.asarray(array)

    def scatter_add(self, target: np.ndarray, indices: Any, values: np.ndarray) -> None:
        np.add.at(target, indices, values)

    def erf(self, array: Any) -> np.ndarray:
        out = np.asarray(_host_erf()(array))  # SciPy's or the host series: float64 for float16
        array = np.asarray(array)
        return out.astype(array.dtype, copy=False) if array.dtype.kind == "f" else out

    def special(self, name: str, *args: Any) -> np.ndarray:
        return _host_special(name, *args)

    def seed(self, seed: int | None) -> None:
        self._generator = np.random.default_rng(seed)

    def uniform(self, low: float, high: float, shape: tuple, dtype: Any) -> np.ndarray:
        return self._rng.uniform(low, high, shape).astype(dtype, copy=False)

    def normal(self, mean: float, std: float, shape: tuple, dtype: Any) -> np.ndarray:
        return self._rng.normal(mean, std, shape).astype(dtype, copy=False)

    def integers(self, low: int, high: int, shape: tuple) -> np.ndarray:
        return self._rng.integers(low, high, shape, dtype=np.int64)

    def permutation(self, n: int) -> np.ndarray:
        return self._rng.permutation(n)
