"""`HooksMixin`: a module's forward and backward hooks (PyTorch's
``register_forward_pre_hook``, ``register_forward_hook``, ``register_full_backward_pre_hook``
and ``register_full_backward_hook``); a base class of `nn.Module`.

A module without hooks pays one attribute test per call (`Module.__call__`). With backward
hooks, the call routes its tensor inputs and outputs through one identity node each side
(`_Gather`): a node that packs the tensors into one flat array and hands out slices, so that
its rule sees all the gradients of that side at once, as the hooks want them:

- the outputs' node runs first in backward: the backward pre-hooks may replace
  ``grad_output``; the gradients then flow on into the module;
- the inputs' node runs once every gradient of the inputs is in: the backward hooks see
  ``(grad_input, grad_output)`` and may replace ``grad_input``.

Inputs that get no gradient show up as zeros (PyTorch passes None for them), and the
packing costs one copy of the inputs and outputs per call, only while backward hooks exist.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from autograd.function import Function
from autograd.ops.indexing import GetItem
from autograd.ops.unary import astype
from autograd.tensor import Tensor

__all__ = ["HooksMixin", "RemovableHandle"]

_ids = itertools.count()


class RemovableHandle:
    """What a ``register_*_hook`` returns: ``handle.remove()`` takes the hook off again
    (also as a context manager: ``with module.register_forward_hook(f): ...``)."""

    def __init__(self, *tables: OrderedDict) -> None:
        self.id = next(_ids)
        self._tables = tables  # the hook's table first, then the tables of its options

    def remove(self) -> None:
        for table in self._tables:
            table.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


class _Hooks:
    """The hook tables of one module (kept off the module until a hook is registered)."""

    __slots__ = ("forward_pre", "forward", "backward_pre", "backward", "with_kwargs",
                 "always_call")

    def __init__(self) -> None:
        self.forward_pre: OrderedDict = OrderedDict()
        self.forward: OrderedDict = OrderedDict()
        self.backward_pre: OrderedDict = OrderedDict()
        self.backward: OrderedDict = OrderedDict()
        self.with_kwargs: OrderedDict = OrderedDict()   # hook ids that take kwargs
        self.always_call: OrderedDict = OrderedDict()   # forward hooks run on errors too


class _Gather(Function):
    """Identity on several tensors, packed: y = the inputs flattened, cast to one dtype and
    concatenated. Its rule hands the flat gradient, split per input, to `on_backward`, which
    may replace it (the hooks), and returns the result cast back."""

    def forward(self, *arrays):
        xp = self.xp
        dtype = xp.result_type(*arrays)
        return xp.concatenate([a.reshape(-1).astype(dtype) for a in arrays])

    def backward(self, g):
        grads = _split(g, self.shapes, self.dtypes)
        grads = self.on_backward(tuple(grads))
        return tuple(None if x is None else astype(x, d) for x, d in zip(grads, self.dtypes))


def _split(flat: Tensor, shapes: list, dtypes: list) -> list:
    """The slices of a `_Gather` output (or of its gradient), one per packed tensor."""
    parts = []
    offset = 0
    for shape, dtype in zip(shapes, dtypes):
        size = 1
        for n in shape:
            size *= n
        part = GetItem.apply(flat, parts=(slice(offset, offset + size),)).reshape(shape)
        parts.append(part if part.dtype == dtype else astype(part, dtype))
        offset += size
    return parts


def _gather(tensors: list, on_backward: Callable) -> list:
    """`tensors` through one `_Gather` node: new tensors of the same values, shapes and
    dtypes whose gradients reach `on_backward` together."""
    shapes = [tuple(t.shape) for t in tensors]
    dtypes = [t.dtype for t in tensors]
    flat = _Gather.apply(*tensors, shapes=shapes, dtypes=dtypes, on_backward=on_backward)
    return _split(flat, shapes, dtypes)


class _BackwardCall:
    """One call's backward-hook state: the grad_output the inputs' hooks will see."""

    def __init__(self, module: Any, hooks: _Hooks, n_inputs: int) -> None:
        self.module = module
        self.hooks = hooks
        self.n_inputs = n_inputs
        self.grad_output: tuple = ()
        self.inputs_hooked = False

    def outputs_done(self, grad_output: tuple) -> tuple:
        for hook in list(self.hooks.backward_pre.values()):
            result = hook(self.module, grad_output)
            if result is not None:
                grad_output = _as_tuple(result, len(grad_output), "backward pre-hook")
        self.grad_output = grad_output
        if not self.inputs_hooked:  # no input needs a gradient: the hooks run now
            self._run(tuple([None] * self.n_inputs))
        return grad_output

    def inputs_done(self, grad_input: tuple) -> tuple:
        return self._run(grad_input)

    def _run(self, grad_input: tuple) -> tuple:
        for hook in list(self.hooks.backward.values()):
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                grad_input = _as_tuple(result, len(grad_input), "backward hook")
        return grad_input


def _as_tuple(value: Any, n: int, what: str) -> tuple:
    value = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if len(value) != n:
        raise RuntimeError(f"a {what} returned {len(value)} gradients, expected {n}")
    return value


class HooksMixin:
    """`nn.Module`'s hooks: registration, and the hooked call."""

    #: The hook tables, set on the instance by the first registration (None: no hooks).
    _hooks: _Hooks | None = None

    def _hook_tables(self) -> _Hooks:
        hooks = self.__dict__.get("_hooks")
        if hooks is None:
            hooks = _Hooks()
            object.__setattr__(self, "_hooks", hooks)
        return hooks

    def _add(self, table: OrderedDict, hook: Callable, prepend: bool,
             what: str) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"{what}: the hook must be callable, got {type(hook).__name__}")
        hooks = self._hooks
        handle = RemovableHandle(table, hooks.with_kwargs, hooks.always_call)
        table[handle.id] = hook
        if prepend:
            table.move_to_end(handle.id, last=False)
        return handle

    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Calls ``hook(module, args)`` before each forward (``hook(module, args, kwargs)``
        with `with_kwargs`); a result other than None replaces the arguments (a tuple, or one
        value; ``(args, kwargs)`` with `with_kwargs`). Returns a handle with ``remove()``."""
        hooks = self._hook_tables()
        handle = self._add(hooks.forward_pre, hook, prepend, "register_forward_pre_hook")
        if with_kwargs:
            hooks.with_kwargs[handle.id] = True
        return handle

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Calls ``hook(module, args, output)`` after each forward (``hook(module, args,
        kwargs, output)`` with `with_kwargs`); a result other than None replaces the output.
        With `always_call` it runs even when forward raises (then with output None)."""
        hooks = self._hook_tables()
        handle = self._add(hooks.forward, hook, prepend, "register_forward_hook")
        if with_kwargs:
            hooks.with_kwargs[handle.id] = True
        if always_call:
            hooks.always_call[handle.id] = True
        return handle

    def register_full_backward_pre_hook(self, hook: Callable, *,
                                        prepend: bool = False) -> RemovableHandle:
        """Calls ``hook(module, grad_output)`` when the gradients of the module's outputs
        are known (before they flow into it); a tuple it returns replaces grad_output."""
        return self._add(self._hook_tables().backward_pre, hook, prepend,
                         "register_full_backward_pre_hook")

    def register_full_backward_hook(self, hook: Callable, *,
                                    prepend: bool = False) -> RemovableHandle:
        """Calls ``hook(module, grad_input, grad_output)`` when the gradients of the
        module's positional tensor inputs are known; a tuple it returns replaces
        grad_input. grad_output holds the gradients of the tensor outputs."""
        return self._add(self._hook_tables().backward, hook, prepend,
                         "register_full_backward_hook")

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        hooks = self._hooks
        for key, hook in list(hooks.forward_pre.items()):
            if key in hooks.with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        call = None
        if hooks.backward or hooks.backward_pre:
            args, call = self._hook_inputs(args, hooks)
        try:
            output = self.forward(*args, **kwargs)
        except Exception:
            for key, hook in list(hooks.forward.items()):
                if key in hooks.always_call:
                    try:
                        hook(self, args, kwargs, None) if key in hooks.with_kwargs \
                            else hook(self, args, None)
                    except Exception:  # noqa: BLE001 - the forward's error is the one to see
                        pass
            raise
        for key, hook in list(hooks.forward.items()):
            result = hook(self, args, kwargs, output) if key in hooks.with_kwargs \
                else hook(self, args, output)
            if result is not None:
                output = result
        if call is not None:
            output = self._hook_outputs(output, call)
        return output

    def _hook_inputs(self, args: tuple, hooks: _Hooks) -> tuple:
        """The positional tensor inputs routed through one `_Gather` (if any needs a
        gradient), and the call's backward state."""
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        call = _BackwardCall(self, hooks, len(positions))
        needing = [i for i in positions if args[i].requires_grad]
        if not needing:
            return args, call
        call.inputs_hooked = True

        def on_backward(grads: tuple) -> tuple:
            full = [None] * len(positions)
            for i, g in zip(needing, grads):
                full[positions.index(i)] = g
            result = call.inputs_done(tuple(full))
            return tuple(result[positions.index(i)] for i in needing)

        routed = _gather([args[i] for i in needing], on_backward)
        args = list(args)
        for i, t in zip(needing, routed):
            args[i] = t
        return tuple(args), call

    @staticmethod
    def _hook_outputs(output: Any, call: _BackwardCall) -> Any:
        """The tensor outputs routed through one `_Gather` whose rule runs the backward
        pre-hooks (and, if no input needs a gradient, the backward hooks)."""
        single = isinstance(output, Tensor)
        items = [output] if single else list(output) if isinstance(output, (tuple, list)) \
            else None
        if items is None:
            return output
        needing = [i for i, t in enumerate(items) if isinstance(t, Tensor) and t.requires_grad]
        if not needing:
            return output
        routed = _gather([items[i] for i in needing], call.outputs_done)
        for i, t in zip(needing, routed):
            items[i] = t
        if single:
            return items[0]
        return type(output)(items) if isinstance(output, list) else tuple(items)
