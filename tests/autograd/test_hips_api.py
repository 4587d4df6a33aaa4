"""HIPS autograd's API on kedja: arguments of NumPy types and containers come back in their
type and structure; the differential operators, check_grads, custom primitives, checkpoint,
builtins, misc.flatten and the optimizers behave as HIPS autograd's do."""

from __future__ import annotations

import warnings
from collections import OrderedDict

import numpy as onp
import pytest

import autograd as ag
import autograd.numpy as np
from autograd import (
    checkpoint,
    deriv,
    elementwise_grad,
    grad,
    grad_and_aux,
    grad_named,
    hessian,
    hessian_tensor_product,
    holomorphic_grad,
    jacobian,
    make_ggnvp,
    make_hvp,
    make_jvp,
    make_vjp,
    multigrad_dict,
    tensor_jacobian_product,
    value_and_grad,
)
from autograd.builtins import isinstance as ag_isinstance
from autograd.builtins import type as ag_type
from autograd.extend import defvjp, defvjp_argnum, primitive
from autograd.misc import flatten
from autograd.misc.optimizers import adam, rmsprop, sgd
from autograd.test_util import check_grads


def test_results_have_the_arguments_types_and_structure() -> None:
    g = grad(lambda x: x**3)(2.0)
    assert type(g) is onp.float64 and g == 12.0
    g = grad(lambda x: np.sum(x**2))(onp.array([1.0, 2.0], dtype=onp.float32))
    assert type(g) is onp.ndarray and g.dtype == onp.float32 and g.tolist() == [2.0, 4.0]
    params = {"w": onp.ones((2, 2)), "b": [onp.zeros(2), 3.0]}
    g = grad(lambda p: np.sum(p["w"] ** 2) + np.sum(p["b"][0] + 1.0) * p["b"][1])(params)
    assert set(g) == {"w", "b"} and isinstance(g["b"], list)
    assert g["w"].tolist() == [[2.0, 2.0], [2.0, 2.0]] and g["b"][0].tolist() == [3.0, 3.0]
    assert g["b"][1] == 2.0 and type(g["b"][1]) is onp.float64
    ga, gb = grad(lambda a, b: a * b, (0, 1))(2.0, 5.0)
    assert (ga, gb) == (5.0, 2.0)
    t = ag.tensor([1.0, 2.0], dtype="float64")
    assert type(grad(lambda x: (x * x).sum())(t)) is ag.Tensor  # Tensor in, Tensor out


def test_value_and_grad_keyword_arguments_and_constants() -> None:
    value, g = value_and_grad(lambda x, scale=1.0: np.sum(x**2) * scale)(onp.ones(2), scale=3.0)
    assert type(value) is onp.float64 and value == 6.0 and g.tolist() == [6.0, 6.0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert grad(lambda x: 3.0)(1.0) == 0.0
    assert any("independent of the input" in str(w.message) for w in caught)
    with pytest.raises(TypeError, match="can't differentiate w.r.t. type"):
        grad(lambda x: x)(1)
    with pytest.raises(TypeError, match="complex gradients are not supported"):
        grad(lambda x: np.real(x))(1.0 + 1.0j)
    with pytest.raises((TypeError, RuntimeError), match="complex|real one-element Tensor"):
        grad(lambda x: np.sum(x) * (1.0 + 2.0j))(onp.ones(2))  # a complex output


def test_nested_transforms_and_enclosing_scopes() -> None:
    def f(x):
        inner = grad(lambda y: x * y)(2.0)  # d(x y)/dy = x, still a function of x
        return x * inner

    assert grad(f)(3.0) == pytest.approx(6.0)
    assert grad(grad(grad(np.sin)))(0.3) == pytest.approx(-onp.cos(0.3))
    h = hessian(lambda x: np.sum(x**3))(onp.arange(3.0))
    onp.testing.assert_allclose(h, onp.diag(6 * onp.arange(3.0)))
    j = jacobian(np.tanh)(onp.zeros(3))
    onp.testing.assert_allclose(j, onp.eye(3))


def test_differential_operators() -> None:
    x = onp.array([0.3, -0.7, 1.1])
    onp.testing.assert_allclose(elementwise_grad(np.tanh)(x), 1 - onp.tanh(x) ** 2)
    assert deriv(np.sin)(0.5) == pytest.approx(onp.cos(0.5))
    vjp, ans = make_vjp(lambda v: v**2)(x)
    onp.testing.assert_allclose(vjp(onp.ones(3)), 2 * x)
    onp.testing.assert_allclose(ans, x**2)
    ans, tangent = make_jvp(lambda v: np.sin(v))(x)(onp.ones(3))
    onp.testing.assert_allclose(tangent, onp.cos(x))
    cube = lambda v: np.sum(v**3)  # noqa: E731
    onp.testing.assert_allclose(hessian_tensor_product(cube)(x, onp.ones(3)), 6 * x)
    hvp, g = make_hvp(cube)(x)
    onp.testing.assert_allclose(hvp(onp.ones(3)), 6 * x)
    onp.testing.assert_allclose(g, 3 * x**2)
    v = onp.array([1.0, 2.0, 3.0])
    onp.testing.assert_allclose(tensor_jacobian_product(np.sin)(x, v), v * onp.cos(x))
    g, aux = grad_and_aux(lambda v: (np.sum(v**2), "aux"))(x)
    assert aux == "aux"
    onp.testing.assert_allclose(g, 2 * x)
    assert grad_named(lambda a, b: a * b**2, "b")(2.0, 3.0) == 12.0
    grads = multigrad_dict(lambda a, b=2.0: a * b)(3.0)
    assert isinstance(grads, OrderedDict) and dict(grads) == {"a": 2.0, "b": 3.0}
    ggn = make_ggnvp(lambda v: v * 2.0)(x)(onp.ones(3))  # J^T I J 1 = 4
    onp.testing.assert_allclose(ggn, 4 * onp.ones(3))
    assert holomorphic_grad(lambda z: z**2)(3.0) == 6.0
    with pytest.raises(TypeError, match="complex gradients"):
        holomorphic_grad(lambda z: z**2)(1.0 + 1.0j)


def test_check_grads_passes_right_and_catches_wrong_derivatives() -> None:
    onp.random.seed(0)
    check_grads(lambda x: np.sum(np.exp(x) * np.sin(x)), modes=["fwd", "rev"], order=2)(
        onp.random.randn(3))
    check_grads(lambda a, b: np.sum(a * b**2), (0, 1), order=2)(onp.ones(2), onp.ones(2) * 2)

    @primitive
    def wrong(x):
        return x**2

    defvjp(wrong, lambda ans, x: lambda g: g * 3 * x)  # should be 2 x
    with pytest.raises(AssertionError, match="VJP"):
        check_grads(wrong, modes=["rev"], order=1)(onp.array([1.0, 2.0]))


def test_primitives_as_hips_users_write_them(backend) -> None:
    seen = {}

    @primitive
    def logsumexp(x):
        seen["type"] = type(x)
        m = np.max(x)
        return m + np.log(np.sum(np.exp(x - m)))

    defvjp(logsumexp, lambda ans, x: lambda g: g * np.exp(x - ans))
    x = onp.array([0.5, -1.0, 2.0])
    onp.testing.assert_allclose(grad(logsumexp)(x), onp.exp(x) / onp.exp(x).sum())
    # The body runs untraced: on NumPy arrays on the CPU, on constant device tensors elsewhere.
    assert seen["type"] is (onp.ndarray if not backend.is_device else np.box.ArrayBox)
    assert logsumexp(x) == pytest.approx(onp.log(onp.exp(x).sum()))  # plain call: plain result
    check_grads(logsumexp, order=2)(x)  # the vjp is itself differentiable

    @primitive
    def scaled(x, y, k=2.0):
        return k * x * y

    defvjp_argnum(scaled, lambda argnum, ans, args, kwargs: lambda g: g * kwargs.get("k", 2.0) *
                  args[1 - argnum])
    a, b = grad(scaled, (0, 1))(2.0, 5.0, k=3.0)
    assert (a, b) == (15.0, 6.0)

    @primitive
    def only_first(x, y):
        return x * y

    defvjp(only_first, lambda ans, x, y: lambda g: g * y, None)
    assert grad(only_first, 1)(2.0, 5.0) == 0.0


def test_checkpoint_recomputes_and_keeps_gradients() -> None:
    calls = []

    def block(x):
        calls.append(1)
        return np.sum(np.sin(x) ** 2)

    x = onp.array([0.1, 0.2])
    g = grad(checkpoint(block))(x)
    onp.testing.assert_allclose(g, 2 * onp.sin(x) * onp.cos(x))
    assert len(calls) == 2  # once forward, once more in backward
    check_grads(checkpoint(block), order=2)(x)


def test_builtins_see_a_box_as_an_ndarray() -> None:
    def f(x):
        assert ag_isinstance(x, onp.ndarray) and ag_type(x) is onp.ndarray
        assert ag_isinstance([], list) and not ag_isinstance(x, list)
        return np.sum(x)

    grad(f)(onp.ones(2))


def test_flatten_and_unflatten() -> None:
    value = {"b": [onp.ones(2), 3.0], "a": onp.arange(4.0).reshape(2, 2)}
    flat, unflatten = flatten(value)
    assert flat.tolist() == [0.0, 1.0, 2.0, 3.0, 1.0, 1.0, 3.0]  # dict entries by key
    back = unflatten(flat)
    assert back["a"].tolist() == value["a"].tolist() and back["b"][1] == 3.0
    g = grad(lambda v: np.sum(flatten(v)[0] ** 2))(value)
    assert g["a"].tolist() == (2 * value["a"]).tolist()


@pytest.mark.parametrize("optimizer", [adam, sgd, rmsprop])
def test_optimizers_minimise_a_quadratic_over_a_structure(optimizer) -> None:
    target = {"w": onp.array([1.0, -2.0]), "b": 0.5}

    def loss(p, i):
        return np.sum((p["w"] - target["w"]) ** 2) + (p["b"] - target["b"]) ** 2

    start = {"w": onp.zeros(2), "b": 0.0}
    steps = []
    result = optimizer(grad(loss), start, callback=lambda p, i, g: steps.append(i),
                       num_iters=300, step_size=0.05)
    assert loss(result, 0) < 1e-2 * loss(start, 0)
    assert steps == list(range(300)) and set(result) == {"w", "b"}


def test_gradients_through_numpy_code_on_the_device(backend) -> None:
    previous = ag.Tensor  # the default device is the fixture's backend
    x = onp.array([0.5, 1.5])
    g = grad(lambda v: np.sum(np.exp(v) * onp.array([1.0, 2.0])))(x)
    assert type(g) is onp.ndarray
    onp.testing.assert_allclose(g, onp.exp(x) * [1.0, 2.0])
    assert previous is ag.Tensor


def test_linalg_helpers_hips_programs_use() -> None:
    # HIPS autograd's linalg.T and linalg._dot (its own tests call them)
    x = onp.arange(6.0).reshape(1, 2, 3)
    assert type(np.linalg.T(x)) is onp.ndarray and np.linalg.T(x).shape == (1, 3, 2)
    onp.testing.assert_allclose(np.linalg._dot(x, np.linalg.T(x)), x @ x.transpose(0, 2, 1))
    g = grad(lambda a: np.sum(np.linalg._dot(np.linalg.T(a), a)))(x)
    onp.testing.assert_allclose(g, 2 * x @ onp.ones((1, 3, 3)))


def test_assigning_into_the_differentiated_argument_is_a_type_error() -> None:
    def f(a):
        a[1] = 3.0
        return np.sum(a)

    with pytest.raises(TypeError, match="item assignment into the argument"):
        grad(f)(onp.zeros(3))

    def g(a):
        b = a * 2.0
        b[1] = 3.0            # intermediate results: recorded out of place
        return np.sum(b)

    onp.testing.assert_allclose(grad(g)(onp.zeros(3)), [2.0, 0.0, 2.0])


def test_vspace_basis_and_a_differentiable_inner_product() -> None:
    from autograd.extend import vspace

    value = {"a": onp.zeros((2, 2)), "b": [0.0, onp.zeros(3)]}
    vs = vspace(value)
    basis = list(vs.standard_basis())
    assert vs.size == 8 and len(basis) == 8
    gram = onp.array([[vs.inner_prod(x, y) for y in basis] for x in basis])
    onp.testing.assert_allclose(gram, onp.eye(8))
    x, y = vs.randn(), vs.randn()
    gx = grad(vs.inner_prod)(x, y)            # d<x, y>/dx = y, in x's structure
    onp.testing.assert_allclose(gx["a"], y["a"])
    onp.testing.assert_allclose(gx["b"][1], y["b"][1])
    assert vspace(onp.zeros(2, dtype=complex)).size == 4


def test_primitive_vjps_is_the_registry_the_gradients_come_from() -> None:
    from autograd.core import primitive_vjps
    from autograd.extend import defvjp, primitive

    @primitive
    def twice(x):
        return 2.0 * x

    defvjp(twice, lambda ans, x: lambda g: 2.0 * g)
    assert grad(twice)(1.0) == 2.0
    makers = primitive_vjps.pop(twice)
    with pytest.raises(NotImplementedError, match="VJP of twice"):
        grad(twice)(1.0)
    primitive_vjps[twice] = makers
    assert grad(twice)(1.0) == 2.0
