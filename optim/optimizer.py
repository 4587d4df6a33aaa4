"""`Optimizer`: parameter groups, lazily created per-parameter state, and checkpoints.

Follows PyTorch's layout: ``param_groups`` is a list of dicts (``"params"`` plus the group's
hyperparameters); ``state`` maps each parameter tensor to a dict created on its first update.
Subclasses implement ``_update_group(group)``; updates run on raw backend arrays under
``no_grad`` and never read device data back to the host (the step count is a Python int).
"""

from __future__ import annotations

import copy
import operator
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from autograd.grad_mode import enable_grad, no_grad
from autograd.tensor import Tensor
from backends.device_scope import call_scoped

from . import validation
from .state_loading import PARAM_SHAPED_STATE, param_state
from .validation import SCHEDULER_KEYS, grad_problem, grads_fit


class _Required:
    """Marks a hyperparameter without a default: every group must then give it."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()

__all__ = ["Optimizer", "required", "PARAM_SHAPED_STATE"]


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

    #: The per-parameter state keys: a parameter's state, once it has one, holds all of
    #: `_state_keys` and may hold `_optional_state_keys` (None: not checked on load).
    _state_keys: tuple[str, ...] | None = None
    _optional_state_keys: tuple[str, ...] = ()
    #: Hyperparameters a loaded parameter group may lack (flags PyTorch added after the
    #: algorithm); they take the defaults. A loaded group must give every other one.
    _optional_on_load: tuple[str, ...] = ("maximize",)

    def __init__(self, params: Any, defaults: dict) -> None:
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict] = defaultdict(dict)
        self.param_groups: list[dict] = []
        # group index -> (group, its keys, its values) as last validated by step()
        self._checked: dict[int, tuple] = {}
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
        _lists_to_tuples(group)
        index = len(self.param_groups)
        self._validate(group, f" (parameter group {index})" if index else "")
        self.param_groups.append(group)

    def _validate_group(self, group: dict) -> None:
        """Raises ValueError or TypeError for a hyperparameter out of range or of the wrong type.

        The one check of a group's values: the constructor, ``add_param_group``,
        ``load_state_dict`` and every ``step()`` run it (subclasses extend it, calling super).
        """
        validation.nonnegative(group, "lr", "learning rate")
        for key, default in self.defaults.items():
            if isinstance(default, bool):  # a flag: nesterov, amsgrad, maximize, ...
                validation.flag(group, key)
        validation.scheduler_keys(group)

    def _validate(self, group: dict, where: str) -> None:
        """`_validate_group`, its error naming the optimizer and `where` (e.g. the group)."""
        name = type(self).__name__
        try:
            self._validate_group(group)
        except KeyError as e:
            raise ValueError(f"{name}{where}: the group has no {e.args[0]!r} entry") from None
        except (TypeError, ValueError) as e:
            if type(e) not in (TypeError, ValueError):
                raise
            raise type(e)(f"{name}{where}: {e}") from None

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
        self._check_step()
        with no_grad():
            for group in self.param_groups:
                self._update_group(group)
        return loss

    def _update_group(self, group: dict) -> None:
        raise NotImplementedError

    def _stepped(self, group: dict,
                 new_state: Callable[[Tensor], dict]) -> Iterator[tuple[Tensor, dict]]:
        """Each parameter of `group` that has a gradient, with its state: made on its first step
        as ``{"step": 0, **new_state(p)}``, its ``step`` counted. The caller updates the
        parameter in place (a kernel call); its version is bumped after."""
        for p in group["params"]:
            if p.grad is None:
                continue
            _no_complex(self, p)
            state = self._state_of(p)
            if not state:
                state["step"] = 0
                state.update(new_state(p))
            state["step"] += 1
            yield p, state
            p._version[0] += 1

    def _check_step(self) -> None:
        """Checks every group's hyperparameters (they may have been changed since construction)
        and every gradient (a Tensor of its parameter's shape, dtype and device) before anything
        is updated. Costs a few attribute comparisons per parameter; reads no array."""
        checked = self._checked
        for g, group in enumerate(self.param_groups):
            # revalidate a group only when one of its entries was rebound since the last check:
            # two tuples and identity comparisons (values are immutable: tuples, not lists)
            keys, values = tuple(group), tuple(group.values())
            seen = checked.get(g)
            if seen is None or seen[0] is not group or seen[1] != keys \
                    or not all(map(operator.is_, seen[2], values)):
                self._validate(group, f".step: param_groups[{g}]")
                checked[g] = (group, keys, values)
            params = group["params"]
            if grads_fit(params):
                continue
            for i, p in enumerate(params):
                problem = grad_problem(p)
                if problem is not None:
                    error = TypeError if not isinstance(p.grad, Tensor) else RuntimeError
                    raise error(f"{type(self).__name__}.step: parameter {i} of "
                                f"param_groups[{g}]: {problem}")

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
                cast = call_scoped(backend, value.array.astype, dtype)
                state[key] = Tensor._make(cast, backend)
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
        its dtype), so loading a checkpoint saved on another device works. Everything is checked
        before anything changes: the hyperparameters as the constructor checks them, the state
        keys against this optimizer's (an SGD state does not load into Adam), each buffer's
        shape and dtype against its parameter, the step count.

        Raises:
            ValueError, TypeError: naming the group, parameter or key at fault.
        """
        self._prepare_load(state_dict)()

    def _prepare_load(self, state_dict: Any) -> Callable[[], None]:
        """Checks `state_dict` for this optimizer; returns the function that loads it (so that a
        checkpoint can check every part before it changes any)."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping) \
                or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError(f"{name}: expected a dict with 'state' and 'param_groups', as made "
                             "by state_dict()")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, (list, tuple)):
            raise TypeError(f"{name}: 'param_groups' must be a list of dicts, got "
                            f"{type(saved_groups).__name__}")
        if not isinstance(saved_state, Mapping):
            raise TypeError(f"{name}: 'state' must be a dict from parameter index to state, got "
                            f"{type(saved_state).__name__}")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}: the loaded state dict has {len(saved_groups)} parameter groups, but the "
                f"optimizer has {len(self.param_groups)}"
            )
        by_index: dict[int, Tensor] = {}
        new_groups = []
        for g, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            new_groups.append(self._loaded_group(g, saved, group["params"], by_index))
        new_state: dict[Tensor, dict] = {}
        for i, saved in saved_state.items():
            p = by_index.get(i) if isinstance(i, int) and not isinstance(i, bool) else None
            if p is None:
                raise ValueError(f"{name}: state for parameter index {i!r}, which no parameter "
                                 "group lists")
            new_state[p] = param_state(self, i, saved, p)

        def commit() -> None:
            self.state = defaultdict(dict, new_state)
            self.param_groups = new_groups

        return commit

    def _loaded_group(self, g: int, saved: Any, params: list, by_index: dict) -> dict:
        """Saved parameter group `g` as a group of this optimizer over `params`, checked; records
        its parameter indices in `by_index`."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(saved, Mapping):
            raise TypeError(f"{name}: parameter group {g} must be a dict, got "
                            f"{type(saved).__name__}")
        indices = saved.get("params")
        if not isinstance(indices, (list, tuple)):
            raise TypeError(f"{name}: parameter group {g} needs a 'params' list of parameter "
                            f"indices, got {type(indices).__name__}")
        if len(indices) != len(params):
            raise ValueError(
                f"{name}: parameter group {g} of the loaded state dict has {len(indices)} "
                f"parameters, but the optimizer's has {len(params)}"
            )
        for i, p in zip(indices, params):
            if isinstance(i, bool) or not isinstance(i, int):
                raise TypeError(f"{name}: parameter group {g} lists {validation.brief(i)} "
                                "among its 'params'; expected parameter indices (ints)")
            if i in by_index:
                raise ValueError(f"{name}: parameter index {i} is listed twice")
            by_index[i] = p
        new = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
        missing = [k for k in self.defaults if k not in new and k not in self._optional_on_load]
        if missing:
            foreign = [k for k in new if k not in self.defaults and k not in SCHEDULER_KEYS]
            hint = (f"; it has {', '.join(map(str, foreign))}, which {type(self).__name__} does "
                    "not use: is it the state of another optimizer?" if foreign else "")
            raise ValueError(f"{name}: parameter group {g} lacks {', '.join(missing)}{hint}")
        for key, default in self.defaults.items():
            new.setdefault(key, default)
        _lists_to_tuples(new)
        new["params"] = params
        self._validate(new, f".load_state_dict: parameter group {g}")
        return new

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _lists_to_tuples(group: dict) -> None:
    """List hyperparameters (``betas`` from JSON or a user) as tuples, PyTorch's type: immutable,
    so a value cannot change in place behind step()'s check."""
    for key, value in group.items():
        if key != "params" and isinstance(value, list):
            group[key] = tuple(value)


# -- helpers of the algorithms --------------------------------------------------------------
class _AdamLike(Optimizer):
    """The base of the optimizers with Adam's hyperparameters (`betas`, `eps`, `weight_decay`):
    their checks, in one place."""

    def _validate_group(self, group: dict) -> None:
        super()._validate_group(group)
        validation.eps_decay_betas(group)


def _betas(betas: Any) -> Any:
    """`betas` as the defaults keep it: a list becomes a tuple (checked in `_validate_group`)."""
    return tuple(betas) if isinstance(betas, list) else betas


def _zeros_state(p: Tensor) -> Tensor:
    """A zero state buffer shaped, typed and placed like parameter `p`."""
    return Tensor._make(p.xp.zeros_like(p.array), p._backend)


def _zero_buffers(*keys: str) -> Callable[[Tensor], dict]:
    """`Optimizer._stepped`'s `new_state`: a zero buffer (`_zeros_state`) under each key."""
    return lambda p: {key: _zeros_state(p) for key in keys}


def _no_complex(opt: Any, p: Tensor) -> None:
    if p.dtype.kind == "c":
        raise NotImplementedError(
            f"{type(opt).__name__}: complex parameters are not supported (shape {p.shape}, "
            f"dtype {p.dtype})"
        )
