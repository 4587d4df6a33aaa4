"""The GPU backend: CuPy arrays on one CUDA device, imported only when CUDA is asked for."""

from __future__ import annotations

from typing import Any

from .base import Backend


class CupyBackend(Backend):
    """Runs every op with CuPy on CUDA device `index`."""

    name = "cupy"
    is_device = True

    def __init__(self, index: int = 0) -> None:
        import cupy
        import cupyx

        self.xp = cupy
        self._cupyx = cupyx
        self.array_type = cupy.ndarray
        self.index = index
        self.device = f"cuda:{index}"
        self._device = cupy.cuda.Device(index)
        # Touch the device now so that a missing driver or GPU fails here, not in the first op.
        with self._device:
            cupy.zeros(1).sum()
            self._rng = cupy.random.RandomState()

    def asarray(self, data: Any, dtype: Any = None) -> Any:
        with self._device:
            return self.xp.asarray(data, dtype=dtype)

    def to_numpy(self, array: Any) -> Any:
        return self.xp.asnumpy(array)

    def scatter_add(self, target: Any, indices: Any, values: Any) -> None:
        self._cupyx.scatter_add(target, indices, values)

    def erf(self, array: Any) -> Any:
        import cupyx.scipy.special

        with self._device:
            return cupyx.scipy.special.erf(array)

    def seed(self, seed: int | None) -> None:
        with self._device:
            self._rng = self.xp.random.RandomState(seed)

    def uniform(self, low: float, high: float, shape: tuple, dtype: Any) -> Any:
        with self._device:
            return self._rng.uniform(low, high, shape, dtype=dtype)

    def normal(self, mean: float, std: float, shape: tuple, dtype: Any) -> Any:
        with self._device:
            return self._rng.normal(mean, std, shape, dtype=dtype)

    def integers(self, low: int, high: int, shape: tuple) -> Any:
        with self._device:
            return self._rng.randint(low, high, shape, dtype=self.xp.int64)

    def permutation(self, n: int) -> Any:
        with self._device:
            return self._rng.permutation(n)

    def memory_info(self) -> dict:
        pool = self.xp.get_default_memory_pool()
        return {"used_bytes": pool.used_bytes(), "cached_bytes": pool.total_bytes()}

    def free_cached_memory(self) -> None:
        self.xp.get_default_memory_pool().free_all_blocks()
        self.xp.get_default_pinned_memory_pool().free_all_blocks()

    def synchronize(self) -> None:
        self._device.synchronize()
