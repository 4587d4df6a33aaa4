"""The `Backend` interface: one array namespace, one device, one random generator.

The engine never imports numpy or cupy for tensor data; it asks a backend. A backend names its
array namespace `xp` and spells the few things NumPy and CuPy do differently (scatter-add, host
transfer, random numbers).
"""

from __future__ import annotations

import contextlib
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
    #: True where work must run inside `device_scope()` (CuPy on a device other than cuda:0).
    needs_device_scope: bool = False

    # -- arrays -------------------------------------------------------------------------------
    def asarray(self, data: Any, dtype: Any = None) -> Any:
        """Converts `data` (nested lists, scalars, host arrays) to this backend's array type."""
        return self.xp.asarray(data, dtype=dtype)

    def to_numpy(self, array: Any) -> Any:
        """Copies `array` to a host NumPy array (a synchronisation on a device backend)."""
        raise NotImplementedError

    def asarray_pinned(self, host: Any) -> Any:
        """`asarray` of a host array, staged through page-locked host memory where the device
        has it (a faster copy in; ``DataLoader(pin_memory=True)``). Elsewhere plain asarray."""
        return self.asarray(host)

    def is_array(self, obj: Any) -> bool:
        """True if `obj` is an array of this backend."""
        return isinstance(obj, self.array_type)

    def owns(self, array: Any) -> bool:
        """True if `array` is an array of this backend *and device* (cuda:0 vs cuda:1)."""
        return type(array) is self.array_type

    def device_scope(self) -> Any:
        """A context manager making this backend's device current (a no-op off CUDA).

        CuPy launches kernels and allocates on the *current* device, so work on ``cuda:1``
        arrays must run inside ``with backend.device_scope():``.
        """
        return contextlib.nullcontext()

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

    # -- interop ------------------------------------------------------------------------------
    def to_dlpack(self, array: Any, **kwargs: Any) -> Any:
        """Exports `array` by DLPack (``array.__dlpack__(**kwargs)``: a capsule)."""
        return array.__dlpack__(**kwargs)

    def dlpack_device(self, array: Any) -> tuple:
        """``(device_type, device_id)`` of `array` as DLPack spells it (1 = CPU, 2 = CUDA)."""
        return tuple(array.__dlpack_device__())

    def from_dlpack(self, obj: Any) -> Any:
        """An array of this backend sharing memory with `obj` (anything with ``__dlpack__``)."""
        return self.xp.from_dlpack(obj)

    # -- memory -------------------------------------------------------------------------------
    def memory_info(self) -> dict:
        """Bytes used and cached by this backend's allocator (empty where it keeps none)."""
        return {}

    def free_cached_memory(self) -> None:
        """Returns cached, unused blocks to the device (a no-op where there is no pool)."""

    def synchronize(self) -> None:
        """Waits for queued work on the device (a no-op on the host)."""

    def __deepcopy__(self, memo: dict) -> Backend:
        # A backend is a process-wide singleton per device: copies of tensors share it.
        return self

    def __copy__(self) -> Backend:
        return self

    def __repr__(self) -> str:
        return f"<Backend {self.name} device={self.device}>"
