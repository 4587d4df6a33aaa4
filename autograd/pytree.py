"""Nested containers (lists, tuples, named tuples, dicts) flattened to their leaves and rebuilt:
how the function transforms differentiate with respect to a dict of parameters or a list of
arrays, and hand back gradients of the same structure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class _Leaf:
    __slots__ = ()

    def __repr__(self) -> str:
        return "*"


LEAF = _Leaf()


def tree_flatten(tree: Any) -> tuple[list, Any]:
    """``(leaves, treedef)``: the non-container values of `tree` in order, and its structure."""
    leaves: list = []

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return (dict, type(node), tuple(node), tuple(walk(v) for v in node.values()))
        if isinstance(node, tuple):
            return (tuple, type(node), None, tuple(walk(v) for v in node))
        if isinstance(node, list):
            return (list, list, None, tuple(walk(v) for v in node))
        leaves.append(node)
        return LEAF

    return leaves, walk(tree)


def tree_unflatten(treedef: Any, leaves: list) -> Any:
    """The structure `treedef` (from `tree_flatten`) filled with `leaves` in order."""
    it = iter(leaves)

    def build(node: Any) -> Any:
        if node is LEAF:
            return next(it)
        kind, cls, keys, children = node
        values = [build(c) for c in children]
        if kind is dict:
            out = dict(zip(keys, values))
            return out if cls is dict else cls(out)
        if kind is tuple:
            return cls(*values) if hasattr(cls, "_fields") else cls(values)
        return values

    return build(treedef)


def tree_map(fn: Callable[[Any], Any], tree: Any) -> Any:
    """`tree` with `fn` applied to each leaf."""
    leaves, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [fn(x) for x in leaves])
