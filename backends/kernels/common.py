"""Shared plumbing of the fused kernels: CUDA sources, the kernel cache, launches, scratch."""

from __future__ import annotations

from typing import Any

import numpy as np

#: Fused-kernel launches on CuPy so far (tests read the difference around a step).
launches = 0
#: The dtypes the host C loops take (backends/csrc/).
C_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


# -- CuPy plumbing -------------------------------------------------------------------------------
def _on_cupy(backend: Any) -> bool:
    """Whether the CUDA bodies run: on CuPy, and on the fake device where it runs them as host
    C++ (``run_cuda_bodies``, see backends/fake_kernels.py)."""
    return backend.name == "cupy" or getattr(backend, "run_cuda_bodies", False)


def _compute(*dtypes: Any) -> str:
    """The compute type's NumPy name: float64 if any operand is float64, else float32 (so
    float16 data are updated in float32 registers)."""
    return "float64" if any(np.dtype(d) == np.float64 for d in dtypes) else "float32"


_C_NAMES = {"float32": "float", "float64": "double"}


class CudaSpec:
    """The source of one ElementwiseKernel variant.

    ``A`` in `in_params` stands for the compute type (float32 or float64) of the scalars; the body
    sees it as ``acc_t``. Array placeholders (``T``, ``G``, ``I``) take the arrays' dtypes.
    """

    def __init__(self, name: str, in_params: str, out_params: str, body: str) -> None:
        self.name = name
        self.in_params = in_params
        self.out_params = out_params
        self.body = body

    def build(self, compute: str, backend: Any = None) -> Any:
        if backend is not None and backend.name == "fake":  # the body as host C++
            return backend.elementwise_kernel(
                self.in_params.replace("A ", compute + " "), self.out_params, self.body,
                name=f"kedja_{self.name}_{compute}",
                preamble=f"typedef {_C_NAMES[compute]} acc_t;",
            )
        import cupy  # lazily: only a CuPy array gets here

        return cupy.ElementwiseKernel(
            self.in_params.replace("A ", compute + " "), self.out_params, self.body,
            name=f"kedja_{self.name}_{compute}",
            preamble=f"typedef {_C_NAMES[compute]} acc_t;",
        )


_kernels: dict = {}


def _kernel(spec: CudaSpec, compute: str) -> tuple:
    """The kernel of `spec` for `compute`, built by `_launch` for the backend it runs on."""
    return spec, compute


def _built(backend: Any, spec: CudaSpec, compute: str) -> Any:
    fake = backend.name == "fake"
    key = (spec.name, compute, backend.device if fake else "cupy")
    k = _kernels.get(key)
    if k is None:
        k = _kernels[key] = spec.build(compute, backend if fake else None)
    return k


def _launch(backend: Any, kernel: Any, *args: Any, **kwargs: Any) -> Any:
    global launches
    launches += 1
    if type(kernel) is tuple:
        kernel = _built(backend, *kernel)
    if backend.needs_device_scope:  # CuPy launches on the current device
        with backend.device_scope():
            return kernel(*args, **kwargs)
    return kernel(*args, **kwargs)



#: Host arrays from this many elements on are worth one copy to bring them into another
#: array's memory order (below it, the axis-order check costs more than it can save).
_MATCH_MIN = 1 << 14


def match_layout(backend: Any, a: Any, like: Any) -> Any:
    """`a`, or a copy of it laid out in `like`'s memory order, for two big host arrays of one
    shape whose axes lie in different orders in memory.

    NumPy's loops over operands in mixed orders run far slower than one copy and a matched
    loop: a float32 gradient times a boolean mask, 64x32x7x7, NCHW (from a flatten's backward)
    against NHWC activations (a conv output's layout), 0.38 vs 0.07 ms.
    """
    if (backend.is_device or a.shape != like.shape or a.size < _MATCH_MIN
            or (a.flags.c_contiguous and like.flags.c_contiguous)  # one order, no sort needed
            or _axis_order(a) == _axis_order(like)):
        return a
    out = backend.xp.empty_like(like, dtype=a.dtype)
    out[...] = a
    return out


def _axis_order(a: Any) -> list:
    """The axes of `a` from the largest memory stride to the smallest."""
    strides = a.strides
    return sorted(range(a.ndim), key=lambda i: (-abs(strides[i]), i))


def _new(xp: Any, a: Any, b: Any = None) -> Any:
    """An uninitialised array of the broadcast shape and promoted dtype of `a` (and `b`)."""
    if b is None or (a.shape == b.shape and a.dtype == b.dtype):
        # The common case, without the shape algebra; empty_like keeps a's memory order, so
        # an NCHW view of NHWC memory (a conv output) is written in its own order, fast.
        return xp.empty_like(a)
    return xp.empty(np.broadcast_shapes(a.shape, b.shape),
                    dtype=np.result_type(a.dtype, b.dtype))
