"""The host backend: NumPy arrays on the CPU."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Backend


class NumpyBackend(Backend):
    """Runs every op with NumPy on the CPU."""

    name = "numpy"
    device = "cpu"
    xp = np
    array_type = np.ndarray
    is_device = False

    def __init__(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)

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

    def seed(self, seed: int | None) -> None:
        self._rng = np.random.default_rng(seed)

    def uniform(self, low: float, high: float, shape: tuple, dtype: Any) -> np.ndarray:
        return self._rng.uniform(low, high, shape).astype(dtype, copy=False)

    def normal(self, mean: float, std: float, shape: tuple, dtype: Any) -> np.ndarray:
        return self._rng.normal(mean, std, shape).astype(dtype, copy=False)

    def integers(self, low: int, high: int, shape: tuple) -> np.ndarray:
        return self._rng.integers(low, high, shape, dtype=np.int64)

    def permutation(self, n: int) -> np.ndarray:
        return self._rng.permutation(n)
