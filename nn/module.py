"""`Module` (and `Parameter`, defined in `nn.parameter`; the containers are in `nn.containers`).

nn/module.py holds registration, attribute access, the module walks, modes, devices and copies;
the parameter and buffer walks, state dicts and the repr come from the base classes in
`nn.module_members`, `nn.module_state_dict` and `nn.module_repr`.

A module registers what is assigned to it, in assignment order, as PyTorch does:

    >>> class MLP(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc1 = nn.Linear(4, 8)        # a submodule
    ...         self.scale = nn.Parameter(ag.ones(8))  # a parameter
    ...         self.register_buffer("steps", ag.zeros(()))
    ...     def forward(self, x):
    ...         return self.fc1(x).relu() * self.scale
    >>> [name for name, _ in MLP().named_parameters()]
    ['scale', 'fc1.weight', 'fc1.bias']

(A module's own parameters come before its children's, as in PyTorch.)
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import backends
from autograd.grad_mode import no_grad
from autograd.tensor import Tensor

from .device_scope import backend_needing_scope
from .module_device import _device_and_dtype, _move_in_place, _refuse_complex_cast
from .module_hooks import HooksMixin
from .module_members import MembersMixin
from .module_repr import ReprMixin
from .module_state_dict import StateDictMixin
from .parameter import Parameter

__all__ = ["Parameter", "Module"]


class Module(MembersMixin, StateDictMixin, ReprMixin, HooksMixin):
    """Base class of every layer and model.

    Subclasses call ``super().__init__()`` first, assign parameters, buffers and submodules
    as attributes, and define ``forward``. Calling the module calls ``forward``.

    Attributes:
        training: True in training mode (see `train` / `eval`); Dropout and BatchNorm read it.
    """

    training: bool

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these dicts to exist first.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Computes the module's output; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        backend = backend_needing_scope(args)
        if backend is None:
            if self._hooks is None:  # no hooks registered (see nn/module_hooks.py)
                return self.forward(*args, **kwargs)
            return self._call_with_hooks(args, kwargs)
        with backend.device_scope():  # raw array operators run on the current device (cuda:N)
            if self._hooks is None:
                return self.forward(*args, **kwargs)
            return self._call_with_hooks(args, kwargs)

    # -- registration -----------------------------------------------------------------------
    def _check_init(self, what: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {what} before Module.__init__() call; call "
                f"super().__init__() first in {type(self).__name__}.__init__"
            )

    @staticmethod
    def _check_name(name: Any, kind: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{kind} name can't be empty or contain '.', got {name!r}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Adds a parameter (or None, a placeholder that is skipped) under `name`."""
        self._check_init("parameters")
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute {name!r} already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign {type(param).__name__} as parameter {name!r} "
                "(nn.Parameter or None expected); wrap it: nn.Parameter(tensor)"
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Adds a buffer: state that is not trained but is saved and moved with the module.

        Args:
            name: attribute name.
            tensor: the buffer (or None, skipped by state_dict and to()).
            persistent: whether `state_dict` includes it.
        """
        self._check_init("buffers")
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute {name!r} already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign {type(tensor).__name__} as buffer {name!r} (Tensor or None "
                "expected)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Adds a submodule under `name` (the same as assigning it as an attribute)."""
        self._check_init("modules")
        self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute {name!r} already exists")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            self._check_init("parameters")
            self._forget(name, keep="_parameters")
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} "
                    "(nn.Parameter or None expected)"
                )
            params[name] = None
            return
        if isinstance(value, Module):
            self._check_init("modules")
            self._forget(name, keep="_modules")
            self._modules[name] = value
            return
        modules = self.__dict__.get("_modules")
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module {name!r} "
                    "(nn.Module or None expected)"
                )
            modules[name] = None
            return
        buffers = self.__dict__.get("_buffers")
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} as buffer {name!r} "
                    "(Tensor or None expected)"
                )
            buffers[name] = value
            return
        object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: str) -> None:
        """Removes `name` from the other tables (table `keep` keeps its slot, so its order)."""
        self.__dict__.pop(name, None)
        for table in ("_parameters", "_buffers", "_modules"):
            if table != keep:
                self.__dict__[table].pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: parameters, buffers and modules live here.
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            entries = d.get(table)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for table in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(table)
            if entries is not None and name in entries:
                del entries[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        return sorted(
            {*super().__dir__(), *self._parameters, *self._buffers, *self._modules}
        )

    def get_submodule(self, target: str) -> Module:
        """The submodule at dotted path `target` (``""`` is this module)."""
        module = self
        if not target:
            return module
        walked = []
        for part in target.split("."):
            child = module._modules.get(part)
            if child is None:
                where = ".".join(walked) or type(self).__name__
                raise AttributeError(f"{where} has no submodule {part!r} (looking up {target!r})")
            walked.append(part)
            module = child
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path `target`, e.g. ``"0.weight"``."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in module._parameters or module._parameters[name] is None:
            raise AttributeError(f"{type(module).__name__} has no parameter {name!r}")
        return module._parameters[name]

    # -- iteration ----------------------------------------------------------------------------
    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """Yields ``(dotted name, module)`` for this module and all below it, depth first.

        A module reachable by two paths is yielded once (unless `remove_duplicate` is False).
        """
        seen = memo if memo is not None else set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            children = [
                (f"{name}.{child_name}" if name else child_name, child)
                for child_name, child in module._modules.items()
                if child is not None
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and every module below it (each once)."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Yields ``(name, module)`` for the direct submodules (each once)."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct submodules."""
        for _, module in self.named_children():
            yield module

    # -- modes and gradients ------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Sets training mode on this module and all below it; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train(mode): mode must be a bool, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Sets evaluation mode (``train(False)``); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Sets ``requires_grad`` on every parameter (False freezes the module); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clears the parameters' gradients: to None (default) or to zeros in place."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.zero_()

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Calls ``fn(module)`` on every submodule, then on self; returns self.

        PyTorch's order: each child's subtree in registration order, children before their
        parent (post-order). As in PyTorch, a module registered under two parents is visited
        under each (a module is skipped only where it would be its own ancestor).

            >>> model.apply(lambda m: nn.init.zeros_(m.bias) if isinstance(m, nn.Linear)
            ...             else None)
        """
        # Iterative post-order: each entry is a module and the children it has yet to visit.
        stack = [(self, iter(list(self.children())))]
        path = {id(self)}
        while stack:
            module, pending = stack[-1]
            child = next(pending, None)
            if child is None:
                stack.pop()
                path.discard(id(module))
                fn(module)
            elif id(child) not in path:
                path.add(id(child))
                stack.append((child, iter(list(child.children()))))
        return self

    # -- devices and dtypes ---------------------------------------------------------------------
    def to(self, device: Any = None, dtype: Any = None) -> Module:
        """Moves and/or casts parameters and buffers in place; returns self.

        The Parameter objects stay the same (their ``.array`` is replaced), so an optimizer built
        before the move keeps working. Only floating tensors are cast by `dtype`; gradients move
        with their parameters.

            >>> model.to("cuda")                 # or model.to(dtype="float64")
        """
        device, dtype = _device_and_dtype(device, dtype)
        _refuse_complex_cast(self, dtype)
        backend = backends.get(device) if device is not None else None
        seen = set()
        with no_grad():
            for module in self.modules():
                for table in (module._parameters, module._buffers):
                    for t in table.values():
                        if t is None or id(t) in seen:
                            continue
                        seen.add(id(t))
                        _move_in_place(t, backend, dtype)
                        if t.grad is not None:
                            _move_in_place(t.grad, backend, dtype)
        return self

    def cpu(self) -> Module:
        """Moves everything to the host; returns self."""
        return self.to("cpu")

    def cuda(self, index: int = 0) -> Module:
        """Moves everything to CUDA device `index`; returns self."""
        return self.to(f"cuda:{index}")

    def double(self) -> Module:
        """Casts floating parameters and buffers to float64; returns self."""
        return self.to(dtype="float64")

    def float(self) -> Module:
        """Casts floating parameters and buffers to float32; returns self."""
        return self.to(dtype="float32")

    # -- copies -------------------------------------------------------------------------------
    def __deepcopy__(self, memo: dict) -> Module:
        # A Backend is a device (and its generator), never copied: seed the memo with the
        # backends of every tensor so the copies live on the same backend objects.
        shared = [backends.host(), backends.default()]
        for module in self.modules():
            for value in (*module._parameters.values(), *module._buffers.values(),
                          *module.__dict__.values()):
                if isinstance(value, Tensor):
                    shared.append(value._backend)
        for backend in shared:
            memo.setdefault(id(backend), backend)
        new = object.__new__(type(self))
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            object.__setattr__(new, key, copy.deepcopy(value, memo))
        return new
