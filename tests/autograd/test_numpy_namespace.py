"""autograd.numpy's rule: plain data gets NumPy's own results, Tensors get kedja's, ArrayBoxes
speak NumPy; promotion, errors, linspace's gradient, random, fft, complex parts, linalg results
and the host special-function fallbacks."""

from __future__ import annotations

import numpy as onp
import pytest

import autograd as ag
import autograd.numpy as np
from autograd import grad
from autograd.numpy.box import ArrayBox


def _t(values, backend, dtype="float64", requires_grad=False):
    return ag.tensor(onp.asarray(values, dtype=dtype), device=backend,
                     requires_grad=requires_grad)


# -- the rule ------------------------------------------------------------------------------------
def test_plain_data_gets_numpys_own_results() -> None:
    a = np.array([1.0])
    assert type(a) is onp.ndarray and a.dtype == onp.float64  # not kedja's float32 default
    s = np.sum(onp.arange(3.0))
    assert type(s) is onp.float64 and s == 3.0
    assert type(np.linalg.inv(onp.eye(2))) is onp.ndarray
    assert type(np.exp(1.0)) is onp.float64
    assert np.float64(2.0) == 2.0 and np.pi == onp.pi and np.newaxis is None


def test_tensors_in_tensors_out(backend) -> None:
    x = _t([[1.0, 2.0], [3.0, 4.0]], backend, requires_grad=True)
    y = np.sum(np.tanh(x) * 2.0, axis=0, keepdims=True)
    assert type(y) is ag.Tensor and y.shape == (1, 2) and y.device == x.device
    y.sum().backward()
    onp.testing.assert_allclose(x.grad.numpy(), 2.0 / onp.cosh(x.numpy()) ** 2)


def test_host_arrays_join_a_tensor_on_its_device(backend) -> None:
    x = _t([1.0, 2.0], backend)
    y = np.add(x, onp.array([10.0, 20.0]))  # a host -> device transfer, not an error
    assert y.device == x.device and y.numpy().tolist() == [11.0, 22.0]
    z = np.concatenate([x, [5.0]])
    assert z.numpy().tolist() == [1.0, 2.0, 5.0]


def test_numpy_promotion(backend) -> None:
    f32 = _t([1.0, 2.0], backend, dtype="float32")
    assert np.multiply(f32, 2.0).dtype == onp.float32  # a Python float never widens (NEP 50)
    assert np.add(f32, onp.ones(2)).dtype == onp.float64  # a float64 array does
    assert np.add(f32, onp.float64(1.0)).dtype == onp.float64  # so does a NumPy float64
    ints = _t([1, 2], backend, dtype="int64")
    assert np.divide(ints, 2).dtype == onp.float64
    assert np.mean(ints).dtype == onp.float64
    assert np.sum(ints).dtype == onp.int64


def test_array_box_speaks_numpy() -> None:
    seen = {}

    def f(x):
        seen["type"] = type(x)
        assert isinstance(x, ArrayBox) and isinstance(x, ag.Tensor)
        v = x.var()  # biased, as NumPy's
        m = x.max(axis=0)  # values only
        r = x.repeat(2)  # each element repeated
        assert r.shape == (8,)
        assert x.T.shape == (2, 2) and x.reshape(4).shape == (4,)
        assert x.astype(float).dtype == onp.float64
        assert x.sum(axis=1, keepdims=True).shape == (2, 1)
        return v + np.sum(m) + np.sum(onp.sin(x))  # NumPy's own sin dispatches to ours

    x = onp.array([[1.0, 2.0], [3.0, 5.0]])
    g = grad(f)(x)
    assert seen["type"] is ArrayBox and type(g) is onp.ndarray
    expected = 2 * (x - x.mean()) / 4 + onp.cos(x)
    expected[1, :] += 1.0  # the column maxima are in row 1
    onp.testing.assert_allclose(g, expected)


def test_ndarray_operators_with_a_box_stay_traced() -> None:
    w = onp.array([1.0, 2.0])
    g = grad(lambda x: np.sum(w * x + w @ x - onp.ones(2) / (1.0 + x**2)))(onp.array([0.5, 1.0]))
    x = onp.array([0.5, 1.0])
    expected = w + 2 * w + 2 * x / (1 + x**2) ** 2  # the scalar w @ x is summed twice
    onp.testing.assert_allclose(g, expected)


def test_not_differentiable_functions_raise_clearly(backend) -> None:
    x = _t([1.0, 2.0], backend, requires_grad=True)
    with pytest.raises(TypeError, match="autograd.numpy.trapezoid is not differentiable"):
        np.trapezoid(x)
    with ag.no_grad():
        assert float(np.trapezoid(x).numpy()) == 1.5  # forward on the device
    assert np.isnan(x).dtype == onp.bool_ and not np.isnan(x).requires_grad
    with pytest.raises(TypeError, match="out= is not supported"):
        np.sum(x, out=onp.zeros(()))


# -- linspace (issue 14's regression) -----------------------------------------------------------
def test_linspace_is_differentiable_in_start_and_stop(backend) -> None:
    start = _t(0.0, backend, requires_grad=True)
    stop = _t(2.0, backend, requires_grad=True)
    for make in (ag.linspace, np.linspace):
        y = make(start, stop, 5)
        assert y.dtype == onp.float64 and y.requires_grad  # it was a float32 constant
        onp.testing.assert_allclose(y.numpy(), onp.linspace(0.0, 2.0, 5))
        gs, ge = ag.gradients((y * _t(onp.arange(5.0), backend)).sum(), [start, stop])
        assert gs.item() == pytest.approx(2.5) and ge.item() == pytest.approx(7.5)
    assert ag.linspace(0, 1, 3).dtype == onp.float32  # numbers keep kedja's default


def test_linspace_matches_numpy_bit_for_bit() -> None:
    for args in [(0.1, 7.3, 11), (-2.0, 3.0, 4), (1.0, 1.0, 3)]:
        got = np.linspace(ag.tensor(args[0], dtype="float64"), args[1], args[2]).numpy()
        assert (got == onp.linspace(*args)).all()


# -- random --------------------------------------------------------------------------------------
def test_random_is_numpys_and_seeded_by_manual_seed() -> None:
    ag.manual_seed(7)
    a = np.random.randn(3)
    np.random.seed(7)
    b = np.random.randn(3)
    onp.random.seed(7)
    assert (a == b).all() and (a == onp.random.randn(3)).all()
    assert type(a) is onp.ndarray
    np.random.seed(1)
    c = np.random.choice(5, size=3), np.random.permutation(4), np.random.uniform(0, 1, 2)
    np.random.seed(1)
    d = np.random.choice(5, size=3), np.random.permutation(4), np.random.uniform(0, 1, 2)
    assert all((x == y).all() for x, y in zip(c, d))
    assert isinstance(np.random.default_rng(0), onp.random.Generator)


# -- fft -------------------------------------------------------------------------------------------
def test_fft_forward_on_every_backend(backend) -> None:
    x = onp.random.default_rng(0).normal(size=(4, 6))
    t = _t(x, backend)
    onp.testing.assert_allclose(np.fft.fft(t).numpy(), onp.fft.fft(x))
    onp.testing.assert_allclose(np.fft.rfft2(t, norm="ortho").numpy(),
                                onp.fft.rfft2(x, norm="ortho"))
    onp.testing.assert_allclose(np.fft.irfft(np.fft.rfft(t, axis=0), n=4, axis=0).numpy(), x)
    onp.testing.assert_allclose(np.fft.fftshift(t).numpy(), onp.fft.fftshift(x))
    with pytest.raises(TypeError, match="complex gradients are not supported"):
        np.fft.fft(_t(x, backend, requires_grad=True))


# -- complex data: forward only ---------------------------------------------------------------
def test_complex_parts_forward_and_real_gradients(backend) -> None:
    z = _t(onp.array([1 + 2j, -3 - 1j]), backend, dtype="complex128")
    assert np.real(z).numpy().tolist() == [1.0, -3.0]
    assert np.imag(z).numpy().tolist() == [2.0, -1.0]
    onp.testing.assert_allclose(np.angle(z).numpy(), onp.angle(onp.array([1 + 2j, -3 - 1j])))
    x = _t([1.0, -2.0], backend, requires_grad=True)
    (np.real(x) * 2.0 + np.imag(x) + np.conj(x)).sum().backward()
    assert x.grad.numpy().tolist() == [3.0, 3.0]
    with pytest.raises(TypeError, match="complex"):
        grad(lambda v: np.abs(v))(1.0 + 2.0j)


# -- linalg results --------------------------------------------------------------------------
def test_linalg_result_types_and_batching(backend) -> None:
    rng = onp.random.default_rng(3)
    a = rng.normal(size=(2, 3, 3)) + 3 * onp.eye(3)
    t = _t(a, backend)
    sign, logdet = np.linalg.slogdet(t)
    onp.testing.assert_allclose(logdet.numpy(), onp.linalg.slogdet(a)[1])
    assert sign.numpy().tolist() == onp.linalg.slogdet(a)[0].tolist()
    w, v = np.linalg.eigh(t + np.swapaxes(t, -1, -2))
    assert w.shape == (2, 3) and v.shape == (2, 3, 3)
    u, s, vh = np.linalg.svd(t)
    onp.testing.assert_allclose(np.matmul(u * s[..., None, :], vh).numpy(), a, atol=1e-12)
    x, residuals, rank, sv = np.linalg.lstsq(a[0], onp.ones(3))
    assert rank == 3 and x.shape == (3,)
    with pytest.raises(TypeError, match="linalg.eig is not differentiable"):
        np.linalg.eig(_t(a, backend, requires_grad=True))


def test_eigh_with_a_repeated_eigenvalue_has_no_finite_eigenvector_gradient() -> None:
    a = ag.tensor(onp.diag([1.0, 1.0, 2.0]), requires_grad=True)
    w, v = np.linalg.eigh(a)
    w.sum().backward()  # the eigenvalues alone stay differentiable
    assert onp.isfinite(a.grad.numpy()).all()
    a.grad = None
    _, v = np.linalg.eigh(a)
    (v[:, 0] * v[:, 1]).sum().backward()
    assert not onp.isfinite(a.grad.numpy()).all()  # documented: degenerate eigenvectors


# -- host special functions without SciPy --------------------------------------------------------
def test_host_special_fallbacks_match_scipy() -> None:
    special = pytest.importorskip("scipy.special")
    from backends import special_host

    x = onp.linspace(-7.3, 25.0, 301)
    onp.testing.assert_allclose(special_host.digamma(x), special.digamma(x), rtol=1e-12,
                                atol=1e-12)
    for n in (1, 2, 3):
        onp.testing.assert_allclose(special_host.polygamma(n, x), special.polygamma(n, x),
                                    rtol=1e-11)
    onp.testing.assert_allclose(special_host.gammaln(x), special.gammaln(x), rtol=1e-13,
                                atol=1e-13)
    p = onp.linspace(-0.999, 0.999, 101)
    onp.testing.assert_allclose(special_host.erfinv(p), special.erfinv(p), rtol=1e-11)
    z = onp.linspace(-200.0, 6.0, 301)
    onp.testing.assert_allclose(special_host.log_ndtr(z), special.log_ndtr(z), rtol=1e-12)
    onp.testing.assert_allclose(special_host.erfc(z / 10), special.erfc(z / 10), rtol=1e-14)


def test_multivariate_normal_with_a_singular_covariance() -> None:
    stats = pytest.importorskip("scipy.stats")
    from autograd.scipy.stats import multivariate_normal

    factor = onp.array([[1.0, 0.0], [0.5, 1.0], [0.0, 2.0]])
    cov = factor @ factor.T  # rank 2 in 3 dimensions
    inside = onp.random.default_rng(0).normal(size=(4, 2)) @ factor.T
    onp.testing.assert_allclose(
        multivariate_normal.logpdf(inside, onp.zeros(3), cov, allow_singular=True),
        stats.multivariate_normal.logpdf(inside, onp.zeros(3), cov, allow_singular=True))
    outside = inside + onp.array([1.0, -1.0, 0.5])  # off the range: density 0, as SciPy
    assert onp.isneginf(multivariate_normal.logpdf(outside, onp.zeros(3), cov,
                                                   allow_singular=True)).all()
    g = grad(lambda m: np.sum(multivariate_normal.logpdf(inside, m, cov, allow_singular=True)))(
        onp.zeros(3))
    onp.testing.assert_allclose(g, onp.sum(onp.linalg.pinv(cov) @ inside.T, axis=1), atol=1e-10)


# -- autograd.scipy.linalg -----------------------------------------------------------------------
def test_scipy_linalg_on_plain_data_and_tensors(backend) -> None:
    import autograd.scipy.linalg as spla

    a = onp.array([[4.0, 1.0], [1.0, 3.0]])
    x = spla.sqrtm(a)
    assert type(x) is onp.ndarray
    onp.testing.assert_allclose(x @ x, a, atol=1e-12)
    t = spla.sqrtm(_t(a, backend))
    assert isinstance(t, ag.Tensor) and t.device == ag.tensor([0.0], device=backend).device
    onp.testing.assert_allclose(t.numpy(), x, atol=1e-12)
    q = onp.array([[1.0], [2.0]])
    y = spla.solve_sylvester(_t(a, backend), _t([[2.0]], backend), _t(q, backend))
    onp.testing.assert_allclose(a @ y.numpy() + y.numpy() * 2.0, q, atol=1e-12)
    z = spla.solve_triangular(_t(a, backend), _t([1.0, 2.0], backend), lower=True)
    onp.testing.assert_allclose(onp.tril(a) @ z.numpy(), [1.0, 2.0], atol=1e-12)


def test_sqrtm_without_a_real_root_and_bad_arguments_raise() -> None:
    import autograd.scipy.linalg as spla

    with pytest.raises(ValueError, match="sqrtm: no real principal square root"):
        spla.sqrtm(ag.tensor(onp.array([[-1.0, 0.0], [0.0, 1.0]])))
    with pytest.raises(ValueError, match="solve_triangular: trans"):
        spla.solve_triangular(ag.tensor(onp.eye(2)), ag.tensor(onp.ones(2)), trans=5)
    with pytest.raises(ValueError, match="solve_sylvester: expected"):
        spla.solve_sylvester(ag.tensor(onp.eye(2)), ag.tensor(onp.eye(2)), ag.tensor(onp.ones(3)))


def test_scipy_signal_convolve_plain_tensors_and_errors(backend) -> None:
    from autograd.scipy.signal import convolve

    a, b = onp.array([1.0, 2.0, 3.0]), onp.array([0.0, 1.0, 0.5])
    full = convolve(a, b)
    assert type(full) is onp.ndarray
    onp.testing.assert_allclose(full, onp.convolve(a, b))
    onp.testing.assert_allclose(convolve(a, b, mode="same"), onp.convolve(a, b, "same"))
    t = convolve(_t(a, backend), _t(b, backend), mode="valid")
    assert isinstance(t, ag.Tensor)
    onp.testing.assert_allclose(t.numpy(), onp.convolve(a, b, "valid"))
    with pytest.raises(ValueError, match="convolve: mode"):
        convolve(a, b, mode="circular")
    with pytest.raises(ValueError, match="'valid' mode one array must be at least as large"):
        convolve(onp.ones((3, 1)), onp.ones((1, 3)), mode="valid")


def test_scipy_odeint_plain_data_tensors_and_the_time_gradient(backend) -> None:
    from autograd.scipy.integrate import odeint

    def decay(y, t, a):
        return -a * y

    times = onp.array([0.0, 0.5, 1.0])
    y = odeint(decay, onp.array([1.0, 2.0]), times, (0.5,))
    assert type(y) is onp.ndarray and y.shape == (3, 2)
    onp.testing.assert_allclose(y, onp.array([1.0, 2.0]) * onp.exp(-0.5 * times)[:, None],
                                rtol=1e-7)
    # d y(t1) / d t1 = f(y(t1), t1)
    g = grad(lambda t: np.sum(odeint(decay, onp.array([1.0]), t, (0.5,))[-1]))(times)
    onp.testing.assert_allclose(g[-1], -0.5 * onp.exp(-0.5), rtol=1e-6)
    t = odeint(decay, _t([1.0], backend), times, (0.5,))
    assert isinstance(t, ag.Tensor) and t.shape == (3, 1)


def test_scipy_solve_banded_matches_the_dense_solve() -> None:
    import autograd.scipy.linalg as spla

    ab = onp.array([[0.0, 1.0, 1.0], [4.0, 4.0, 4.0], [1.0, 1.0, 0.0]])
    dense = onp.diag([4.0, 4.0, 4.0]) + onp.diag([1.0, 1.0], 1) + onp.diag([1.0, 1.0], -1)
    x = spla.solve_banded((1, 1), ag.tensor(ab), ag.tensor(onp.ones(3)))
    onp.testing.assert_allclose(dense @ x.numpy(), onp.ones(3), atol=1e-12)
    with pytest.raises(ValueError, match="solve_banded: expected ab of shape"):
        spla.solve_banded((1, 0), ag.tensor(ab), ag.tensor(onp.ones(3)))
