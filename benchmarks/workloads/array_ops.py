"""Workload 7: backend array operations per training step, counted on the strict fake device.

On a GPU every array operation is (at least) one kernel launch of a few microseconds, whatever
the array size, so their number per step is a floor on a GPU step's time. The fake device
(``backends.get("fake")``) runs NumPy behind a CuPy-like namespace; here its namespace
functions, ufuncs and array methods/operators are wrapped for the duration of the count (the
backend exposes no op counter of its own). A call counts as a kernel when it writes memory:
its result is a fresh array, or it writes in place (``out=``, ``+=``, ``a[i] = v``). Calls that
return a view of an input (reshape, transpose, basic indexing) are counted apart as views.

The NumPy floor runs unchanged on the fake namespace (its code is written against ``xp``), so
its count is the same kind of number: the kernels a hand-written step needs. PyTorch is n/a
(its dispatcher is not the fake device).
"""

from __future__ import annotations

import contextlib
import functools
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..harness import COLUMNS, Context, Row, Stat, fill_ratios

# FakeDeviceArray attributes that are conversions, host reads or protocol hooks, not ops.
_NOT_OPS = frozenset({
    "__init__", "__array__", "__array_function__", "__reduce__", "__copy__", "__deepcopy__",
    "__float__", "__int__", "__complex__", "__index__", "__bool__", "__contains__", "__repr__",
    "__str__", "__format__", "__len__", "__iter__", "__dlpack__", "__dlpack_device__",
    "__getattribute__", "__getattr__", "__setattr__", "__init_subclass__", "__subclasshook__",
    "__new__", "__hash__", "__sizeof__", "__reduce_ex__", "__dir__", "__class_getitem__",
    "item", "tolist", "get", "tobytes",
})
_WRITES = frozenset({"__setitem__", "fill", "put", "sort", "partition"})


class OpCounter:
    """Counts kernels (by name) and views while `active()` patches the fake backend."""

    def __init__(self) -> None:
        self.kernels: Counter[str] = Counter()
        self.views: Counter[str] = Counter()
        self._depth = 0

    def _classify(self, name: str, inputs: list, result: Any, kwargs: dict) -> None:
        writes = name in _WRITES or name.startswith("__i") or "out" in kwargs
        arrays = _raw_arrays(result)
        if not writes and arrays and all(
            any(np.may_share_memory(r, a) for a in inputs) for r in arrays
        ):
            self.views[name] += 1
        elif writes or arrays:
            self.kernels[name] += 1

    def wrap(self, fn: Any, name: str, namespace: str | None) -> Any:
        """`fn` counting its calls; `namespace` methods are named after their receiver
        (``xp.exp``, ``xp.add.reduce``), array methods after themselves (``__mul__``)."""
        counter = self

        @functools.wraps(fn)
        def counted(*args: Any, **kwargs: Any) -> Any:
            if counter._depth:
                return fn(*args, **kwargs)
            counter._depth += 1
            try:
                result = fn(*args, **kwargs)
            finally:
                counter._depth -= 1
            label = name
            if namespace is not None:
                label = f"xp.{getattr(args[0], '__name__', '?')}" + namespace
            inputs = _raw_arrays(args) + _raw_arrays(list(kwargs.values()))
            counter._classify(label, inputs, result, kwargs)
            return result

        return counted

    @contextlib.contextmanager
    def active(self, backend: Any) -> Iterator[OpCounter]:
        from backends import fake_array

        patches: list[tuple[Any, str, Any]] = []

        def patch(owner: Any, attr: str, namespace: str | None = None) -> None:
            original = owner.__dict__[attr]
            patches.append((owner, attr, original))
            setattr(owner, attr, self.wrap(original, attr, namespace))

        cls = fake_array.FakeDeviceArray
        for attr, value in list(vars(cls).items()):
            if callable(value) and not isinstance(value, type) and attr not in _NOT_OPS \
                    and not (attr.startswith("_") and not attr.startswith("__")):
                patch(cls, attr)
        for attr in ("__call__", "reduce", "accumulate", "outer"):
            patch(fake_array.FakeUfunc, attr, "" if attr == "__call__" else f".{attr}")
        patch(fake_array.FakeFunction, "__call__", "")
        for attr in ("scatter_add", "erf"):
            if attr in vars(type(backend)):
                patch(type(backend), attr)
        try:
            yield self
        finally:
            for owner, attr, original in reversed(patches):
                setattr(owner, attr, original)

    @property
    def total(self) -> int:
        return sum(self.kernels.values())


def _raw_arrays(obj: Any) -> list:
    """The NumPy arrays inside fake arrays found in `obj` (through lists, tuples, dicts)."""
    from backends.fake_array import FakeDeviceArray

    found: list = []
    stack = [obj]
    while stack:
        o = stack.pop()
        if type(o) is FakeDeviceArray:
            found.append(o._a)
        elif isinstance(o, (list, tuple)):
            stack.extend(o)
        elif isinstance(o, dict):
            stack.extend(o.values())
    return found


def count_step(step: Any, backend: Any, warmup: int = 1) -> OpCounter:
    """Counts the array operations of one call of `step` (after `warmup` uncounted calls)."""
    for _ in range(warmup):
        step()
    counter = OpCounter()
    with counter.active(backend):
        step()
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
            impl = build(backend)
            counter = count_step(impl.step, backend)
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
