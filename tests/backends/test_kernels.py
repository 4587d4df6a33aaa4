"""The fused kernels of backends/kernels/ against references written plainly in NumPy.

Every test runs on each backend of the `backend` fixture (NumPy, the strict fake device, CuPy
where a GPU works) in float32 and float64. Without a GPU the CUDA sources are still compiled
with NVRTC (test_nvrtc.py) when CuPy and NVRTC are installed (no device needed).
"""

from __future__ import annotations

import importlib
import math
import pkgutil
import warnings

import numpy as np
import pytest

import backends
from backends import kernels

from ..conftest import BACKENDS
from ..optimizer_rules import ref_adagrad, ref_adam, ref_rmsprop, ref_sgd


@pytest.fixture(params=[*BACKENDS, "fake-cuda-bodies"])
def backend(request):
    """The conftest's backends ("fake" running the NumPy bodies) plus the fake device running
    the kernels' CUDA bodies compiled as host C++ (backends/fake_kernels.py): both against the
    same NumPy references."""
    name = request.param
    if name == "fake-cuda-bodies":
        from backends.fake_kernels import compiler

        if compiler() is None:
            pytest.skip("no C++ compiler to run the CUDA bodies on the host")
    b = backends.get("fake" if name == "fake-cuda-bodies" else name)
    previous = backends.default()
    backends.set_default(b)
    bodies = getattr(b, "run_cuda_bodies", None)
    if bodies is not None:  # "fake" runs the NumPy bodies here, "fake-cuda-bodies" the CUDA ones
        b.run_cuda_bodies = name == "fake-cuda-bodies"
    try:
        yield b
    finally:
        if bodies is not None:
            b.run_cuda_bodies = bodies
        backends.set_default(previous)


DTYPES = ["float32", "float64"]
TOL = {"float32": dict(rtol=2e-5, atol=2e-6), "float64": dict(rtol=1e-12, atol=1e-13)}
SHAPES = [(), (0,), (7,), (3, 5)]


def _rand(shape, dtype, seed, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def _dev(backend, a):
    return backend.asarray(np.array(a))  # a copy: kernels update in place, references must not


def _host(backend, a):
    return backend.to_numpy(a)


# -- optimizers ----------------------------------------------------------------------------------
SGD_CASES = [
    dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False),
    dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.2, nesterov=False, maximize=True),
    dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.1, nesterov=False, maximize=False),
    dict(lr=0.05, momentum=0.8, dampening=0.0, weight_decay=0.1, nesterov=True, maximize=True),
]
ADAM_CASES = [
    dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False,
         amsgrad=False, maximize=False),
    dict(lr=1e-1, beta1=0.8, beta2=0.9, eps=1e-6, weight_decay=0.1, decoupled=False,
         amsgrad=True, maximize=True),
    dict(lr=1e-1, beta1=0.0, beta2=0.5, eps=1e-8, weight_decay=0.5, decoupled=True,
         amsgrad=False, maximize=False),
    dict(lr=1e-1, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0.5, decoupled=True,
         amsgrad=True, maximize=True),
]
RMSPROP_CASES = [
    dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
         maximize=False),
    dict(lr=1e-2, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.5, centered=False,
         maximize=True),
    dict(lr=1e-2, alpha=0.9, eps=1e-8, weight_decay=0.1, momentum=0.0, centered=True,
         maximize=False),
    dict(lr=1e-2, alpha=0.8, eps=1e-8, weight_decay=0.0, momentum=0.9, centered=True,
         maximize=True),
]
ADAGRAD_CASES = [
    dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, eps=1e-10, maximize=False),
    dict(lr=1e-1, lr_decay=0.1, weight_decay=0.1, eps=1e-6, maximize=True),
]
STEPS = 3


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kw", SGD_CASES)
def test_sgd_step(backend, kw, shape, dtype):
    p = _rand(shape, dtype, 0)
    p_dev, buf_dev, buf = _dev(backend, p), None, None
    for t in range(STEPS):
        g = _rand(shape, dtype, 10 + t)
        buf_dev = kernels.sgd_step(backend, p_dev, _dev(backend, g), buf_dev, **kw)
        p, buf = ref_sgd(p, g, buf, **kw)
        np.testing.assert_allclose(_host(backend, p_dev), p, **TOL[dtype])
        assert _host(backend, p_dev).dtype == dtype
        if kw["momentum"]:
            np.testing.assert_allclose(_host(backend, buf_dev), buf, **TOL[dtype])
        else:
            assert buf_dev is None


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kw", ADAM_CASES)
def test_adam_step(backend, kw, shape, dtype):
    p = _rand(shape, dtype, 1)
    m, v, vmax = (np.zeros(shape, dtype) for _ in range(3))
    arrays = [_dev(backend, a) for a in (p, m, v, vmax)]
    for t in range(1, STEPS + 1):
        g = _rand(shape, dtype, 20 + t)
        kernels.adam_step(backend, arrays[0], _dev(backend, g), *arrays[1:3],
                          arrays[3] if kw["amsgrad"] else None, step=t, **kw)
        p, m, v, vmax = ref_adam(p, g, m, v, vmax, t, **kw)
        names = ["p", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        for name, got, want in zip(names, arrays, (p, m, v, vmax)):
            if name == "max_exp_avg_sq" and not kw["amsgrad"]:
                continue
            np.testing.assert_allclose(_host(backend, got), want, **TOL[dtype],
                                       err_msg=f"{name}, step {t}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", RMSPROP_CASES)
def test_rmsprop_step(backend, kw, dtype):
    shape = (4, 3)
    p = _rand(shape, dtype, 2)
    sq, ga, buf = (np.zeros(shape, dtype) for _ in range(3))
    arrays = [_dev(backend, a) for a in (p, sq, ga, buf)]
    for t in range(STEPS):
        g = _rand(shape, dtype, 30 + t)
        kernels.rmsprop_step(backend, arrays[0], _dev(backend, g), arrays[1],
                             arrays[2] if kw["centered"] else None,
                             arrays[3] if kw["momentum"] > 0 else None, **kw)
        p, sq, ga, buf = ref_rmsprop(p, g, sq, ga, buf, **kw)
        for got, want in zip(arrays, (p, sq, ga, buf)):
            np.testing.assert_allclose(_host(backend, got), want, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", ADAGRAD_CASES)
def test_adagrad_step(backend, kw, dtype):
    shape = (5,)
    p, s = _rand(shape, dtype, 3), np.full(shape, 0.1, dtype)
    p_dev, s_dev = _dev(backend, p), _dev(backend, s)
    for t in range(1, STEPS + 1):
        g = _rand(shape, dtype, 40 + t)
        kernels.adagrad_step(backend, p_dev, _dev(backend, g), s_dev, step=t, **kw)
        p, s = ref_adagrad(p, g, s, t, **kw)
        np.testing.assert_allclose(_host(backend, p_dev), p, **TOL[dtype])
        np.testing.assert_allclose(_host(backend, s_dev), s, **TOL[dtype])


def test_optimizer_kernels_update_in_place_and_leave_the_gradient(backend):
    p, g = _dev(backend, _rand((3,), "float64", 4)), _dev(backend, _rand((3,), "float64", 5))
    g_before = _host(backend, g).copy()
    m, v = _dev(backend, np.zeros(3)), _dev(backend, np.zeros(3))
    kernels.adam_step(backend, p, g, m, v, None, step=1, **ADAM_CASES[1] | {"amsgrad": False})
    kernels.sgd_step(backend, p, g, None, **SGD_CASES[1])
    np.testing.assert_array_equal(_host(backend, g), g_before)


# -- activations ---------------------------------------------------------------------------------
_erf = np.vectorize(math.erf, otypes=[np.float64])


def ref_gelu(x, approximate):
    x = x.astype(np.float64)
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def ref_gelu_grad(x, approximate):
    x = x.astype(np.float64)
    if approximate == "tanh":
        k = math.sqrt(2 / math.pi)
        t = np.tanh(k * (x + 0.044715 * x**3))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t**2) * k * (1 + 3 * 0.044715 * x**2)
    return 0.5 * (1 + _erf(x / math.sqrt(2))) + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x.astype(np.float64)))


# (name, call(backend, x, gy), reference(x, gy)); x is the kernel's first array argument.
ACTIVATIONS = [
    ("relu_grad", lambda b, x, gy: kernels.relu_grad(b, x, gy),
     lambda x, gy: np.where(x > 0, gy, 0)),
    ("leaky_relu", lambda b, x, gy: kernels.leaky_relu(b, x, 0.1),
     lambda x, gy: np.where(x > 0, x, 0.1 * x)),
    ("leaky_relu_grad", lambda b, x, gy: kernels.leaky_relu_grad(b, x, gy, 0.2),
     lambda x, gy: np.where(x > 0, gy, 0.2 * gy)),
    ("sigmoid", lambda b, x, gy: kernels.sigmoid(b, x), lambda x, gy: _sigmoid(x)),
    ("sigmoid_grad", lambda b, x, gy: kernels.sigmoid_grad(b, x, gy),
     lambda x, gy: gy * x * (1 - x)),
    ("tanh_grad", lambda b, x, gy: kernels.tanh_grad(b, x, gy), lambda x, gy: gy * (1 - x * x)),
    ("gelu", lambda b, x, gy: kernels.gelu(b, x), lambda x, gy: ref_gelu(x, "none")),
    ("gelu_tanh", lambda b, x, gy: kernels.gelu(b, x, "tanh"),
     lambda x, gy: ref_gelu(x, "tanh")),
    ("gelu_grad", lambda b, x, gy: kernels.gelu_grad(b, x, gy),
     lambda x, gy: gy * ref_gelu_grad(x, "none")),
    ("gelu_tanh_grad", lambda b, x, gy: kernels.gelu_grad(b, x, gy, "tanh"),
     lambda x, gy: gy * ref_gelu_grad(x, "tanh")),
    ("gelu_tanh_grad_kept", lambda b, x, gy: kernels.gelu_grad(
        b, x, gy, "tanh", s=kernels.gelu(b, x, "tanh", keep=True)[1]),
     lambda x, gy: gy * ref_gelu_grad(x, "tanh")),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("case", ACTIVATIONS, ids=[c[0] for c in ACTIVATIONS])
def test_activation_kernels(backend, case, shape, dtype):
    _, call, ref = case
    x = _rand(shape, dtype, 6, -4, 4)
    if x.size:
        x.reshape(-1)[0] = 0  # the kink: relu'(0) = 0, leaky_relu'(0) = slope
    gy = _rand(shape, dtype, 7)
    got = call(backend, _dev(backend, x), _dev(backend, gy))
    got = _host(backend, got)
    assert got.dtype == dtype and got.shape == shape
    np.testing.assert_allclose(got, ref(x, gy), **TOL[dtype])


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_kernels_on_arrays_split_in_halves(backend, approximate):
    """Arrays past SPLIT_BYTES run as two halves on two host threads: the same values, far
    negative inputs included (exp overflows to inf there, s = 0) without warnings."""
    x = _rand((4, 70_000), "float32", 8, -12, 6)
    gy = _rand((4, 70_000), "float32", 9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y, s = kernels.gelu(backend, _dev(backend, x), approximate, keep=True)
        gx = kernels.gelu_grad(backend, _dev(backend, x), _dev(backend, gy), approximate, s=s)
    np.testing.assert_allclose(_host(backend, y), ref_gelu(x, approximate), **TOL["float32"])
    np.testing.assert_allclose(_host(backend, gx), gy * ref_gelu_grad(x, approximate),
                               **TOL["float32"])


def test_relu_grad_with_gradient_and_activation_in_different_layouts(backend):
    """An NCHW gradient (a flatten's backward) against NHWC activations (a conv output's view):
    the host path copies the gradient into the activations' order; the result is the same and
    the gradient it was given is left as it was."""
    rng = np.random.default_rng(0)
    y0 = np.maximum(rng.standard_normal((4, 7, 7, 96)), 0).astype("float32").transpose(0, 3, 1, 2)
    gy0 = rng.standard_normal((4, 96, 7, 7)).astype("float32")  # C order: other axis order
    y = backend.asarray(np.ascontiguousarray(y0.transpose(0, 2, 3, 1))).transpose(0, 3, 1, 2)
    gy = _dev(backend, gy0)
    got = kernels.relu_grad(backend, y, gy)
    np.testing.assert_array_equal(_host(backend, got), gy0 * (y0 > 0))
    np.testing.assert_array_equal(_host(backend, gy), gy0)


def test_match_layout_copies_only_big_host_arrays_in_another_order():
    import backends
    from backends.kernels.common import match_layout

    cpu = backends.get("cpu")
    like = np.zeros((8, 9, 9, 32), "float32").transpose(0, 3, 1, 2)  # NHWC memory
    a = np.arange(like.size, dtype="float32").reshape(like.shape)    # NCHW memory
    moved = match_layout(cpu, a, like)
    assert moved is not a and moved.strides == like.strides
    np.testing.assert_array_equal(moved, a)
    assert match_layout(cpu, moved, like) is moved                     # same order already
    small = np.zeros((2, 3, 4, 5), "float32")                        # below the size bound
    assert match_layout(cpu, small, small.copy(order="F")) is small


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_kernel_saturates_without_overflow(backend, dtype):
    x = np.array([-1e4, -30.0, 0.0, 100.0, 1e4], dtype)
    got = _host(backend, kernels.sigmoid(backend, _dev(backend, x)))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, [0.0, _sigmoid(x[1:2])[0], 0.5, 1.0, 1.0], rtol=1e-6,
                               atol=0)


# -- softmax cross-entropy -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3), (2, 3, 2, 2), (0, 4)])
def test_log_softmax_stats(backend, shape, dtype):
    x = _rand(shape, dtype, 8, -5, 5)
    shift, log_total = kernels.log_softmax_stats(backend, _dev(backend, x), axis=1)
    shift, log_total = _host(backend, shift), _host(backend, log_total)
    m = x.max(axis=1, keepdims=True) if x.size else np.zeros((0, 1), dtype)
    np.testing.assert_array_equal(shift, m)
    x64 = x.astype(np.float64)
    want = np.log(np.exp(x64 - m).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(log_total, want, **TOL[dtype])
    log_softmax = (x64 - shift) - log_total
    np.testing.assert_allclose(np.exp(log_softmax).sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_stats_large_logits_exact_at_the_max(backend, dtype):
    x = np.array([[1e4, 0.0, -1e4], [3.0, 1e4, 1e4]], dtype)
    shift, log_total = kernels.log_softmax_stats(backend, _dev(backend, x))
    shift, log_total = _host(backend, shift), _host(backend, log_total)
    np.testing.assert_array_equal(shift[:, 0], [1e4, 1e4])
    np.testing.assert_allclose(log_total[:, 0], [0.0, math.log(2)], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3), (3, 4, 2, 2)])
@pytest.mark.parametrize("smoothing", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_softmax_xent_grad(backend, shape, smoothing, weighted, dtype):
    rng = np.random.default_rng(9)
    x = _rand(shape, dtype, 10, -3, 3)
    n, c, rest = shape[0], shape[1], shape[2:]
    target = rng.integers(0, c, (n, 1, *rest))
    per_sample = (n, 1, *rest)
    scale, hot, smooth = (_rand(per_sample, dtype, s) for s in (11, 12, 13))
    weight = _rand((1, c) + (1,) * len(rest), dtype, 14, 0.5, 2.0)
    shift, log_total = kernels.log_softmax_stats(backend, _dev(backend, x))
    gx = kernels.softmax_xent_grad(
        backend, _dev(backend, x), shift, log_total, _dev(backend, target),
        _dev(backend, scale), _dev(backend, hot), _dev(backend, smooth) if smoothing else None,
        _dev(backend, weight) if weighted else None)
    x64 = x.astype(np.float64)
    p = np.exp(x64 - x64.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    onehot = np.arange(c).reshape((1, c) + (1,) * len(rest)) == target
    want = scale * p - hot * onehot
    if smoothing:
        want = want - smooth * (weight if weighted else 1.0)
    got = _host(backend, gx)
    assert got.dtype == dtype and got.shape == shape
    np.testing.assert_allclose(got, want, **TOL[dtype])


# -- the CUDA sources, compiled without a GPU ----------------------------------------------------
def _specs():
    specs = []
    # the family modules load on first use: import each one
    modules = [kernels] + [importlib.import_module(f"{kernels.__name__}.{info.name}")
                           for info in pkgutil.iter_modules(kernels.__path__)]
    for module in modules:  # the package and its family modules (optimizers, activations, ...)
        for value in vars(module).values():
            if isinstance(value, kernels.CudaSpec):
                specs.append(value)
            elif isinstance(value, dict):
                specs.extend(v for v in value.values() if isinstance(v, kernels.CudaSpec))
    return list({id(s): s for s in specs}.values())  # a spec re-imported elsewhere counts once


def test_every_cuda_spec_is_found():
    names = {s.name for s in _specs()}
    assert {"sgd", "sgd_momentum", "adam", "adam_amsgrad", "rmsprop_centered_momentum",
            "adagrad", "relu_grad", "gelu_tanh_grad", "softmax_xent_grad", "adadelta", "adamax",
            "nadam", "radam", "asgd"} <= names
