"""ag.compile: replayed steps give eager's bits; guards recapture; what cannot be captured is
refused (fallback="raise") or run eagerly with a warning (fallback="eager")."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
import optim
from autograd.capture import ReplayDiverged

STEPS = 6


def _model_and_optimizer(kind: str) -> tuple:
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 4))
    for p in model.parameters():
        p.array[...] = (rng.standard_normal(p.shape) * 0.3).astype(np.float32)
    if kind == "adam":
        opt = optim.Adam(model.parameters(), lr=1e-2)
    else:
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return model, opt


def _batches() -> list:
    rng = np.random.default_rng(1)
    return [(ag.tensor(rng.standard_normal((8, 12)).astype(np.float32)),
             ag.tensor(rng.integers(0, 4, 8))) for _ in range(STEPS)]


def _train(kind: str, compiled: bool, scheduler: bool = True) -> tuple:
    model, opt = _model_and_optimizer(kind)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5) if scheduler else None

    def train_step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()  # a changing learning rate: read live at each replay
        return loss

    step = ag.compile(train_step) if compiled else train_step
    losses = [step(x, y).array.copy() for x, y in _batches()]
    return [p.array.copy() for p in model.parameters()], losses, opt, step


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_mlp_steps_are_eagers_bits(kind):
    params_e, losses_e, opt_e, _ = _train(kind, compiled=False)
    params_c, losses_c, opt_c, step = _train(kind, compiled=True)
    assert step.captures_made == 1
    for a, b in zip(params_e + losses_e, params_c + losses_c):
        assert np.array_equal(a, b)
    # Adam's Python step count advanced at each replay, as eagerly.
    if kind == "adam":
        assert [s["step"] for s in opt_c.state.values()] == [STEPS] * 4
        assert opt_c.param_groups[0]["lr"] == opt_e.param_groups[0]["lr"]


def _chain(x, w, n=30):
    x.grad = None
    w.grad = None
    h = x
    for i in range(n):
        h = (h * w, h + w, h.tanh())[i % 3] if False else (
            h * w if i % 3 == 0 else h + w if i % 3 == 1 else h.tanh())
    return h.sum()


def test_per_op_chain_gradients_are_eagers_bits():
    def leaves():
        rng = np.random.default_rng(2)
        return [ag.tensor(rng.uniform(0.5, 1.0, 4).astype(np.float32), requires_grad=True)
                for _ in range(2)]

    (xe, we), (xc, wc) = leaves(), leaves()

    def run(x, w):
        loss = _chain(x, w)
        loss.backward()
        return loss

    step = ag.compile(lambda: run(xc, wc))
    for _ in range(4):
        le, lc = run(xe, we), step()
        assert np.array_equal(le.array, lc.array)
        assert np.array_equal(xe.grad.array, xc.grad.array)
        assert np.array_equal(we.grad.array, wc.grad.array)
        for t in (xe, we, xc, wc):  # move the leaves, in place, between steps
            t.array -= 0.05 * t.grad.array
    assert step.captures_made == 1


def test_guards_recapture_on_shape_grad_mode_and_rebound_parameters():
    w = ag.tensor(np.ones((3, 2), np.float32), requires_grad=True)
    step = ag.compile(lambda x: (x @ w).sum())
    x3 = ag.tensor(np.ones((4, 3), np.float32))
    assert step(x3).item() == 24.0
    assert step(ag.tensor(np.full((4, 3), 2.0, np.float32))).item() == 48.0
    assert step.captures_made == 1
    step(ag.tensor(np.ones((5, 3), np.float32)))  # a new shape
    assert step.captures_made == 2
    with ag.no_grad():  # a new grad mode
        step(x3)
    assert step.captures_made == 3
    w.data = ag.tensor(np.full((3, 2), 3.0, np.float32))  # a new array behind the parameter
    assert step(x3).item() == 72.0
    assert step.captures_made == 4


def test_inputs_are_copied_not_kept():
    step = ag.compile(lambda x: x * 2)
    x = ag.tensor(np.arange(3, dtype=np.float32))
    step(x)
    x2 = ag.tensor(np.ones(3, np.float32))
    out = step(x2)
    assert np.array_equal(out.array, [2, 2, 2])
    assert np.array_equal(x.array, [0, 1, 2])  # the first input was not overwritten
    out.array[...] = 7  # results are copies
    assert np.array_equal(step(x2).array, [2, 2, 2])


@pytest.mark.parametrize("body, words", [
    (lambda x: x * float((x * 2).sum()), "to_numpy"),
    (lambda x: x + ag.randn(3), "random"),
    (lambda x: x[x > 0], "boolean-mask"),
])
def test_uncapturable_steps_raise_or_fall_back(body, words):
    x = ag.tensor(np.array([1.0, -2.0, 3.0], np.float32))
    with pytest.raises(ag.CaptureError, match=words):
        ag.compile(body)(x)
    step = ag.compile(body, fallback="eager")
    with pytest.warns(RuntimeWarning, match=words):
        first = step(x)
    second = step(x)  # eager from then on, no new warning, no capture kept
    assert first.shape == second.shape and not step._captures


def test_changed_host_read_at_replay_raises():
    # Library code's own checks read arrays on the host; the replay checks them again.
    step = ag.compile(lambda x, y: F.cross_entropy(x, y))
    x = ag.tensor(np.zeros((2, 3), np.float32))
    step(x, ag.tensor(np.array([0, 1])))
    with pytest.raises((ReplayDiverged, IndexError, ValueError)):
        step(x, ag.tensor(np.array([0, 7])))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="fallback"):
        ag.compile(lambda: None, fallback="maybe")
    with pytest.raises(TypeError, match="hashable"):
        ag.compile(lambda x: x)([1, 2])


# -- device backends: the step as one graph (the fake device's emulation runs in CI) ----------
def _device_mlp(device: str) -> tuple:
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 4)).to(device)
    with ag.no_grad():
        for p in model.parameters():
            p.copy_(ag.tensor((rng.standard_normal(p.shape) * 0.3).astype(np.float32),
                              device=device))
    return model, optim.Adam(model.parameters(), lr=1e-2)


@pytest.fixture
def graph_device():
    import backends

    for name in ("fake", "cuda"):
        try:
            backend = backends.get(name)
        except Exception:  # noqa: BLE001 - not available here
            continue
        if getattr(backend, "supports_graphs", False):
            return backend.device
    pytest.skip("no backend with graph capture")


def test_device_graph_replays_eager_bits(graph_device):
    rng = np.random.default_rng(1)
    batches = [(ag.tensor(rng.standard_normal((8, 12)).astype(np.float32), device=graph_device),
                ag.tensor(rng.integers(0, 4, 8), device=graph_device)) for _ in range(5)]

    def train(compiled: bool) -> tuple:
        model, opt = _device_mlp(graph_device)

        def forward_backward(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            return loss

        step = ag.compile(forward_backward) if compiled else forward_backward
        losses = []
        for x, y in batches:
            losses.append(step(x, y).numpy().copy())
            opt.step()  # outside the graph: Adam's step count and lr stay live
        return [p.numpy().copy() for p in model.parameters()] + losses, step

    eager, _ = train(False)
    compiled, step = train(True)
    assert step.captures_made == 1
    for a, b in zip(eager, compiled):
        assert np.array_equal(a, b)


def test_device_graph_refuses_an_optimizer_step_inside(graph_device):
    model, opt = _device_mlp(graph_device)
    x = ag.tensor(np.ones((2, 12), np.float32), device=graph_device)

    def train_step(x):
        opt.zero_grad()
        loss = model(x).sum()
        loss.backward()
        opt.step()
        return loss

    step = ag.compile(train_step)
    step(x)  # the eager warm-up call
    with pytest.raises(ag.CaptureError, match="Adam.step"):
        step(x)
    before = [p.numpy().copy() for p in model.parameters()]
    eager_step = ag.compile(train_step, fallback="eager")
    eager_step(x)
    with pytest.warns(RuntimeWarning, match="Adam.step"):
        eager_step(x)  # refused in the capture, which ran nothing: this call runs eagerly
    assert [s["step"] for s in opt.state.values()] == [3] * 4
    assert not all(np.array_equal(a, p.numpy()) for a, p in zip(before, model.parameters()))


def test_values_computed_behind_the_recorders_back_are_refused_at_the_second_call():
    def body(x):
        doubled = np.asarray(x.array) * 2  # NumPy on a plain view: the recorder cannot see it
        return x * ag.tensor(doubled)

    x1 = ag.tensor(np.array([1.0, 2.0], np.float32))
    x2 = ag.tensor(np.array([3.0, 4.0], np.float32))
    step = ag.compile(body)
    assert np.array_equal(step(x1).array, [2, 8])  # the capture (an eager run)
    with pytest.raises(ag.CaptureError, match="outside the backend's namespace"):
        step(x2)  # captured again: the unseen array's values changed with the data
    step = ag.compile(body, fallback="eager")
    step(x1)
    with pytest.warns(RuntimeWarning, match="outside the backend's namespace"):
        assert np.array_equal(step(x2).array, [18, 32])
    assert np.array_equal(step(x1).array, [2, 8])  # eager from then on


def test_constants_made_before_the_capture_are_confirmed_by_a_second_capture():
    constant = np.array([1.0, -1.0], np.float32)  # made outside, read as a constant

    def body(x):
        return x * ag.tensor(constant)

    step = ag.compile(body)
    x = ag.tensor(np.array([1.0, 2.0], np.float32))
    for k in range(4):
        assert np.array_equal(step(x * (k + 1)).array, [k + 1, -2 * (k + 1)])
    assert step.captures_made == 2


def _squared_output_step(model, opt):
    """A training step on the mean squared output: zero_grad, forward, backward, step."""

    def step(x):
        opt.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    return step


def _same_run(build, steps: int = 4) -> tuple:
    """Runs build()'s (step, inputs, state) eagerly and compiled; returns both states."""
    runs = []
    for compiled in (False, True):
        step, inputs, state = build()
        f = ag.compile(step) if compiled else step
        losses = [f(x).array.copy() for x in inputs[:steps]]
        runs.append(losses + state())
    return runs


def test_grad_scaler_runs_live_with_a_growing_scale():
    def build():
        rng = np.random.default_rng(0)
        model = nn.Linear(6, 3)
        for p in model.parameters():
            p.array[...] = rng.standard_normal(p.shape).astype(np.float32)
        opt = optim.SGD(model.parameters(), lr=0.1)
        scaler = ag.GradScaler("cpu", init_scale=16.0, growth_interval=2)

        def step(x):
            opt.zero_grad()
            loss = (model(x) ** 2).mean()
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            return loss

        inputs = [ag.tensor(rng.standard_normal((4, 6)).astype(np.float32)) for _ in range(6)]
        step(inputs.pop())  # an eager step first: the scaler's arrays exist before the capture
        return step, inputs, lambda: ([p.array.copy() for p in model.parameters()]
                                      + [np.float64(scaler.get_scale())])

    eager, compiled = _same_run(build, steps=5)
    assert eager[-1] == 16.0 * 2 ** 3  # the scale grew during the compiled steps too
    for a, b in zip(eager, compiled):
        assert np.array_equal(a, b)


def test_conv_batch_norm_pool_steps_are_eagers_bits():
    def build():
        rng = np.random.default_rng(0)
        model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12, 2))
        for p in model.parameters():
            p.array[...] = (rng.standard_normal(p.shape) * 0.5).astype(np.float32)
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

        step = _squared_output_step(model, opt)
        inputs = [ag.tensor(rng.standard_normal((2, 2, 4, 4)).astype(np.float32))
                  for _ in range(3)]
        return step, inputs, lambda: [t.array.copy() for t in model.state_dict().values()]

    eager, compiled = _same_run(build, steps=3)
    for a, b in zip(eager, compiled):
        assert np.array_equal(a, b)


def test_embedding_scatter_into_a_fresh_zeros_is_replayed_from_zeros():
    # The rule's zeros are written in place by np.add.at: each replay starts them from zeros.
    def build():
        rng = np.random.default_rng(0)
        model = nn.Sequential(nn.Embedding(10, 3), nn.Flatten(), nn.Linear(12, 2))
        for p in model.parameters():
            p.array[...] = rng.standard_normal(p.shape).astype(np.float32)
        opt = optim.Adam(model.parameters(), lr=1e-2)

        step = _squared_output_step(model, opt)
        inputs = [ag.tensor(rng.integers(0, 10, (3, 4))) for _ in range(4)]
        return step, inputs, lambda: [p.array.copy() for p in model.parameters()]

    eager, compiled = _same_run(build)
    for a, b in zip(eager, compiled):
        assert np.array_equal(a, b)


def test_cache_nesting_and_reset():
    w = ag.tensor(np.full(1, 3.0, np.float32))
    inner = ag.compile(lambda x: x * w)
    outer = ag.compile(lambda x: inner(x) + 1, max_captures=2)
    for n in (1, 2, 3, 1):  # three shapes through a cache of two: the first is captured again
        x = ag.tensor(np.full(n, 2.0, np.float32))
        assert np.array_equal(outer(x).array, np.full(n, 7.0))
    assert outer.captures_made == 4 and len(outer._captures) == 2
    assert inner.captures_made == 0  # inlined into the outer capture
    outer.reset()
    outer(ag.tensor(np.ones(2, np.float32)))
    assert outer.captures_made == 5


def test_a_compiled_method_binds_self():
    class Scaler:
        def __init__(self, k):
            self.w = ag.tensor(np.full(2, k, np.float32))

        @ag.compile
        def apply(self, x):
            return x * self.w

    a, b = Scaler(2.0), Scaler(3.0)
    x = ag.tensor(np.ones(2, np.float32))
    for _ in range(2):
        assert np.array_equal(a.apply(x).array, [2, 2])
        assert np.array_equal(b.apply(x).array, [3, 3])
    assert Scaler.apply.captures_made == 2  # one capture per instance (the guard)


def test_train_and_eval_modes_are_guarded():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    step = ag.compile(lambda x: model(x))
    x = ag.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    train_out = step(x).array.copy()
    model.eval()  # BatchNorm now uses its running statistics: another path
    eval_out = step(x)
    assert step.captures_made == 2
    with ag.no_grad():
        assert np.array_equal(eval_out.array, model(x).array)
    assert not np.array_equal(train_out, eval_out.array)
