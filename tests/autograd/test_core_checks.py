"""Python code that breaks the core's fields gets a Python exception, never a crash.

The C core (autograd/csrc) reads Tensor's and Function's fields as C struct members, which
Python code can overwrite (or, for a Tensor subclass that skips ``super().__init__``, never
set). Each case below crashed the C core once; both cores now raise, with the same exception
type. Every case runs in a child process as well, so a crash fails the test instead of ending
the run (tests/autograd/test_core_fuzz.py tries random variations of them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import autograd as ag
from autograd import _native

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
C_CORE = pytest.mark.skipif(not _native.native(), reason="the C core is not running")


def _in_child(source: str) -> subprocess.CompletedProcess:
    """Runs `source` in a fresh interpreter on this test run's core; its outcome."""
    program = "import faulthandler; faulthandler.enable()\n" + textwrap.dedent(source)
    return subprocess.run([sys.executable, "-c", program], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def _raises_in_child(source: str, exc: str) -> None:
    """`source` ends in a Python exception of type `exc` in a child process (not a crash)."""
    done = _in_child(source)
    assert done.returncode == 1, f"exit status {done.returncode} (a crash?)\n{done.stderr}"
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(exc + ":"), done.stderr


# -- a Tensor whose __init__ never ran -------------------------------------------------------
class _Skips(ag.Tensor):
    def __init__(self) -> None:  # noqa: D107 - never calls Tensor.__init__, on purpose
        pass


@pytest.mark.parametrize("make", [_Skips, lambda: ag.Tensor.__new__(ag.Tensor)],
                         ids=["subclass", "new"])
@pytest.mark.parametrize("use", [lambda t: t * 2, lambda t: 2 - t, lambda t: -t,
                                 lambda t: t.exp(), lambda t: ag.ones(1) + t],
                         ids=["mul", "rsub", "neg", "exp", "add"])
def test_an_uninitialised_tensor_is_refused_by_every_op(make, use) -> None:
    # The float methods (exp, ...) read the dtype first, to cast integer tensors as PyTorch
    # does; there the error is Python's own for the missing field (a plain attribute read
    # keeps those methods fast), elsewhere the op names the problem.
    with pytest.raises(AttributeError,
                       match=r"was never initialised .*super\(\).__init__|attribute 'array'"):
        use(make())


def test_an_uninitialised_tensor_in_a_child_process() -> None:
    _raises_in_child("""
        import autograd as ag
        class T(ag.Tensor):
            def __init__(self):
                pass
        T() * 2
    """, "AttributeError")
    _raises_in_child("import autograd as ag\nag.Tensor.__new__(ag.Tensor) * 2", "AttributeError")


def test_an_uninitialised_tensor_as_grad_is_refused() -> None:
    p = ag.ones(2, requires_grad=True)
    with pytest.raises(AttributeError):
        p.grad = ag.Tensor.__new__(ag.Tensor)
    assert p.grad is None


# -- graph fields overwritten ----------------------------------------------------------------
def _graph():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    return x, x * x


@pytest.mark.parametrize("value, exc", [(None, TypeError), (5, TypeError), ([], ValueError),
                                        ("longer", ValueError)],
                         ids=["None", "int", "empty", "longer"])
def test_input_meta_replaced(value, exc) -> None:
    x, y = _graph()
    meta = y.grad_fn.input_meta
    y.grad_fn.input_meta = [*meta, meta[0]] if value == "longer" else value
    with pytest.raises(exc):
        y.sum().backward()


def test_input_meta_entries_replaced() -> None:
    x, y = _graph()
    y.grad_fn.input_meta[0] = 7  # the list itself, changed in place
    with pytest.raises(TypeError):
        y.sum().backward()


@pytest.mark.parametrize("value, exc", [(None, TypeError), (3, TypeError), ("one", RuntimeError)],
                         ids=["None", "int", "shorter"])
def test_next_edges_replaced(value, exc) -> None:
    x, y = _graph()
    y.grad_fn.next_edges = [x] if value == "one" else value
    with pytest.raises(exc):
        y.sum().backward()


def test_an_edge_that_is_not_a_node_or_tensor() -> None:
    x, y = _graph()
    y.grad_fn.next_edges[0] = 3.5
    with pytest.raises(AttributeError):
        y.sum().backward()


def test_a_cycle_in_the_graph_raises_instead_of_looping() -> None:
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x + 1
    y.grad_fn.next_edges[0] = y.grad_fn  # a node feeding itself
    with pytest.raises(RuntimeError, match="cycle"):
        y.sum().backward()
    z = (x + 1) * 2
    z.grad_fn.next_edges[0].next_edges[0] = z.grad_fn  # a longer loop
    with pytest.raises(RuntimeError, match="cycle"):
        z.sum().backward()


def test_a_creation_number_out_of_order_raises() -> None:
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    z = (x + 1) * 2
    z.grad_fn._key = 2**63 - 1  # now "recorded" before its input's producer
    with pytest.raises(RuntimeError, match="cycle or its _key was changed"):
        z.sum().backward()


@pytest.mark.parametrize("value, exc", [(0, TypeError), ([], IndexError), (None, TypeError)],
                         ids=["int", "empty", "None"])
def test_version_counter_replaced(value, exc) -> None:
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    x._version = value
    with pytest.raises(exc):
        x * x


def test_version_counter_emptied_after_the_op_saved_it() -> None:
    x, y = _graph()
    x._version.clear()
    with pytest.raises(IndexError):
        y.sum().backward()


@pytest.mark.parametrize("value, exc", [([1], TypeError), (5, TypeError), ([(1, 2)], ValueError)],
                         ids=["int-item", "int", "pair"])
def test_sources_replaced(value, exc) -> None:
    x, y = _graph()
    y.grad_fn._sources = value
    with pytest.raises(exc):
        _ = y.grad_fn.saved_tensors


def test_a_node_made_outside_apply_is_refused() -> None:
    from autograd.ops.arithmetic import Mul

    node = Mul()  # no backend, edges or metadata: only apply fills them
    node.save_for_backward(ag.ones(2).array)
    with pytest.raises(TypeError):  # no _sources
        _ = node.saved_tensors
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.grad_fn = node
    with pytest.raises(AttributeError):  # no _key, next_edges, ...
        y.sum().backward()


def test_the_issue_cases_end_in_exceptions_in_a_child_process() -> None:
    # The cases of issue 12, each in a fresh interpreter.
    head = "import autograd as ag\nx = ag.tensor([1., 2.], requires_grad=True)\ny = x * x\n"
    _raises_in_child(head + "y.grad_fn.input_meta = None\ny.sum().backward()", "TypeError")
    _raises_in_child(head + "y.grad_fn.input_meta = []\ny.sum().backward()", "ValueError")
    _raises_in_child(head + "x._version = 0\nx * x", "TypeError")
    _raises_in_child(head + "y.grad_fn._sources = [1]\ny.grad_fn.saved_tensors", "TypeError")


# -- the C core's module functions -----------------------------------------------------------
@C_CORE
@pytest.mark.parametrize("args, exc", [
    (([1], [2], False), TypeError),
    (([], [], False), None),
    (((), [], False), TypeError),
    (([None], [None], True), TypeError),
    (("roots",), TypeError),
], ids=["ints", "empty", "tuple", "none", "one-arg"])
def test_walk_checks_its_arguments(args, exc) -> None:
    from autograd import _ccore

    if exc is None:
        assert _ccore.walk(*args) == ([], {}, {})
    else:
        with pytest.raises(exc):
            _ccore.walk(*args)


@C_CORE
def test_walk_needs_a_gradient_per_root() -> None:
    from autograd import _ccore

    x, y = _graph()
    with pytest.raises(ValueError, match="1 roots but 0 root gradients"):
        _ccore.walk([y.grad_fn], [], False)
    with pytest.raises(TypeError, match="root gradient 0"):
        _ccore.walk([y.grad_fn], [ag.Tensor.__new__(ag.Tensor)], False)


@C_CORE
@pytest.mark.parametrize("setting, value", [("Add", int), ("Mul", 5), ("lift", 3),
                                            ("Tensor", float), ("observe", None)])
def test_configure_refuses_what_the_core_cannot_use(setting, value) -> None:
    from autograd import _ccore

    with pytest.raises(TypeError):
        _ccore.configure(**{setting: value})
    assert (ag.ones(2) + 1).numpy().tolist() == [2.0, 2.0]  # nothing was changed


@C_CORE
def test_an_op_class_without_forward_configured_as_add() -> None:
    # In a child: the changed setting must not leak into this run.
    _raises_in_child("""
        from autograd import _ccore
        import autograd as ag
        _ccore.configure(Add=_ccore.FunctionBase)  # a class without forward
        ag.ones(2) + ag.ones(2)
    """, "AttributeError")


def test_the_c_core_loaded_without_autograd_raises() -> None:
    # The extension on its own (as a stray import could load it): not configured, it raises.
    import glob

    built = glob.glob(os.path.join(REPO, "autograd", "_ccore*.so")) + glob.glob(
        os.path.join(REPO, "autograd", "_ccore*.pyd"))
    if not built:
        pytest.skip("the C core was not built")
    _raises_in_child(f"""
        import importlib.util
        spec = importlib.util.spec_from_file_location("autograd._ccore", {built[0]!r})
        core = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(core)
        t = core.TensorBase._make(1.0, None)
        for attempt in (lambda: t * 2, lambda: -t, lambda: core.walk([], [], False)):
            try:
                attempt()
            except RuntimeError as e:
                assert "configure" in str(e), e
            else:
                raise AssertionError("no error")
        raise RuntimeError("configure")
    """, "RuntimeError")
