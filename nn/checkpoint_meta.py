"""The checkpoint metadata's schema, checked before any array is read.

`expected_arrays` checks every field a kedja checkpoint's ``__kedja__`` JSON may hold (types,
nesting, parameter indices written as decimal strings, no name twice) and returns the keys of
the arrays it declares: the readers read those and refuse any other member.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .checkpoint_read import CheckpointError

__all__ = ["FORMAT", "VERSION", "MAX_DEPTH", "expected_arrays", "index_of"]

FORMAT = "kedja-checkpoint"
VERSION = 1
#: The deepest nesting of lists and dicts the metadata may have (a real one has about 6).
MAX_DEPTH = 64
_TOP_KEYS = ("format", "version", "model_keys", "optimizer", "scheduler", "extra",
             "extra_arrays", "zero_dim")
_OPTIMIZER_KEYS = ("type", "param_groups", "state_arrays", "state_scalars")


def expected_arrays(path: Path, meta: Any) -> list[str]:
    """The array keys `meta` declares, in order; raises CheckpointError naming what is wrong."""
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: the metadata is a JSON {type(meta).__name__}, not an "
                              "object: not a kedja checkpoint")
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: metadata does not name the format {FORMAT!r}")
    version = meta.get("version")
    if type(version) is not int or version != VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {_brief(version)}; this kedja "
                              f"reads version {VERSION}")
    _check_depth(path, meta)
    unknown = [k for k in meta if k not in _TOP_KEYS]
    if unknown:
        raise CheckpointError(f"{path}: unknown metadata fields: {_brief(unknown)}")
    keys: list[str] = []
    if "model_keys" in meta:
        keys += [f"model/{k}" for k in _names(path, meta, "model_keys")]
    if "optimizer" in meta:
        keys += _optimizer_arrays(path, meta["optimizer"])
    if "scheduler" in meta:
        scheduler = meta["scheduler"]
        if not isinstance(scheduler, dict) or set(scheduler) != {"type", "state"} \
                or not isinstance(scheduler["type"], str) \
                or not isinstance(scheduler["state"], dict):
            raise CheckpointError(f"{path}: metadata field 'scheduler' must be {{'type': a "
                                  "string, 'state': an object}")
    extra = meta.get("extra", {})
    if not isinstance(extra, dict):
        raise CheckpointError(f"{path}: metadata field 'extra' must be an object")
    extra_arrays = _names(path, meta, "extra_arrays") if "extra_arrays" in meta else []
    clash = [n for n in extra_arrays if n in extra or n in ("model", "optimizer", "scheduler")]
    clash += [n for n in extra if n in ("model", "optimizer", "scheduler")]
    if clash:
        raise CheckpointError(f"{path}: extra values named twice or reserved: {_brief(clash)}")
    keys += [f"extra/{n}" for n in extra_arrays]
    if len(set(keys)) != len(keys):
        raise CheckpointError(f"{path}: the metadata declares an array twice")
    if "zero_dim" in meta:
        zero_dim = _names(path, meta, "zero_dim")
        if not set(zero_dim) <= set(keys):
            raise CheckpointError(f"{path}: metadata field 'zero_dim' names arrays it does not "
                                  "declare")
    return keys


def index_of(text: str) -> int | None:
    """A parameter index written as a JSON object key ("0", "12"), or None if `text` is not one."""
    if text.isdigit() and text.isascii() and len(text) <= 18 and (text == "0" or text[0] != "0"):
        return int(text)
    return None


def _optimizer_arrays(path: Path, opt: Any) -> list[str]:
    if not isinstance(opt, dict) or set(opt) != set(_OPTIMIZER_KEYS):
        raise CheckpointError(f"{path}: metadata field 'optimizer' must hold exactly "
                              f"{', '.join(_OPTIMIZER_KEYS)}")
    if not isinstance(opt["type"], str):
        raise CheckpointError(f"{path}: the optimizer's type must be a string")
    groups = opt["param_groups"]
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise CheckpointError(f"{path}: the optimizer's param_groups must be a list of objects")
    for g, group in enumerate(groups):
        params = group.get("params")
        if not isinstance(params, list) or not all(
                type(i) is int and i >= 0 for i in params):
            raise CheckpointError(f"{path}: the optimizer's param_groups[{g}] needs a 'params' "
                                  "list of parameter indices")
    arrays, scalars = opt["state_arrays"], opt["state_scalars"]
    for field, value in (("state_arrays", arrays), ("state_scalars", scalars)):
        if not isinstance(value, dict):
            raise CheckpointError(f"{path}: the optimizer's {field} must be an object")
        for index, entry in value.items():
            if index_of(index) is None:
                raise CheckpointError(f"{path}: the optimizer's {field} has key "
                                      f"{_brief(index)}, not a parameter index")
            kind = list if field == "state_arrays" else dict
            if not isinstance(entry, kind) or not all(isinstance(k, str) for k in entry):
                raise CheckpointError(f"{path}: the optimizer's {field}[{index!r}] must be "
                                      f"{'a list of names' if kind is list else 'an object'}")
    keys = []
    for index, names in arrays.items():
        both = [n for n in names if n in scalars.get(index, {})]
        if both:
            raise CheckpointError(f"{path}: optimizer state {index}/{both[0]} is declared both "
                                  "as an array and as a number")
        keys += [f"optimizer/state/{index}/{n}" for n in names]
    return keys


def _names(path: Path, meta: dict, field: str) -> list[str]:
    value = meta[field]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CheckpointError(f"{path}: metadata field {field!r} must be a list of strings")
    if len(set(value)) != len(value):
        raise CheckpointError(f"{path}: metadata field {field!r} names an entry twice")
    return value


def _check_depth(path: Path, meta: Any) -> None:
    """Refuses nesting deeper than MAX_DEPTH, without recursing (the JSON parser's own limit is
    the interpreter's stack; deep values would later break copying)."""
    stack = [(meta, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise CheckpointError(f"{path}: the metadata is nested more than {MAX_DEPTH} levels "
                                  "deep")
        children = value.values() if isinstance(value, dict) else value
        stack.extend((v, depth + 1) for v in children if isinstance(v, (dict, list)))


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
