"""CUDA graph capture on the fake device, emulated strictly enough that mistakes fail in CI.

While `FakeDeviceBackend.capture_graph(fn)` runs `fn`, every launch on the device (operators,
in-place operators, ``__setitem__``, ``xp`` functions and ufuncs, array methods, the fused
kernels, ``scatter_add``, ``erf``) goes through `FakeCapture.record`: it runs on NumPy as usual,
so that `fn` can go on using shapes and dtypes, and is kept as a closure over the very NumPy
arrays it read and wrote. ``graph.launch()`` calls the closures again in order and copies each
fresh result into the array the capture returned: a CUDA graph's kernels write fixed addresses,
and so does the replay.

What a GPU does not do during a capture is undone at its end:

- arrays allocated during the capture hold undefined values on a GPU (their kernels have not
  run): they are poisoned (NaN for floats, the dtype's extreme value for integers, True for
  bools), so code reading capture-time results fails in tests;
- arrays that existed before and were written in place keep their old values on a GPU: their
  memory is restored from a copy taken the first time the capture touched it.

Host synchronisations, host -> device copies and random draws raise `GraphCaptureError` (see
backends/base.py), as on CuPy, and invalidate the capture.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import CapturedGraph, CaptureState


def _root(a: np.ndarray) -> np.ndarray:
    """The array owning `a`'s memory (the end of its ``.base`` chain)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _leaves(r: Any) -> list:
    """The results of one call, flattened as `wrap` flattens them (tuples, lists)."""
    if isinstance(r, (tuple, list)):
        out: list = []
        for x in r:
            out.extend(_leaves(x))
        return out
    return [r]


def poison(a: np.ndarray) -> None:
    """Fills `a` with values no computation should produce: what an unexecuted kernel left."""
    if not a.flags.writeable or a.size == 0:
        return
    kind = a.dtype.kind
    if kind in "fc":
        a.fill(np.nan)
    elif kind == "b":
        a.fill(True)
    elif kind == "i":
        a.fill(np.iinfo(a.dtype).min)
    elif kind == "u":
        a.fill(np.iinfo(a.dtype).max)


class FakeCapture(CaptureState):
    """One capture in progress on a fake device: the recorded launches and the memory they
    touched (saved to be restored, or allocated to be poisoned at the end)."""

    def __init__(self, dev: Any) -> None:
        super().__init__()
        self.dev = dev
        self.ops: list[tuple[Any, tuple]] = []
        self.fresh: dict[int, np.ndarray] = {}  # id(root) -> memory allocated in the capture
        self.saved: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # id(root) -> (root, copy)

    def _touch(self, arrays: Any) -> None:
        for a in arrays:
            root = _root(a)
            key = id(root)
            if key not in self.fresh and key not in self.saved:
                self.saved[key] = (root, root.copy())

    def record(self, call: Any, inputs: Any, seen: list | None, view_only: bool,
               allocation: bool, wrap: Any) -> Any:
        """Runs ``call()`` (one launch; `inputs` are the NumPy arrays it reads or writes) and
        keeps it for replay; `view_only` calls are kept only when they made a copy,
        `allocation` ones (``xp.empty``) never: they launch nothing."""
        inputs = list(inputs)
        self._touch(inputs)
        raw = call()
        out = wrap(self.dev, raw, seen)
        old = {id(_root(a)) for a in inputs}
        targets = []
        for k, (r, w) in enumerate(zip(_leaves(raw), _leaves(out))):
            if not hasattr(w, "_dev"):
                continue  # a Python value (a shape, a bool): nothing on the device
            if isinstance(r, np.ndarray):
                root = _root(r)
                if id(root) in old or id(root) in self.saved or id(root) in self.fresh:
                    continue  # a view of memory that already exists: no copy was made
            root = _root(w._a)
            self.fresh[id(root)] = root
            # A read-only result (a broadcast of new memory) is refilled through its memory.
            targets.append((k, w._a if w._a.flags.writeable else root))
        if not allocation and (targets or not view_only):
            self.ops.append((call, tuple(targets)))
        return out

    def finish(self) -> None:
        """What the device holds after the capture: old memory as it was, new memory undefined."""
        for root, copy in self.saved.values():
            if root.flags.writeable:
                np.copyto(root, copy)
        for root in self.fresh.values():
            poison(root)
        self.saved.clear()


class FakeGraph(CapturedGraph):
    """A fake device's captured graph: the recorded launches, replayed in order."""

    def __init__(self, dev: Any, capture: FakeCapture, index_flags: dict) -> None:
        super().__init__(dev, index_flags,
                         sum(root.nbytes for root in capture.fresh.values()))
        self._ops = capture.ops
        # The memory the capture allocated lives as long as the graph (its buffers).
        self._buffers = list(capture.fresh.values())

    def _replay(self) -> None:
        for call, targets in self._ops:
            raw = call()
            if targets:
                leaves = _leaves(raw)
                for k, target in targets:
                    leaf = leaves[k]
                    if isinstance(leaf, np.ndarray) and leaf.shape != target.shape:
                        leaf = _root(leaf)  # refilling a read-only result's memory
                    target[...] = leaf
