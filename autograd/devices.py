"""`device`: PyTorch's device object, as a string, so that it goes wherever a device string does.

    >>> d = ag.device("cuda", 1)
    >>> d, d.type, d.index, str(d)
    (device(type='cuda', index=1), 'cuda', 1, 'cuda:1')
    >>> ag.zeros(2, device=d); x.to(d); x.device.type      # `x.device` is one too
"""

from __future__ import annotations

from typing import Any

import backends

__all__ = ["device"]


class device(str):  # noqa: N801 - PyTorch's name
    """A device (``"cpu"``, ``"cuda:0"``, ``"fake:0"``) with ``.type`` and ``.index``.

    Args:
        type: a device string (``"cuda:1"``, ``"cpu"``, also the backend names ``"numpy"`` and
            ``"cupy"``), a device, or a bare CUDA index (``ag.device(1)`` is cuda:1).
        index: the device index, where `type` names only the kind (``ag.device("cuda", 1)``).

    It is a ``str`` (``ag.device("cuda:0") == "cuda:0"``), so every function that takes a
    device string takes it. ``index`` is None where none was given (``ag.device("cuda")``,
    which means the current CUDA device, cuda:0).
    """

    __slots__ = ()

    def __new__(cls, type: Any, index: int | None = None) -> device:  # noqa: A002
        spec = type
        if isinstance(spec, device) and index is None:
            return spec
        if isinstance(spec, int) and not isinstance(spec, bool) and index is None:
            spec, index = "cuda", spec
        if not isinstance(spec, str):
            raise TypeError(f"device: expected a device string such as 'cuda:0', got {spec!r}")
        kind, colon, given = spec.strip().lower().partition(":")
        if colon:
            if index is not None:
                raise ValueError(f"device: {spec!r} already names an index; got index={index}")
            if not given.isdigit():
                raise ValueError(f"device: bad device index in {spec!r}")
            index = int(given)
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)
                                  or index < 0):
            raise ValueError(f"device: the index must be a non-negative int, got {index!r}")
        # The kind as the registry spells it ("numpy" is "cpu"); raises for unknown kinds.
        kind = backends.canonical_device(kind).partition(":")[0]
        text = kind if index is None else f"{kind}:{index}"
        if index is not None:
            backends.canonical_device(text)  # the CPU has index 0 only
        return str.__new__(cls, text)

    @property
    def type(self) -> str:  # noqa: A003 - PyTorch's name
        """The device kind: ``"cpu"``, ``"cuda"`` or ``"fake"``."""
        return self.partition(":")[0]

    @property
    def index(self) -> int | None:
        """The device index, or None where the string names none."""
        given = self.partition(":")[2]
        return int(given) if given else None

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __reduce__(self) -> Any:
        return (device, (str(self),))


_CACHE: dict[str, device] = {}


def of(name: str) -> device:
    """The device object of a backend's device string (made once per device)."""
    found = _CACHE.get(name)
    if found is None:
        found = _CACHE[name] = device(name)
    return found
