"""The fused conv op's host paths the op table's tiny shapes do not reach: several column
chunks per batch, and the one-channel column layout with stride, padding and dilation."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from autograd.ops import conv_gemm
from autograd.ops.conv import conv2d
from tests.autograd.cases_nn import ref_conv2d


@pytest.mark.parametrize("c_in,stride,padding,dilation", [
    (1, 1, 1, 1), (1, 2, (1, 0), (2, 1)), (3, 1, 1, 1), (3, (2, 1), 2, 2),
])
def test_chunked_columns_match_one_chunk(backend, monkeypatch, c_in, stride, padding, dilation):
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((5, c_in, 9, 8))
    w0 = rng.standard_normal((4, c_in, 3, 3))
    b0 = rng.standard_normal(4)
    g0 = rng.standard_normal(ref_conv2d(x0, w0, b0, stride, padding, dilation).shape)

    def run():
        x, w, b = (ag.tensor(a, device=backend, requires_grad=True) for a in (x0, w0, b0))
        y = conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
        y.backward(ag.tensor(g0, device=backend))
        return [t.numpy() for t in (y, x.grad, w.grad, b.grad)]

    whole = run()
    monkeypatch.setattr(conv_gemm, "_CHUNK_BYTES", 1)  # one image per chunk on the host
    chunked = run()
    np.testing.assert_allclose(whole[0], ref_conv2d(x0, w0, b0, stride, padding, dilation),
                               rtol=1e-10, atol=1e-12)
    for a, b in zip(whole, chunked):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_batch_chunks_cover_the_batch_in_about_equal_parts():
    class Host:
        is_device = False

    x = np.zeros((64, 16, 14, 14), np.float32)
    w = np.zeros((32, 16, 3, 3), np.float32)
    chunks = conv_gemm._batch_chunks(Host, x, w, 14, 14)
    assert chunks[0][0] == 0 and chunks[-1][1] == 64
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:]))
    sizes = [stop - start for start, stop in chunks]
    assert max(sizes) - min(sizes) <= 1
    assert conv_gemm._batch_chunks(Host, x[:0], w, 14, 14) == [(0, 0)]
