"""Function transforms: gradients, grad, value_and_grad, vjp, jvp, jacobian, hessian."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag


def _t(values, backend, requires_grad=False):
    return ag.tensor(values, dtype="float64", device=backend, requires_grad=requires_grad)


def _cubic_sum(x):
    return (x**3).sum()


def test_gradients_like_torch_autograd_grad(backend) -> None:
    x = _t([1.0, 2.0], backend, requires_grad=True)
    y = _t([3.0], backend, requires_grad=True)
    gx, gy = ag.gradients((x * y).sum(), (x, y))
    assert gx.numpy().tolist() == [3.0, 3.0]
    assert gy.numpy().tolist() == [3.0]
    assert x.grad is None and y.grad is None
    assert not gx.requires_grad


def test_gradients_with_grad_outputs_and_create_graph(backend) -> None:
    x = _t([1.0, 2.0], backend, requires_grad=True)
    (g,) = ag.gradients(x * x, x, grad_outputs=_t([1.0, 10.0], backend), create_graph=True)
    assert g.numpy().tolist() == [2.0, 40.0]
    (gg,) = ag.gradients(g.sum(), x)
    assert gg.numpy().tolist() == [2.0, 20.0]


def test_gradients_checks_its_arguments(backend) -> None:
    x = _t([1.0], backend, requires_grad=True)
    c = _t([1.0], backend)
    with pytest.raises(RuntimeError, match="input 1 .* does not require grad"):
        ag.gradients((x * 2.0).sum(), [x, c])
    with pytest.raises(ValueError, match="2 outputs but 1 grad_outputs"):
        ag.gradients([x * 2.0, x * 3.0], x, grad_outputs=[None])
    with pytest.raises(TypeError, match="must be Tensors"):
        ag.gradients((x * 2.0).sum(), [1.0])


def test_grad_of_a_simple_function(backend) -> None:
    x = _t([1.0, 2.0], backend)
    g = ag.grad(_cubic_sum)(x)
    assert g.numpy().tolist() == [3.0, 12.0]
    assert not g.requires_grad and not x.requires_grad  # the caller's tensor is untouched


def test_grad_argnums_and_has_aux(backend) -> None:
    def f(a, b, scale):
        return (a * b).sum() * scale, "aux"

    a, b = _t([1.0, 2.0], backend), _t([3.0, 4.0], backend)
    (ga, gb), aux = ag.grad(f, argnums=(0, 1), has_aux=True)(a, b, 2.0)
    assert ga.numpy().tolist() == [6.0, 8.0] and gb.numpy().tolist() == [2.0, 4.0]
    assert aux == "aux"
    gb_only = ag.grad(lambda a, b: (a * b).sum(), argnums=-1)(a, b)
    assert gb_only.numpy().tolist() == [1.0, 2.0]


def test_value_and_grad(backend) -> None:
    x = _t([1.0, 2.0], backend)
    value, g = ag.value_and_grad(_cubic_sum)(x)
    assert value.item() == 9.0 and g.numpy().tolist() == [3.0, 12.0]
    (value, aux), g = ag.value_and_grad(lambda x: (_cubic_sum(x), x * 2), has_aux=True)(x)
    assert value.item() == 9.0 and aux.numpy().tolist() == [2.0, 4.0]


def test_grad_of_grad_of_grad(backend) -> None:
    def f(x):
        return x**4

    x = _t(2.0, backend)
    assert ag.grad(f)(x).item() == 32.0
    assert ag.grad(ag.grad(f))(x).item() == 48.0
    assert ag.grad(ag.grad(ag.grad(f)))(x).item() == 48.0  # 24 x
    assert ag.grad(ag.grad(ag.grad(ag.grad(f))))(x).item() == 24.0


def test_grad_works_under_no_grad_and_returns_constants(backend) -> None:
    x = _t([1.0, 2.0], backend, requires_grad=True)
    with ag.no_grad():
        g = ag.grad(_cubic_sum)(x)
        gg = ag.grad(lambda t: ag.grad(_cubic_sum)(t).sum())(x)
    assert not g.requires_grad and g.numpy().tolist() == [3.0, 12.0]
    assert gg.numpy().tolist() == [6.0, 12.0]


def test_grad_stays_differentiable_with_respect_to_outer_tensors(backend) -> None:
    w = _t([1.0, 2.0], backend, requires_grad=True)
    x = _t([3.0, 4.0], backend)
    # d/dx ((x.w)^2) = 2 (x.w) w; its sum depends on w, which is closed over.
    g = ag.grad(lambda x: (x * w).sum() ** 2)(x)
    assert g.requires_grad
    g.sum().backward()
    s = 3.0 + 8.0
    assert w.grad.numpy().tolist() == [2 * 3.0 * 3.0 + 2 * s, 2 * 4.0 * 3.0 + 2 * s]
    assert x.grad is None


def test_grad_with_respect_to_an_argument_that_requires_grad(backend) -> None:
    x = _t([1.0, 2.0], backend, requires_grad=True)
    g = ag.grad(_cubic_sum)(x)
    assert g.requires_grad  # 3 x^2, still a function of x
    g.sum().backward()
    assert x.grad.numpy().tolist() == [6.0, 12.0]


def test_grad_of_a_constant_function_is_zero(backend) -> None:
    x = _t([1.0, 2.0], backend)
    g = ag.grad(lambda t: _t(5.0, backend))(x)
    assert g.numpy().tolist() == [0.0, 0.0]
    g2 = ag.grad(lambda a, b: (b * 2.0).sum(), argnums=(0, 1))(x, x)
    assert g2[0].numpy().tolist() == [0.0, 0.0] and g2[1].numpy().tolist() == [2.0, 2.0]


def test_grad_error_messages(backend) -> None:
    x = _t([1.0, 2.0], backend)
    with pytest.raises(TypeError, match="one-element Tensor .* got \\(2,\\)"):
        ag.grad(lambda t: t * 2.0)(x)
    with pytest.raises(TypeError, match="argument 0: can't differentiate w.r.t. type <class"):
        ag.grad(lambda t: t)(1)  # floats, NumPy arrays and containers are fine (test_hips_api)
    with pytest.raises(TypeError, match="argument 0 has dtype int64"):
        ag.grad(lambda t: t.sum())(ag.tensor([1, 2], device=backend))
    with pytest.raises(ValueError, match="argnums 3 is out of range"):
        ag.grad(lambda t: t.sum(), argnums=3)(x)
    with pytest.raises(TypeError, match="has_aux=True"):
        ag.grad(lambda t: t.sum(), has_aux=True)(x)


def test_vjp(backend) -> None:
    x = _t([1.0, 2.0], backend)
    y = _t([3.0, 4.0], backend)
    out, vjp_fn = ag.vjp(lambda a, b: a * b + a.exp(), x, y)
    np.testing.assert_allclose(out.numpy(), [3.0 + np.e, 8.0 + np.exp(2.0)])
    gx, gy = vjp_fn(_t([1.0, 2.0], backend))
    np.testing.assert_allclose(gx.numpy(), [3.0 + np.e, 2 * (4.0 + np.exp(2.0))])
    assert gy.numpy().tolist() == [1.0, 4.0]
    gx2, _ = vjp_fn(_t([1.0, 0.0], backend))  # callable again
    np.testing.assert_allclose(gx2.numpy(), [3.0 + np.e, 0.0])


def test_vjp_of_several_outputs_and_has_aux(backend) -> None:
    x = _t([1.0, 2.0], backend)
    (a, b), vjp_fn, aux = ag.vjp(lambda t: ((t * 2.0, (t * t).sum()), 7), x, has_aux=True)
    assert aux == 7
    (gx,) = vjp_fn(_t([1.0, 1.0], backend), _t(1.0, backend))
    assert gx.numpy().tolist() == [4.0, 6.0]
    with pytest.raises(ValueError, match="expected 2 cotangents"):
        vjp_fn(_t([1.0, 1.0], backend))
    with pytest.raises(ValueError, match="cotangent 0 must be a Tensor of shape \\(2,\\)"):
        vjp_fn(_t([1.0], backend), _t(1.0, backend))


def test_jvp_by_double_vjp(backend) -> None:
    x = _t([1.0, 2.0], backend)
    v = _t([1.0, -1.0], backend)
    out, tangent = ag.jvp(lambda t: t**3, (x,), (v,))
    assert out.numpy().tolist() == [1.0, 8.0]
    assert tangent.numpy().tolist() == [3.0, -12.0]
    outs, tangents = ag.jvp(lambda a, b: (a * b, (a + b).sum()), (x, x), (v, v))
    assert tangents[0].numpy().tolist() == [2.0, -4.0]  # b v + a v
    assert tangents[1].item() == 0.0


def test_jvp_of_a_function_independent_of_its_input(backend) -> None:
    x = _t([1.0, 2.0], backend)
    _, tangent = ag.jvp(lambda t: _t([5.0], backend) * 1.0, (x,), (x,))
    assert tangent.numpy().tolist() == [0.0]


def test_jacobian_shapes_and_values(backend) -> None:
    a = _t([[1.0, 2.0], [3.0, 4.0]], backend)
    x = _t([1.0, -1.0], backend)
    j = ag.jacobian(lambda t: a @ t)(x)
    assert j.shape == (2, 2)
    np.testing.assert_allclose(j.numpy(), a.numpy())
    j = ag.jacobian(lambda m: (m * m).sum(axis=1))(a)
    assert j.shape == (2, 2, 2)
    expected = np.zeros((2, 2, 2))
    for i in range(2):
        expected[i, i, :] = 2 * a.numpy()[i]
    np.testing.assert_allclose(j.numpy(), expected)


def test_jacobian_several_inputs_and_outputs(backend) -> None:
    x, y = _t([1.0, 2.0], backend), _t(3.0, backend)
    (jx_a, jy_a), (jx_b, jy_b) = ag.jacobian(lambda a, b: (a * b, (a * a).sum()), (0, 1))(x, y)
    assert jx_a.shape == (2, 2) and jy_a.shape == (2,)
    np.testing.assert_allclose(jx_a.numpy(), 3.0 * np.eye(2))
    assert jy_a.numpy().tolist() == [1.0, 2.0]
    assert jx_b.numpy().tolist() == [2.0, 4.0] and jy_b.shape == () and jy_b.item() == 0.0


def test_hessian(backend) -> None:
    x = _t([1.0, 2.0], backend)
    h = ag.hessian(_cubic_sum)(x)
    assert h.numpy().tolist() == [[6.0, 0.0], [0.0, 12.0]]
    a = _t([[2.0, 1.0], [1.0, 3.0]], backend)
    h = ag.hessian(lambda t: (t * (a @ t)).sum())(x)  # x^T A x: H = A + A^T
    np.testing.assert_allclose(h.numpy(), 2 * a.numpy())


def test_hessian_with_two_arguments(backend) -> None:
    x, y = _t(2.0, backend), _t(3.0, backend)
    (hxx, hxy), (hyx, hyy) = ag.hessian(lambda a, b: a * a * b, argnums=(0, 1))(x, y)
    assert (hxx.item(), hxy.item(), hyx.item(), hyy.item()) == (6.0, 4.0, 4.0, 0.0)


def test_jacobian_of_grad_matches_hessian_and_is_differentiable(backend) -> None:
    x = _t([0.5, -0.3], backend, requires_grad=True)
    h = ag.jacobian(ag.grad(lambda t: t.exp().sum()))(x)
    assert h.requires_grad
    h.sum().backward()  # d/dx sum(diag(exp x)) = exp x
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, -0.3]))


def test_transforms_agree_with_gradcheck_style_differences(backend) -> None:
    x = _t([0.3, -0.7, 1.1], backend)

    def f(t):
        return (t.tanh() * t.exp()).sum()

    g = ag.grad(f)(x).numpy()
    eps = 1e-6
    numeric = []
    for i in range(3):
        d = np.zeros(3)
        d[i] = eps
        numeric.append((f(_t(x.numpy() + d, backend)).item() - f(_t(x.numpy() - d, backend)).item())
                       / (2 * eps))
    np.testing.assert_allclose(g, numeric, rtol=1e-6)
