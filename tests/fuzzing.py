"""The fuzz tests' machinery: random objects described as JSON, built and run in a child.

A crash of C code ends the process, so the fuzz tests (autograd/test_core_fuzz.py,
backends/test_host_kernels_fuzz.py) never run a case in the test process. Hypothesis draws
each case as a JSON-able description; a `Child` interpreter (``python -m tests.fuzzing
<module>``, under Python's debug allocator) builds its objects (`build`: arrays between guard
bands), runs it with `<module>.run_case` under `faulthandler`, and answers: a Python exception
or a correct result is fine; a wrong result (`WrongResult`, also for a write outside an
array), SystemError (C code returned NULL without an exception, or the like) or a crash fail
the test with the case, which Hypothesis then shrinks. The child serves case after case and
is started again after a crash.
"""

from __future__ import annotations

import array as pyarray
import contextlib
import faulthandler
import functools
import importlib
import json
import math
import os
import queue
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: The dtypes random arrays take: the kernels' own (float32, float64, uint8, int32, int64) and
#: others they must refuse.
DTYPES = ["float32", "float64", "float32", "float64", "uint8", "int32", "int64", "float16",
          "int8", "bool", "complex64"]
#: Memory layouts, all keeping the shape: C order (most often), Fortran order, every other
#: row, every other item of the last axis, reversed, a zero-stride broadcast, read-only, and
#: data one byte off its alignment.
LAYOUTS = ["c", "c", "c", "c", "f", "step0", "steplast", "rev", "bcast", "ro", "unaligned"]
#: Values: ordinary, with NaN/inf/-0, integers (indices), big and negative integers.
FILLS = ["normal", "special", "small", "index", "wild"]


class WrongResult(AssertionError):
    """A case returned, but not what the reference computes."""


# -- descriptions (drawn in the parent) -------------------------------------------------------
#: A side of an array: mostly 1-4 (any 0 makes the array empty), sometimes 0.
SIDES = st.sampled_from([1, 2, 3, 4, 2, 3, 1, 0])


def shapes(ndim: int) -> st.SearchStrategy:
    return st.lists(SIDES, min_size=ndim, max_size=ndim)


def array_specs(shape: Any = None, dtype: Any = None, ndim: Any = None) -> st.SearchStrategy:
    """An array: {"array": [dtype, shape, layout, fill, seed]} (`shape`/`dtype`: fixed ones or
    strategies)."""
    shape_st = (shape if isinstance(shape, st.SearchStrategy) else st.just(list(shape))
                if shape is not None else (shapes(ndim) if ndim is not None
                                           else st.integers(0, 4).flatmap(shapes)))
    dtype_st = (dtype if isinstance(dtype, st.SearchStrategy) else st.just(dtype)
                if dtype is not None else st.sampled_from(DTYPES))
    return st.tuples(dtype_st, shape_st, st.sampled_from(LAYOUTS), st.sampled_from(FILLS),
                     st.integers(0, 2**16)).map(lambda t: {"array": list(t)})


#: Integers near the sizes' limits: overflowing products, negative values.
WILD_INTS = st.sampled_from([0, 1, -1, 2, 3, 255, 256, 2**31 - 1, 2**31, -(2**31), 2**32 + 1,
                             2**62, 2**63 - 1, -(2**63), 2**64, 3037000500, -5])


@functools.cache
def junk() -> st.SearchStrategy:
    """Any other object: scalars, strings, containers, buffers that are not NumPy arrays (one
    strategy object: building strategies anew per draw costs more than drawing)."""
    leaf = st.one_of(
        st.none(), st.booleans(), WILD_INTS, st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=3),
        st.sampled_from([{"special": "object"}, {"special": "type"}, {"special": "callable"},
                         {"special": "bytes"}, {"special": "bytearray"},
                         {"special": "memoryview"}, {"special": "pyarray_f"},
                         {"special": "pyarray_d"}, {"special": "tensor"},
                         {"special": "raises_on_bool"}, {"special": "huge_index"}]),
        array_specs(),
    )
    return st.one_of(leaf, st.lists(leaf, max_size=3).map(lambda v: {"list": v}),
                     st.lists(leaf, max_size=3).map(lambda v: {"tuple": v}))


# -- building (in the child) ------------------------------------------------------------------
class _RaisesOnBool:
    def __bool__(self) -> bool:
        raise ValueError("no truth value")

    def __index__(self) -> int:
        raise ValueError("no index")

    def __float__(self) -> float:
        raise ValueError("no float")


class _HugeIndex:
    def __index__(self) -> int:
        return 2**100


def _fill(np: Any, rng: Any, fill: str, size: int) -> Any:
    if fill.startswith("below "):  # indices in [0, k), for k > 0
        return rng.integers(0, max(int(fill.split()[1]), 1), size).astype(float)
    if fill == "normal":
        return rng.standard_normal(size)
    if fill == "special":
        return rng.choice([0.0, -0.0, 1.0, -1.0, 2.5, math.nan, math.inf, -math.inf], size)
    if fill == "small":
        return rng.integers(0, 3, size).astype(float)
    if fill == "index":  # indices in range and out of it, on both sides
        return rng.choice([-1.0, -2.0, -(2.0**31), 0.0, 1.0, 2.0, 3.0, 5.0, 11.0, 255.0], size)
    return rng.choice([0.0, 1e30, -1e30, 2.0**31, -(2.0**31), 255.0, 1e-30], size)


#: Bytes around every array built: C code writing outside an array changes them, which
#: `check_guards` reports (a write just past the end crashes nothing by itself).
GUARD = 64
_guarded: list = []


def _guarded_empty(np: Any, count: int, dtype: Any, offset: int = 0) -> Any:
    """`count` items of `dtype` (`offset` bytes off their alignment) between guard bands."""
    itemsize = np.dtype(dtype).itemsize
    raw = np.full(2 * GUARD + count * itemsize + offset, 0xA5, np.uint8)
    start = GUARD + offset
    _guarded.append((raw, start, start + count * itemsize))
    return raw[start:start + count * itemsize].view(dtype)


def check_guards() -> None:
    """Raises WrongResult if an array built since the last call was written outside."""
    try:
        for raw, start, stop in _guarded:
            if (raw[:start] != 0xA5).any() or (raw[stop:] != 0xA5).any():
                raise WrongResult("C code wrote outside the memory of an array")
    finally:
        _guarded.clear()


def build_array(spec: list) -> Any:
    """The NumPy array a spec describes: its shape and dtype, in the memory layout named,
    between guard bands."""
    import numpy as np

    dtype, shape, layout, fill, seed = spec
    rng = np.random.default_rng(seed)
    shape = tuple(shape)
    size = math.prod(shape)
    offset = 1 if layout == "unaligned" and np.dtype(dtype).itemsize > 1 else 0
    values = _guarded_empty(np, size * 2, dtype, offset)
    with np.errstate(all="ignore"):
        values[...] = _fill(np, rng, fill, size * 2).astype(dtype)
    a = values[:size].reshape(shape)
    if layout == "f":
        return np.asfortranarray(a)
    if layout == "step0" and shape and shape[0]:  # every other row of a longer array
        return values.reshape((2 * shape[0],) + shape[1:])[::2]
    if layout == "steplast" and shape and shape[-1]:  # a last axis with a stride of 2 items
        return values.reshape(shape[:-1] + (2 * shape[-1],))[..., ::2]
    if layout == "rev" and shape:
        return a[::-1]
    if layout == "bcast" and shape and shape[0]:  # a zero stride (read-only, as NumPy makes it)
        return np.broadcast_to(a[:1], shape)
    if layout == "ro":
        a.flags.writeable = False
    return a  # "unaligned": one byte off its type's alignment (`offset`)


def build(spec: Any) -> Any:
    """The object a description stands for (plain JSON values stand for themselves)."""
    if isinstance(spec, list):
        return [build(s) for s in spec]
    if not isinstance(spec, dict):
        return spec
    if "array" in spec:
        return build_array(spec["array"])
    if "list" in spec:
        return [build(s) for s in spec["list"]]
    if "tuple" in spec:
        return tuple(build(s) for s in spec["tuple"])
    kind = spec.get("special")
    if kind == "object":
        return object()
    if kind == "type":
        return int
    if kind == "callable":
        return lambda *a, **k: None
    if kind == "bytes":
        return b"\x00\x01\x02\x03"
    if kind == "bytearray":
        return bytearray(16)
    if kind == "memoryview":
        return memoryview(bytearray(16)).cast("f")
    if kind == "pyarray_f":
        return pyarray.array("f", [1.0, 2.0, 3.0, 4.0])
    if kind == "pyarray_d":
        return pyarray.array("d", [1.0, -2.0])
    if kind == "tensor":
        import autograd as ag

        return ag.ones(2, 2, requires_grad=True)
    if kind == "raises_on_bool":
        return _RaisesOnBool()
    if kind == "huge_index":
        return _HugeIndex()
    return spec


# -- running ----------------------------------------------------------------------------------
class Child:
    """A child interpreter running cases with `<module>.run_case`, one per line of JSON, and
    answering each with a line (``ok``, ``wrong <why>``, ``bug <why>``). It serves many cases
    (an interpreter starts in about a second); one that crashes it is reported, and the next
    case starts a new child."""

    def __init__(self, module: str, timeout: float = 120.0) -> None:
        self.module = module
        self.timeout = timeout
        self.proc: Any = None

    def _start(self) -> None:
        self.log = tempfile.TemporaryFile()
        # Python's debug allocator: its guard bytes make an out-of-bounds read of a C buffer
        # (PyMem_Malloc) a wild pointer, and freed memory garbage, so such bugs crash at once.
        env = dict(os.environ, PYTHONMALLOC="debug")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fuzzing", self.module], cwd=REPO, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True,
            bufsize=1)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines),
                         daemon=True).start()

    @staticmethod
    def _read(stream: Any, lines: queue.Queue) -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)  # the child ended

    def run(self, case: Any) -> None:
        """Runs one case; raises AssertionError if it crashed the child, hung, returned a
        wrong result or raised SystemError."""
        if self.proc is None:
            self._start()
        try:
            self.proc.stdin.write(json.dumps(case) + "\n")
            self.proc.stdin.flush()
            answer = self.lines.get(timeout=self.timeout)
        except (OSError, queue.Empty):
            answer = None
        if answer is not None and answer.startswith("ok"):
            return
        what = answer.strip() if answer else self._end()
        raise AssertionError(f"this case {what}:\n{json.dumps(case)}\n--- child stderr ---\n"
                             f"{self._stderr()}")

    def _end(self) -> str:
        """Ends the child (it crashed, or hangs); what happened to it."""
        proc, self.proc = self.proc, None
        try:
            status = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return f"did not finish within {self.timeout} s (killed)"
        return f"crashed the interpreter (exit status {status})"

    def _stderr(self) -> str:
        self.log.seek(0)
        return self.log.read()[-3000:].decode(errors="replace")

    def close(self) -> None:
        if self.proc is not None:
            self.proc.stdin.close()
            self.proc.wait()
            self.proc = None


@contextlib.contextmanager
def child(module: str) -> Iterator[Child]:
    """A `Child` for a test's cases, closed after it."""
    c = Child(module)
    try:
        yield c
    finally:
        c.close()


def _serve(module_name: str) -> int:
    faulthandler.enable()
    module = importlib.import_module(module_name)
    for line in sys.stdin:
        try:
            try:
                module.run_case(json.loads(line))
            finally:
                check_guards()
            answer = "ok"
        except WrongResult as e:
            answer = "returned a wrong result: " + " | ".join(str(e).splitlines())
        except SystemError:
            traceback.print_exc()
            answer = "raised SystemError (a bug in C code)"
        except Exception:  # noqa: BLE001 - a Python exception is an accepted outcome
            answer = "ok"
        finally:
            reset = getattr(module, "reset", None)
            if reset is not None:
                reset()
        print(answer, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_serve(sys.argv[1]))
