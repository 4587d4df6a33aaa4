"""The fake device's ``ElementwiseKernel`` and ``ReductionKernel``: each CUDA body compiled as
host C++ (with the C++ compiler of the C core's toolchain) and run on the fake arrays, so every
``_on_cupy`` branch of backends/kernels/ executes in CI and is compared with the NumPy bodies.

Like CuPy's kernels they refuse arrays whose dtype differs from what a type placeholder
already took ("Type is mismatched"), launch only on the current device, and write outputs in
place. A body sees ``acc_t`` and the placeholders as C++ types (float16 is GCC's ``_Float16``)
and CUDA's math functions through <cmath>. On by default where `compiler()` finds a compiler
(``backend.run_cuda_bodies``; ``KEDJA_FAKE_CUDA_BODIES=0`` turns it off; docs/devices.md).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .fake_rules import CURRENT, _check_current

_C_TYPES = {"float16": "_Float16", "float32": "float", "float64": "double", "int64": "int64_t",
            "int32": "int32_t", "int8": "int8_t", "uint8": "uint8_t", "bool": "bool"}
_HEADER = """#include <cmath>
#include <cstddef>
using std::ptrdiff_t;
#include <cstdint>
using std::exp; using std::log; using std::sqrt; using std::tanh; using std::erf;
using std::fabs; using std::fmax; using std::fmin; using std::log1p; using std::expm1;
template <class A, class B> static inline auto max(A a, B b) { return a > b ? a : b; }
template <class A, class B> static inline auto min(A a, B b) { return a < b ? a : b; }
"""
_libraries: dict = {}


def compiler() -> str | None:
    """The host C++ compiler (the toolchain Python's C extensions are built with), or None."""
    for name in (os.environ.get("CXX"), sysconfig.get_config_var("CXX"), "c++", "g++"):
        exe = (name or "").split()[0] if name else ""
        if exe and shutil.which(exe):
            return exe
    return None


def _compile(source: str) -> Any:
    """The shared library built from `source` (cached on disk by the source's hash)."""
    key = hashlib.sha256(source.encode()).hexdigest()[:24]
    lib = _libraries.get(key)
    if lib is not None:
        return lib
    cxx = compiler()
    if cxx is None:
        raise RuntimeError("fake device: no C++ compiler found to run CUDA bodies on the host")
    cache = Path(tempfile.gettempdir()) / f"kedja-fake-kernels-{os.getuid()}"
    cache.mkdir(exist_ok=True)
    path = cache / f"{key}.so"
    if not path.exists():
        src = cache / f"{key}.{os.getpid()}.cpp"  # per process: parallel runs never share one
        src.write_text(source)
        tmp = cache / f"{key}.{os.getpid()}.so"
        run = subprocess.run([cxx, "-O1", "-std=c++17", "-shared", "-fPIC", "-o", str(tmp),
                              str(src)], capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"fake device: a CUDA body does not compile as host C++:\n"
                               f"{run.stderr}\n{source}")
        os.replace(tmp, path)
        src.unlink()
    lib = _libraries[key] = ctypes.CDLL(str(path))
    return lib


def _params(text: str) -> tuple[list, set]:
    """``"G g, raw T x, float32 lr"`` -> ``[("G", "g"), ("T", "x"), ("float32", "lr")]`` and
    the names declared ``raw`` (``{"x"}``: indexed by the body, not broadcast)."""
    out, raw = [], set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        words = part.split()
        if len(words) == 3 and words[0] == "raw":
            raw.add(words[2])
            words = words[1:]
        if len(words) != 2:
            raise ValueError(f"kernel parameter {part!r}: expected '[raw] type name'")
        out.append((words[0], words[1]))
    return out, raw


def _is_placeholder(kind: str) -> bool:
    return len(kind) == 1 and kind.isupper()


def _raw(dev: Any, a: Any, where: str) -> Any:
    from .fake_device_array import FakeDeviceArray

    if type(a) is FakeDeviceArray:
        if a._dev is not dev:
            raise ValueError(f"{where}: an argument is on {a.device}, the kernel on {dev.device}")
        return a._a
    if isinstance(a, np.ndarray):
        raise TypeError(f"{where}: a host numpy.ndarray was passed to a device kernel")
    return a


def _arrays(args: tuple) -> list:
    """The NumPy arrays of a kernel's fake-array arguments (what its launch reads or writes)."""
    return [a._a for a in args if hasattr(a, "_a") and isinstance(a._a, np.ndarray)]


class _Kernel:
    def __init__(self, dev: Any, in_params: str, out_params: str, name: str,
                 preamble: str) -> None:
        self._dev = dev
        self.inputs, raw_in = _params(in_params)
        self.outputs, raw_out = _params(out_params)
        self.raw = raw_in | raw_out
        self.name = name
        self.preamble = preamble

    def _bind(self, args: tuple) -> tuple:
        """Checks device and dtypes as CuPy does; returns (raw args, placeholder types)."""
        dev = self._dev
        if dev.index != CURRENT[0]:
            _check_current(dev, self.name)
        raw = [_raw(dev, a, self.name) for a in args]
        types: dict = {}
        for (kind, pname), a in zip(self.inputs + self.outputs, raw):
            if not _is_placeholder(kind):
                if isinstance(a, np.ndarray) and a.dtype != np.dtype(kind):
                    raise TypeError(f"{self.name}: {pname} must be {kind}, got {a.dtype}")
                continue
            if not isinstance(a, np.ndarray):
                continue  # a Python scalar: it takes the type the arrays give `kind` (below)
            if kind in types and types[kind] != a.dtype:
                # CuPy: TypeError "Type is mismatched. <param> <dtype> <expected>"
                raise TypeError(f"Type is mismatched. {pname} {a.dtype} {types[kind]} "
                                f"(kernel {self.name}: every {kind} argument must have the "
                                "same dtype)")
            types[kind] = a.dtype
        for k, ((kind, pname), a) in enumerate(zip(self.inputs + self.outputs, raw)):
            if _is_placeholder(kind) and not isinstance(a, np.ndarray):
                if kind not in types or k >= len(self.inputs):
                    raise TypeError(f"{self.name}: {pname} ({kind}) must be an array here")
                raw[k] = np.asarray(a, dtype=types[kind])
        return raw, types

    def _typedefs(self, types: dict) -> str:
        return "".join(f"typedef {_C_TYPES[np.dtype(t).name]} {k};\n" for k, t in types.items())

    @staticmethod
    def _c_scalar(kind: str, value: Any) -> Any:
        ctype = {"float32": ctypes.c_float, "float64": ctypes.c_double, "bool": ctypes.c_bool,
                 "int64": ctypes.c_int64, "int32": ctypes.c_int32}[kind]
        if isinstance(value, np.ndarray):
            value = value.reshape(()).item()
        return ctype(value)


class HostElementwiseKernel(_Kernel):
    """``cupy.ElementwiseKernel(in_params, out_params, operation, name, preamble=...)``."""

    def __init__(self, dev: Any, in_params: str, out_params: str, operation: str,
                 name: str = "kernel", preamble: str = "") -> None:
        super().__init__(dev, in_params, out_params, name, preamble)
        self.operation = operation

    def _source(self, types: dict) -> str:
        lines = [_HEADER, self._typedefs(types), self.preamble,
                 'extern "C" void run(int64_t n, void** args) {']
        params = self.inputs + self.outputs
        for k, (kind, pname) in enumerate(params):
            ctype = kind if _is_placeholder(kind) else _C_TYPES[kind]
            if pname in self.raw:  # indexed by the body in C order (x[k]), as CuPy's raw
                lines.append(f"  {ctype}* {pname} = ({ctype}*)args[{k}];")
            elif _is_placeholder(kind):
                lines.append(f"  {ctype}* _raw_{pname} = ({ctype}*)args[{k}];")
            else:
                lines.append(f"  const {ctype} {pname} = *(const {ctype}*)args[{k}];")
        lines.append("  for (int64_t i = 0; i < n; ++i) {")
        for kind, pname in self.inputs:
            if _is_placeholder(kind) and pname not in self.raw:
                lines.append(f"    const {kind} &{pname} = _raw_{pname}[i];")
        for kind, pname in self.outputs:
            if pname not in self.raw:
                lines.append(f"    {kind} &{pname} = _raw_{pname}[i];")
        lines += ["    {", self.operation, "    }", "  }", "}"]
        return "\n".join(lines)

    def __call__(self, *args: Any) -> None:
        if len(args) != len(self.inputs) + len(self.outputs):
            raise TypeError(f"{self.name}: takes {len(self.inputs) + len(self.outputs)} "
                            f"arguments (outputs included), got {len(args)}")
        from .fake_device_array import launch

        # One launch: under a graph capture it is recorded and replayed with the arrays as
        # they are then (the broadcast copies of the inputs are made inside it).
        launch(self._dev, lambda: self._run(args), _arrays(args))

    def _run(self, args: tuple) -> None:
        raw, types = self._bind(args)
        params = self.inputs + self.outputs
        # The launch size: the broadcast of the arrays not declared raw (as CuPy's).
        arrays = [a for (_, pname), a in zip(params, raw)
                  if isinstance(a, np.ndarray) and pname not in self.raw]
        if not arrays:
            raise ValueError(f"{self.name}: every array is raw: the size cannot be inferred")
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        n_in = len(self.inputs)
        pointers, keep, write_back = [], [], []
        for k, ((kind, pname), a) in enumerate(zip(params, raw)):
            if not _is_placeholder(kind) and pname not in self.raw:
                value = self._c_scalar(kind, a)
                keep.append(value)
                pointers.append(ctypes.cast(ctypes.pointer(value), ctypes.c_void_p))
                continue
            if pname in self.raw:  # whole, in C order; an output is written back
                buf = a if a.flags.c_contiguous else np.ascontiguousarray(a)
                if buf is not a and k >= n_in:
                    write_back.append((a, buf))
            elif k >= n_in:
                if a.shape != shape:
                    raise ValueError(f"{self.name}: output of shape {a.shape}, expected {shape}")
                buf = a if a.flags.c_contiguous else np.ascontiguousarray(a)
                if buf is not a:
                    write_back.append((a, buf))
            else:
                buf = np.ascontiguousarray(np.broadcast_to(a, shape))
            keep.append(buf)
            pointers.append(buf.ctypes.data_as(ctypes.c_void_p))
        lib = _compile(self._source(types))
        argv = (ctypes.c_void_p * len(pointers))(*pointers)
        lib.run(ctypes.c_int64(int(np.prod(shape, dtype=np.int64))), argv)
        for a, buf in write_back:
            a[...] = buf


class HostReductionKernel(_Kernel):
    """``cupy.ReductionKernel(in_params, out_params, map_expr, reduce_expr, post_map_expr,
    identity, name, reduce_type=..., preamble=...)`` (called with ``axis`` and ``keepdims``)."""

    def __init__(self, dev: Any, in_params: str, out_params: str, map_expr: str,
                 reduce_expr: str, post_map_expr: str, identity: str, name: str = "reduce",
                 reduce_type: str = "double", preamble: str = "") -> None:
        super().__init__(dev, in_params, out_params, name, preamble)
        self.map_expr, self.reduce_expr, self.post_map_expr = map_expr, reduce_expr, post_map_expr
        self.identity, self.reduce_type = identity, reduce_type

    def _source(self, types: dict) -> str:
        lines = [_HEADER, self._typedefs(types), self.preamble,
                 f"typedef {self.reduce_type} _type_reduce;",
                 f"#define REDUCE(a, b) ({self.reduce_expr})",
                 f"#define POST_MAP(a) ({self.post_map_expr})",
                 'extern "C" void run(int64_t outer, int64_t inner, void** args) {']
        for k, (kind, pname) in enumerate(self.inputs + self.outputs):
            lines.append(f"  {kind}* _raw_{pname} = ({kind}*)args[{k}];")
        lines += ["  for (int64_t o = 0; o < outer; ++o) {",
                  f"    _type_reduce _s = _type_reduce({self.identity});",
                  "    for (int64_t j = 0; j < inner; ++j) {"]
        for kind, pname in self.inputs:
            lines.append(f"      const {kind} {pname} = _raw_{pname}[o * inner + j];")
        lines += [f"      _type_reduce _a = static_cast<_type_reduce>({self.map_expr});",
                  "      _s = REDUCE(_s, _a);", "    }"]
        for kind, pname in self.outputs:
            lines.append(f"    {kind} &{pname} = _raw_{pname}[o];")
        lines += ["    POST_MAP(_s);", "  }", "}"]
        return "\n".join(lines)

    def __call__(self, *args: Any, axis: Any = None, keepdims: bool = False) -> Any:
        from .fake_device_array import launch

        return launch(self._dev, lambda: self._run(args, axis, keepdims), _arrays(args))

    def _run(self, args: tuple, axis: Any, keepdims: bool) -> np.ndarray:
        raw, types = self._bind(args)
        shape = np.broadcast_shapes(*(a.shape for a in raw))
        ndim = len(shape)
        axes = tuple(range(ndim)) if axis is None else tuple(
            a % ndim for a in (axis if isinstance(axis, tuple) else (axis,)))
        kept = [d for d in range(ndim) if d not in axes]
        order = kept + list(axes)
        outer = int(np.prod([shape[d] for d in kept], dtype=np.int64))
        inner = int(np.prod([shape[d] for d in axes], dtype=np.int64))
        bufs = [np.ascontiguousarray(np.broadcast_to(a, shape).transpose(order)) for a in raw]
        (kind, _), = self.outputs
        out = np.empty(outer, dtype=types[kind])
        pointers = [b.ctypes.data_as(ctypes.c_void_p) for b in bufs + [out]]
        lib = _compile(self._source(types))
        lib.run(ctypes.c_int64(outer), ctypes.c_int64(inner),
                (ctypes.c_void_p * len(pointers))(*pointers))
        result = out.reshape([shape[d] for d in kept])
        if keepdims:
            result = result.reshape([1 if d in axes else shape[d] for d in range(ndim)])
        return result

