"""Transposed convolution against the convolution it is the adjoint of.

    python -m benchmarks.conv_transpose            # PyTorch's column too where installed

For each shape: forward + backward of ``conv_transpose2d(x, w)`` (gradients of x and w), its
forward alone, and forward + backward of ``conv2d(z, w)`` with the same weight, stride and
padding, z of the transposed convolution's output shape: the same GEMMs and col2im/im2col
loops, in the other order. Interleaved repeats, the median of each (ms).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

import autograd as ag
from autograd.ops.conv import conv2d
from autograd.ops.conv_transpose import conv_transpose2d

#: (N, C_in, C_out, H, kernel, stride, padding): the DCGAN generator of examples/gan_digits.py
#: at batch 64, then larger images.
SHAPES = [(64, 256, 128, 2, 4, 2, 1), (64, 128, 1, 4, 4, 2, 1), (64, 64, 32, 7, 4, 2, 1),
          (32, 128, 64, 14, 4, 2, 1)]


def _time(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def _torch_step(shape: tuple) -> Any:
    try:
        import torch
    except ImportError:
        return None
    n, c_in, c_out, h, k, s, p = shape
    x = torch.randn(n, c_in, h, h, requires_grad=True)
    w = torch.randn(c_in, c_out, k, k, requires_grad=True)
    y = torch.nn.functional.conv_transpose2d(x, w, stride=s, padding=p)
    gy = torch.randn_like(y)

    def step() -> None:
        x.grad = w.grad = None
        torch.nn.functional.conv_transpose2d(x, w, stride=s, padding=p).backward(gy)

    return step


def measure(shape: tuple, repeats: int = 15) -> dict:
    n, c_in, c_out, h, k, s, p = shape
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.normal(size=(n, c_in, h, h)).astype(np.float32), requires_grad=True)
    w = ag.tensor(rng.normal(size=(c_in, c_out, k, k)).astype(np.float32) * 0.05,
                  requires_grad=True)
    y = conv_transpose2d(x, w, stride=s, padding=p)
    gy = ag.tensor(rng.normal(size=y.shape).astype(np.float32))
    z = ag.tensor(rng.normal(size=y.shape).astype(np.float32), requires_grad=True)
    gz = ag.tensor(rng.normal(size=x.shape).astype(np.float32))

    def transposed() -> None:
        x.grad = w.grad = None
        conv_transpose2d(x, w, stride=s, padding=p).backward(gy)

    def forward_only() -> None:
        with ag.no_grad():
            conv_transpose2d(x, w, stride=s, padding=p)

    def adjoint() -> None:
        z.grad = w.grad = None
        conv2d(z, w, stride=s, padding=p).backward(gz)

    steps = {"conv_transpose2d fwd+bwd": transposed, "conv_transpose2d fwd": forward_only,
             "adjoint conv2d fwd+bwd": adjoint}
    torch_step = _torch_step(shape)
    if torch_step is not None:
        steps["PyTorch conv_transpose2d fwd+bwd"] = torch_step
    times: dict = {name: [] for name in steps}
    for fn in steps.values():
        fn()  # warm up
    for _ in range(repeats):
        for name, fn in steps.items():
            times[name].append(_time(fn))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    import os

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average {load:.1f}; median ms of interleaved repeats")
    for shape in SHAPES:
        n, c_in, c_out, h, k, s, p = shape
        result = measure(shape)
        out = (h - 1) * s - 2 * p + k
        cells = "  ".join(f"{name} {ms:.2f}" for name, ms in result.items())
        print(f"x ({n}, {c_in}, {h}, {h}) -> ({n}, {c_out}, {out}, {out}), k{k} s{s} p{p}: "
              f"{cells}", flush=True)


if __name__ == "__main__":
    main()
