"""A time loop's per-step GEMM: ``a @ b`` for a few rows of `a` at every step, one `b`.

A BLAS call packs `b` into its own layout on every call, which for a recurrent layer's 16-32
rows costs about as much as the products. `StepGemm` packs `b` once per loop (where the host C
loops run: float32 on an AVX2/FMA CPU, backends/csrc/panel_gemm.c) and multiplies against the
packed panels at each step; elsewhere, and for anything the C loop declines, it is the
backend's ``matmul``, the reference. The two agree to float rounding (docs/kernels.md).
"""

from __future__ import annotations

from typing import Any

from ..native import host_kernels

#: Columns per packed panel (panel_gemm.c's NR).
PANEL = 24

#: Steps from which a loop packs its weights: packing costs about one BLAS call (110-150 us for
#: 256 x 1024), so a loop of a step or two (generating one token at a time) keeps the BLAS.
PACK_STEPS = 4


class StepGemm:
    """``gemm(a, out)`` writes ``a @ b`` into `out` (2-D) for the `b` given once, in a loop of
    `steps` calls."""

    def __init__(self, backend: Any, b: Any, steps: int = PACK_STEPS) -> None:
        self.xp, self.b, self.packed = backend.xp, b, None
        if (host_kernels is not None and backend.name == "numpy" and b.ndim == 2
                and b.dtype == "float32" and b.size > 0 and steps >= PACK_STEPS):
            depth, n = b.shape
            self.packed = self.xp.empty(depth * PANEL * -(-n // PANEL), dtype=b.dtype)
            host_kernels.pack_panels(b, self.packed)

    def __call__(self, a: Any, out: Any) -> Any:
        if self.packed is not None:
            if host_kernels.panel_matmul(a, self.packed, out):
                return out
            if a.dtype == "float32" and a.ndim == 2 and a.flags.c_contiguous:
                self.packed = None  # declined a plain operand: no AVX2/FMA here, stop asking
        return self.xp.matmul(a, self.b, out=out)
