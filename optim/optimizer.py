"""`Optimizer`: parameter groups, lazily created per-parameter state, and checkpoints.

Follows PyTorch's layout: ``param_groups`` is a list of dicts (``"params"`` plus the group's
hyperparameters); ``state`` maps each parameter tensor to a dict created on its first update.
Subclasses implement ``_update_group(group)``; updates run on raw backend arrays under
``no_grad`` and never read device data back to the host (the step count is a Python int).
"""

from __future__ import annotations

import copy
import math
import numbers
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from autograd.grad_mode import enable_grad, no_grad
from autograd.tensor import Tensor


class _Required:
    """Marks a hyperparameter without a default: every group must then give it."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()

#: State keys whose values have the parameter's shape (checked on load).
PARAM_SHAPED_STATE = (
    "momentum_buffer", "sum", "square_avg", "grad_avg", "exp_avg", "exp_avg_sq",
    "max_exp_avg_sq",
)


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of Tensors, or of dicts each holding ``"params"`` (an iterable of
            Tensors) and per-group options overriding `defaults`.
        defaults: default hyperparameters of every group.

    Attributes:
        param_groups: list of dicts, ``{"params": [tensors...], "lr": ..., ...}``.
        state: dict from parameter tensor to its state dict (created on its first update; as in
            PyTorch a ``defaultdict``, so a stateless parameter reads as ``{}``).
        defaults: the hyperparameters given to the constructor.
    """

    def __init__(self, params: Any, defaults: dict) -> None:
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict] = defaultdict(dict)
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors or of dicts, "
                "got a single Tensor; wrap it in a list"
            )
        if isinstance(params, dict):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors or of group "
                "dicts, got a dict; wrap the parameter group in a list"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{type(self).__name__}: params must be an ordered iterable (a list), got a set: "
                "the order of parameters must be stable for state_dict to work"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- groups -----------------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Adds a group of parameters, e.g. layers unfrozen during fine-tuning.

        Args:
            param_group: ``{"params": tensors, <option>: value, ...}``; options not given take
                the optimizer's defaults.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got "
                            f"{type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: a group's params must be ordered (a list), got a set")
        else:
            params = list(params)
        seen: set[int] = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{name}: can only optimize Tensors, but parameter {i} of the group is "
                    f"{type(p).__name__}"
                )
            if p.grad_fn is not None:
                raise ValueError(
                    f"{name}: can't optimize a non-leaf Tensor (parameter {i}, shape {p.shape}); "
                    "optimize the leaf it was computed from, or .detach().requires_grad_()"
                )
            if id(p) in seen:
                raise ValueError(f"{name}: parameter {i} (shape {p.shape}) appears twice in "
                                 "the group")
            seen.add(id(p))
        for other in self.param_groups:
            if any(id(p) in seen for p in other["params"]):
                raise ValueError(f"{name}: some parameters appear in more than one parameter "
                                 "group")
        group["params"] = params
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(
                    f"{name}: parameter group didn't specify a value of required optimization "
                    f"parameter {key!r}"
                )
            group.setdefault(key, default)
        self._validate_group(group)
        self.param_groups.append(group)

    def _validate_group(self, group: dict) -> None:
        """Raises ValueError for hyperparameters out of range (subclasses extend)."""
        _check_nonnegative(self, group, "lr", "learning rate")

    # -- gradients --------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Resets the gradients of all parameters.

        Args:
            set_to_none: drop ``.grad`` (the default: frees memory, and the next backward
                writes a fresh gradient) instead of filling it with zeros in place.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad = p.grad.detach()
                    p.grad.zero_()

    # -- stepping ---------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Updates every parameter that has a gradient.

        Args:
            closure: optional function that re-evaluates the model and returns the loss; it is
                called with grad mode on before the update.

        Returns:
            The closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._update_group(group)
        return loss

    def _update_group(self, group: dict) -> None:
        raise NotImplementedError

    def _state_of(self, p: Tensor) -> dict:
        """The state of `p`, created empty on first use; moved to `p`'s device if it is not there.

        After ``Module.to(device)`` the state tensors still live on the old device. They are
        moved here, once, through a host copy (``to_numpy`` then the parameter backend's
        ``asarray``): rare and explicit, so the usual step never transfers anything.
        """
        state = self.state.get(p)
        if state is None:
            state = self.state[p] = {}
            return state
        backend = p._backend
        dtype = p.array.dtype
        for key, value in state.items():
            if not isinstance(value, Tensor):
                continue
            if value._backend is not backend:
                host = value._backend.to_numpy(value.array)
                value = state[key] = Tensor._make(backend.asarray(host), backend)
            # After ``model.to(float64)`` the floating buffers follow the parameter's dtype:
            # CuPy's fused update kernels refuse arguments of another dtype.
            have = value.array.dtype
            if have != dtype and have.kind in "fc" and dtype.kind in "fc":
                with backend.device_scope():
                    state[key] = Tensor._make(value.array.astype(dtype), backend)
        return state

    # -- checkpoints ------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """The optimizer's state in PyTorch's layout.

        Returns:
            ``{"state": {index: {key: Tensor or number}}, "param_groups": [{..., "params":
            [index, ...]}]}`` where parameters are numbered in group order from 0. The state
            tensors are references to the live buffers (as in PyTorch): copy or save them
            before stepping again if you need a snapshot.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = dict(self.state[p])
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restores hyperparameters and state saved by :meth:`state_dict`.

        The state is copied onto each parameter's device (and floating point buffers cast to
        its dtype), so loading a checkpoint saved on another device works.

        Raises:
            ValueError: group or parameter counts differ, or a buffer's shape does not match
                its parameter.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and "
                             "'param_groups', as made by state_dict()")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the loaded state dict has {len(saved_groups)} "
                f"parameter groups, but the optimizer has {len(self.param_groups)}"
            )
        by_index: dict[Any, Tensor] = {}
        for g, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {g} of the loaded state dict has "
                    f"{len(saved['params'])} parameters, but the optimizer's has "
                    f"{len(group['params'])}"
                )
            for i, p in zip(saved["params"], group["params"]):
                by_index[i] = p
        new_state: dict[Tensor, dict] = {}
        for i, saved_state in state_dict["state"].items():
            if i not in by_index:
                raise ValueError(
                    f"{name}.load_state_dict: state for parameter index {i!r}, which no "
                    "parameter group lists"
                )
            p = by_index[i]
            new_state[p] = {k: _load_value(name, k, v, p, i) for k, v in saved_state.items()}
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            for key, default in self.defaults.items():
                new.setdefault(key, default)
            new["params"] = group["params"]
            new_groups.append(new)
        self.state = defaultdict(dict, new_state)
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _load_value(name: str, key: str, value: Any, p: Tensor, index: Any) -> Any:
    """A saved state value as this optimizer's own copy, on `p`'s device."""
    backend = p._backend
    if isinstance(value, Tensor):
        host = value._backend.to_numpy(value.array)
    elif hasattr(value, "shape") and hasattr(value, "dtype"):
        source = _backend_of(value)
        host = source.to_numpy(value) if source is not None else value
    elif key == "step" and isinstance(value, (int, float)):
        return int(value)
    else:
        return copy.deepcopy(value)  # a plain number or other small Python value
    if key == "step":
        return int(host.reshape(()).item())  # PyTorch saves the step as a tensor
    if key in PARAM_SHAPED_STATE and tuple(host.shape) != p.shape:
        raise ValueError(
            f"{name}.load_state_dict: state {key!r} of parameter {index!r} has shape "
            f"{tuple(host.shape)}, but the parameter has shape {p.shape}"
        )
    dtype = p.dtype if host.dtype.kind in "fc" and p.dtype.kind in "fc" else host.dtype
    array = backend.asarray(host, dtype=dtype)
    if array is host or getattr(array, "base", None) is not None:
        array = array.copy()  # the optimizer updates its buffers in place: never share them
    return Tensor._make(array, backend)


def _backend_of(array: Any) -> Any:
    import backends

    return backends.backend_of_array(array)


# -- validation helpers ----------------------------------------------------------------------
def _number(opt: Any, group: dict, key: str) -> float:
    value = group[key]
    if isinstance(value, (Tensor, bool)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{type(opt).__name__}: {key} must be a Python number, got {type(value).__name__}"
        )
    if math.isnan(value):
        raise ValueError(f"{type(opt).__name__}: invalid {key}: {value}")
    return value


def _check_nonnegative(opt: Any, group: dict, key: str, what: str | None = None) -> None:
    value = _number(opt, group, key)
    if value < 0:
        raise ValueError(
            f"{type(opt).__name__}: invalid {what or key}: {value} (must be >= 0)"
        )


def _check_betas(opt: Any, group: dict) -> None:
    betas = group["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"{type(opt).__name__}: betas must be a pair (beta1, beta2), "
                         f"got {betas!r}")
    for i, beta in enumerate(betas):
        if isinstance(beta, (Tensor, bool)) or not isinstance(beta, numbers.Real) \
                or not 0 <= beta < 1:
            raise ValueError(
                f"{type(opt).__name__}: invalid beta parameter at index {i}: {beta!r} "
                "(must be in [0, 1))"
            )


def _zeros_state(p: Tensor) -> Tensor:
    """A zero state buffer shaped, typed and placed like parameter `p`."""
    return Tensor._make(p.xp.zeros_like(p.array), p._backend)


def _no_complex(opt: Any, p: Tensor) -> None:
    if p.dtype.kind == "c":
        raise NotImplementedError(
            f"{type(opt).__name__}: complex parameters are not supported (shape {p.shape}, "
            f"dtype {p.dtype})"
        )
