"""einsum: Einstein summation with NumPy's subscripts (ellipsis, repeated indices such as
``'ii->i'`` and ``'ii'``, implicit output, broadcasting of length-1 axes, the interleaved
``einsum(a, [0, 1], b, [1, 2])`` form).

One op, `Einsum`, on labels parsed once by the wrapper. Its forward contracts operands left to
right, each pair as one batched matrix product (transpose, reshape, ``xp.matmul``: the way
``tensordot`` runs, on BLAS or cuBLAS), after taking repeated indices as diagonals and summing
indices no later operand needs. Its rule is itself an einsum: the gradient of operand k is gy
contracted with the other operands, with identity matrices putting it back on the diagonal of a
repeated index and a vector of ones broadcasting it over an index that only operand k has; so
second derivatives are einsums too.
"""

from __future__ import annotations

from typing import Any

from ..function import Function
from ..tensor import Tensor, _lift

__all__ = ["einsum"]

# Sorted as ASCII, so that sorting labels sorts letters (the implicit output) and sublist ints
# 0..51 name the same axes as in NumPy.
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


# -- evaluation on raw arrays -----------------------------------------------------------------
def _prod(values: Any) -> int:
    n = 1
    for v in values:
        n *= v
    return n


def _single(xp: Any, x: Any, labels: list, keep: list) -> Any:
    """One operand reduced to the labels `keep` (in that order): diagonals of repeated labels,
    sums over dropped labels, a transpose."""
    labels = list(labels)
    while len(set(labels)) != len(labels):
        label = next(lab for i, lab in enumerate(labels) if lab in labels[:i])
        i = labels.index(label)
        j = labels.index(label, i + 1)
        x = xp.diagonal(x, 0, i, j)  # the diagonal becomes the last axis
        labels = [lab for k, lab in enumerate(labels) if k not in (i, j)] + [label]
    drop = tuple(i for i, lab in enumerate(labels) if lab not in keep)
    if drop:
        x = x.sum(axis=drop)
        labels = [lab for lab in labels if lab in keep]
    order = [labels.index(lab) for lab in keep]
    if order != list(range(len(order))):
        x = x.transpose(order)
    return x


def _pair(xp: Any, a: Any, la: list, b: Any, lb: list, keep: list) -> Any:
    """Two operands contracted to the labels `keep` with one batched matrix product."""
    a_keep = [lab for lab in dict.fromkeys(la) if lab in lb or lab in keep]
    b_keep = [lab for lab in dict.fromkeys(lb) if lab in la or lab in keep]
    a = _single(xp, a, la, a_keep)
    b = _single(xp, b, lb, b_keep)
    size = dict(zip(a_keep, a.shape)) | dict(zip(b_keep, b.shape))
    batch = [lab for lab in a_keep if lab in b_keep and lab in keep]
    summed = [lab for lab in a_keep if lab in b_keep and lab not in keep]
    left = [lab for lab in a_keep if lab not in b_keep]
    right = [lab for lab in b_keep if lab not in a_keep]
    nb = _prod(size[lab] for lab in batch)
    m = _prod(size[lab] for lab in left)
    k = _prod(size[lab] for lab in summed)
    n = _prod(size[lab] for lab in right)
    a = a.transpose([a_keep.index(lab) for lab in batch + left + summed]).reshape(nb, m, k)
    b = b.transpose([b_keep.index(lab) for lab in batch + summed + right]).reshape(nb, k, n)
    y = xp.matmul(a, b).reshape(tuple(size[lab] for lab in batch + left + right))
    labels = batch + left + right
    order = [labels.index(lab) for lab in keep]
    return y if order == list(range(len(order))) else y.transpose(order)


def _contract(xp: Any, arrays: tuple, inputs: tuple, output: tuple) -> Any:
    """The einsum of `arrays` with label tuples `inputs` into the labels `output`."""
    x, labels = arrays[0], list(inputs[0])
    for k in range(1, len(arrays)):
        later = set(output).union(*inputs[k + 1:])
        if k == len(arrays) - 1:
            keep = list(output)
        else:
            keep = [lab for lab in dict.fromkeys(labels + list(inputs[k])) if lab in later]
        x, labels = _pair(xp, x, labels, arrays[k], list(inputs[k]), keep), keep
    if len(arrays) == 1:
        y = _single(xp, x, labels, list(output))
        return y.copy() if y is x or getattr(y, "base", None) is not None else y
    return x


class Einsum(Function):
    """y = einsum of the inputs, with `inputs` (a label tuple per operand), `output` and
    `sizes` (label -> length) parsed by the wrapper; the rule is an einsum per operand."""

    def forward(self, *arrays):
        self.save_for_backward(*arrays)
        return _contract(self.xp, arrays, self.inputs, self.output)

    def backward(self, gy):
        xs = self.saved_tensors
        backend, xp = self.backend, self.xp
        grads = []
        fresh = max(self.sizes, default=0) + 1
        for k, needed in enumerate(self.needs_input_grad):
            if not needed:
                grads.append(None)
                continue
            others = [j for j in range(len(xs)) if j != k]
            operands = [gy] + [xs[j] for j in others]
            specs = [self.output] + [self.inputs[j] for j in others]
            present = set(self.output).union(*(self.inputs[j] for j in others))
            sizes = dict(self.sizes)
            out, seen = [], set()
            for label in self.inputs[k]:
                n = self.sizes[label]
                if label in seen:
                    # A repeated index: the gradient lies on the diagonal (eye ties the copy).
                    operands.append(Tensor._make(xp.eye(n, dtype=gy.dtype), backend))
                    specs.append((label, fresh))
                    sizes[fresh] = n
                    out.append(fresh)
                    fresh += 1
                    continue
                seen.add(label)
                out.append(label)
                if label not in present:
                    # Only this operand has it: forward summed it, so gy broadcasts along it.
                    operands.append(Tensor._make(xp.ones(n, dtype=gy.dtype), backend))
                    specs.append((label,))
            grads.append(Einsum.apply(*operands, inputs=tuple(specs), output=tuple(out),
                                      sizes=sizes))
        return tuple(grads)


# -- parsing ---------------------------------------------------------------------------------
_ELLIPSIS_BASE = 1000  # labels of ellipsis axes; letters are 0..51
_BROADCAST_BASE = 2000  # a length-1 axis broadcast against a longer one gets its own label


def _parse_term(term: str, where: str) -> list:
    out = []
    i = 0
    while i < len(term):
        if term.startswith("...", i):
            out.append(Ellipsis)
            i += 3
            continue
        ch = term[i]
        if ch not in _LETTERS:
            raise ValueError(f"einsum: invalid subscript {ch!r} in {where!r} (letters and ... "
                             "only)")
        out.append(_LETTERS.index(ch))
        i += 1
    if out.count(Ellipsis) > 1:
        raise ValueError(f"einsum: more than one ellipsis in {where!r}")
    return out


def _parse_string(subscripts: str, count: int) -> tuple:
    text = subscripts.replace(" ", "")
    if "->" in text:
        lhs, rhs = text.split("->", 1)
        if "->" in rhs:
            raise ValueError(f"einsum: more than one '->' in {subscripts!r}")
        output = _parse_term(rhs, subscripts)
    else:
        lhs, output = text, None
    terms = lhs.split(",")
    if len(terms) != count:
        raise ValueError(f"einsum: {subscripts!r} names {len(terms)} operands, got {count}")
    return [_parse_term(t, subscripts) for t in terms], output


def _parse_sublist(sublist: Any) -> list:
    out = []
    for s in sublist:
        if s is Ellipsis:
            out.append(Ellipsis)
        elif isinstance(s, int) and 0 <= s < len(_LETTERS):
            out.append(int(s))
        else:
            raise ValueError(f"einsum: sublist entries must be ints in [0, 52) or ..., got {s!r}")
    return out


def _expand(terms: list, output: list | None, shapes: list) -> tuple:
    """Label tuples with ellipses expanded and broadcast axes relabelled; the output labels;
    and each label's length."""
    widths = []
    for term, shape in zip(terms, shapes):
        named = len(term) - (Ellipsis in term)
        if (Ellipsis in term and len(shape) < named) or (
                Ellipsis not in term and len(shape) != named):
            raise ValueError(f"einsum: operand of shape {shape} does not match its "
                             f"{named} subscripts")
        widths.append(len(shape) - named if Ellipsis in term else 0)
    ell = max(widths, default=0)
    ell_labels = [_ELLIPSIS_BASE + i for i in range(ell)]
    expanded = []
    for term, width in zip(terms, widths):
        labels = []
        for t in term:
            labels.extend(ell_labels[ell - width:] if t is Ellipsis else [t])
        expanded.append(labels)
    sizes: dict = {}
    for labels, shape in zip(expanded, shapes):
        for label, n in zip(labels, shape):
            if n != 1:
                if sizes.get(label, 1) not in (1, n):
                    raise ValueError(
                        f"einsum: subscript {_name(label)} has length {sizes[label]} in one "
                        f"operand and {n} in another (shapes {', '.join(map(str, shapes))})")
                sizes[label] = n
            else:
                sizes.setdefault(label, 1)
    # A length-1 axis whose label is longer elsewhere broadcasts: it gets a label of its own.
    fresh = _BROADCAST_BASE
    final = []
    for labels, shape in zip(expanded, shapes):
        relabelled = []
        for label, n in zip(labels, shape):
            if n == 1 and sizes[label] != 1:
                relabelled.append(fresh)
                sizes[fresh] = 1
                fresh += 1
            else:
                relabelled.append(label)
        final.append(tuple(relabelled))
    if output is None:
        counts: dict = {}
        for labels in expanded:
            for label in labels:
                counts[label] = counts.get(label, 0) + 1
        out = ell_labels + sorted(lab for lab, c in counts.items()
                                  if c == 1 and lab < _ELLIPSIS_BASE)
    else:
        out = []
        for t in output:
            out.extend(ell_labels if t is Ellipsis else [t])
        if len(set(out)) != len(out):
            raise ValueError("einsum: an output subscript appears more than once")
        used = set().union(*expanded) if expanded else set()
        missing = [lab for lab in out if lab not in used]
        if missing:
            raise ValueError(f"einsum: output subscript {_name(missing[0])} appears in no "
                             "operand")
    return tuple(final), tuple(out), sizes


def _name(label: int) -> str:
    return repr(_LETTERS[label]) if label < len(_LETTERS) else "..."


def einsum(*args: Any, optimize: Any = False) -> Tensor:
    """Einstein summation, with NumPy's ``einsum`` subscripts.

    ``einsum('ij,jk->ik', a, b)`` is a matrix product, ``einsum('ii', a)`` a trace,
    ``einsum('ii->i', a)`` a diagonal, ``einsum('...ij,...jk', a, b)`` a batched product;
    the interleaved form ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` works too, and PyTorch's
    ``einsum('ij,jk->ik', [a, b])`` (the operands as one list of tensors).

    Args:
        optimize: accepted for NumPy compatibility; operands are contracted left to right,
            each pair as one batched matrix product.

    Returns:
        A tensor with the output subscripts' axes; differentiable (to any order) in every
        floating-point operand.
    """
    if not args:
        raise TypeError("einsum: expected subscripts and operands")
    if isinstance(args[0], str):
        operands = list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)) and all(
                isinstance(t, Tensor) for t in operands[0]):
            operands = list(operands[0])  # PyTorch's einsum(eq, [a, b]): a list of tensors
        terms, output = _parse_string(args[0], len(operands))
    else:
        operands = list(args[0::2])
        sublists = list(args[1::2])
        output = None
        if len(sublists) < len(operands):  # odd length: the last item is the output sublist
            output = _parse_sublist(operands.pop())
        terms = [_parse_sublist(s) for s in sublists]
    if not operands:
        raise ValueError("einsum: at least one operand is needed")
    like = next((t for t in operands if isinstance(t, Tensor)), None)
    if like is None:
        raise TypeError("einsum: at least one operand must be a Tensor")
    operands = [_lift(t, like, scalar_ok=False) for t in operands]
    inputs, out, sizes = _expand(terms, output, [t.shape for t in operands])
    return Einsum.apply(*operands, inputs=inputs, output=out, sizes=sizes)
