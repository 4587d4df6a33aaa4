"""`Backend.capture_graph`: CUDA graphs on CuPy, their strict emulation on the fake device.

Replays must write the buffers the capture wrote and equal eager execution; what a GPU does not
do during a capture (run anything) must show: capture-time results are undefined (poisoned on the
fake device), in-place updates of older arrays have not happened, and host synchronisations,
host copies and random draws raise. Tests marked by the `graphs` fixture run on every backend
with graphs (the fake device in CI, CuPy on a GPU).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import autograd as ag
import backends
import nn
import optim
from backends import GraphCaptureError
from tests.conftest import BACKENDS, default_backend


@pytest.fixture(params=[n for n in BACKENDS if backends.get(n).supports_graphs])
def graphs(request):
    """A backend with graphs (made the default, as the `backend` fixture does)."""
    with default_backend(request.param) as b:
        yield b


@pytest.fixture
def fake():
    return backends.get("fake")


def _host(b, a) -> np.ndarray:
    return b.to_numpy(a)


def test_only_device_backends_have_graphs() -> None:
    cpu = backends.get("cpu")
    assert cpu.supports_graphs is False
    assert backends.get("fake").supports_graphs is True
    with pytest.raises(GraphCaptureError, match="needs a device backend"):
        cpu.capture_graph(lambda: None)


def test_a_replay_writes_the_captured_buffers_and_equals_eager(graphs) -> None:
    b, xp = graphs, graphs.xp
    x = b.asarray(np.array([0.5, -1.0, 2.0, 3.0], dtype=np.float32))
    w = b.asarray(np.ones(4, dtype=np.float32))
    acc = b.asarray(np.zeros((), dtype=np.float32))
    out: dict = {}

    def step() -> None:
        y = xp.tanh(x) * 2.0 + w           # a ufunc and operators: new arrays
        w[...] += 0.5                        # an in-place operator on a view
        w[1:3] *= y[1:3]                     # setitem-style write through a slice
        xp.multiply(y, y, out=y)             # ufunc with out=
        acc[...] = acc + y.sum()             # a method (reduction) and __setitem__
        out["y"] = y

    def eager(x_, w_, acc_):
        y = np.tanh(x_) * 2.0 + w_
        w_ = w_ + 0.5
        w_[1:3] *= y[1:3]
        y = y * y
        return y, w_, acc_ + y.sum()

    g = b.capture_graph(step)
    y_buffer = out["y"]
    ref_w, ref_acc = np.ones(4, np.float32), np.zeros((), np.float32)
    for k in range(3):
        x_now = np.array([0.5, -1.0, 2.0, 3.0], dtype=np.float32) * (k + 1)
        x[...] = b.asarray(x_now)            # new input, same buffer
        g.launch()
        ref_y, ref_w, ref_acc = eager(x_now, ref_w, ref_acc)
        assert out["y"] is y_buffer          # nothing rebinds: the graph writes fixed buffers
        np.testing.assert_allclose(_host(b, y_buffer), ref_y, rtol=1e-6)
        np.testing.assert_allclose(_host(b, w), ref_w, rtol=1e-6)
        np.testing.assert_allclose(_host(b, acc), ref_acc, rtol=1e-5)
    assert g.allocated_bytes >= y_buffer.nbytes


def test_capture_time_values_are_undefined_and_old_arrays_unchanged(fake) -> None:
    xp = fake.xp
    x = fake.asarray(np.arange(3.0))
    counts = fake.asarray(np.array([1, 2, 3]))
    out: dict = {}

    def step() -> None:
        out["y"] = x * 2.0
        out["i"] = counts + 1
        out["mask"] = x > 0
        x[...] = xp.exp(x)                   # on a GPU this has not run yet
        counts[0] = 7

    g = fake.capture_graph(step)
    assert np.isnan(fake.to_numpy(out["y"])).all()          # poisoned: nothing ran
    assert (fake.to_numpy(out["i"]) == np.iinfo(np.int64).min).all()
    np.testing.assert_array_equal(fake.to_numpy(x), np.arange(3.0))   # old values kept
    np.testing.assert_array_equal(fake.to_numpy(counts), [1, 2, 3])
    g.launch()
    np.testing.assert_array_equal(fake.to_numpy(out["y"]), np.arange(3.0) * 2.0)
    np.testing.assert_array_equal(fake.to_numpy(out["mask"]), [False, True, True])
    np.testing.assert_allclose(fake.to_numpy(x), np.exp(np.arange(3.0)))
    np.testing.assert_array_equal(fake.to_numpy(out["i"]), [2, 3, 4])
    np.testing.assert_array_equal(fake.to_numpy(counts), [7, 2, 3])


@pytest.mark.parametrize("what", ["float", "item", "to_numpy", "get", "synchronize", "repr",
                                  "host_copy", "asarray_list", "mask", "nonzero", "random"])
def test_host_synchronisations_and_copies_inside_a_capture_raise(graphs, what: str) -> None:
    b, xp = graphs, graphs.xp
    x = b.asarray(np.arange(4.0))
    actions = {
        "float": lambda: float(x.sum()),
        "item": lambda: x[0].item(),
        "to_numpy": lambda: b.to_numpy(x),
        "get": lambda: x.get(),
        "synchronize": b.synchronize,
        "repr": lambda: repr(x),
        "host_copy": lambda: b.asarray(np.ones(2)),
        "asarray_list": lambda: xp.asarray([1.0, 2.0]),
        "mask": lambda: x[x > 1.0],
        "nonzero": lambda: xp.nonzero(x),
        "random": lambda: b.normal(0.0, 1.0, (2,), np.float32),
    }
    with pytest.raises(GraphCaptureError):
        b.capture_graph(lambda: (x * 2.0, actions[what]()))
    assert not b.is_capturing
    g = b.capture_graph(lambda: x.__imul__(2.0))  # the backend captures again afterwards
    g.launch()
    np.testing.assert_array_equal(b.to_numpy(x), np.arange(4.0) * 2.0)


def test_an_invalidated_capture_fails_even_if_the_error_was_caught(fake) -> None:
    x = fake.asarray(np.arange(3.0))

    def step() -> None:
        y = x + 1.0
        try:
            float(y.sum())
        except GraphCaptureError:
            pass

    with pytest.raises(GraphCaptureError, match="invalidated"):
        fake.capture_graph(step)
    np.testing.assert_array_equal(fake.to_numpy(x), np.arange(3.0))


def test_captures_do_not_nest_and_graphs_launch_outside_captures(graphs) -> None:
    b = graphs
    x = b.asarray(np.ones(2))
    g = b.capture_graph(lambda: x.__iadd__(1.0))
    with pytest.raises(GraphCaptureError, match="do not nest"):
        b.capture_graph(lambda: b.capture_graph(lambda: None))
    with pytest.raises(GraphCaptureError, match="launch"):
        b.capture_graph(g.launch)
    g.launch()
    g.launch()
    np.testing.assert_array_equal(b.to_numpy(x), [3.0, 3.0])


def test_work_of_other_threads_is_not_captured(fake) -> None:
    x = fake.asarray(np.zeros(2))
    other = fake.asarray(np.zeros(2))

    def step() -> None:
        worker = threading.Thread(target=lambda: other.__iadd__(5.0))
        worker.start()
        worker.join()
        x[...] = x + 1.0

    g = fake.capture_graph(step)
    np.testing.assert_array_equal(fake.to_numpy(other), [5.0, 5.0])  # ran, as on its own stream
    g.launch()
    g.launch()
    np.testing.assert_array_equal(fake.to_numpy(x), [2.0, 2.0])
    np.testing.assert_array_equal(fake.to_numpy(other), [5.0, 5.0])


def test_scatter_add_and_gathers_replay_with_the_indices_of_the_launch(graphs) -> None:
    b, xp = graphs, graphs.xp
    table = b.asarray(np.arange(5.0))
    idx = b.asarray(np.array([0, 0, 4]))
    acc = xp.zeros(5)
    out: dict = {}

    def step() -> None:
        out["rows"] = table[idx]
        b.scatter_add(acc, idx, 1.0)

    g = b.capture_graph(step)
    idx[...] = b.asarray(np.array([1, 2, 2]))
    g.launch()
    np.testing.assert_array_equal(b.to_numpy(out["rows"]), [1.0, 2.0, 2.0])
    np.testing.assert_array_equal(b.to_numpy(acc), [0, 1, 2, 0, 0])


def test_index_errors_found_by_a_launch_are_raised_at_the_next_sync(graphs) -> None:
    b = graphs
    x = ag.tensor(np.arange(4.0), device=b)
    idx = ag.tensor(np.array([0, 1]), device=b)
    out: dict = {}
    g = b.capture_graph(lambda: out.update(y=ag.take_along_axis(x, idx, 0)))
    b.synchronize()                              # the capture itself noted nothing to raise
    idx.array[...] = b.asarray(np.array([0, 9]))
    g.launch()
    with pytest.raises(IndexError, match="out of range"):
        b.synchronize()


def test_fused_kernels_replay_into_their_outputs(fake) -> None:
    from backends.fake_kernels import compiler

    if compiler() is None:
        pytest.skip("no C++ compiler for the CUDA bodies")
    axpy = fake.elementwise_kernel("T x, T y, float32 a", "T z", "z = T(a * x + y);",
                                   name="graph_axpy")
    total = fake.reduction_kernel("T x", "T y", "x", "a + b", "y = a", "0", "graph_sum")
    x = fake.asarray(np.arange(4, dtype=np.float32))
    y = fake.asarray(np.ones(4, dtype=np.float32))
    z = fake.xp.empty(4, dtype=np.float32)
    out: dict = {}

    def step() -> None:
        axpy(x, y, 2.0, z)
        out["s"] = total(z)

    g = fake.capture_graph(step)
    x[...] = fake.asarray(np.full(4, 3, dtype=np.float32))
    g.launch()
    np.testing.assert_array_equal(fake.to_numpy(z), np.full(4, 7.0))
    assert float(out["s"]) == 28.0


def test_a_forward_and_backward_on_preallocated_buffers(graphs) -> None:
    b = graphs
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(3, 2)).astype(np.float32)
    batches = [rng.normal(size=(4, 3)).astype(np.float32) for _ in range(3)]
    w = ag.tensor(w0, requires_grad=True, device=b)
    x = ag.zeros(4, 3, device=b)                 # the input buffer, refilled before launches
    loss_buf, grad_buf = b.xp.zeros((), np.float32), b.xp.zeros((3, 2), np.float32)

    def step() -> None:
        w.grad = None
        loss = ((x @ w).tanh() ** 2).mean()
        loss.backward()
        loss_buf[...] = loss.array
        grad_buf[...] = w.grad.array

    g = b.capture_graph(step)
    for batch in batches:
        x.array[...] = b.asarray(batch)
        g.launch()
        ref_w = ag.tensor(w0, requires_grad=True)
        ref = ((ag.tensor(batch) @ ref_w).tanh() ** 2).mean()
        ref.backward()
        np.testing.assert_allclose(b.to_numpy(loss_buf), ref.numpy(), rtol=1e-6)
        np.testing.assert_allclose(b.to_numpy(grad_buf), ref_w.grad.numpy(), rtol=1e-5,
                                   atol=1e-7)


def test_a_captured_training_step_equals_eager_steps_bit_for_bit(graphs) -> None:
    b = graphs

    def setup():
        ag.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)).to(b.device)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        x = ag.randn(5, 6, device=b)
        y = ag.tensor(np.arange(5) % 3, device=b)
        loss_buf = b.xp.zeros((), np.float32)

        def step() -> None:
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            loss_buf[...] = loss.array

        return model, step, loss_buf

    model, step, loss_buf = setup()
    step()                                       # warm-up: creates the momentum buffers
    g = b.capture_graph(step)
    replayed = []
    for _ in range(3):
        g.launch()
        replayed.append(b.to_numpy(loss_buf).item())
    weights = b.to_numpy(model[0].weight.array)

    model, step, loss_buf = setup()
    eager = []
    for _ in range(4):
        step()
        eager.append(b.to_numpy(loss_buf).item())
    assert replayed == eager[1:]
    np.testing.assert_array_equal(weights, b.to_numpy(model[0].weight.array))


def test_python_numbers_are_baked_into_the_graph(graphs) -> None:
    b = graphs
    x = b.asarray(np.ones(2))
    scale = 2.0
    g = b.capture_graph(lambda: x.__imul__(scale))
    scale = 10.0                                 # too late: the kernel took 2.0 at capture
    g.launch()
    np.testing.assert_array_equal(b.to_numpy(x), [2.0, 2.0])
    assert scale == 10.0


def test_a_broadcast_view_of_a_new_result_follows_the_launches(fake) -> None:
    x = fake.asarray(np.arange(3.0))
    out: dict = {}

    def step() -> None:
        out["b"] = fake.xp.broadcast_to(x + 1.0, (2, 3))

    g = fake.capture_graph(step)
    x[...] = fake.asarray(np.full(3, 5.0))
    g.launch()
    np.testing.assert_array_equal(fake.to_numpy(out["b"]), np.full((2, 3), 6.0))
