"""Collating samples into batches (`default_collate`, `default_convert`) and carrying batches
between processes (`pack` / `unpack`).

`default_collate` follows PyTorch's rules: Tensors and NumPy arrays are stacked along a new first
axis; Python floats become a float64 Tensor, ints int64, bools bool; NumPy scalars keep their
dtype; strings and bytes stay a list; mappings are collated key by key, namedtuples field by
field, and tuples and lists position by position (a tuple of fields comes back as a list, as in
PyTorch). kedja adds the device: the batch's Tensors are created on `backend`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import backends
from autograd.tensor import Tensor

__all__ = ["default_collate", "default_convert"]

_UNSUPPORTED = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                "lists; found {}")


def default_collate(batch: list, backend: Any = None) -> Any:
    """Stacks a list of samples into a batch on `backend`, keeping the samples' structure.

    Args:
        batch: the samples (all of one structure).
        backend: the device of the batch's Tensors (a name or a Backend; default: the default
            device).

        >>> default_collate([(1.0, 2), (3.0, 4)])
        [tensor([1., 3.], dtype=float64, ...), tensor([2, 4], ...)]
    """
    if not isinstance(batch, (list, tuple)) or not batch:
        raise ValueError(f"default_collate: expected a non-empty list of samples, got "
                         f"{type(batch).__name__}{' (empty)' if not batch else ''}")
    return _collate(list(batch), backends.get(backend), "")


def default_convert(data: Any, backend: Any = None) -> Any:
    """One sample as a loader without batching (``batch_size=None``) yields it: NumPy arrays
    (not of strings) become Tensors on `backend`, Tensors move there, containers are walked,
    everything else (numbers included) is left as it is."""
    return _convert(data, backends.get(backend))


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def _is_host_array(value: Any) -> bool:
    """A NumPy array or scalar (not a Tensor, not a device array)."""
    return type(value).__module__ == "numpy" and hasattr(value, "dtype")


def _collate(samples: list, backend: Any, where: str) -> Any:
    """`default_collate` of the field `where` ("" for the samples themselves, else a path such
    as "[0]" or "['image']", for errors) of every sample."""
    first = samples[0]
    _check_alike(samples, where)
    if isinstance(first, Tensor):
        return _stack(samples, backend, where)
    if _is_host_array(first) or backends.backend_of_array(first) is not None:
        if first.dtype.kind in "SUaO":
            raise TypeError(_UNSUPPORTED.format(first.dtype))
        return _stack(samples, backend, where)
    if isinstance(first, (bool, int, float)):
        dtype = ("bool" if isinstance(first, bool) else "float64" if isinstance(first, float)
                 else "int64")
        return Tensor._make(backend.asarray(backends.host().xp.asarray(samples, dtype=dtype)),
                            backend)
    if isinstance(first, (str, bytes)):
        return samples
    if isinstance(first, Mapping):
        out = {k: _collate([s[k] for s in samples], backend, f"{where}[{k!r}]") for k in first}
        return _same_type(first, out)
    if _is_namedtuple(first):
        return type(first)(*(_collate(list(f), backend, f"{where}[{i}]")
                             for i, f in enumerate(zip(*samples))))
    if isinstance(first, Sequence):
        fields = [_collate(list(f), backend, f"{where}[{i}]")
                  for i, f in enumerate(zip(*samples))]
        if isinstance(first, tuple):
            return fields  # PyTorch's choice: a tuple of fields collates to a list
        return _same_type(first, fields)
    raise TypeError(_UNSUPPORTED.format(type(first)))


def _same_type(first: Any, value: Any) -> Any:
    """`value` (a dict or list) as `first`'s type where that type can be built from it."""
    if type(first) in (dict, list):
        return value
    try:
        return type(first)(value)
    except TypeError:
        return value


def _stack(samples: list, backend: Any, where: str) -> Tensor:
    """Tensors or arrays stacked on their own backend (one device op), then moved."""
    first = samples[0]
    try:
        if isinstance(first, Tensor):
            source = first.backend
            others = [s for s in samples if not isinstance(s, Tensor) or s.backend is not source]
            if others:
                raise TypeError("the samples are not all Tensors on one device")
            stacked = source.xp.stack([s.array for s in samples])
        else:
            source = backends.backend_of_array(first) or backends.host()
            stacked = source.xp.stack([source.asarray(s) for s in samples])
    except (TypeError, ValueError) as e:
        shapes = sorted({str(tuple(getattr(s, "shape", ()))) for s in samples})
        raise type(e)(
            f"default_collate: cannot stack the samples' {_field(where)} into a batch (shapes "
            f"{', '.join(shapes)}): {e}; pad them to one shape or pass a collate_fn"
        ) from None
    if source is not backend:
        stacked = backend.asarray(source.to_numpy(stacked))
    return Tensor._make(stacked, backend)


def _convert(data: Any, backend: Any) -> Any:
    if isinstance(data, Tensor):
        if data.backend is backend:
            return data
        return Tensor._make(backend.asarray(data.backend.to_numpy(data.array)), backend)
    if _is_host_array(data):
        if data.dtype.kind in "SUaO":
            return data
        return Tensor._make(backend.asarray(data), backend)
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, Mapping):
        return _same_type(data, {k: _convert(v, backend) for k, v in data.items()})
    if _is_namedtuple(data):
        return type(data)(*(_convert(v, backend) for v in data))
    if isinstance(data, tuple):
        return [_convert(v, backend) for v in data]
    if isinstance(data, Sequence):
        return _same_type(data, [_convert(v, backend) for v in data])
    return data


def _field(where: str) -> str:
    return f"field {where}" if where else "values"


def _kind(sample: Any) -> str:
    """The structure a sample has, for comparing samples (sequence, mapping or a leaf)."""
    if isinstance(sample, Mapping):
        return f"dict with keys {sorted(map(str, sample))}"
    if isinstance(sample, Sequence) and not isinstance(sample, (str, bytes)):
        return f"{type(sample).__name__} of {len(sample)}"
    if isinstance(sample, (Tensor, bool, int, float)) or hasattr(sample, "shape"):
        return "value"
    return type(sample).__name__


def _is_container(sample: Any) -> bool:
    return isinstance(sample, (Mapping, Sequence)) and not isinstance(sample, (str, bytes))


def _check_alike(samples: list, where: str) -> None:
    """Every sample must have the first one's structure (same sequence length, same keys)."""
    first = samples[0]
    if isinstance(first, Mapping):
        keys = set(first)
        bad = next((i for i, s in enumerate(samples) if not isinstance(s, Mapping)
                    or set(s) != keys), None)
    elif _is_container(first):
        bad = next((i for i, s in enumerate(samples) if not _is_container(s)
                    or isinstance(s, Mapping) or len(s) != len(first)), None)
    else:
        bad = next((i for i, s in enumerate(samples) if _is_container(s)), None)
    if bad is not None:
        raise ValueError(
            f"default_collate: the samples of a batch differ in structure"
            f"{' at their field ' + where if where else ''}: sample 0 is a {_kind(first)}, "
            f"sample {bad} a "
            f"{_kind(samples[bad])}; every sample must have the same fields (or pass a "
            "collate_fn that handles them)"
        )


# -- batches between processes -------------------------------------------------------------------
class HostTensor:
    """A Tensor's data in transit from a worker process: a host array, pickled as such, that
    the loader turns back into a Tensor on its device."""

    __slots__ = ("array",)

    def __init__(self, array: Any) -> None:
        self.array = array

    def __reduce__(self) -> tuple:
        return (HostTensor, (self.array,))


def pack(obj: Any) -> Any:
    """`obj` with every Tensor in its dicts, lists and tuples replaced by a `HostTensor`."""
    if isinstance(obj, Tensor):
        return HostTensor(obj.backend.to_numpy(obj.array))
    if type(obj) is dict:
        return {k: pack(v) for k, v in obj.items()}
    if type(obj) is list:
        return [pack(v) for v in obj]
    if type(obj) is tuple:
        return tuple(pack(v) for v in obj)
    if _is_namedtuple(obj):
        return type(obj)(*(pack(v) for v in obj))
    return obj


def unpack(obj: Any, backend: Any, pin_memory: bool = False) -> Any:
    """`pack`'s inverse: every `HostTensor` becomes a Tensor on `backend` (copied in through
    page-locked host memory with `pin_memory`, where the backend has it)."""
    if isinstance(obj, HostTensor):
        array = backend.asarray_pinned(obj.array) if pin_memory else backend.asarray(obj.array)
        return Tensor._make(array, backend)
    if type(obj) is dict:
        return {k: unpack(v, backend, pin_memory) for k, v in obj.items()}
    if type(obj) is list:
        return [unpack(v, backend, pin_memory) for v in obj]
    if type(obj) is tuple:
        return tuple(unpack(v, backend, pin_memory) for v in obj)
    if _is_namedtuple(obj):
        return type(obj)(*(unpack(v, backend, pin_memory) for v in obj))
    return obj
