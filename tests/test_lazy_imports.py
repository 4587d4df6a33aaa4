"""`import autograd, nn, optim` leaves the rarely needed modules unloaded (issue 19: import time),
and each lazy name still resolves, by attribute, by `from ... import` and in `dir()`.

Each check runs in a fresh interpreter: this test process has imported everything already.
"""

from __future__ import annotations

import builtins
import json
import subprocess
import sys
import textwrap

import pytest

import autograd
import optim
from backends import kernels

#: Modules the plain import must not load (loaded on first use instead).
LAZY_MODULES = [
    "autograd.functional", "autograd.differential_operators",
    "autograd.extend", "autograd.config", "autograd.autocast_mode",
    "autograd.autocast_policy", "autograd.grad_scaler", "autograd.ops.einsum",
    "autograd.ops.attention", "autograd.ops.conv_gemm", "autograd.numpy",
    "autograd.step_compiler", "autograd.capture",
    "backends.kernels.optimizers", "backends.kernels.optimizers_more",
    "backends.kernels.recurrent", "backends.kernels.pooling", "backends.kernels.softmax",
    "backends.kernels.windows",
    "optim.lr_scheduler", "optim.lbfgs", "optim.radam", "optim.adamax", "optim.nadam",
    "optim.adadelta", "optim.asgd",
    "nn.functional", "nn.layers", "nn.utils", "nn.parallel", "nn.trainer",
    "numpy.random",
]


def _run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_plain_import_leaves_the_lazy_modules_unloaded() -> None:
    loaded = json.loads(_run(f"""
        import json, sys
        import autograd, nn, optim
        print(json.dumps([m for m in {LAZY_MODULES!r} if m in sys.modules]))
    """))
    assert loaded == []


@pytest.mark.parametrize("package, lazy", [
    (autograd, autograd._LAZY), (optim, optim._LAZY), (kernels, kernels._LAZY),
])
def test_every_lazy_name_is_public_and_listed(package, lazy) -> None:
    # names that would shadow a Python builtin (ag.compile) are attributes, never star-exported
    assert {name for name in lazy if not hasattr(builtins, name)} <= set(package.__all__)
    assert set(lazy) <= set(dir(package))
    assert set(package._LAZY_SUBMODULES) <= set(dir(package))


def test_lazy_names_resolve_in_a_fresh_process() -> None:
    out = _run("""
        import autograd as ag, optim
        from backends import kernels
        from autograd import grad, einsum, autocast, GradScaler
        from optim import LBFGS, lr_scheduler
        import optim.lr_cycles  # a scheduler module first: no import cycle
        assert ag.grad is grad and optim.LBFGS is LBFGS
        assert optim.lr_scheduler is lr_scheduler and lr_scheduler.CyclicLR.__name__ == "CyclicLR"
        assert ag.functional.grad is grad and ag.pytree.tree_flatten
        assert callable(ag.gradcheck) and callable(kernels.adam_step)
        assert kernels.recurrent.lstm_cell and kernels.launches == 0
        print(float(grad(lambda x: (x * x).sum())(ag.tensor([3.0]))[0]))
        # einsum takes array-likes like the other NumPy-dialect functions
        print(float(ag.einsum("i,i->", [1.0, 2.0], [3.0, 4.0])))
    """)
    assert out.split() == ["6.0", "11.0"]


def test_star_imports_bind_the_lazy_names() -> None:
    out = _run("""
        from autograd import *
        from optim import *
        print(grad.__name__, einsum.__name__, GradScaler.__name__, LBFGS.__name__,
              lr_scheduler.StepLR.__name__)
    """)
    assert out.split() == ["grad", "einsum", "GradScaler", "LBFGS", "StepLR"]


def test_autocast_hooks_the_ops_when_a_region_first_opens() -> None:
    out = _run("""
        import sys
        import autograd as ag
        x = ag.ones((2, 2))
        print("autograd.autocast_policy" in sys.modules)
        with ag.autocast("cpu", dtype=ag.float16):
            y = x @ x
        print("autograd.autocast_policy" in sys.modules, y.dtype)
    """)
    assert out.split()[:2] == ["False", "True"] and "float16" in out


def test_unknown_names_still_raise_attribute_error() -> None:
    for package in (autograd, optim, kernels):
        with pytest.raises(AttributeError, match="no_such_name"):
            package.no_such_name  # noqa: B018
