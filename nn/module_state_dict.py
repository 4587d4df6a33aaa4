"""`StateDictMixin`: `Module.state_dict` and `Module.load_state_dict` (checkpoint contents).

A base class of `nn.Module`, in a file of its own to keep nn/module.py short.
"""

from __future__ import annotations

import numbers
from collections import OrderedDict, namedtuple
from collections.abc import Mapping
from typing import Any

import backends
from autograd.grad_mode import no_grad
from autograd.tensor import Tensor

__all__ = ["StateDictMixin"]


_IncompatibleKeys = namedtuple("_IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class StateDictMixin:
    """`nn.Module`'s checkpoint methods: parameters and persistent buffers by dotted name."""

    # -- checkpoints --------------------------------------------------------------------------
    def state_dict(
        self, destination: dict | None = None, prefix: str = "", keep_vars: bool = False
    ) -> OrderedDict:
        """Parameters and persistent buffers by dotted name (``layer.0.weight``).

        Per module, its own parameters come first, then its buffers, then its children's
        entries, as PyTorch orders them. A parameter shared by two modules appears under both
        names. Values are detached tensors sharing memory with the module (unless `keep_vars`,
        which returns the Parameters themselves).
        """
        out = OrderedDict() if destination is None else destination
        # remove_duplicate=False: a submodule reachable by two paths is saved under both.
        walk = self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False)
        for module_prefix, module in walk:
            dot = f"{module_prefix}." if module_prefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    out[dot + name] = p if keep_vars else p.detach()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent_buffers:
                    out[dot + name] = b if keep_vars else b.detach()
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> Any:
        """Copies a `state_dict` into this module's parameters and buffers in place.

        Values may be Tensors or arrays of any backend (host NumPy arrays from a checkpoint
        file included); each is moved to its target's device and cast to its dtype between
        floating types. The targets are written in place, so optimizers keep their references.

        Args:
            state_dict: name -> Tensor or array.
            strict: require the keys to match exactly (missing and unexpected keys raise).

        Returns:
            A named tuple ``(missing_keys, unexpected_keys)``.

        Raises:
            RuntimeError: listing every missing/unexpected key (with `strict`), every value
                that is not an array, every shape mismatch and every dtype-kind mismatch (e.g.
                integers into a float parameter), before anything is copied.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict: expected a mapping of names to tensors, got "
                f"{type(state_dict).__name__}"
            )
        targets = self.state_dict(keep_vars=True)
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        errors = []
        if strict:
            if unexpected:
                errors.append(
                    "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected)
                    + "."
                )
            if missing:
                errors.append(
                    "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + "."
                )
        plan = []
        for key, target in targets.items():
            if key not in state_dict:
                continue
            array, problem = _as_array(state_dict[key])
            if problem is not None:
                errors.append(f"bad value for {key}: {problem}")
                continue
            shape = tuple(array.shape)
            if shape != target.shape:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {shape} from "
                    f"checkpoint, the shape in current model is {target.shape}."
                )
                continue
            if _kind(array.dtype) != _kind(target.dtype):
                errors.append(
                    f"dtype mismatch for {key}: copying a param with dtype {array.dtype} from "
                    f"checkpoint, the dtype in current model is {target.dtype}."
                )
                continue
            plan.append((target, array))
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        with no_grad():
            for target, array in plan:
                target.array[...] = _on_backend(array, target.backend)
                target._version[0] += 1
        return _IncompatibleKeys(missing, unexpected)


def _as_array(value: Any) -> tuple[Any, str | None]:
    """``(array, None)`` for a Tensor, an array of any backend, or what ``ag.tensor`` takes
    (numbers and nested lists); ``(None, what is wrong)`` for anything else."""
    if isinstance(value, Tensor):
        return value.array, None
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return value, None
    if isinstance(value, (numbers.Number, list, tuple)):
        try:
            return backends.host().asarray(value), None
        except (ValueError, TypeError) as e:
            return None, f"a {type(value).__name__} that is not an array ({str(e)[:120]})"
    return None, f"a {type(value).__name__}; expected a Tensor or an array"


def _kind(dtype: Any) -> str:
    """A dtype's family for checkpoint loading: floats load into floats, ints into ints."""
    kind = backends.dtype_of(dtype).kind
    return {"u": "i"}.get(kind, kind)


def _on_backend(array: Any, backend: backends.Backend) -> Any:
    """`array` as an array of `backend` (through the host if it lives elsewhere)."""
    if type(array) is backend.array_type:
        return array
    source = backends.backend_of_array(array)
    if source is not None and source is not backend:
        array = source.to_numpy(array)
    return backend.asarray(array)
