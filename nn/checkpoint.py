"""Checkpoints without pickle: model and optimizer state in an ``.npz`` file (or safetensors).

    >>> import nn.checkpoint as ckpt
    >>> ckpt.save("run/epoch5.npz", model=model, optimizer=opt, epoch=5, best_acc=0.97)
    >>> extra = ckpt.load("run/epoch5.npz", model=model, optimizer=opt)
    >>> extra["epoch"]
    5

Format (version 1), an ordinary NumPy ``.npz`` archive readable with ``allow_pickle=False``:

- ``model/<state_dict key>``: each array of ``model.state_dict()`` (e.g. ``model/0.weight``);
- ``optimizer/state/<index>/<key>``: each array in ``optimizer.state_dict()["state"]``
  (e.g. ``optimizer/state/0/exp_avg``);
- ``extra/<name>``: extra values that are arrays or Tensors;
- ``__kedja__``: a uint8 array holding UTF-8 JSON with everything else: ``format``
  (``"kedja-checkpoint"``), ``version``, ``model_keys`` (in order), the optimizer's ``type``,
  ``param_groups`` and non-array state (such as ``step``), the names of the array entries, and
  the JSON-able extra values.

A ``.safetensors`` path (when the optional ``safetensors`` package is installed) stores the same
keys, with the JSON in the file's metadata under ``__kedja__``.

Writes are atomic: the file is written to a temporary file in the same directory, flushed and
fsynced, then renamed over the target, so a crash leaves the previous checkpoint intact; the
temporary files of writers that were killed are removed by the next save of the same target
(nn/checkpoint_files.py). Reads are bounded and checked (nn/checkpoint_read.py,
nn/checkpoint_meta.py): only the declared arrays are read, each checked against its real size
before it is allocated, at most ``max_bytes`` in all; every malformed file raises CheckpointError.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import backends
from autograd.tensor import Tensor

from .checkpoint_files import atomic_write
from .checkpoint_meta import FORMAT, VERSION, expected_arrays, index_of
from .checkpoint_read import DEFAULT_MAX_BYTES, CheckpointError, read_npz, read_safetensors

__all__ = [
    "save", "load", "save_state_dict", "load_state_dict_file", "read", "CheckpointError",
    "FORMAT", "VERSION", "DEFAULT_MAX_BYTES",
]

_META = "__kedja__"
_RESERVED = {"model", "optimizer", "scheduler"}


def _host(value: Any) -> Any:
    """A host NumPy array of a Tensor or any backend's array."""
    if isinstance(value, Tensor):
        return value.backend.to_numpy(value.array)
    source = backends.backend_of_array(value)
    if source is not None:
        return source.to_numpy(value)
    return backends.host().xp.asarray(value)


def _is_array(value: Any) -> bool:
    return isinstance(value, Tensor) or (hasattr(value, "shape") and hasattr(value, "dtype"))


def _jsonable(value: Any, where: str) -> Any:
    """`value` with tuples as lists and NumPy scalars as Python numbers; raises on the rest."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v, where) for k, v in value.items()}
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        return value.item()
    raise TypeError(f"checkpoint: cannot store {where} of type {type(value).__name__}: it is "
                    "neither an array nor JSON-able (numbers, strings, lists, dicts)")


def _pack(model: Any, optimizer: Any, scheduler: Any, extra: dict) -> tuple[dict, dict]:
    """(arrays by key, JSON metadata) for the given objects."""
    arrays: dict[str, Any] = OrderedDict()
    meta: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    if model is not None:
        state = model.state_dict() if hasattr(model, "state_dict") else dict(model)
        meta["model_keys"] = list(state)
        for key, value in state.items():
            arrays[f"model/{key}"] = _host(value)
    if optimizer is not None:
        state = optimizer.state_dict() if hasattr(optimizer, "state_dict") else dict(optimizer)
        scalars: dict[str, dict] = {}
        array_keys: dict[str, list] = {}
        for index, entry in state["state"].items():
            for key, value in entry.items():
                if _is_array(value) and not (key == "step" and _is_scalar_array(value)):
                    arrays[f"optimizer/state/{index}/{key}"] = _host(value)
                    array_keys.setdefault(str(index), []).append(key)
                else:
                    if _is_array(value):
                        value = _host(value).reshape(()).item()
                    scalars.setdefault(str(index), {})[key] = _jsonable(
                        value, f"optimizer state {index}/{key}")
        meta["optimizer"] = {
            "type": type(optimizer).__name__,
            "param_groups": _jsonable(state["param_groups"], "optimizer param_groups"),
            "state_arrays": array_keys,
            "state_scalars": scalars,
        }
    if scheduler is not None:
        state = scheduler.state_dict() if hasattr(scheduler, "state_dict") else dict(scheduler)
        meta["scheduler"] = {"type": type(scheduler).__name__,
                             "state": _jsonable(state, "scheduler state")}
    meta["extra"] = {}
    meta["extra_arrays"] = []
    for name, value in extra.items():
        if name in _RESERVED:
            raise ValueError(f"checkpoint.save: {name!r} is reserved; pass it by keyword "
                             f"{name}= for the object itself")
        if _is_array(value):
            arrays[f"extra/{name}"] = _host(value)
            meta["extra_arrays"].append(name)
        else:
            meta["extra"][name] = _jsonable(value, f"extra value {name!r}")
    return arrays, meta


def _is_scalar_array(value: Any) -> bool:
    return tuple(value.shape) in ((), (1,))


def _encode_meta(meta: dict) -> Any:
    text = json.dumps(meta, sort_keys=False)
    return backends.host().xp.frombuffer(text.encode("utf-8"), dtype="uint8").copy()


def _write_npz(f: Any, arrays: dict, meta: dict) -> None:
    backends.host().xp.savez(f, **{_META: _encode_meta(meta)}, **arrays)


def _write_safetensors(f: Any, arrays: dict, meta: dict) -> None:
    try:
        from safetensors.numpy import save as st_save
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("checkpoint: writing .safetensors needs the optional 'safetensors' "
                          "package (pip install safetensors), or use a .npz path") from e
    xp = backends.host().xp
    contiguous = {k: xp.ascontiguousarray(v) for k, v in arrays.items()}
    # safetensors' NumPy helper reads 0-d arrays back as shape (1,): remember which were 0-d
    meta = {**meta, "zero_dim": [k for k, v in arrays.items() if v.ndim == 0]}
    f.write(st_save(contiguous, metadata={_META: json.dumps(meta)}))


def _is_safetensors(path: Path) -> bool:
    return path.suffix == ".safetensors"


def save(path: str | os.PathLike, model: Any = None, optimizer: Any = None,
         scheduler: Any = None, **extra: Any) -> Path:
    """Writes a checkpoint atomically (see the module docstring for the format).

    Args:
        path: the file; ``.safetensors`` selects safetensors, anything else writes npz.
        model: a Module (its ``state_dict()``) or a state dict.
        optimizer: an Optimizer (its ``state_dict()``) or such a dict.
        scheduler: an LR scheduler whose ``state_dict()`` is JSON-able.
        **extra: more values to store: arrays/Tensors, or JSON-able values (numbers, strings,
            lists, dicts), e.g. ``epoch=5``.

    Returns:
        The path written.
    """
    path = Path(path)
    arrays, meta = _pack(model, optimizer, scheduler, extra)
    if _is_safetensors(path):
        atomic_write(path, lambda f: _write_safetensors(f, arrays, meta))
    else:
        atomic_write(path, lambda f: _write_npz(f, arrays, meta))
    return path


def save_state_dict(path: str | os.PathLike, state_dict: Any) -> Path:
    """Writes a module's state dict (or a Module's) alone, in the checkpoint format."""
    return save(path, model=state_dict)


# -- reading ----------------------------------------------------------------------------------
def read(path: str | os.PathLike, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[dict, dict]:
    """The raw content of a checkpoint: ``(arrays by key, metadata dict)``, checked: the
    metadata against the format's schema, then exactly the arrays it declares (any other member
    is refused unread), each against its real size before it is allocated.

    Args:
        path: a file written by `save`.
        max_bytes: the most bytes of arrays and metadata to read (default 4 GiB); a file that
            declares more raises CheckpointError before anything large is allocated.
    """
    path = Path(path)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise TypeError(f"checkpoint.read: max_bytes must be an int >= 0, got {max_bytes!r}")
    reader = read_safetensors if _is_safetensors(path) else read_npz
    arrays, meta = reader(path, lambda m: expected_arrays(path, m), max_bytes)
    for key in meta.pop("zero_dim", []):
        if arrays[key].size != 1:
            raise CheckpointError(f"{path}: array {key!r} is listed as 0-d but has shape "
                                  f"{arrays[key].shape}")
        arrays[key] = arrays[key].reshape(())
    return arrays, meta


def _tuples(value: Any) -> Any:
    """JSON lists back to tuples (param_groups hold tuples such as ``betas``)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _optimizer_state(arrays: dict, meta: dict) -> dict:
    opt = meta["optimizer"]
    state: dict[int, dict] = {}
    for index, values in opt["state_scalars"].items():
        state.setdefault(index_of(index), {}).update(values)
    for index, keys in opt["state_arrays"].items():
        entry = state.setdefault(index_of(index), {})
        for key in keys:
            entry[key] = arrays[f"optimizer/state/{index}/{key}"]
    state = dict(sorted(state.items()))
    groups = []
    for group in opt["param_groups"]:
        groups.append({k: (list(v) if k == "params" else _tuples(v)) for k, v in group.items()})
    return {"state": state, "param_groups": groups}


def _prepared(path: Path, what: str, obj: Any, saved_type: Any, state: Any) -> Callable[[], None]:
    """Checks that `state` (of a `saved_type`) fits `obj`; returns the function that loads it."""
    if state is None:
        raise CheckpointError(f"{path}: holds no {what} state")
    if saved_type != type(obj).__name__:
        raise CheckpointError(f"{path}: {what} state of a {saved_type}, cannot load it into a "
                              f"{type(obj).__name__}")
    prepare = getattr(obj, "_prepare_load", None)
    try:
        if prepare is not None:  # kedja's optimizers and schedulers check before they change
            return prepare(state)
        obj.load_state_dict(state)
    except (ValueError, TypeError, KeyError) as e:
        raise CheckpointError(f"{path}: does not fit the {what}: {e}") from e
    return lambda: None


def load(path: str | os.PathLike, model: Any = None, optimizer: Any = None,
         scheduler: Any = None, strict: bool = True,
         max_bytes: int = DEFAULT_MAX_BYTES) -> dict:
    """Reads a checkpoint and loads it into `model`, `optimizer` and `scheduler` where given.

    Everything is checked before anything is loaded: the file (see `read`), then the optimizer
    and scheduler states (as their constructors check their arguments), then the model's keys,
    shapes and dtypes; a CheckpointError leaves all three as they were.

    Args:
        path: a file written by `save`.
        model: a Module; gets ``load_state_dict(state, strict=strict)``.
        optimizer: an Optimizer; gets the saved optimizer state.
        scheduler: an LR scheduler; gets the saved scheduler state.
        strict: require the model's keys to match the file's exactly.
        max_bytes: the most bytes the file may make the load read (default 4 GiB); raise it to
            load a larger checkpoint you trust.

    Returns:
        A dict of the extra values, plus ``"model"`` (the model state dict as host arrays),
        ``"optimizer"`` and ``"scheduler"`` (their state dicts, or None if not saved).

    Raises:
        CheckpointError: the file is corrupt or truncated, is not a kedja checkpoint, declares
            more than `max_bytes`, or does not fit the model/optimizer/scheduler given (the
            message names the file and the problem).
        FileNotFoundError: there is no such file.
    """
    path = Path(path)
    arrays, meta = read(path, max_bytes)
    model_state = None
    if "model_keys" in meta:
        model_state = OrderedDict((k, arrays[f"model/{k}"]) for k in meta["model_keys"])
    optimizer_state = _optimizer_state(arrays, meta) if "optimizer" in meta else None
    scheduler_state = meta["scheduler"]["state"] if "scheduler" in meta else None
    loads = []
    if optimizer is not None:
        saved_type = meta["optimizer"]["type"] if optimizer_state is not None else None
        loads.append(_prepared(path, "optimizer", optimizer, saved_type, optimizer_state))
    if scheduler is not None:
        saved_type = meta["scheduler"]["type"] if scheduler_state is not None else None
        loads.append(_prepared(path, "scheduler", scheduler, saved_type, scheduler_state))
    if model is not None:
        if model_state is None:
            raise CheckpointError(f"{path}: holds no model state")
        try:  # checks keys, shapes and dtypes before it copies anything
            model.load_state_dict(model_state, strict=strict)
        except (RuntimeError, ValueError, TypeError) as e:
            raise CheckpointError(f"{path}: does not fit {type(model).__name__}: {e}") from e
    for load_part in loads:
        load_part()
    out = dict(meta.get("extra", {}))
    for name in meta.get("extra_arrays", []):
        out[name] = arrays[f"extra/{name}"]
    out["model"] = model_state
    out["optimizer"] = optimizer_state
    out["scheduler"] = scheduler_state
    return out


def load_state_dict_file(path: str | os.PathLike,
                         max_bytes: int = DEFAULT_MAX_BYTES) -> OrderedDict:
    """The model state dict (host arrays by key) stored in a checkpoint file."""
    state = load(path, max_bytes=max_bytes)["model"]
    if state is None:
        raise CheckpointError(f"{path}: holds no model state")
    return state
