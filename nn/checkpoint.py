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
fsynced, then renamed over the target, so a crash leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import backends
from autograd.tensor import Tensor

__all__ = [
    "save", "load", "save_state_dict", "load_state_dict_file", "read", "CheckpointError",
    "FORMAT", "VERSION",
]

FORMAT = "kedja-checkpoint"
VERSION = 1
_META = "__kedja__"
_RESERVED = {"model", "optimizer", "scheduler"}


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read or does not fit the model/optimizer given."""


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


def _atomic_write(path: Path, write: Any) -> None:
    """Writes via ``write(fileobj)`` into a temporary sibling, fsyncs, then renames over `path`."""
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    """Makes the rename itself durable (where the OS lets a directory be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
    ranks = _process_group()
    if ranks is None or ranks.rank == 0:
        arrays, meta = _pack(model, optimizer, scheduler, extra)
        if _is_safetensors(path):
            _atomic_write(path, lambda f: _write_safetensors(f, arrays, meta))
        else:
            _atomic_write(path, lambda f: _write_npz(f, arrays, meta))
    if ranks is not None:
        ranks.host.barrier().wait()  # every rank may load it once save returns
    return path


def _process_group() -> Any:
    """nn.parallel's group when this process is one of several ranks (then only rank 0 writes
    checkpoints, and every rank calls save), else None."""
    module = sys.modules.get("nn.parallel.process_group")  # never imported for this alone
    group = getattr(module, "_group", None)
    return group if group is not None and group.world_size > 1 else None


def save_state_dict(path: str | os.PathLike, state_dict: Any) -> Path:
    """Writes a module's state dict (or a Module's) alone, in the checkpoint format."""
    return save(path, model=state_dict)


# -- reading ----------------------------------------------------------------------------------
def _read_npz(path: Path) -> dict:
    xp = backends.host().xp
    try:
        f = xp.load(path, allow_pickle=False)
        if not hasattr(f, "files"):
            raise CheckpointError(f"{path}: a single .npy array, not a kedja checkpoint (npz)")
        with f:
            # read every member now: a damaged member (bad CRC, short data) fails here, inside
            # the try, instead of later in the caller
            return {name: f[name] for name in f.files}
    except (FileNotFoundError, CheckpointError):
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as e:
        raise CheckpointError(f"{path}: not a readable checkpoint (truncated or corrupt npz "
                              f"file?): {type(e).__name__}: {e}") from e


def _read_safetensors(path: Path) -> tuple[dict, str | None]:
    try:
        from safetensors import safe_open
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("checkpoint: reading .safetensors needs the optional 'safetensors' "
                          "package") from e
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = (f.metadata() or {}).get(_META)
            return {k: f.get_tensor(k) for k in f.keys()}, meta
    except FileNotFoundError:
        raise
    except Exception as e:  # noqa: BLE001 - safetensors raises its own error types
        raise CheckpointError(f"{path}: not a readable safetensors checkpoint (truncated or "
                              f"corrupt?): {type(e).__name__}: {e}") from e


def read(path: str | os.PathLike) -> tuple[dict, dict]:
    """The raw content of a checkpoint: ``(arrays by key, metadata dict)``, checked for
    completeness (every array the metadata lists is present)."""
    path = Path(path)
    if _is_safetensors(path):
        arrays, text = _read_safetensors(path)
    else:
        arrays = _read_npz(path)
        raw = arrays.pop(_META, None)
        text = None if raw is None else bytes(raw.tobytes()).decode("utf-8", errors="replace")
    if text is None:
        raise CheckpointError(f"{path}: no {_META!r} metadata entry: not a kedja checkpoint")
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path}: the {_META!r} metadata is not valid JSON ({e})") from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: metadata does not name the format {FORMAT!r}")
    for key in meta.pop("zero_dim", []):
        if key in arrays:
            arrays[key] = arrays[key].reshape(())
    if meta.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {meta.get('version')!r}; "
                              f"this kedja reads version {VERSION}")
    expected = [f"model/{k}" for k in meta.get("model_keys", [])]
    for index, keys in meta.get("optimizer", {}).get("state_arrays", {}).items():
        expected += [f"optimizer/state/{index}/{k}" for k in keys]
    expected += [f"extra/{k}" for k in meta.get("extra_arrays", [])]
    missing = [k for k in expected if k not in arrays]
    if missing:
        raise CheckpointError(f"{path}: incomplete checkpoint, missing arrays: "
                              + ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else ""))
    return arrays, meta


def _tuples(value: Any) -> Any:
    """JSON lists back to tuples (param_groups hold tuples such as ``betas``)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _optimizer_state(arrays: dict, meta: dict) -> dict:
    opt = meta["optimizer"]
    state: dict[int, dict] = {}
    for index, values in opt.get("state_scalars", {}).items():
        state.setdefault(int(index), {}).update(values)
    for index, keys in opt.get("state_arrays", {}).items():
        entry = state.setdefault(int(index), {})
        for key in keys:
            entry[key] = arrays[f"optimizer/state/{index}/{key}"]
    state = dict(sorted(state.items()))
    groups = []
    for group in opt["param_groups"]:
        groups.append({k: (list(v) if k == "params" else _tuples(v)) for k, v in group.items()})
    return {"state": state, "param_groups": groups}


def load(path: str | os.PathLike, model: Any = None, optimizer: Any = None,
         scheduler: Any = None, strict: bool = True) -> dict:
    """Reads a checkpoint and loads it into `model`, `optimizer` and `scheduler` where given.

    Args:
        path: a file written by `save`.
        model: a Module; gets ``load_state_dict(state, strict=strict)``.
        optimizer: an Optimizer; gets the saved optimizer state.
        scheduler: an LR scheduler; gets the saved scheduler state.
        strict: require the model's keys to match the file's exactly.

    Returns:
        A dict of the extra values, plus ``"model"`` (the model state dict as host arrays),
        ``"optimizer"`` and ``"scheduler"`` (their state dicts, or None if not saved).

    Raises:
        CheckpointError: the file is corrupt or truncated, is not a kedja checkpoint, or does
            not fit the model/optimizer given (the message names the file and the problem).
    """
    path = Path(path)
    arrays, meta = read(path)
    model_state = None
    if "model_keys" in meta:
        model_state = OrderedDict((k, arrays[f"model/{k}"]) for k in meta["model_keys"])
    optimizer_state = _optimizer_state(arrays, meta) if "optimizer" in meta else None
    scheduler_state = meta["scheduler"]["state"] if "scheduler" in meta else None
    if model is not None:
        if model_state is None:
            raise CheckpointError(f"{path}: holds no model state")
        try:
            model.load_state_dict(model_state, strict=strict)
        except (RuntimeError, ValueError, TypeError) as e:
            raise CheckpointError(f"{path}: does not fit {type(model).__name__}: {e}") from e
    if optimizer is not None:
        if optimizer_state is None:
            raise CheckpointError(f"{path}: holds no optimizer state")
        saved_type = meta["optimizer"].get("type")
        if saved_type != type(optimizer).__name__:
            raise CheckpointError(f"{path}: optimizer state of a {saved_type}, cannot load it "
                                  f"into a {type(optimizer).__name__}")
        try:
            optimizer.load_state_dict(optimizer_state)
        except (RuntimeError, ValueError, TypeError, KeyError) as e:
            raise CheckpointError(f"{path}: does not fit the optimizer: {e}") from e
    if scheduler is not None:
        if scheduler_state is None:
            raise CheckpointError(f"{path}: holds no scheduler state")
        scheduler.load_state_dict(scheduler_state)
    out = dict(meta.get("extra", {}))
    for name in meta.get("extra_arrays", []):
        out[name] = arrays[f"extra/{name}"]
    out["model"] = model_state
    out["optimizer"] = optimizer_state
    out["scheduler"] = scheduler_state
    return out


def load_state_dict_file(path: str | os.PathLike) -> OrderedDict:
    """The model state dict (host arrays by key) stored in a checkpoint file."""
    state = load(path)["model"]
    if state is None:
        raise CheckpointError(f"{path}: holds no model state")
    return state
