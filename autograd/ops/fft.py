"""Discrete Fourier transforms: one op class for NumPy's (and CuPy's) fft family.

Forward only for now: every transform but the real-to-real round trips has a complex input or
output, and kedja refuses complex gradients (they would need the conjugate Wirtinger convention
in every op). The transforms are linear, so their rules are their adjoints when complex
gradients arrive: for ``y = fft(x, n)`` with the default norm, ``gx = n * ifft(gy)`` cropped or
padded back to x's length (and likewise for the others, with rfft's half spectrum doubled
except at 0 and Nyquist).
"""

from __future__ import annotations

from ..function import Function

#: The transforms of ``xp.fft`` this op runs.
TRANSFORMS = ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2",
              "irfft2", "fftn", "ifftn", "rfftn", "irfftn")


class FFT(Function):
    """y = xp.fft.<kind>(x, **options); not differentiable yet (see the module docstring)."""

    def forward(self, x):
        return getattr(self.xp.fft, self.kind)(x, **self.options)

    def backward(self, gy):
        raise TypeError(
            f"fft.{self.kind}: complex gradients are not supported in kedja yet, so the "
            "Fourier transforms are not differentiable"
        )
