"""`AliasesMixin`: PyTorch's remaining everyday Tensor methods, each an alias of a kedja method or
a short composition of differentiable ones (so their gradients, to any order, are those of the
ops they are made of): ``absolute``, ``negative``, ``greater``/``less``/..., ``fliplr``,
``rot90``, ``diff``, ``cross``, ``select``, ``take``, ``sum_to_size``, ``addmv``/``addr``/
``addbmm``, ``xlogy``, ``float_power``, ``ldexp``, ``quantile``, the ``hsplit`` family, the device
and dtype queries, and the integer helpers ``bincount``/``histc``/``gcd``/``lcm`` (not
differentiable, as in PyTorch).
"""

from __future__ import annotations

import operator
from typing import Any

from .dialect import wrap_dim
from .tensor_inplace import inplace

# Bound by tensor.py once Tensor and the ops are loaded (they import this file's importer).
Tensor: Any = None
_arith: Any = None
_shape: Any = None
_statistics: Any = None
_products: Any = None
_triangular: Any = None
_lift: Any = None


class AliasesMixin:
    """`Tensor`'s PyTorch aliases and small compositions (they read the tensor's slots)."""

    __slots__ = ()

    # -- names PyTorch has twice ----------------------------------------------------------------
    def absolute(self) -> Any:
        return self.abs()

    def negative(self) -> Any:
        return -self

    def positive(self) -> Any:
        return self

    def sgn(self) -> Any:
        """The sign (real tensors: ``sign``)."""
        return self.sign()

    @inplace
    def greater(self, other: Any) -> Any:
        return self > other

    @inplace
    def greater_equal(self, other: Any) -> Any:
        return self >= other

    @inplace
    def less(self, other: Any) -> Any:
        return self < other

    @inplace
    def less_equal(self, other: Any) -> Any:
        return self <= other

    @inplace
    def not_equal(self, other: Any) -> Any:
        return self != other

    def signbit(self) -> Any:
        """Whether the sign bit is set (True for -0.0 too), as bool."""
        return Tensor._make(self.xp.signbit(self.array), self._backend)

    def equal(self, other: Any) -> bool:
        """True if `other` has this shape and the same values (a Python bool)."""
        other = _lift(other, self)
        return tuple(self.shape) == tuple(other.shape) and bool((self.array == other.array).all())

    def is_same_size(self, other: Any) -> bool:
        return tuple(self.shape) == tuple(other.shape)

    def is_nonzero(self) -> bool:
        """The truth of a one-element tensor (raises for any other size, as PyTorch)."""
        if self.array.size != 1:
            raise RuntimeError(f"is_nonzero: a tensor of shape {self.shape} with "
                               f"{self.array.size} elements is ambiguous (one element needed)")
        return bool(self.array.reshape(()) != 0)

    def is_signed(self) -> bool:
        return self.array.dtype.kind in "ifc" or self.array.dtype.name == "bfloat16"

    @property
    def is_cpu(self) -> bool:
        return not self._backend.is_device

    @property
    def is_cuda(self) -> bool:
        return bool(self._backend.is_device)

    def get_device(self) -> int:
        """The device index, -1 on the CPU (PyTorch's convention)."""
        return -1 if not self._backend.is_device else int(self.device.index or 0)

    def stride(self, dim: int | None = None) -> Any:
        """Steps in elements between neighbours along each dim (of `dim` alone if given)."""
        size = self.array.dtype.itemsize
        steps = tuple(int(s) // size for s in self.array.strides)
        return steps if dim is None else steps[wrap_dim(dim, self.ndim, "stride")]

    # -- shape and selection --------------------------------------------------------------------
    def fliplr(self) -> Any:
        if self.ndim < 2:
            raise RuntimeError(f"fliplr: needs at least 2 dims, got shape {self.shape}")
        return self.flip(1)

    def flipud(self) -> Any:
        if self.ndim < 1:
            raise RuntimeError("fliplr: needs at least 1 dim, got a 0-d tensor")
        return self.flip(0)

    def rot90(self, k: int = 1, dims: Any = (0, 1)) -> Any:
        """Rotated by 90 degrees `k` times in the plane of `dims`, from the first toward the
        second (PyTorch's direction, as NumPy's)."""
        dims = tuple(dims)
        if len(dims) != 2 or self.ndim < 2:
            raise RuntimeError(f"rot90: needs two dims of a tensor with at least 2, got dims "
                               f"{dims} for shape {self.shape}")
        d0, d1 = (wrap_dim(d, self.ndim, "rot90") for d in dims)
        if d0 == d1:
            raise RuntimeError(f"rot90: the two dims must differ, got {dims}")
        k = operator.index(k) % 4
        if k == 0:
            return self.clone()
        if k == 2:
            return self.flip(d0, d1)
        if k == 1:
            return self.flip(d1).transpose(d0, d1)
        return self.transpose(d0, d1).flip(d1)

    def msort(self) -> Any:
        """Sorted along dim 0 (the values of ``sort(dim=0)``)."""
        return self.sort(dim=0).values

    def select(self, dim: int, index: int) -> Any:
        """The slice at `index` along `dim` (that dim removed): ``x.select(1, 2)`` is
        ``x[:, 2]``."""
        dim = wrap_dim(dim, self.ndim, "select")
        n = self.shape[dim]
        index = operator.index(index)
        if not -n <= index < n:
            raise IndexError(f"select: index {index} is out of range for dim {dim} of size {n}")
        return self[(slice(None),) * dim + (index,)]

    def narrow_copy(self, dim: int, start: Any, length: int) -> Any:
        return self.narrow(dim, start, length).clone()

    def take(self, index: Any) -> Any:
        """Entries at the flat (row-major) positions `index`; the result has index's shape."""
        index = _lift(index, self)
        return self.reshape(-1)[index]

    def split_with_sizes(self, split_sizes: Any, dim: int = 0) -> Any:
        return self.split(list(split_sizes), dim)

    def hsplit(self, sections: Any) -> Any:
        """``tensor_split`` along dim 1 (dim 0 of a 1-d tensor)."""
        return self.tensor_split(sections, 1 if self.ndim > 1 else 0)

    def vsplit(self, sections: Any) -> Any:
        """``tensor_split`` along dim 0 (at least 2 dims)."""
        if self.ndim < 2:
            raise RuntimeError(f"vsplit: needs at least 2 dims, got shape {self.shape}")
        return self.tensor_split(sections, 0)

    def dsplit(self, sections: Any) -> Any:
        """``tensor_split`` along dim 2 (at least 3 dims)."""
        if self.ndim < 3:
            raise RuntimeError(f"dsplit: needs at least 3 dims, got shape {self.shape}")
        return self.tensor_split(sections, 2)

    def sum_to_size(self, *size: Any) -> Any:
        """Summed down to `size`, which this shape must broadcast from (the gradient of an
        expand, as PyTorch's)."""
        target = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else size
        lead = self.ndim - len(target)
        if lead < 0 or any(t not in (1, n) for t, n in zip(target, self.shape[lead:])):
            raise RuntimeError(f"sum_to_size: size {target} is not expandable to the tensor's "
                               f"shape {self.shape}")
        out = self.sum(tuple(range(lead))) if lead else self
        dims = tuple(i for i, (t, n) in enumerate(zip(target, out.shape)) if t == 1 and n != 1)
        return out.sum(dims, keepdim=True) if dims else out

    # -- arithmetic ------------------------------------------------------------------------------
    def diff(self, n: int = 1, dim: int = -1, prepend: Any = None, append: Any = None) -> Any:
        """The n-th forward difference along `dim`, `prepend`/`append` joined first."""
        if self.ndim == 0:
            raise RuntimeError("diff: expects a tensor with at least 1 dim")
        dim = wrap_dim(dim, self.ndim, "diff")
        x = self
        if prepend is not None or append is not None:
            parts = [_edge(p, x, dim) for p in (prepend,) if p is not None] + [x] + \
                [_edge(a, x, dim) for a in (append,) if a is not None]
            x = _shape.concatenate(parts, axis=dim)
        for _ in range(operator.index(n)):
            m = x.shape[dim]
            if m == 0:
                break
            x = x.narrow(dim, 1, m - 1) - x.narrow(dim, 0, m - 1)
        return x

    def cross(self, other: Any, dim: int | None = None) -> Any:
        """The cross product along `dim` (size 3); without it, the first dim of size 3."""
        other = _lift(other, self)
        a, b = self, other
        if dim is None:
            dims = [i for i, n in enumerate(_broadcast(a.shape, b.shape)) if n == 3]
            if not dims:
                raise RuntimeError(f"cross: no dim of size 3 in shapes {a.shape} and {b.shape}")
            dim = dims[0]
        ndim = max(a.ndim, b.ndim)
        dim = wrap_dim(dim, ndim, "cross")
        if a.shape[dim - ndim + a.ndim] != 3 or b.shape[dim - ndim + b.ndim] != 3:
            raise RuntimeError(f"cross: dim {dim} must have size 3 in both shapes {a.shape} "
                               f"and {b.shape}")

        def part(t: Any, i: int) -> Any:
            return t.narrow(dim - ndim + t.ndim, i, 1)

        pieces = [part(a, (i + 1) % 3) * part(b, (i + 2) % 3)
                  - part(a, (i + 2) % 3) * part(b, (i + 1) % 3) for i in range(3)]
        return _shape.concatenate(pieces, axis=dim)

    def addmv(self, mat: Any, vec: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
        """``beta * self + alpha * (mat @ vec)``."""
        return _scaled_sum(self, mat.mv(vec), beta, alpha)

    def addr(self, vec1: Any, vec2: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
        """``beta * self + alpha * outer(vec1, vec2)``."""
        return _scaled_sum(self, vec1.outer(vec2), beta, alpha)

    def addbmm(self, batch1: Any, batch2: Any, *, beta: Any = 1, alpha: Any = 1) -> Any:
        """``beta * self + alpha * sum_b(batch1[b] @ batch2[b])``."""
        return _scaled_sum(self, batch1.bmm(batch2).sum(0), beta, alpha)

    def vdot(self, other: Any) -> Any:
        return _products.vdot(self, other)

    def diagflat(self, offset: int = 0) -> Any:
        return _triangular.diagflat(self, offset)

    def xlogy(self, other: Any) -> Any:
        """``self * log(other)``, 0 where self is 0 (NaN where other is NaN), as PyTorch; the
        gradients there are 0 too."""
        x = self if self.array.dtype.kind in "fc" else self.float()
        y = _lift(other, x)
        if not isinstance(y, Tensor):
            y = Tensor._make(x.xp.asarray(y, dtype=x.array.dtype), x._backend)
        elif y.array.dtype.kind not in "fc":
            y = y.to(x.dtype)
        zero = x == 0
        out = _arith.where(zero, 0.0, x * _arith.where(zero, 1.0, y).log())
        return _arith.where(y != y, y, out)

    def float_power(self, exponent: Any) -> Any:
        """``self ** exponent`` in float64 (both cast first, as PyTorch)."""
        exponent = exponent.double() if isinstance(exponent, Tensor) else float(exponent)
        return self.double() ** exponent

    def ldexp(self, other: Any) -> Any:
        """``self * 2 ** other``."""
        other = _lift(other, self)
        scale = 2.0 ** (other.float() if other.array.dtype.kind in "biu" else other) \
            if isinstance(other, Tensor) else 2.0 ** other
        return self * scale

    def quantile(self, q: Any, dim: int | None = None, keepdim: bool = False, *,
                 interpolation: str = "linear") -> Any:
        """The `q`-th quantiles (q in [0, 1], a number or a 1-d tensor) over `dim` (all dims
        when None); with a 1-d q, q's dim comes first, as PyTorch's."""
        if self.array.dtype.kind not in "fc":
            raise RuntimeError(f"quantile: expected a floating tensor, got dtype {self.dtype}")
        if isinstance(q, Tensor):
            q = q.numpy().tolist()
        axis = None if dim is None else wrap_dim(dim, self.ndim, "quantile")
        return _statistics.quantile(self, q, axis=axis, method=interpolation, keepdims=keepdim)

    # -- integer helpers (not differentiable) ----------------------------------------------------
    def bincount(self, weights: Any = None, minlength: int = 0) -> Any:
        """Counts of each value of a 1-d non-negative integer tensor (weighted sums with
        `weights`); on a GPU the result's length is read back to the host."""
        if self.ndim != 1 or self.array.dtype.kind not in "iu":
            raise RuntimeError(f"bincount: expects a 1-d integer tensor, got shape {self.shape} "
                               f"and dtype {self.dtype}")
        w = None if weights is None else _lift(weights, self).array
        counts = self.xp.bincount(self.array, weights=w, minlength=minlength)
        return Tensor._make(counts, self._backend)

    def histc(self, bins: int = 100, min: Any = 0, max: Any = 0) -> Any:  # noqa: A002
        """A histogram of `bins` equal bins over [min, max] (the data's range when both are 0);
        values outside are ignored. Same dtype as the tensor."""
        lo, hi = float(min), float(max)
        if lo == hi == 0:
            lo, hi = float(self.array.min()), float(self.array.max())
        if lo == hi:
            lo, hi = lo - 1, hi + 1
        counts, _ = self.xp.histogram(self.array, bins=bins, range=(lo, hi))
        return Tensor._make(counts.astype(self.array.dtype), self._backend)

    def gcd(self, other: Any) -> Any:
        return _integer_op(self, other, "gcd")

    def lcm(self, other: Any) -> Any:
        return _integer_op(self, other, "lcm")

    def heaviside(self, values: Any) -> Any:
        """0 where self < 0, 1 where self > 0, `values` where self == 0."""
        values = _lift(values, self)
        return Tensor._make(self.xp.heaviside(self.array, getattr(values, "array", values)),
                            self._backend)


def _edge(t: Any, like: Any, dim: int) -> Any:
    """diff's prepend/append as a tensor: a number becomes a slice of size 1 along dim."""
    t = _lift(t, like)
    if not isinstance(t, Tensor):
        shape = list(like.shape)
        shape[dim] = 1
        return Tensor._make(like.xp.full(tuple(shape), t, dtype=like.array.dtype), like._backend)
    return t


def _broadcast(a: tuple, b: tuple) -> tuple:
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    return tuple(max(x, y) for x, y in zip(a, b))


def _scaled_sum(x: Any, y: Any, beta: Any, alpha: Any) -> Any:
    y = y if alpha == 1 else y * alpha
    if beta == 0:  # PyTorch ignores self then (NaN and inf in it do not propagate)
        return y + x.new_zeros(x.shape)
    return (x if beta == 1 else x * beta) + y


def _integer_op(x: Any, other: Any, name: str) -> Any:
    other = _lift(other, x)
    b = other.array if isinstance(other, Tensor) else other
    if x.array.dtype.kind not in "iu" or getattr(b, "dtype", x.array.dtype).kind not in "iu":
        raise RuntimeError(f"{name}: expects integer tensors, got dtype {x.dtype}")
    return Tensor._make(getattr(x.xp, name)(x.array, b), x._backend)
