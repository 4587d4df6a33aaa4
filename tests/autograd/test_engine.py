"""The backward engine: deep graphs, accumulation, hooks, grad modes, graph lifetime, aliasing."""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest

import autograd as ag
from autograd.engine import run_backward


def _t(values, backend, requires_grad=True, dtype="float64"):
    return ag.tensor(values, dtype=dtype, device=backend, requires_grad=requires_grad)


def test_100k_op_chain_backward_needs_no_recursion(backend) -> None:
    x = _t(1.0, backend)
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0000001**100_000, rel=1e-9)
    del y  # freeing the deep graph must not overflow the stack either
    gc.collect()


def test_diamond_and_shared_subexpressions(backend) -> None:
    x = _t([1.0, 2.0], backend)
    h = x * x  # used by both branches
    y = (h * 3.0 + h.exp()).sum() + (h * h).sum()
    y.backward()
    xs = np.array([1.0, 2.0])
    hs = xs * xs
    expected = (3.0 + np.exp(hs) + 2 * hs) * 2 * xs
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


def test_same_tensor_twice_in_one_op(backend) -> None:
    x = _t([3.0], backend)
    (x * x + x).sum().backward()
    assert x.grad.numpy().tolist() == [7.0]


def test_gradients_accumulate_across_backward_calls(backend) -> None:
    x = _t([1.0, 2.0], backend)
    (x * 2.0).sum().backward()
    (x * x).sum().backward()
    assert x.grad.numpy().tolist() == [4.0, 6.0]


def test_leaf_grad_never_aliases_another_leafs_grad(backend) -> None:
    a = _t([1.0, 2.0], backend)
    b = _t([3.0, 4.0], backend)
    (a + b).sum().backward()
    with ag.no_grad():
        a.grad += 10.0
    assert b.grad.numpy().tolist() == [1.0, 1.0]
    assert a.grad.numpy().tolist() == [11.0, 11.0]


def test_leaf_grad_does_not_alias_the_seed_or_a_retained_grad(backend) -> None:
    x = _t([1.0, 2.0], backend)
    y = x.clone()
    y.retain_grad()
    seed = _t([5.0, 6.0], backend, requires_grad=False)
    y.backward(seed)
    with ag.no_grad():
        x.grad *= 0.0
    assert seed.numpy().tolist() == [5.0, 6.0]
    assert y.grad.numpy().tolist() == [5.0, 6.0]


def test_gradients_results_do_not_alias_each_other(backend) -> None:
    a = _t([1.0], backend)
    b = _t([2.0], backend)
    ga, gb = ag.gradients((a + b).sum(), [a, b])
    with ag.no_grad():
        ga += 1.0
    assert gb.numpy().tolist() == [1.0]


def test_hook_on_leaf_sees_and_replaces_grad(backend) -> None:
    x = _t([1.0, 2.0], backend)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().tolist()))
    x.register_hook(lambda g: g * 10.0)
    (x * 3.0).sum().backward()
    assert seen == [[3.0, 3.0]]
    assert x.grad.numpy().tolist() == [30.0, 30.0]


def test_hook_on_non_leaf_changes_what_flows_on(backend) -> None:
    x = _t([1.0, 2.0], backend)
    h = x * 2.0
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().tolist()))
    h.register_hook(lambda g: g * 0.5)
    (h * h).sum().backward()
    assert seen == [[4.0, 8.0]]  # d(h^2)/dh = 2h
    assert x.grad.numpy().tolist() == [4.0, 8.0]  # 0.5 * 2h * 2


def test_hook_removal(backend) -> None:
    x = _t([1.0], backend)
    remove = x.register_hook(lambda g: g * 100.0)
    remove()
    remove()  # removing twice is harmless
    (x * 2.0).sum().backward()
    assert x.grad.numpy().tolist() == [2.0]


def test_register_hook_requires_grad(backend) -> None:
    x = _t([1.0], backend, requires_grad=False)
    with pytest.raises(RuntimeError, match="does not require grad"):
        x.register_hook(lambda g: g)


def test_retain_grad_keeps_non_leaf_grad(backend) -> None:
    x = _t([1.0, 2.0], backend)
    h = x * 3.0
    z = x * 4.0
    h.retain_grad()
    (h * h + z).sum().backward()
    assert h.grad.numpy().tolist() == [6.0, 12.0]
    assert z.grad is None  # not retained
    assert h.grad.grad_fn is None


def test_retained_grad_accumulates_like_a_leaf(backend) -> None:
    x = _t([1.0], backend)
    h = x * 3.0
    h.retain_grad()
    y = (h * 2.0).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert h.grad.numpy().tolist() == [4.0]


def test_no_grad_enable_grad_set_grad_enabled_as_context_managers(backend) -> None:
    x = _t([1.0], backend)
    with ag.no_grad():
        assert not ag.is_grad_enabled()
        assert not (x * 2.0).requires_grad
        with ag.enable_grad():
            assert (x * 2.0).requires_grad
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
    with ag.set_grad_enabled(False):
        assert (x * 2.0).grad_fn is None
    assert ag.is_grad_enabled()
    with ag.set_grad_enabled(True):
        assert (x * 2.0).grad_fn is not None


def test_grad_modes_as_decorators(backend) -> None:
    x = _t([1.0], backend)

    @ag.no_grad()
    def double(t):
        return t * 2.0

    @ag.no_grad
    def triple(t):
        return t * 3.0

    @ag.set_grad_enabled(False)
    def quadruple(t):
        return t * 4.0

    assert ag.is_grad_enabled()  # decorating with set_grad_enabled switched nothing
    for fn in (double, triple, quadruple):
        assert not fn(x).requires_grad
        assert ag.is_grad_enabled()

    @ag.enable_grad()
    def recorded(t):
        return t * 2.0

    with ag.no_grad():
        assert recorded(x).requires_grad
        assert not ag.is_grad_enabled()


def test_grad_mode_restored_after_exception(backend) -> None:
    with pytest.raises(KeyError):
        with ag.no_grad():
            raise KeyError("boom")
    assert ag.is_grad_enabled()


def test_grad_mode_is_thread_local(backend) -> None:
    seen = []
    with ag.no_grad():
        thread = threading.Thread(target=lambda: seen.append(ag.is_grad_enabled()))
        thread.start()
        thread.join()
    assert seen == [True]


def test_plain_set_grad_enabled_call_switches_until_switched_back(backend) -> None:
    try:
        ag.set_grad_enabled(False)
        assert not ag.is_grad_enabled()
    finally:
        ag.set_grad_enabled(True)
    assert ag.is_grad_enabled()


def test_second_backward_without_retain_graph_raises_clearly(backend) -> None:
    x = _t([1.0, 2.0], backend)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"Mul: .*second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward_and_grads_double(backend) -> None:
    x = _t([1.0, 2.0], backend)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.numpy().tolist() == [4.0, 8.0]


def test_saved_arrays_are_freed_after_backward(backend) -> None:
    x = _t([1.0, 2.0], backend)
    h = x * 3.0
    try:
        ref = weakref.ref(h.array)
    except TypeError:
        pytest.skip(f"{backend.name} arrays do not support weak references")
    loss = (h * h).sum()
    del h
    gc.collect()
    assert ref() is not None  # held by the Mul node for backward
    loss.backward()
    gc.collect()
    assert ref() is None


def test_graph_nodes_form_no_reference_cycles(backend) -> None:
    # Reference counting alone frees a graph (ops saving their own output included): a cycle
    # would leave every node to the garbage collector, which then costs time on every op.
    x = _t([0.5, 1.0], backend)
    x.requires_grad_(True)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        y = x.tanh().exp() * x
        node = weakref.ref(y.grad_fn)
        first = weakref.ref(y.grad_fn.next_edges[0])
        y.sum().backward()
        del y
        assert node() is None and first() is None
        y = x.tanh().exp()  # freed without a backward too
        node = weakref.ref(y.grad_fn)
        del y
        assert node() is None
    finally:
        if was_enabled:
            gc.enable()


def test_saved_arrays_survive_backward_with_retain_graph(backend) -> None:
    x = _t([1.0, 2.0], backend)
    h = x * 3.0
    try:
        ref = weakref.ref(h.array)
    except TypeError:
        pytest.skip(f"{backend.name} arrays do not support weak references")
    loss = (h * h).sum()
    del h
    loss.backward(retain_graph=True)
    gc.collect()
    assert ref() is not None


def test_in_place_change_of_saved_tensor_names_the_op(backend) -> None:
    x = _t([1.0, 2.0], backend)
    c = _t([3.0, 4.0], backend, requires_grad=False)
    y = (x * c).exp().sum()
    c += 1.0  # not recorded (c needs no grad): written in memory, version bumped
    with pytest.raises(RuntimeError, match=r"Mul: a tensor it saved for backward .*modified in "
                                           r"place.*version 1, expected 0"):
        y.backward()


def test_in_place_change_under_no_grad_of_saved_non_leaf_is_caught(backend) -> None:
    x = _t([1.0, 2.0], backend)
    h = x * 2.0
    y = (h * h).sum()
    with ag.no_grad():
        h += 1.0
    with pytest.raises(RuntimeError, match="Mul: a tensor it saved"):
        y.backward()


def test_recorded_in_place_keeps_the_old_value_for_earlier_ops(backend) -> None:
    x = _t([1.0, 2.0], backend)
    h = x * 2.0
    y = h * h  # saved the old h
    h += 1.0  # recorded out of place: y's saved h is intact
    (y.sum() + h.sum()).backward()
    assert x.grad.numpy().tolist() == [10.0, 18.0]  # 8x + 2


def test_create_graph_third_derivative_of_x4(backend) -> None:
    x = _t(2.0, backend)
    (g1,) = ag.gradients(x**4, x, create_graph=True)
    (g2,) = ag.gradients(g1, x, create_graph=True)
    (g3,) = ag.gradients(g2, x)
    assert (g1.item(), g2.item(), g3.item()) == (32.0, 48.0, 48.0)  # 4x^3, 12x^2, 24x


def test_backward_create_graph_then_backward_of_grad(backend) -> None:
    x = _t([1.0, 3.0], backend)
    (x**3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    x.grad = None
    g.sum().backward()
    assert x.grad.numpy().tolist() == [6.0, 18.0]


def test_run_backward_with_inputs_leaves_grad_alone(backend) -> None:
    x = _t([1.0, 2.0], backend)
    w = _t([3.0, 4.0], backend)
    (gx,) = run_backward([(x * w).sum()], [None], inputs=[x])
    assert gx.numpy().tolist() == [3.0, 4.0]
    assert x.grad is None and w.grad is None


def test_gradient_with_respect_to_a_non_leaf(backend) -> None:
    x = _t([1.0, 2.0], backend)
    h = x * 2.0
    (gh,) = ag.gradients((h * h).sum(), h)
    assert gh.numpy().tolist() == [4.0, 8.0]


def test_unused_input_raises_unless_allowed(backend) -> None:
    x = _t([1.0], backend)
    unused = _t([1.0], backend)
    with pytest.raises(RuntimeError, match="not used"):
        ag.gradients((x * 2.0).sum(), [x, unused], retain_graph=True)
    gx, gu = ag.gradients((x * 2.0).sum(), [x, unused], allow_unused=True)
    assert gx.numpy().tolist() == [2.0] and gu is None


def test_several_outputs_and_explicit_grads(backend) -> None:
    x = _t([1.0, 2.0], backend)
    a, b = x * 2.0, x * x
    seeds = [_t([1.0, 1.0], backend, False), _t([0.5, 0.5], backend, False)]
    run_backward([a, b], seeds)
    assert x.grad.numpy().tolist() == [3.0, 4.0]


def test_broadcast_gradients_are_summed_back_to_the_input_shape(backend) -> None:
    x = _t([[1.0], [2.0]], backend)  # (2, 1)
    y = _t([1.0, 2.0, 3.0], backend)  # (3,)
    (x * y).sum().backward()
    assert x.grad.shape == (2, 1) and y.grad.shape == (3,)
    assert x.grad.numpy().tolist() == [[6.0], [6.0]]
    assert y.grad.numpy().tolist() == [3.0, 3.0, 3.0]


def test_backward_on_a_leaf_sets_its_grad_to_the_seed(backend) -> None:
    x = _t([1.0, 2.0], backend)
    seed = _t([3.0, 4.0], backend, requires_grad=False)
    x.backward(seed)
    assert x.grad.numpy().tolist() == [3.0, 4.0]
    with ag.no_grad():
        x.grad += 1.0
    assert seed.numpy().tolist() == [3.0, 4.0]
