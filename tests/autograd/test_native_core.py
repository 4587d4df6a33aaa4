"""The two cores (autograd/_native.py): which one runs, and that they compute the same bits.

The whole suite runs on both (the README's test command runs it a second time with
``KEDJA_PURE_PYTHON=1``); these tests check the choice itself and compare the two cores'
results across processes.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import autograd as ag
from autograd import _native

BUILT = importlib.util.find_spec("autograd._ccore") is not None
FORCED_PURE = os.environ.get("KEDJA_PURE_PYTHON", "").strip() not in ("", "0")

# A program that prints gradients of a graph touching every path the C core takes: operators
# with constants and arrays, a view, a saved output, an op with more than two inputs, a
# non-raw rule, hooks, retain_grad, a freed and a retained graph, and second order.
_PROGRAM = r"""
import json, numpy as np, autograd as ag
from autograd import _native
rng = np.random.default_rng(0)
x = ag.tensor(rng.standard_normal((3, 4)), requires_grad=True)
w = ag.tensor(rng.standard_normal(4), requires_grad=True)
h = (x * w + 1.5).tanh() - w / 2.0
h = ag.where(h > 0, h, h * 0.1) + np.float32(2) * x.T.T
h.register_hook(lambda g: g * 3)
m = h.sin().exp()
m.retain_grad()
loss = (ag.concatenate([m, -m, x * x], axis=0) ** 2).sum() + x.max()
loss.backward(retain_graph=True)
loss.backward()
gx = ag.grad(lambda t: (t.tanh() * w).sum())(x)
ggx = ag.grad(lambda t: ag.grad(lambda u: (u.tanh() * w).sum())(t).sum())(x)
out = {"native": _native.native()}
for name, t in {"x": x.grad, "w": w.grad, "m": m.grad, "gx": gx, "ggx": ggx}.items():
    out[name] = t.numpy().tolist()
print(json.dumps(out))
"""


def _run(pure: bool) -> dict:
    env = dict(os.environ)
    env.pop("KEDJA_PURE_PYTHON", None)
    if pure:
        env["KEDJA_PURE_PYTHON"] = "1"
    done = subprocess.run([sys.executable, "-c", _PROGRAM], env=env, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)


@pytest.mark.skipif(FORCED_PURE, reason="KEDJA_PURE_PYTHON is set")
@pytest.mark.parametrize("name", ["autograd._ccore", "backends._host_kernels"])
def test_a_built_extension_is_loaded(name) -> None:
    """A build that is present but not loaded is stale (its C files changed since): the suite
    would then test only the Python code. Rebuild with `pip install -e .`."""
    from backends import native

    if importlib.util.find_spec(name) is None:
        pytest.skip(f"{name} was not built (no compiler at install time)")
    loaded = _native.core if name == "autograd._ccore" else native.host_kernels
    assert loaded is not None, f"{name} is built but stale: rebuild with `pip install -e .`"


def test_the_environment_variable_selects_the_pure_python_core() -> None:
    assert _run(pure=True)["native"] is False
    assert _native.native() is (BUILT and not FORCED_PURE)


@pytest.mark.skipif(not BUILT, reason="the C core was not built (no compiler at install time)")
def test_both_cores_compute_the_same_bits() -> None:
    c, pure = _run(pure=False), _run(pure=True)
    assert c.pop("native") is True and pure.pop("native") is False
    assert c.keys() == pure.keys()
    for name in c:
        np.testing.assert_array_equal(np.array(c[name]), np.array(pure[name]), err_msg=name)


@pytest.mark.skipif(not BUILT, reason="the C core was not built (no compiler at install time)")
def test_a_stale_build_is_not_loaded(monkeypatch) -> None:
    from backends import native

    monkeypatch.delenv("KEDJA_PURE_PYTHON", raising=False)
    monkeypatch.setattr(native, "source_hash", lambda sources: "0" * 16)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert native.load("autograd._ccore", _native.SOURCES, _native.ABI) is None
    assert any("rebuild" in str(w.message) for w in seen)


@pytest.mark.skipif(not _native.native(), reason="the C core is not running")
def test_the_c_core_types_are_the_bases() -> None:
    from autograd import _ccore

    assert issubclass(ag.Tensor, _ccore.TensorBase)
    assert issubclass(ag.Function, _ccore.FunctionBase)
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    assert isinstance(y.grad_fn, _ccore.FunctionBase) and y.grad_fn.next_edges == [x, None]
    assert y.grad_fn.needs_input_grad == (True, False)
    assert y.grad_fn._key < 0  # creation numbers count down


def test_grad_mode_is_per_thread() -> None:
    import threading

    seen = {}

    def worker() -> None:
        seen["start"] = ag.is_grad_enabled()
        with ag.no_grad():
            seen["inside"] = ag.is_grad_enabled()
            barrier.wait()
            barrier.wait()

    barrier = threading.Barrier(2)
    thread = threading.Thread(target=worker)
    with ag.no_grad():
        thread.start()
        barrier.wait()
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()  # the worker's no_grad is its own
    barrier.wait()
    thread.join()
    assert seen == {"start": True, "inside": False}

