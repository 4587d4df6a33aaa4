"""The `Backend` interface: one array namespace, one device, one random generator.

The engine never imports numpy or cupy for tensor data; it asks a backend. A backend names its
array namespace `xp` and spells the few things NumPy and CuPy do differently (scatter-add, host
transfer, random numbers).
"""

from __future__ import annotations

from typing import Any


class Backend:
    """An array library bound to one device.

    Attributes:
        name: registry name, e.g. ``"numpy"``.
        device: device string tensors report, e.g. ``"cpu"`` or ``"cuda:0"``.
        xp: the array namespace (``numpy``, ``cupy`` or a stand-in with the same API).
        array_type: the concrete array class this backend produces.
    """

    name: str = "abstract"
    device: str = "none"
    xp: Any = None
    array_type: type = object
    #: True where the data live off the host, so reading them back is a synchronisation.
    is_device: bool = False

    # -- arrays -------------------------------------------------------------------------------
    def asarray(self, data: Any, dtype: Any = None) -> Any:
        """Converts `data` (nested lists, scalars, host arrays) to this backend's array type."""
        return self.xp.asarray(data, dtype=dtype)

    def to_numpy(self, array: Any) -> Any:
        """Copies `array` to a host NumPy array (a synchronisation on a device backend)."""
        raise NotImplementedError

    def is_array(self, obj: Any) -> bool:
        """True if `obj` is an array of this backend."""
        return isinstance(obj, self.array_type)

    def scatter_add(self, target: Any, indices: Any, values: Any) -> None:
        """Adds `values` into `target[indices]` in place, accumulating repeated indices."""
        raise NotImplementedError

    def erf(self, array: Any) -> Any:
        """The Gauss error function, elementwise, keeping a floating `array`'s dtype."""
        raise NotImplementedError(f"{self.name} backend: erf is not implemented")

    # -- randomness -------------------------------------------------------------------------
    def seed(self, seed: int | None) -> None:
        """Re-seeds this backend's random generator."""
        raise NotImplementedError

    def uniform(self, low: float, high: float, shape: tuple, dtype: Any) -> Any:
        """Draws uniformly from [low, high)."""
        raise NotImplementedError

    def normal(self, mean: float, std: float, shape: tuple, dtype: Any) -> Any:
        """Draws from a normal distribution."""
        raise NotImplementedError

    def integers(self, low: int, high: int, shape: tuple) -> Any:
        """Draws int64 values from [low, high)."""
        raise NotImplementedError

    def permutation(self, n: int) -> Any:
        """A random permutation of ``range(n)`` as an int64 array."""
        raise NotImplementedError

    # -- memory -------------------------------------------------------------------------------
    def memory_info(self) -> dict:
        """Bytes used and cached by this backend's allocator (empty where it keeps none)."""
        return {}

    def free_cached_memory(self) -> None:
        """Returns cached, unused blocks to the device (a no-op where there is no pool)."""

    def synchronize(self) -> None:
        """Waits for queued work on the device (a no-op on the host)."""

    def __repr__(self) -> str:
        return f"<Backend {self.name} device={self.device}>"
