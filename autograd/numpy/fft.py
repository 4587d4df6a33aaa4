"""`autograd.numpy.fft`: NumPy's discrete Fourier transforms on every backend.

The transforms run on Tensors (NumPy, CuPy, the fake device) with NumPy's arguments (``n``/``s``,
``axis``/``axes``, ``norm``) but are not differentiable yet: kedja refuses complex gradients,
and calling a transform on a tensor that requires grad raises a TypeError saying so.
``fftshift`` and ``ifftshift`` (rolls) are differentiable on real data; ``fftfreq`` and
``rfftfreq`` take no arrays and return NumPy's arrays.
"""

from __future__ import annotations

from typing import Any

from ..grad_mode import is_grad_enabled
from ..ops.fft import FFT, TRANSFORMS
from .dispatch import as_tensor, like_of, numpy_function, onp

__all__ = [*TRANSFORMS, "fftshift", "ifftshift", "fftfreq", "rfftfreq"]

_np_fft = onp.fft
fftfreq = _np_fft.fftfreq
rfftfreq = _np_fft.rfftfreq


def _transform(kind: str) -> Any:
    def f(a: Any, *args: Any, **kwargs: Any) -> Any:
        x = as_tensor(a, like_of(a))
        if is_grad_enabled() and x.requires_grad:
            raise TypeError(
                f"autograd.numpy.fft.{kind}: complex gradients are not supported in kedja yet, "
                f"so the Fourier transforms are not differentiable (input of shape {x.shape} "
                "requires grad); call it on constants or under no_grad"
            )
        names = _ARGUMENTS[kind]
        options = dict(zip(names, args))
        options.update(kwargs)
        return FFT.apply(x, kind=kind, options=options)

    f.__doc__ = (f"NumPy's ``fft.{kind}`` on Tensors (forward only: complex gradients are not "
                 "supported yet).")
    return numpy_function(getattr(_np_fft, kind), kind, kind="forward only")(f)


_ONE_AXIS = ("n", "axis", "norm")
_AXES = ("s", "axes", "norm")
_ARGUMENTS = {kind: (_ONE_AXIS if kind in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")
                     else _AXES) for kind in TRANSFORMS}

for _kind in TRANSFORMS:
    globals()[_kind] = _transform(_kind)


def _shift(name: str, sign: int) -> Any:
    def f(x: Any, axes: Any = None) -> Any:
        from .selection import roll

        x = as_tensor(x, like_of(x))
        if axes is None:
            axes = tuple(range(x.ndim))
        elif isinstance(axes, int):
            axes = (axes,)
        shifts = tuple(sign * (x.shape[a] // 2) for a in axes)
        return roll(x, shifts, tuple(axes)) if axes else x

    f.__doc__ = (f"NumPy's ``fft.{name}``: a roll by half of each axis (differentiable on real "
                 "data).")
    return numpy_function(getattr(_np_fft, name), name)(f)


fftshift = _shift("fftshift", 1)
ifftshift = _shift("ifftshift", -1)
