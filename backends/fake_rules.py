"""What the fake device accepts, as CuPy does: the scalar types that mix with device arrays, the
dtypes it refuses, and the errors for host arrays or another device's arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Python and NumPy scalars combine with device arrays (CuPy accepts both).
_SCALARS = (int, float, complex, bool, np.generic)
# dtypes CuPy has no kernels for: objects, strings, void, datetimes, extended precision.
_UNSUPPORTED_KINDS = frozenset("OUSVMm")
_UNSUPPORTED_DTYPES = frozenset({np.dtype(np.longdouble), np.dtype(np.clongdouble)}) - {
    np.dtype(np.float64),
    np.dtype(np.complex128),
}


def _host_error(where: str, obj: Any) -> TypeError:
    return TypeError(
        f"{where}: got a host numpy.ndarray (shape {obj.shape}, dtype {obj.dtype}) mixed with "
        "fake device arrays; CuPy refuses this too. Move the data explicitly with "
        "backend.asarray(...) (host -> device) or backend.to_numpy(...) (device -> host)"
    )


def _device_error(where: str, a: Any, b: Any) -> ValueError:
    return ValueError(
        f"{where}: arrays on different devices ({a.device} and {b.device}); move one with "
        "Tensor.to(device) first"
    )


def _checked(dev: Any, r: np.ndarray) -> np.ndarray:
    dtype = r.dtype
    if dtype.name == "bfloat16":  # ml_dtypes' type: NumPy has it, CuPy does not
        raise TypeError(
            f"{dev.device}: dtype bfloat16 is not supported on a CUDA device (CuPy has no "
            "bfloat16 type); bfloat16 tensors live on the CPU (with ml_dtypes installed)"
        )
    if dtype.kind in _UNSUPPORTED_KINDS or dtype in _UNSUPPORTED_DTYPES:
        raise TypeError(
            f"{dev.device}: dtype {dtype} is not supported on a CUDA device (CuPy has no "
            "object, string, datetime or long double arrays)"
        )
    return r
