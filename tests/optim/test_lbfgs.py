"""LBFGS and its strong-Wolfe line search."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import optim
from optim.line_search import cubic_minimizer, strong_wolfe

from .helpers import param


def _rosenbrock(x):
    a, b = x[0], x[1]
    return (1 - a) ** 2 + 100 * (b - a * a) ** 2


def _closure(opt, loss_fn, *args):
    def closure():
        opt.zero_grad()
        loss = loss_fn(*args)
        loss.backward()
        return loss
    return closure


@pytest.mark.parametrize("line_search_fn, lr, steps", [(None, 0.1, 10), ("strong_wolfe", 1, 3)])
def test_minimises_rosenbrock(backend, line_search_fn, lr, steps):
    x = param([-1.5, 2.0], backend)
    opt = optim.LBFGS([x], lr=lr, max_iter=20, history_size=10, line_search_fn=line_search_fn)
    closure = _closure(opt, _rosenbrock, x)
    first = opt.step(closure)
    assert float(first.item()) == pytest.approx(float(_rosenbrock(ag.tensor([-1.5, 2.0]))))
    for _ in range(steps):
        opt.step(closure)
    np.testing.assert_allclose(x.numpy(), [1.0, 1.0], atol=5e-3)
    state = opt.state[x]
    assert state["n_iter"] > 0 and state["func_evals"] >= state["n_iter"]


def test_line_search_solves_a_quadratic_in_few_iterations(backend):
    """A convex quadratic in 6 unknowns over two parameters (one without a gradient): L-BFGS
    with the line search reaches the solution in about n iterations."""
    rng = np.random.default_rng(0)
    m = rng.standard_normal((6, 6))
    a_np, b_np = m @ m.T + 6 * np.eye(6), rng.standard_normal(6)
    a, b = ag.tensor(a_np, device=backend), ag.tensor(b_np, device=backend)
    u, v = param(np.zeros(4), backend), param(np.zeros(2), backend)
    frozen = param(np.ones(3), backend)

    def loss_fn():
        x = ag.concatenate([u, v])
        return 0.5 * (x * (a @ x)).sum() - (b * x).sum()

    opt = optim.LBFGS([u, frozen, v], line_search_fn="strong_wolfe", max_iter=12)
    opt.step(_closure(opt, loss_fn))
    solution = np.linalg.solve(a_np, b_np)
    np.testing.assert_allclose(np.concatenate([u.numpy(), v.numpy()]), solution, atol=1e-6)
    np.testing.assert_array_equal(frozen.numpy(), np.ones(3))
    assert opt.state[u]["n_iter"] <= 12


def test_resume_equals_uninterrupted(backend):
    def run(split):
        x = param([-1.2, 1.0], backend)
        opt = optim.LBFGS([x], max_iter=4, history_size=3, line_search_fn="strong_wolfe")
        for i in range(4):
            if i == split:
                saved = opt.state_dict()
                x2 = param(x.numpy(), backend)
                opt = optim.LBFGS([x2], max_iter=4, history_size=3,
                                  line_search_fn="strong_wolfe")
                opt.load_state_dict(saved)
                x = x2
            opt.step(_closure(opt, _rosenbrock, x))
        return x.numpy(), opt.state[x]["func_evals"]

    straight, evals = run(None)
    resumed, evals_resumed = run(2)
    np.testing.assert_allclose(resumed, straight, rtol=1e-12)
    assert evals == evals_resumed


def test_state_layout_is_pytorchs(backend):
    x = param([-1.2, 1.0], backend)
    opt = optim.LBFGS([x], max_iter=3)
    opt.step(_closure(opt, _rosenbrock, x))
    state = opt.state_dict()["state"][0]
    assert set(state) == {"func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro",
                          "H_diag", "prev_flat_grad", "prev_loss"}
    assert state["d"].shape == (2,) and len(state["old_dirs"]) == len(state["ro"]) <= 2


def test_stops_at_a_stationary_point(backend):
    x = param([1.0, 1.0], backend)
    opt = optim.LBFGS([x])
    opt.step(_closure(opt, _rosenbrock, x))
    assert opt.state[x]["func_evals"] == 1 and opt.state[x]["n_iter"] == 0


def test_defaults_and_refusals():
    x = ag.zeros(2, requires_grad=True)
    opt = optim.LBFGS([x])
    assert opt.defaults == dict(lr=1, max_iter=20, max_eval=25, tolerance_grad=1e-7,
                                tolerance_change=1e-9, history_size=100, line_search_fn=None)
    with pytest.raises(TypeError, match="closure"):
        opt.step()
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [x]}, {"params": [ag.zeros(1, requires_grad=True)]}])
    with pytest.raises(ValueError, match="line_search_fn"):
        optim.LBFGS([x], line_search_fn="backtracking")
    with pytest.raises(ValueError, match="history_size"):
        optim.LBFGS([x], history_size=0)


def test_cubic_minimizer_is_exact_on_a_cubic():
    def f(t):
        return t**3 - 3 * t  # minimum at t = 1

    def s(t):
        return 3 * t**2 - 3

    assert cubic_minimizer(0.0, f(0.0), s(0.0), 2.0, f(2.0), s(2.0)) == pytest.approx(1.0)
    # clipped to the bounds given; the middle where the cubic has no minimum
    assert cubic_minimizer(0.0, f(0.0), s(0.0), 2.0, f(2.0), s(2.0), bounds=(1.5, 3)) == 1.5
    assert cubic_minimizer(0.0, 0.0, 1.0, 1.0, 1.0, 1.0, bounds=(2.0, 4.0)) == 3.0


@pytest.mark.parametrize("t0", [1e-3, 1.0, 50.0])
def test_strong_wolfe_conditions_hold(t0):
    """phi(t) = f(x + t d) for a 1-D function: the step returned satisfies both conditions."""
    def phi(t):
        return (t - 3.0) ** 2 + np.sin(3 * t), 2 * (t - 3.0) + 3 * np.cos(3 * t)

    f0, g0 = phi(0.0)
    f, g, t, evals = strong_wolfe(lambda t: phi(t), lambda g: float(g), t0, f0, g0, g0)
    assert f <= f0 + 1e-4 * t * g0
    assert abs(g) <= 0.9 * abs(g0)
    assert (f, g) == phi(t) and 1 <= evals <= 25
