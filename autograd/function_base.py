"""Function's fields and `apply` in pure Python: the reference for the C core.

`Function` (function.py) derives from `autograd._ccore.FunctionBase` where the C core is built
and from this class otherwise (see _native.py). `apply` runs an op's `forward` on raw arrays
and records the graph node; `_link` connects it to its inputs and resolves what it saved.
"""

from __future__ import annotations

import itertools
from typing import Any

import backends

from .grad_mode import state as _grad_state
from .tensor import Tensor, _default_backend

_FREED = object()
_PLAIN = object()  # marks a saved Python scalar or None, handed back as it is
_OUTPUT = object()  # marks the op's own output among the saved arrays
_PLAIN_TYPES = (int, float, bool)
#: The complex dtypes, which no recorded op may take or make (see `_refuse_complex`).
_COMPLEX = frozenset(backends.dtype_of(name) for name in ("complex64", "complex128",
                                                           "clongdouble"))
_F32 = backends.dtype_of("float32")  # the usual dtype: an identity test skips the set lookup
#: needs_input_grad for one or two inputs, shared (read only): (need first, need second).
_NEEDS = {(True, None): (True,), (True, True): (True, True), (True, False): (True, False),
          (False, True): (False, True)}
_PLAIN_SOURCE = (_PLAIN, None, 0)
_CONSTANT_SOURCE = (None, None, 0)
_new = object.__new__
#: Creation numbers, counting down: a later op has a lower key, so the engine's min-heap pops
#: consumers before the producers of their inputs.
_next_key = itertools.count(-1, -1).__next__
#: Anomaly mode's switch and stack recorder (autograd/anomaly_mode.py sets both).
_ANOMALY = False
_anomaly_record: Any = None


class FunctionBase:
    """A graph node's fields, `apply`, `save_for_backward`, `saved_tensors` and `release`."""

    #: Set while `forward` runs on a recorded op; `save_for_backward` keeps arrays only then.
    _recording = False
    _saved: Any = None
    _sources: Any = None
    _hooks: Any = None
    _retained: Any = None
    #: Set once a hook or retain_grad is attached to the tensor this node produced.
    _observed = False
    #: A backend other than the inputs' that the output lives on (only device moves set it).
    output_backend: Any = None

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Tensor:
        """Runs the op on `inputs` (Tensors or plain constants) and returns the output Tensor."""
        fn = _new(cls)
        if params:
            fn.__dict__.update(params)
        state = _grad_state
        raw = state.raw_backend
        if raw is not None:
            # Inside a raw first-order rule: arrays in, array out, nothing recorded.
            fn.backend = raw
            fn.xp = raw.xp
            return fn.forward(*inputs)
        # One pass over the inputs: their backend and arrays, and whether any needs a gradient
        # (written out for two inputs, the usual binary op: a loop costs per iteration here).
        try:
            if len(inputs) == 2:
                a, b = inputs
                if isinstance(a, Tensor):
                    backend = a._backend
                    da = a.array
                    record = a.requires_grad
                    if isinstance(b, Tensor):
                        if b._backend is not backend:
                            _raise_device_mismatch(cls, inputs)
                        db = b.array
                        record = record or b.requires_grad
                    else:
                        db = b
                elif isinstance(b, Tensor):
                    backend = b._backend
                    da = a
                    db = b.array
                    record = b.requires_grad
                else:
                    backend = None
                    da = a
                    db = b
                    record = False
                datas = [da, db]
            else:
                backend = None
                datas = []
                record = False
                for x in inputs:
                    if isinstance(x, Tensor):
                        if x._backend is not backend:
                            if backend is None:
                                backend = x._backend
                            else:
                                _raise_device_mismatch(cls, inputs)
                        datas.append(x.array)
                        if x.requires_grad:
                            record = True
                    else:
                        datas.append(x)
        except AttributeError:
            _check_initialised(cls, inputs)
            raise
        if backend is None:
            backend = _default_backend()
        fn.backend = backend
        fn.xp = backend.xp
        if record:
            if state.enabled:
                fn._recording = True
            else:
                record = False
        try:
            if backend.needs_device_scope:  # CuPy runs on the *current* device (cuda:1, ...)
                with backend.device_scope():
                    y = fn.forward(*datas)
            else:
                y = fn.forward(*datas)
        except (ValueError, TypeError) as e:
            _reraise_with_context(cls, inputs, e)
        if fn.output_backend is not None:
            backend = fn.output_backend
        # Tensor._make, inlined: this is the hottest line of the library.
        out = _new(Tensor)
        out.array = y if type(y) is backend.array_type else backend.asarray(y)
        out._grad = None
        out._backend = backend
        out._version = inputs[0]._version if fn.is_view else [0]
        out._hooks = None
        if record:
            fn._link(inputs, datas, y, out)
            if _ANOMALY:
                _anomaly_record(fn)
        else:
            out.grad_fn = None
            out.requires_grad = False
        return out

    def _link(self, inputs: tuple, datas: list, y_raw: Any, out: Tensor) -> None:
        """Connects this node to its inputs' nodes and resolves what `forward` saved.

        Written out for one and two inputs (nearly every op): CPython charges for each loop
        iteration, and this runs once per recorded op.
        """
        count = len(inputs)
        if count == 1:  # recording, so the one input needs a gradient
            (a,), (da,) = inputs, datas
            edges = [a.grad_fn or a]  # a Function is always truthy
            dtype = da.dtype
            self.input_meta = [(da.shape, dtype)]
            self.needs_input_grad = _NEEDS[True, None]
            complex_in = dtype is not _F32 and dtype in _COMPLEX
        elif count == 2:
            (a, b), (da, db) = inputs, datas
            need_a = da is not a and a.requires_grad  # a Tensor (constants are their own data)
            need_b = db is not b and b.requires_grad
            edges = [a.grad_fn or a if need_a else None, b.grad_fn or b if need_b else None]
            dtype = da.dtype if need_a else None
            dtype_b = db.dtype if need_b else None
            self.input_meta = [(da.shape, dtype) if need_a else None,
                               (db.shape, dtype_b) if need_b else None]
            self.needs_input_grad = _NEEDS[need_a, need_b]
            complex_in = ((dtype is not _F32 and dtype in _COMPLEX)
                          or (dtype_b is not _F32 and dtype_b in _COMPLEX))
        else:
            edges = []
            meta = []
            needs = []
            complex_in = False
            for x, data in zip(inputs, datas):
                if data is not x and x.requires_grad:
                    edges.append(x.grad_fn or x)
                    meta.append((data.shape, data.dtype))
                    needs.append(True)
                    complex_in = complex_in or data.dtype in _COMPLEX
                else:
                    edges.append(None)
                    meta.append(None)
                    needs.append(False)
            self.input_meta = meta
            self.needs_input_grad = tuple(needs)
            dtype = None
        # No complex gradients (see `_refuse_complex`); most ops keep their input's dtype, and
        # an input's dtype was checked just above.
        out_dtype = out.array.dtype
        if complex_in or (out_dtype is not dtype and out_dtype in _COMPLEX):
            _refuse_complex(type(self), inputs, out)
        self.next_edges = edges
        self._key = _next_key()  # creation order: backward runs consumers first (engine)
        out.grad_fn = self
        out.requires_grad = True
        saved = self._saved
        if saved is None:
            return
        if len(saved) == 1 and saved[0] is y_raw and out.array is y_raw:
            # Only the output saved, as tanh, exp, sigmoid and relu do (the loop, written out).
            box = out._version
            self._sources = [(_OUTPUT, box, box[0])]
            return
        if count == 2 and len(saved) == 2 and saved[0] is da and saved[1] is db and (
                da is not a and db is not b):
            # Both tensor inputs saved, as most binary ops do (the loop below, written out).
            box_a, box_b = a._version, b._version
            self._sources = [(edges[0], box_a, box_a[0]), (edges[1], box_b, box_b[0])]
            return
        # Where each saved array comes from, so that backward can check that it was not
        # modified in place and (with create_graph) hand it back connected to the graph:
        # (edge or _OUTPUT or _PLAIN or None, version box or None, version seen).
        arrays = []
        sources = []
        first = datas[0]
        for array in saved:
            if array is y_raw:
                box = out._version
                arrays.append(out.array)
                sources.append((_OUTPUT, box, box[0]))  # not self: no reference cycle
                continue
            arrays.append(array)
            if array is first and first is not inputs[0]:
                box = inputs[0]._version
                sources.append((edges[0], box, box[0]))
                continue
            if count == 2 and array is datas[1] and array is not inputs[1]:
                box = inputs[1]._version
                sources.append((edges[1], box, box[0]))
                continue
            # Exact types: NumPy's float64 scalar subclasses float but is array data here.
            if array is None or type(array) in _PLAIN_TYPES:
                sources.append(_PLAIN_SOURCE)
                continue
            for x, data, edge in zip(inputs, datas, edges):
                if array is data and data is not x:
                    box = x._version
                    sources.append((edge, box, box[0]))
                    break
            else:
                sources.append(_CONSTANT_SOURCE)
        self._saved = arrays
        self._sources = sources

    def save_for_backward(self, *arrays: Any) -> None:
        """Keeps forward inputs, the output, or other arrays for `backward` (as Tensors there).

        A saved input or output comes back connected to the graph, so a rule that uses it is
        itself differentiable; any other array comes back as a constant, and a Python scalar
        or None comes back as it is.
        """
        self._saved = arrays  # resolved against the inputs and output by `_link`

    @property
    def saved_tensors(self) -> tuple:
        """What `forward` saved, as Tensors; raises if the graph was freed or an input modified."""
        saved = self._saved
        if saved is _FREED:
            raise RuntimeError(
                f"{type(self).__name__}: trying to backward through the graph a second time, "
                "but its saved arrays were freed by the first backward; call "
                "backward(retain_graph=True) the first time if you need to backward twice"
            )
        if saved is None:
            return ()
        sources = self._sources
        for _edge, box, seen in sources:
            if box is not None and box[0] != seen:
                self._raise_modified(sources)
        if _grad_state.raw_backend is not None:
            return saved  # a rule running on raw arrays
        tensors = []
        for array, (edge, box, _seen) in zip(saved, sources):
            if edge is _PLAIN:
                tensors.append(array)
            elif isinstance(edge, Tensor):
                tensors.append(edge)
            else:
                if edge is _OUTPUT:
                    edge = self
                t = Tensor._make(array, self.backend)
                if edge is not None:
                    t.grad_fn = edge
                    t.requires_grad = True
                    t._version = box
                tensors.append(t)
        return tuple(tensors)

    def release(self) -> None:
        """Drops saved arrays after a backward that does not retain the graph."""
        if self._saved is not None:
            self._saved = _FREED


def _describe(inputs: tuple) -> str:
    return ", ".join(
        f"shape {tuple(x.shape)} {x.dtype}" if isinstance(x, Tensor) else type(x).__name__
        for x in inputs
    )


def _reraise_with_context(cls: type, inputs: tuple, error: Exception) -> None:
    """Re-raises an error from `forward` so that it names the op, the shapes and the dtypes.

    Errors that already start with the op's name (ops that check their own arguments) pass
    through unchanged; library errors such as NumPy's broadcasting failure get the context.
    """
    message = str(error)
    head = message.split(":", 1)[0].replace("_", "").lower()
    if head == cls.__name__.lower():
        raise error
    try:
        wrapped = type(error)(f"{cls.__name__}: {message.strip()} (inputs: {_describe(inputs)})")
    except Exception:  # noqa: BLE001 - an exception type with a special constructor
        raise error from None
    raise wrapped from error


def _check_initialised(cls: type, inputs: tuple) -> None:
    """Raises for an input Tensor whose ``__init__`` never ran (apply.c's check: its fields
    are unset, which the scan of the inputs found)."""
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and not (hasattr(x, "array") and hasattr(x, "_backend")):
            raise AttributeError(
                f"{cls.__name__}: input {i} is a {type(x).__name__} that was never initialised "
                "(no array or device): a Tensor subclass's __init__ must call "
                "super().__init__(data, ...)"
            )


#: What to do instead of complex gradients (every refusal says it).
COMPLEX_ADVICE = (
    "kedja has no complex gradients; represent each complex value by two real tensors that "
    "require grad, its real and imaginary parts (re, im), and write the computation with real "
    "ops on them (|z|**2 = re**2 + im**2); complex arithmetic that needs no gradient works "
    "under ag.no_grad() or on .detach()ed tensors"
)


def _refuse_complex(cls: type, inputs: tuple, out: Tensor) -> None:
    """Raises: a recorded op took a complex input that requires grad or made a complex output.

    kedja's rules give the unconjugated holomorphic derivative, which is wrong for the real
    losses of complex inputs that training needs, so complex values never enter a graph.
    """
    takes = [f"input {i}, {x.dtype}" for i, x in enumerate(inputs)
             if isinstance(x, Tensor) and x.requires_grad and x.array.dtype.kind == "c"]
    what = (f"takes a complex input that requires grad ({'; '.join(takes)})" if takes else
            f"would make a {out.array.dtype} output from inputs that require grad")
    raise TypeError(
        f"{cls.__name__}: complex tensors cannot require grad: this op {what} (inputs: "
        f"{_describe(inputs)}); {COMPLEX_ADVICE}"
    )


def _raise_device_mismatch(cls: type, inputs: tuple) -> None:
    described = ", ".join(
        f"{x.device} {tuple(x.shape)} {x.dtype}" for x in inputs if isinstance(x, Tensor)
    )
    raise RuntimeError(
        f"{cls.__name__}: all tensors must be on the same device, got tensors on [{described}]; "
        "move them with .to(device) first"
    )
