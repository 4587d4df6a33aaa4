"""Workload 7: backend array operations per training step, counted on the strict fake device.

On a GPU every array operation is (at least) one kernel launch of a few microseconds, whatever
the array size, so their number per step is a floor on a GPU step's time. The fake device
(``backends.get("fake")``) runs NumPy behind a CuPy-like namespace and exposes no op counter,
so for the count its public surface is wrapped: ``backend.xp`` is replaced by a counting proxy
(functions, ufuncs and their ``.reduce``/``.outer``/..., submodules such as ``xp.linalg``) and
the methods and operators of ``backend.array_type`` are wrapped; both are restored afterwards.
A call counts as a kernel when it writes memory: its result is a fresh array, or it writes in
place (``out=``, ``+=``, ``a[i] = v``). Calls whose result is a view of an input (reshape,
transpose, basic indexing) are counted apart as views.

The NumPy floor runs unchanged on the fake namespace (its code is written against ``xp``), so
its count is the same kind of number: the kernels a hand-written step needs. PyTorch is n/a
(its dispatcher is not the fake device).
"""

from __future__ import annotations

import contextlib
import functools
import types
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..harness import COLUMNS, Context, Row, Stat, fill_ratios

# Array-type attributes that are conversions, host reads or protocol hooks, not ops.
_NOT_OPS = frozenset({
    "__init__", "__array__", "__array_function__", "__array_ufunc__", "__reduce__",
    "__reduce_ex__", "__copy__", "__deepcopy__", "__float__", "__int__", "__complex__",
    "__index__", "__bool__", "__contains__", "__repr__", "__str__", "__format__", "__len__",
    "__iter__", "__dlpack__", "__dlpack_device__", "__getattribute__", "__getattr__",
    "__setattr__", "__delattr__", "__init_subclass__", "__subclasshook__", "__new__",
    "__hash__", "__sizeof__", "__dir__", "__class_getitem__", "__cuda_array_interface__",
    "item", "tolist", "get", "tobytes",
})
_WRITES = frozenset({"__setitem__", "fill", "put", "sort", "partition"})


def _raw(a: Any) -> Any:
    """The host NumPy array behind a fake device array (None if its layout is unknown)."""
    raw = getattr(a, "_a", None)
    return raw if isinstance(raw, np.ndarray) else None


class OpCounter:
    """Counts kernels (by name) and views while `active(backend)` wraps the backend."""

    def __init__(self) -> None:
        self.kernels: Counter[str] = Counter()
        self.views: Counter[str] = Counter()
        self.array_type: Any = None
        self._depth = 0

    def reset(self) -> None:
        self.kernels.clear()
        self.views.clear()

    @property
    def total(self) -> int:
        return sum(self.kernels.values())

    def _arrays(self, obj: Any) -> list:
        found: list = []
        stack = [obj]
        while stack:
            o = stack.pop()
            if type(o) is self.array_type:
                found.append(o)
            elif isinstance(o, (list, tuple)):
                stack.extend(o)
            elif isinstance(o, dict):
                stack.extend(o.values())
        return found

    def _classify(self, name: str, args: tuple, kwargs: dict, result: Any) -> None:
        results = self._arrays(result)
        writes = name in _WRITES or name.startswith("__i") or "out" in kwargs
        if writes:
            self.kernels[name] += 1
            return
        if not results:
            return  # shapes, Python values: no array work
        inputs = [_raw(a) for a in self._arrays((args, kwargs))]
        outputs = [_raw(r) for r in results]
        if inputs and all(o is not None and any(
                i is not None and np.may_share_memory(o, i) for i in inputs) for o in outputs):
            self.views[name] += 1
        else:
            self.kernels[name] += 1

    def wrap(self, fn: Any, name: str) -> Any:
        counter = self

        @functools.wraps(fn)
        def counted(*args: Any, **kwargs: Any) -> Any:
            if counter._depth:  # an op calling another op: count the outer one only
                return fn(*args, **kwargs)
            counter._depth += 1
            try:
                result = fn(*args, **kwargs)
            finally:
                counter._depth -= 1
            counter._classify(name, args, kwargs, result)
            return result

        return counted

    @contextlib.contextmanager
    def active(self, backend: Any) -> Iterator[OpCounter]:
        cls = backend.array_type
        self.array_type = cls
        patched: list[tuple[Any, str, Any, bool]] = []
        for attr, value in list(vars(cls).items()):
            if attr in _NOT_OPS or (attr.startswith("_") and not attr.startswith("__")):
                continue
            if isinstance(value, types.FunctionType):
                patched.append((cls, attr, value, True))
                setattr(cls, attr, self.wrap(value, attr))
        for attr in ("scatter_add", "erf"):
            if hasattr(backend, attr):
                had = attr in vars(backend)
                patched.append((backend, attr, vars(backend).get(attr), had))
                setattr(backend, attr, self.wrap(getattr(backend, attr), f"backend.{attr}"))
        xp = backend.xp
        backend.xp = _CountingNamespace(xp, self, "xp")
        try:
            yield self
        finally:
            backend.xp = xp
            for owner, attr, original, had in reversed(patched):
                if had:
                    setattr(owner, attr, original)
                else:
                    delattr(owner, attr)


class _CountingNamespace:
    """A proxy of an array namespace whose functions (and ufunc methods) are counted."""

    def __init__(self, xp: Any, counter: OpCounter, prefix: str) -> None:
        self._xp = xp
        self._counter = counter
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        obj = getattr(self._xp, name)
        label = f"{self._prefix}.{name}"
        if isinstance(obj, type) or isinstance(obj, (int, float, complex, str, np.dtype)):
            value = obj
        elif callable(obj):
            value = _CountingCallable(obj, self._counter, label)
        elif isinstance(obj, types.ModuleType) or type(obj) is type(self._xp):
            value = _CountingNamespace(obj, self._counter, label)
        else:
            value = obj
        setattr(self, name, value)
        return value


class _CountingCallable:
    """A counted function; its callable attributes (``ufunc.reduce``) are counted too."""

    def __init__(self, fn: Any, counter: OpCounter, label: str) -> None:
        self._fn = fn
        self._call = counter.wrap(fn, label)
        self._counter = counter
        self._label = label

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        obj = getattr(self._fn, name)
        if callable(obj) and not isinstance(obj, type):
            return self._counter.wrap(obj, f"{self._label}.{name}")
        return obj


def count_step(build: Any, backend: Any, warmup: int = 1) -> OpCounter:
    """Builds a column on `backend` and counts the array operations of one step (after
    `warmup` uncounted steps). It is built under the counter so that it holds the proxy."""
    counter = OpCounter()
    with counter.active(backend):
        impl = build(backend)
        for _ in range(warmup):
            impl.step()
        counter.reset()
        impl.step()
    return counter


def _fake_backend() -> Any:
    try:
        import backends

        backend = backends.get("fake")
        from backends import fake_array  # noqa: F401
    except Exception as e:  # noqa: BLE001 - any failure means: no fake device here
        return f"fake device not available ({type(e).__name__}: {e})"
    return backend


def count_row(name: str, title: str, build_kedja: Any, build_floor: Any, ctx: Context) -> Row:
    row = Row(name, title, "ops/step")
    row.notes["torch"] = "not countable (PyTorch does not run on the fake device)"
    backend = _fake_backend()
    if isinstance(backend, str):
        row.notes["kedja"] = row.notes["numpy"] = backend
        row.stats = {c: None for c in COLUMNS}
        return row
    for column, build in (("kedja", build_kedja), ("numpy", build_floor)):
        try:
            counter = count_step(build, backend)
        except Exception as e:  # noqa: BLE001 - report, do not abort the suite
            row.notes[column] = f"failed on the fake device: {type(e).__name__}: {e}"
            row.stats[column] = None
            continue
        row.stats[column] = Stat.of([float(counter.total)])
        row.details[column] = {
            "kernels": counter.total,
            "views": sum(counter.views.values()),
            "kernels_by_name": dict(counter.kernels.most_common()),
        }
    row.stats.setdefault("torch", None)
    return fill_ratios(row)


def rows(ctx: Context) -> list[Row]:
    from . import cnn, mlp

    out = [count_row(
        "ops_mlp_b128", "array ops (kernels) per MLP train step, batch 128, fake device",
        lambda b: mlp.kedja_mlp(ctx, 128, device=b.device),
        lambda b: mlp.floor_mlp(ctx, 128, xp=b.xp), ctx,
    ), count_row(
        "ops_cnn_b64", "array ops (kernels) per CNN train step, batch 64, fake device",
        lambda b: cnn.kedja_cnn(ctx, device=b.device),
        lambda b: cnn.floor_cnn(ctx, xp=b.xp), ctx,
    )]
    return out
