"""Workload 3: one small-CNN training step on 1x28x28 images, batch 64.

conv3x3(1->16, pad 1), ReLU, maxpool 2, conv3x3(16->32, pad 1), ReLU, maxpool 2, flatten,
linear(32*7*7 -> 10), mean cross-entropy, one SGD step (lr 0.01). The NumPy floor is a plain
im2col implementation (NCHW, one GEMM per convolution, col2im by kernel-offset slices).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..harness import Context, Impl, Row, Target, timed_row
from .common import (
    FloorModel,
    floor_impl,
    kedja_training_impl,
    torch_or_reason,
    torch_training_impl,
    uniform_like_torch,
)

BATCH = 64
C1, C2, K, CLASSES = 16, 32, 3, 10
FLAT = C2 * 7 * 7
LR = 0.01
NAMES = ("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias")


def cnn_data(ctx: Context, batch: int = BATCH) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    rng = ctx.rng()
    weights = [
        uniform_like_torch(rng, (C1, 1, K, K), K * K),
        uniform_like_torch(rng, (C1,), K * K),
        uniform_like_torch(rng, (C2, C1, K, K), C1 * K * K),
        uniform_like_torch(rng, (C2,), C1 * K * K),
        uniform_like_torch(rng, (CLASSES, FLAT), FLAT),
        uniform_like_torch(rng, (CLASSES,), FLAT),
    ]
    x = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, CLASSES, batch).astype(np.int64)
    return weights, x, y


def kedja_cnn(ctx: Context, device: str | None = None, batch: int = BATCH) -> Impl:
    import nn

    weights, x0, y0 = cnn_data(ctx, batch)
    model = nn.Sequential(
        nn.Conv2d(1, C1, K, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(C1, C2, K, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(FLAT, CLASSES),
    )
    return kedja_training_impl(ctx, model, weights, x0, y0, NAMES, LR,
                               device or ctx.kedja_device)


def torch_cnn(ctx: Context, batch: int = BATCH) -> Impl | str:
    torch = torch_or_reason(ctx)
    if isinstance(torch, str):
        return torch
    tnn = torch.nn
    weights, x0, y0 = cnn_data(ctx, batch)
    model = tnn.Sequential(
        tnn.Conv2d(1, C1, K, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(C1, C2, K, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(), tnn.Linear(FLAT, CLASSES),
    )
    return torch_training_impl(ctx, torch, model, weights, x0, y0, NAMES, LR)


def im2col(xp: Any, x: Any) -> Any:
    """(N, C, H, W) -> (N*H*W, C*K*K) columns of the zero-padded 3x3 windows (stride 1)."""
    n, c, h, w = x.shape
    p = K // 2
    xpad = xp.zeros((n, c, h + 2 * p, w + 2 * p), dtype=x.dtype)
    xpad[:, :, p:p + h, p:p + w] = x
    cols = xp.empty((n, h, w, c, K, K), dtype=x.dtype)
    for i in range(K):
        for j in range(K):
            cols[:, :, :, :, i, j] = xpad[:, :, i:i + h, j:j + w].transpose(0, 2, 3, 1)
    return cols.reshape(n * h * w, c * K * K)


def col2im(xp: Any, gcols: Any, shape: tuple) -> Any:
    """The adjoint of `im2col`: sums each window's column gradient back into the image."""
    n, c, h, w = shape
    p = K // 2
    g6 = gcols.reshape(n, h, w, c, K, K)
    gpad = xp.zeros((n, c, h + 2 * p, w + 2 * p), dtype=gcols.dtype)
    for i in range(K):
        for j in range(K):
            gpad[:, :, i:i + h, j:j + w] += g6[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return gpad[:, :, p:p + h, p:p + w]


def conv_forward(xp: Any, x: Any, w: Any, b: Any) -> tuple[Any, Any]:
    """Convolution as one GEMM; returns the NCHW output and the columns (for backward)."""
    n, _, h, wd = x.shape
    cols = im2col(xp, x)
    y = cols @ w.reshape(w.shape[0], -1).T
    y += b
    return y.reshape(n, h, wd, w.shape[0]).transpose(0, 3, 1, 2), cols


def conv_backward(xp: Any, gy: Any, cols: Any, w: Any, x_shape: tuple,
                  need_gx: bool) -> tuple[Any, Any, Any]:
    c_out = w.shape[0]
    gy2 = gy.transpose(0, 2, 3, 1).reshape(-1, c_out)          # (N*H*W, C_out)
    gw = (gy2.T @ cols).reshape(w.shape)
    gb = gy2.sum(axis=0)
    gx = col2im(xp, gy2 @ w.reshape(c_out, -1), x_shape) if need_gx else None
    return gx, gw, gb


def pool_forward(xp: Any, h: Any) -> tuple[Any, Any]:
    """2x2 max pooling; the argmax of each window (first maximum, as PyTorch) for backward."""
    n, c, hh, ww = h.shape
    win = h.reshape(n, c, hh // 2, 2, ww // 2, 2).transpose(0, 1, 2, 4, 3, 5)
    win = win.reshape(n, c, hh // 2, ww // 2, 4)
    index = win.argmax(axis=-1)
    return win.max(axis=-1), index


def pool_backward(xp: Any, gy: Any, index: Any, shape: tuple) -> Any:
    n, c, hh, ww = shape
    hot = xp.arange(4) == index[..., None]
    gwin = hot * gy[..., None]
    gwin = gwin.reshape(n, c, hh // 2, ww // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5)
    return gwin.reshape(shape)


class FloorCNN(FloorModel):
    """The same step by hand: im2col convolutions, max pooling, fused softmax-CE gradient."""

    def forward_backward(self) -> tuple[Any, list]:
        xp = self.xp
        w1, b1, w2, b2, w3, b3 = self.params
        x = self.x
        n = x.shape[0]
        a1, cols1 = conv_forward(xp, x, w1, b1)
        r1 = xp.maximum(a1, 0)
        p1, i1 = pool_forward(xp, r1)
        a2, cols2 = conv_forward(xp, p1, w2, b2)
        r2 = xp.maximum(a2, 0)
        p2, i2 = pool_forward(xp, r2)
        flat = p2.reshape(n, FLAT)
        z = flat @ w3.T
        z += b3
        loss, g = self.softmax_xent(z)
        gw3 = g.T @ flat
        gb3 = g.sum(axis=0)
        gp2 = (g @ w3).reshape(p2.shape)
        ga2 = pool_backward(xp, gp2, i2, r2.shape) * (r2 > 0)
        gp1, gw2, gb2 = conv_backward(xp, ga2, cols2, w2, p1.shape, True)
        ga1 = pool_backward(xp, gp1, i1, r1.shape) * (r1 > 0)
        _, gw1, gb1 = conv_backward(xp, ga1, cols1, w1, x.shape, False)
        return loss, [gw1, gb1, gw2, gb2, gw3, gb3]


def floor_cnn(ctx: Context, xp: Any = None, batch: int = BATCH) -> Impl:
    weights, x, y = cnn_data(ctx, batch)
    floor = FloorCNN(xp if xp is not None else ctx.floor_xp(), weights, x, y, LR)
    return floor_impl(ctx, floor, NAMES, own_xp=xp is None)


def rows(ctx: Context) -> list[Row]:
    impls = {"kedja": lambda: kedja_cnn(ctx), "torch": lambda: torch_cnn(ctx),
             "numpy": lambda: floor_cnn(ctx)}
    return [timed_row(
        "cnn_b64", "CNN (2 conv3x3 + maxpool, linear) train step, 1x28x28, batch 64", "ms/step",
        1e3, impls, ctx, target=Target("torch", 1.0),
    )]
