"""`Parameter` and `Module` (the containers are in `nn.containers`).

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
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import backends
from autograd.grad_mode import no_grad
from autograd.tensor import Tensor

__all__ = ["Parameter", "Module"]


class Parameter(Tensor):
    """A tensor that a `Module` registers as a parameter when assigned to it.

    Args:
        data: a Tensor (its array is shared, not copied), an array, nested lists or a scalar.
            Integer and boolean data become float32 (only floating tensors take gradients).
        requires_grad: whether optimizers should train it (default True).
        dtype / device: as for `Tensor`.
    """

    __slots__ = ()

    def __init__(
        self,
        data: Any = None,
        requires_grad: bool = True,
        dtype: Any = None,
        device: Any = None,
    ) -> None:
        if data is None:
            data = []
        super().__init__(data, requires_grad=False, dtype=dtype, device=device)
        if self.data.dtype.kind not in "fc":
            self.data = self.data.astype("float32")
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> Parameter:
        # The backend is shared (a Backend holds a device and a generator, never copied).
        p = Parameter._make(self.data.copy(), self._backend)
        p.requires_grad = self.requires_grad
        memo[id(self)] = p
        return p


_IncompatibleKeys = namedtuple("_IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class Module:
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
        return self.forward(*args, **kwargs)

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

    def _named_members(
        self, table: str, prefix: str, recurse: bool, remove_duplicate: bool
    ) -> Iterator[tuple[str, Tensor]]:
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse else [(prefix, self)]
        )
        seen = set()
        for module_prefix, module in modules:
            for name, value in getattr(module, table).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Yields ``(dotted name, parameter)``; a shared parameter comes once, first name wins.

        Args:
            prefix: prepended to every name (``prefix.weight``).
            recurse: include submodules' parameters (else only this module's own).
            remove_duplicate: skip parameters already yielded under another name.
        """
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The parameters, in registration order, each once (what an optimizer takes)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """Yields ``(dotted name, buffer)`` for every buffer that is not None."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """The buffers (running statistics and the like)."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def num_parameters(self, only_trainable: bool = False) -> int:
        """The number of scalars in the parameters (shared parameters counted once)."""
        return sum(p.size for p in self.parameters() if p.requires_grad or not only_trainable)

    @property
    def parameter_count(self) -> int:
        """The number of scalars in all parameters (`num_parameters()`)."""
        return self.num_parameters()

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
        """Calls ``fn(module)`` on every submodule (children first) and on self; returns self.

            >>> model.apply(lambda m: nn.init.zeros_(m.bias) if isinstance(m, nn.Linear)
            ...             else None)
        """
        for module in reversed(list(self.modules())):
            fn(module)
        return self

    # -- devices and dtypes ---------------------------------------------------------------------
    def to(self, device: Any = None, dtype: Any = None) -> Module:
        """Moves and/or casts parameters and buffers in place; returns self.

        The Parameter objects stay the same (their ``.data`` is replaced), so an optimizer built
        before the move keeps working. Only floating tensors are cast by `dtype`; gradients move
        with their parameters.

            >>> model.to("cuda")                 # or model.to(dtype="float64")
        """
        device, dtype = _device_and_dtype(device, dtype)
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
            RuntimeError: listing every missing/unexpected key (with `strict`), every shape
                mismatch and every dtype-kind mismatch (e.g. integers into a float
                parameter), before anything is copied.
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
            value = state_dict[key]
            array = value.data if isinstance(value, Tensor) else value
            shape = tuple(getattr(array, "shape", ()))
            if not hasattr(array, "dtype"):
                array = backends.host().asarray(array)
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
                target.data[...] = _on_backend(array, target.backend)
                target._version[0] += 1
        return _IncompatibleKeys(missing, unexpected)

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

    # -- representation -----------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text between the parentheses of this module's repr (a layer's settings)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, module in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(module), 2))
        if not lines:
            return f"{self._get_name()}()"
        if len(lines) == 1 and not self._modules:
            return f"{self._get_name()}({lines[0]})"
        return f"{self._get_name()}(\n  " + "\n  ".join(lines) + "\n)"


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


def _device_and_dtype(device: Any, dtype: Any) -> tuple:
    """Lets ``to("float64")`` mean a dtype, as ``module.to(torch.float64)`` does in PyTorch."""
    if device is None or isinstance(device, backends.Backend):
        return device, dtype
    if isinstance(device, str):
        try:
            backends.canonical_device(device)
            return device, dtype
        except ValueError:
            pass
    try:
        as_dtype = backends.dtype_of(device)
    except TypeError as e:
        raise ValueError(f"to(): {device!r} is neither a device nor a dtype") from e
    if dtype is not None:
        raise ValueError(f"to(): got two dtypes, {device!r} and {dtype!r}")
    return None, as_dtype


def _move_in_place(t: Tensor, backend: backends.Backend | None, dtype: Any) -> None:
    """Re-points `t` at its data on `backend` and/or cast to `dtype` (floating tensors only)."""
    moved = t
    if backend is not None and backend is not t.backend:
        moved = moved.to(backend)
    if dtype is not None and t.dtype.kind == "f" and moved.dtype != backends.dtype_of(dtype):
        moved = moved.astype(dtype)
    if moved is not t:
        # A new array gets a new version counter, as an in-place rebind does.
        t.data = moved.data
        t._backend = moved._backend
        t._version = [0]
