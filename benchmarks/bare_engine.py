"""A yardstick for the per-op target: the leanest reverse-mode engine we could write in Python.

    python -m benchmarks.bare_engine          # us per chain op: bare engine, kedja, PyTorch

It runs workload 1's chain (mul, add, tanh on shape-(4,) float32, forward + backward) with a
graph of slotted nodes and a dependency-counting walk, and nothing else: no devices, no dtype or
shape checks, no version counters, hooks, error context or higher-order gradients. Whatever it
costs per op is what CPython itself charges for recording a graph; kedja can approach it but not
pass it. The columns alternate within each repeat, as in the suite.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

from .harness import Context
from .workloads.per_op import N_OPS, chain_inputs, operator_chain


class Leaf:
    __slots__ = ("data", "grad", "node")

    def __init__(self, data: Any) -> None:
        self.data, self.grad, self.node = data, None, None


class Node:
    """One recorded op: where the gradient goes (`edges`) and what the rule needs."""

    __slots__ = ("edges", "saved", "rule")

    def __init__(self, edges: tuple, saved: tuple, rule: Any) -> None:
        self.edges, self.saved, self.rule = edges, saved, rule


def _source(t: Leaf) -> Any:
    return t if t.node is None else t.node


def mul(a: Leaf, b: Leaf) -> Leaf:
    out = Leaf(a.data * b.data)
    out.node = Node((_source(a), _source(b)), (a.data, b.data), _mul_rule)
    return out


def add(a: Leaf, b: Leaf) -> Leaf:
    out = Leaf(a.data + b.data)
    out.node = Node((_source(a), _source(b)), (), _add_rule)
    return out


def tanh(a: Leaf) -> Leaf:
    y = np.tanh(a.data)
    out = Leaf(y)
    out.node = Node((_source(a),), (y,), _tanh_rule)
    return out


def total(a: Leaf) -> Leaf:
    out = Leaf(a.data.sum())
    out.node = Node((_source(a),), (a.data.shape,), _sum_rule)
    return out


def _mul_rule(g: Any, saved: tuple) -> tuple:
    return g * saved[1], g * saved[0]


def _add_rule(g: Any, saved: tuple) -> tuple:
    return g, g


def _tanh_rule(g: Any, saved: tuple) -> tuple:
    y = saved[0]
    return (g * (1 - y * y),)


def _sum_rule(g: Any, saved: tuple) -> tuple:
    return (np.broadcast_to(g, saved[0]),)


def backward(root: Leaf) -> None:
    """Counts each node's consumers, then runs every node once all of them have reported."""
    deps: dict = {root.node: 0}
    stack = [root.node]
    while stack:
        for edge in stack.pop().edges:
            if edge in deps:
                deps[edge] += 1
            else:
                deps[edge] = 1
                if type(edge) is Node:
                    stack.append(edge)
    pending = {root.node: np.ones_like(root.data)}
    ready = [root.node]
    while ready:
        node = ready.pop()
        g = pending.pop(node)
        if type(node) is Leaf:
            node.grad = g if node.grad is None else node.grad + g
            continue
        for edge, gx in zip(node.edges, node.rule(g, node.saved)):
            held = pending.get(edge)
            pending[edge] = gx if held is None else held + gx
            deps[edge] -= 1
            if not deps[edge]:
                ready.append(edge)
        node.saved = None


def bare_chain(x: Leaf, w: Leaf) -> None:
    """The chain forward and backward on the bare engine."""
    x.grad = w.grad = None
    h = x
    for i in range(N_OPS):
        k = i % 3
        h = mul(h, w) if k == 0 else add(h, w) if k == 1 else tanh(h)
    backward(total(h))


def chain_steps() -> dict[str, Any]:
    """One forward + backward of the chain per column, as zero-argument callables."""
    import autograd as ag

    x0, w0 = chain_inputs(Context())
    x, w = Leaf(x0), Leaf(w0)
    kx = ag.tensor(x0, requires_grad=True)
    kw = ag.tensor(w0, requires_grad=True)
    steps: dict[str, Any] = {
        "bare engine": lambda: bare_chain(x, w),
        "kedja": lambda: operator_chain(kx, kw, N_OPS).backward(),
    }
    try:
        import torch
    except ImportError:
        return steps
    torch.set_num_threads(2)
    tx = torch.tensor(x0, requires_grad=True)
    tw = torch.tensor(w0, requires_grad=True)
    steps["PyTorch"] = lambda: operator_chain(tx, tw, N_OPS).backward()
    return steps


def gradients() -> dict[str, tuple]:
    """d sum(chain) / d(x, w) from the bare engine and from kedja (they must agree)."""
    import autograd as ag

    x0, w0 = chain_inputs(Context())
    x, w = Leaf(x0), Leaf(w0)
    bare_chain(x, w)
    kx = ag.tensor(x0, requires_grad=True)
    kw = ag.tensor(w0, requires_grad=True)
    operator_chain(kx, kw, N_OPS).backward()
    return {"bare engine": (x.grad, w.grad), "kedja": (kx.grad.numpy(), kw.grad.numpy())}


def main(repeats: int = 25, inner: int = 40) -> None:
    grads = gradients()
    for got, want in zip(grads["bare engine"], grads["kedja"]):
        np.testing.assert_allclose(got, want, rtol=1e-5)
    steps = chain_steps()
    samples: dict[str, list] = {name: [] for name in steps}
    for step in steps.values():
        step()  # warm-up
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(inner):
                step()
            samples[name].append((time.perf_counter() - start) / inner / N_OPS * 1e6)
    torch_us = statistics.median(samples["PyTorch"]) if "PyTorch" in samples else None
    for name, values in samples.items():
        us = statistics.median(values)
        ratio = f"  {us / torch_us:.2f}x PyTorch" if torch_us else ""
        print(f"{name:12s} {us:6.2f} us/op{ratio}")


if __name__ == "__main__":
    main()
