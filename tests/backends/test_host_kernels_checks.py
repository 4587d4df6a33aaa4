"""The host kernels' checks (issue 12): indices, sizes and alignment are checked before any
loop trusts them, the same way by the C loops and the NumPy bodies.

The cases that crashed the C loops run in a child process (tests/fuzzing.py), so a
regression fails the test instead of ending the run; test_host_kernels_fuzz.py tries random
variations of them.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest

import backends
from backends import kernels, native
from tests import fuzzing
from tests.backends.test_host_kernels_fuzz import _numpy_bodies

HOST = backends.get("cpu")
C_BUILT = pytest.mark.skipif(native.host_kernels is None,
                             reason="the host kernels were not built (or KEDJA_PURE_PYTHON)")
FUZZ = "tests.backends.test_host_kernels_fuzz"


def _both_bodies():
    """The C loops (where built) and the NumPy bodies, each as a context."""
    yield contextlib.nullcontext()
    if native.host_kernels is not None:
        yield _numpy_bodies()


def _array(dtype, shape, fill="normal", seed=0) -> dict:
    return {"array": [dtype, list(shape), "c", fill, seed]}


@C_BUILT
def test_the_issue_cases_end_in_exceptions_in_a_child() -> None:
    cases = [
        # block_scatter with an index below 0 wrote before its block
        {"via": "c", "kernel": "block_scatter", "args": [
            _array("float32", (1, 1, 1, 4)), _array("int32", (1, 1, 1, 4), "index", 0),
            None, _array("float32", (1, 1, 2, 1, 2, 4))]},
        # im2col whose N*OH*OW wraps around to the columns' row count (2 * 2**62 * 2 = 0)
        {"via": "c", "kernel": "im2col", "args": [
            _array("float32", (2, 4, 4, 1)), _array("float32", (0, 1)),
            1, 1, 1, 1, 1, 1, 0, 0, 2**62, 2]},
        # col2im_add whose kh*kw*C wraps around (2**32 * 2**32 * 2 = 0)
        {"via": "c", "kernel": "col2im_add", "args": [
            _array("float32", (1, 4, 4, 2)), _array("float32", (16, 0)),
            2**32, 2**32, 1, 1, 1, 1, 0, 0, 4, 4]},
        # windows whose coordinates overflow: a stride of 2**62
        {"via": "c", "kernel": "im2col", "args": [
            _array("float32", (1, 4, 4, 1)), _array("float32", (4, 1)),
            1, 1, 2**62, 1, 1, 1, 0, 0, 4, 1]},
        # zero-size outputs with huge sides (a kh * kw allocation that overflowed)
        {"via": "c", "kernel": "block_scatter", "args": [
            _array("float32", (0, 1, 1, 1)), _array("uint8", (0, 1, 1, 1)), None,
            _array("float32", (0, 1, 2**31, 1, 2**31, 1))]},
    ]
    with fuzzing.child(FUZZ) as runner:
        for case in cases:
            runner.run(case)
            runner.run({**case, "via": "dispatch"})


@C_BUILT
@pytest.mark.parametrize("oh, ow, geometry", [
    (2**62, 2, (1, 1, 1, 1, 1, 1, 0, 0)),
    (4, 4, (2**32, 2**32, 1, 1, 1, 1, 0, 0)),
    (4, 1, (1, 1, 2**62, 1, 1, 1, 0, 0)),
    (2, 2, (1, 1, 1, 1, 1, 1, -1, 0)),
    (-1, 2, (1, 1, 1, 1, 1, 1, 0, 0)),
])
def test_the_c_window_loops_refuse_sizes_that_overflow(oh, ow, geometry) -> None:
    # Safe in this process now: each raises before its loop.
    image = np.zeros((2, 4, 4, 1), np.float32)
    cols = np.zeros((0, 1), np.float32)
    for name in ("im2col", "col2im_add"):
        with pytest.raises(ValueError, match=rf"{name}: "):
            getattr(native.host_kernels, name)(image, cols, *geometry, oh, ow)


def test_a_block_index_out_of_range_marks_no_offset() -> None:
    # An index outside [0, kh*kw) leaves its block at g * 0, in both bodies.
    g = np.array([[[[1.0, -2.0, 3.0, 4.0]]]], np.float32)
    index = np.array([[[[-1, 7, 1, -(2**31)]]]], np.int32)
    want = np.zeros((1, 1, 2, 1, 2, 4), np.float32)
    want[0, 0, 0, 0, 1, 2] = 3.0  # offset 1 = (0, 1)
    for body in _both_bodies():
        out = np.full((1, 1, 2, 1, 2, 4), 9.0, np.float32)
        with body:
            kernels.block_scatter(HOST, g, index, out)
        np.testing.assert_array_equal(out, want)
        assert math.copysign(1.0, out[0, 0, 0, 0, 0, 1]) == -1.0  # -2 * 0 is -0


def test_block_max_refuses_empty_blocks() -> None:
    for body in _both_bodies():
        blocks = np.zeros((1, 1, 0, 1, 2, 1), np.float32)
        best = np.zeros((1, 1, 1, 1), np.float32)
        with body, pytest.raises(ValueError, match="block_max: blocks of 0 x 2 offsets"):
            kernels.block_max(HOST, blocks, best, None)


def test_windows_outside_the_image_are_refused_by_both_bodies() -> None:
    image = np.zeros((1, 4, 4, 1), np.float32)
    w = kernels.Window(3, 3, 1, 1, 1, 1, 0, 0, 0, 0)  # 2 x 2 windows fit
    for body in _both_bodies():
        with body:
            for oh, ow in ((3, 2), (2, 3), (-1, 2)):
                with pytest.raises(ValueError, match="do not fit"):
                    kernels.im2col(HOST, image, w, oh, ow)
            with pytest.raises(ValueError, match="padding >= 0"):
                kernels.im2col(HOST, image, w._replace(pt=-1), 2, 2)
            with pytest.raises(ValueError, match="columns of shape"):
                kernels.col2im_add(HOST, np.zeros((3, 9), np.float32), image, w, 2, 2)
            assert kernels.im2col(HOST, image, w, 2, 2).shape == (4, 9)


def _misaligned(a: np.ndarray) -> np.ndarray:
    raw = np.zeros(a.nbytes + 1, np.uint8)
    b = raw[1:].view(a.dtype).reshape(a.shape)
    b[...] = a
    assert not b.flags.aligned
    return b


@C_BUILT
def test_the_c_loops_refuse_misaligned_data() -> None:
    y = _misaligned(np.ones(8, np.float32))
    with pytest.raises(ValueError, match="misaligned"):
        native.host_kernels.relu_grad(y, np.ones(8, np.float32), np.ones(8, np.float32))


@C_BUILT
def test_tanh_grad_declines_what_it_cannot_loop_over() -> None:
    # False and nothing written: misaligned, strided, mixed dtypes, float16, not arrays, and
    # one size in two shapes (NumPy would broadcast or refuse).
    one = np.ones(8, np.float32)
    for y, gy in [(_misaligned(one), one), (np.ones(16, np.float32)[::2], one),
                  (one, one.astype(np.float64)), (one.astype(np.float16),) * 2, (1.0, 2.0),
                  (np.ones((2, 4), np.float32), one)]:
        gx = np.full(8, 7.0, np.float32)
        assert native.host_kernels.tanh_grad(y, gy, gx) is False
        np.testing.assert_array_equal(gx, np.full(8, 7.0, np.float32))
    y0 = np.linspace(-1, 1, 8, dtype=np.float32)
    np.testing.assert_array_equal(kernels.tanh_grad(HOST, _misaligned(y0), one),
                                  (1 - y0 * y0) * one)


def test_misaligned_data_takes_the_numpy_bodies() -> None:
    # The dispatchers route misaligned arrays to the NumPy bodies: same results.
    rng = np.random.default_rng(0)
    y0, gy0 = rng.standard_normal((4, 8)).astype(np.float32), np.ones((4, 8), np.float32)
    np.testing.assert_array_equal(kernels.relu_grad(HOST, _misaligned(y0), _misaligned(gy0)),
                                  gy0 * (y0 > 0))
    p, g = _misaligned(np.ones(8, np.float32)), _misaligned(np.full(8, 2.0, np.float32))
    kernels.sgd_step(HOST, p, g, None, lr=0.5, momentum=0.0, dampening=0.0, weight_decay=0.0,
                     nesterov=False, maximize=False)
    np.testing.assert_array_equal(p, np.zeros(8, np.float32))
    image = _misaligned(rng.standard_normal((1, 3, 3, 2)).astype(np.float32))
    w = kernels.Window(2, 2, 1, 1, 1, 1, 0, 0, 0, 0)
    with _numpy_bodies():
        want = kernels.im2col(HOST, np.ascontiguousarray(image), w, 2, 2)
    np.testing.assert_array_equal(kernels.im2col(HOST, image, w, 2, 2), want)
