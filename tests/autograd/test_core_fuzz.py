"""Fuzz: whatever Python code does to the core's objects, the interpreter never crashes.

Each case builds a small graph (two leaves, a few ops), then changes the core's objects as
careless or hostile code could: any field of a Tensor (``array``, ``grad``, ``_grad``,
``grad_fn``, ``_backend``, ``_version``, ``_hooks``, ``requires_grad``) or of a graph node
(``backend``, ``xp``, ``needs_input_grad``, ``next_edges``, ``input_meta``, ``_saved``,
``_sources``, ``_hooks``, ``_retained``, ``output_backend``, ``_key``, ``_observed``,
``_recording``) set to a random object, to another node or tensor of the graph (cycles), or
deleted, or its list changed in place; then it acts: backward (first order, retained, with
create_graph, with hooks), ``saved_tensors``, ops on the changed tensors and on Tensors that
were never initialised, ``Tensor._make`` and ``Function.apply`` with random arguments, and,
on the C core, every function of ``autograd._ccore`` (``walk``, ``configure``, ``next_key``,
the grad mode's fields) with random arguments. Every case must end in a Python exception or a
result; where nothing was changed, the first-order backward (the C walk on the C core) must
give the gradients the Python walk of ``autograd.grad`` gives. The cases run in a child
process (tests/fuzzing.py), so a crash fails the test with the case that caused it.

Both cores run it: the C core's fields are C struct members, the Python core's the
reference's. The default run is bounded (about 1000 cases); ``-m slow`` runs 20 times more.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import fuzzing
from tests.fuzzing import WrongResult, junk

TENSOR_FIELDS = ["array", "grad", "_grad", "grad_fn", "_backend", "_version", "_hooks",
                 "requires_grad"]
NODE_FIELDS = ["backend", "xp", "needs_input_grad", "next_edges", "input_meta", "_saved",
               "_sources", "_hooks", "_retained", "output_backend", "_key", "_observed",
               "_recording"]
UNARY = ["neg", "tanh", "exp", "relu", "abs", "sum0", "row0", "reshape", "T", "clone", "sigmoid"]
BINARY = ["add", "sub", "mul", "div", "where"]
CONFIG = ["Tensor", "FREED", "PLAIN", "OUTPUT", "default_backend", "reraise", "device_mismatch",
          "scoped_forward", "lift", "Add", "Sub", "Mul", "Div", "Neg", "observe",
          "tensor_rule", "fit_raw", "grad_error", "anomaly_record", "complex_dtypes",
          "refuse_complex"]

# -- descriptions ------------------------------------------------------------------------------
INDEX = st.integers(0, 7)  # a tensor or node of the graph, modulo how many there are


@functools.cache
def values() -> st.SearchStrategy:
    """What a field is set to: a random object, or an object of the graph (`ref`)."""
    graph = st.one_of(INDEX.map(lambda i: {"ref": ["t", i]}),
                      INDEX.map(lambda i: {"ref": ["n", i]}),
                      st.sampled_from([{"ref": ["uninit", 0]}, {"ref": ["fresh", 0]},
                                       {"ref": ["list_of_nodes", 0]},
                                       {"ref": ["meta_pair", 0]}, {"ref": ["box", 0]}]))
    return st.one_of(junk(), graph, graph)


@functools.cache
def mutations() -> st.SearchStrategy:
    tensor = st.tuples(st.just("t"), INDEX, st.sampled_from(TENSOR_FIELDS))
    node = st.tuples(st.just("n"), INDEX, st.sampled_from(NODE_FIELDS))
    how = st.sampled_from(["set", "set", "set", "del", "clear", "append", "item", "pop"])
    return st.tuples(st.one_of(tensor, node, node), how, values()).map(
        lambda m: [*m[0], m[1], m[2]])


@functools.cache
def actions() -> st.SearchStrategy:
    return st.one_of(
        st.tuples(st.just("backward"), INDEX, st.booleans(), st.booleans()),
        st.tuples(st.just("grad"), INDEX),
        st.tuples(st.just("saved"), INDEX),
        st.tuples(st.just("save"), INDEX, st.lists(values(), max_size=3), st.booleans()),
        st.tuples(st.just("op"), st.sampled_from(UNARY + BINARY), INDEX, values()),
        st.tuples(st.just("hook"), INDEX, st.booleans()),
        st.tuples(st.just("make"), values(), values()),
        st.tuples(st.just("apply"),
                  st.sampled_from(["Add", "Mul", "Exp", "Sum", "Reshape", "FunctionBase"]),
                  st.lists(values(), max_size=3),
                  st.dictionaries(st.sampled_from(NODE_FIELDS + ["axis", "shape"]), values(),
                                  max_size=2)),
        st.tuples(st.just("walk"), values(), values(), values()),
        st.tuples(st.just("walk_lists"), st.lists(values(), max_size=3),
                  st.lists(values(), max_size=3), st.booleans()),
        st.tuples(st.just("gradstate"), st.sampled_from(["enabled", "raw_backend",
                                                         "captured"]), values()),
        st.tuples(st.just("configure"), st.sampled_from(CONFIG), values()),
        st.tuples(st.just("next_key")),
        st.tuples(st.just("set_anomaly"), values()),
    ).map(list)


@st.composite
def cases(draw) -> dict:
    ops = draw(st.lists(st.tuples(st.sampled_from(UNARY + BINARY), INDEX, INDEX),
                        min_size=1, max_size=6))
    changes = draw(st.lists(mutations(), max_size=3)) if draw(st.integers(0, 4)) else []
    acts = draw(st.lists(actions(), min_size=1, max_size=3))
    return {"ops": [list(o) for o in ops], "mut": changes, "act": acts}


# -- running one case (in the child) -----------------------------------------------------------
def _op(name: str, a, b=None):
    import autograd as ag

    if name in BINARY:
        if name == "where":
            return ag.where(a > 0, a, b)
        return {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
                "div": lambda: a / b}[name]()
    return {"neg": lambda: -a, "tanh": a.tanh, "exp": a.exp, "relu": a.relu, "abs": a.abs,
            "sum0": lambda: a.sum(0), "row0": lambda: a[0], "reshape": lambda: a.reshape(-1),
            "T": lambda: a.T, "clone": a.clone, "sigmoid": a.sigmoid}[name]()


class _Graph:
    """The case's objects: tensors (leaves first) and the nodes that made them."""

    def __init__(self, ops: list) -> None:
        import autograd as ag

        rng = np.random.default_rng(0)
        self.tensors = [ag.tensor(rng.uniform(0.5, 1.5, (2, 3)), requires_grad=True),
                        ag.tensor(rng.uniform(0.5, 1.5, 3), requires_grad=True),
                        ag.tensor(rng.uniform(-1, 1, (2, 3)))]
        for name, i, j in ops:
            a, b = self.tensor(i), self.tensor(j)
            try:
                self.tensors.append(_op(name, a, b))
            except Exception:  # noqa: BLE001, S112 - shapes that do not broadcast
                continue
        self.leaves = self.tensors[:2]

    def tensor(self, i: int):
        return self.tensors[i % len(self.tensors)]

    def node(self, i: int):
        nodes = [t.grad_fn for t in self.tensors if t.grad_fn is not None]
        return nodes[i % len(nodes)] if nodes else self.tensor(i)

    def build(self, spec):
        """A value: an object of the graph for a `ref`, else `fuzzing.build`'s."""
        import autograd as ag
        from autograd.ops.arithmetic import Mul

        if isinstance(spec, dict) and "ref" in spec:
            kind, i = spec["ref"]
            if kind == "t":
                return self.tensor(i)
            if kind == "n":
                return self.node(i)
            if kind == "uninit":
                return ag.Tensor.__new__(ag.Tensor)
            if kind == "fresh":
                return Mul()
            if kind == "list_of_nodes":
                return [self.node(0), self.tensor(0)]
            if kind == "meta_pair":
                return [((2, 3), np.dtype("float64")), None]
            return [0]  # a version box
        return fuzzing.build(spec)


def _mutate(graph: _Graph, change: list) -> None:
    kind, i, field, how, spec = change
    obj = graph.tensor(i) if kind == "t" else graph.node(i)
    value = graph.build(spec)
    if how == "set":
        setattr(obj, field, value)
    elif how == "del":
        delattr(obj, field)
    else:
        held = getattr(obj, field)
        if how == "clear":
            held.clear()
        elif how == "append":
            held.append(value)
        elif how == "item":
            held[0] = value
        else:
            held.pop()


def _act(graph: _Graph, act: list) -> None:
    import autograd as ag
    from autograd import _native
    from autograd.grad_mode import state

    kind = act[0]
    if kind == "backward":
        _, i, retain, create = act
        graph.tensor(i).sum().backward(retain_graph=retain, create_graph=create)
    elif kind == "grad":
        ag.gradients(graph.tensor(act[1]).sum(), graph.leaves, allow_unused=True)
    elif kind == "saved":
        node = graph.node(act[1])
        _ = node.saved_tensors
    elif kind == "save":  # what a rule would see after forward saved these
        _, i, specs, release = act
        node = graph.node(i)
        node.save_for_backward(*(graph.build(v) for v in specs))
        if release:
            node.release()
        _ = node.saved_tensors
        graph.tensors[-1].sum().backward()
    elif kind == "op":
        _, name, i, spec = act
        other = graph.build(spec)
        _op(name, graph.tensor(i), other if name in BINARY else None)
        if name in BINARY:
            _op(name, other, graph.tensor(i))
    elif kind == "hook":
        _, i, replace = act
        t = graph.tensor(i)
        t.register_hook((lambda g: g * 1.0) if replace else (lambda g: None))
        t.retain_grad()
    elif kind == "make":
        t = ag.Tensor._make(graph.build(act[1]), graph.build(act[2]))
        for use in (lambda: t * 2, lambda: -t, lambda: t.sum(), lambda: t.grad,
                    lambda: repr(t)):
            try:
                use()
            except Exception:  # noqa: BLE001, S112 - each use on its own
                continue
    elif kind == "apply":
        _, name, args, kwargs = act
        from autograd import function
        from autograd.ops import arithmetic, reduction, shape, unary

        op = {"Add": arithmetic.Add, "Mul": arithmetic.Mul, "Exp": unary.Exp,
              "Sum": reduction.Sum, "Reshape": shape.Reshape,
              "FunctionBase": function.FunctionBase}[name]
        op.apply(*(graph.build(a) for a in args),
                 **{k: graph.build(v) for k, v in kwargs.items()})
    elif kind in ("walk", "walk_lists") and _native.native():
        from autograd import _ccore

        build = graph.build
        if kind == "walk":
            _ccore.walk(build(act[1]), build(act[2]), build(act[3]))
        else:
            _ccore.walk([build(v) for v in act[1]], [build(v) for v in act[2]], act[3])
    elif kind == "gradstate":
        setattr(state, act[1], graph.build(act[2]))
        _ = graph.tensor(0) * 2
        (graph.tensor(3) * graph.tensor(1)).sum().backward()
    elif kind == "configure" and _native.native():
        from autograd import _ccore

        _ccore.configure(**{act[1]: graph.build(act[2])})
        x = graph.tensor(0)
        ((x + 1) * x - x / 2.0 - (-x)).sum().backward()
    elif kind == "next_key" and _native.native():
        from autograd import _ccore

        _ccore.next_key()
    elif kind == "set_anomaly":  # anomaly mode on (or a random object as the flag)
        if _native.native():
            from autograd import _ccore

            _ccore.set_anomaly(graph.build(act[1]))
        else:
            ag.set_detect_anomaly(True)
        x = graph.tensor(0)
        ((x * x).exp() / x).sum().backward()


def _check_walks_agree(graph: _Graph) -> None:
    """Nothing changed: the first-order backward (the C walk on the C core) and autograd.grad
    (the Python walk, with captures) give the same leaf gradients."""
    import autograd as ag

    root = graph.tensors[-1]
    if not root.requires_grad:
        return
    x, w = graph.leaves
    x.grad = w.grad = None
    want = ag.gradients(root.sum(), [x, w], allow_unused=True, retain_graph=True)
    root.sum().backward(retain_graph=True)
    for leaf, g in zip((x, w), want):
        got = leaf.grad
        if (got is None) != (g is None):
            raise WrongResult(f"a leaf's gradient: {got} from backward, {g} from grad")
        if got is not None and not np.array_equal(got.numpy(), g.numpy(), equal_nan=True):
            raise WrongResult(f"backward gave {got.numpy()}, grad gave {g.numpy()}")


def run_case(case: dict) -> None:
    graph = _Graph(case["ops"])
    if not case["mut"]:
        try:
            _check_walks_agree(graph)
        except WrongResult:
            raise
        except Exception:  # noqa: BLE001, S110 - e.g. a graph whose root needs no grad
            pass
    for change in case["mut"]:
        try:
            _mutate(graph, change)
        except Exception:  # noqa: BLE001, S112 - a refused change: the next one
            continue
    for act in case["act"]:
        try:
            _act(graph, act)
        except (WrongResult, SystemError):
            raise
        except Exception:  # noqa: BLE001, S112 - an accepted outcome: the next action
            continue


def reset() -> None:
    """Puts back what a case may have changed beyond its own objects: the grad mode, anomaly
    mode and the core's settings."""
    import importlib

    from autograd import _native
    from autograd.grad_mode import state

    # The modules (`autograd.tensor` the name is the creation function).
    engine, function, tensor, function_base, anomaly = (
        importlib.import_module(f"autograd.{name}")
        for name in ("engine", "function", "tensor", "function_base", "anomaly_mode"))
    anomaly.set_detect_anomaly(False)

    state.enabled = True
    state.raw_backend = None
    state.captured = None
    if _native.native():
        core = _native.core
        ops = tensor._arith
        core.configure(Tensor=tensor.Tensor, lift=tensor._lift, Add=ops.Add, Sub=ops.Sub,
                       Mul=ops.Mul, Div=ops.Div, Neg=ops.Neg,
                       grad_error=tensor._tensor_base._raise_bad_grad)
        core.configure(FREED=function._FREED, PLAIN=function._PLAIN, OUTPUT=function._OUTPUT,
                       default_backend=tensor._default_backend,
                       reraise=function._reraise_with_context,
                       device_mismatch=function._raise_device_mismatch,
                       scoped_forward=function._scoped_forward,
                       refuse_complex=function_base._refuse_complex,
                       complex_dtypes=tuple(function_base._COMPLEX),
                       anomaly_record=anomaly.record)
        core.configure(observe=engine._observe, tensor_rule=engine._tensor_rule,
                       fit_raw=engine._fit_raw)


# -- the tests ---------------------------------------------------------------------------------
def _fuzz(examples: int) -> None:
    with fuzzing.child(__name__) as runner:
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
        @given(cases())
        def run(case) -> None:
            runner.run(case)

        run()


def test_the_core_never_crashes() -> None:
    _fuzz(1000)


@pytest.mark.slow
def test_the_core_never_crashes_long() -> None:
    _fuzz(20000)
