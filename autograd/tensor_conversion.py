"""`ConversionMixin`: Tensor's ways out (to NumPy, Python numbers, DLPack, another device or
dtype) and its repr; a base class of `Tensor`, to keep autograd/tensor.py short.
"""

from __future__ import annotations

import re
from typing import Any

import backends

# Tensor and the op modules import autograd/tensor.py, which imports this file: tensor.py binds
# them here once it has defined and loaded them (an import from this file would close a circle).
Tensor: Any = None
_unary: Any = None

#: PyTorch's tensor type names, by NumPy dtype name (``x.type()``).
_TYPE_NAMES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
    "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor",
    "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor",
    "complex64": "ComplexFloatTensor", "complex128": "ComplexDoubleTensor",
}

#: The dtype NumPy's repr appends (on the values' last line, or wrapped onto a line of its own).
_NUMPY_DTYPE = re.compile(r",\s*dtype=[\w\[\]<>=.]+$")


class ConversionMixin:
    """`Tensor`'s conversions, device moves and repr (they read the tensor's slots)."""

    __slots__ = ()

    # -- conversion ---------------------------------------------------------------------------
    def numpy(self) -> Any:
        """The data as a host NumPy array (a copy from the device; the same array on the CPU)."""
        return self._backend.to_numpy(self.array)

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.array.size != 1:
            raise ValueError(
                f"item(): only a tensor with one element can be converted to a Python scalar, "
                f"got a tensor of shape {self.shape}"
            )
        return self._backend.to_numpy(self.array).reshape(()).item()

    def tolist(self) -> Any:
        """The data as (nested) Python lists."""
        return self._backend.to_numpy(self.array).tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        if self._backend.is_device:
            raise TypeError(
                f"Tensor on {self.device} cannot be converted to a host array implicitly; "
                "call .cpu() or .numpy() explicitly"
            )
        return self.array if dtype is None else self.array.astype(dtype)

    def __dlpack__(self, *, stream: Any = None, max_version: Any = None, dl_device: Any = None,
                   copy: Any = None) -> Any:
        """Exports the data zero-copy through DLPack (to NumPy, CuPy, PyTorch, JAX...)."""
        if self.requires_grad:
            raise RuntimeError(
                "__dlpack__: cannot export a tensor that requires grad (the receiver would "
                "bypass autograd); call .detach() first"
            )
        options = {"stream": stream, "max_version": max_version, "dl_device": dl_device,
                   "copy": copy}
        return self._backend.to_dlpack(
            self.array, **{k: v for k, v in options.items() if v is not None}
        )

    def __dlpack_device__(self) -> tuple:
        return self._backend.dlpack_device(self.array)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise ValueError(
                f"bool(): the truth value of a tensor with {self.array.size} elements is "
                "ambiguous; use .any() or .all()"
            )
        return bool(self.item())

    def __index__(self) -> int:
        return int(self.item())

    # -- devices ------------------------------------------------------------------------------
    def to(self, device: Any = None, dtype: Any = None) -> Tensor:
        """This tensor on `device` and/or as `dtype` (differentiable; self if nothing changes)."""
        out = self
        if device is not None and backends.get(device) is not self._backend:
            out = _unary.to_device(out, backends.get(device))
        if dtype is not None:
            out = out.astype(dtype)
        return out

    def cpu(self) -> Tensor:
        """This tensor on the host."""
        return self.to("cpu")

    def cuda(self, index: int = 0) -> Tensor:
        """This tensor on CUDA device `index`."""
        return self.to(f"cuda:{index}")

    def type(self, dtype: Any = None) -> Any:  # noqa: A003 - PyTorch's name
        """PyTorch's ``type``: without an argument the tensor type's name
        (``"autograd.FloatTensor"``, ``"autograd.cuda.LongTensor"``); with a dtype (an object,
        a string such as ``"float64"``, or a type name such as ``"torch.DoubleTensor"``) this
        tensor cast to it."""
        if dtype is None:
            prefix = "autograd." if not self._backend.is_device else "autograd.cuda."
            return prefix + _TYPE_NAMES.get(self.array.dtype.name, str(self.array.dtype))
        if isinstance(dtype, str) and dtype.endswith("Tensor"):
            name = dtype.rpartition(".")[2]
            found = [k for k, v in _TYPE_NAMES.items() if v == name]
            if not found:
                raise ValueError(f"type(): unknown tensor type {dtype!r}")
            dtype = found[0]
        return self.astype(dtype)

    # -- representation -----------------------------------------------------------------------
    def __repr__(self) -> str:
        body = repr(self._backend.to_numpy(self.array))
        body = body[body.index("(") + 1 : body.rindex(")")] if body.startswith("array") else body
        extras = [f"dtype={self.dtype}", f"device={self.device}"]
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        # NumPy's own dtype (on the same line, or wrapped onto the next) gives way to ours.
        body = _NUMPY_DTYPE.sub("", body).replace("\n", "\n ")  # "tensor(" is one wider
        return f"tensor({body}, {', '.join(extras)})"
