"""`RandomMixin`: Tensor's random methods as PyTorch spells them: the in-place fills
(``x.normal_()``, ``uniform_``, ``bernoulli_``, ``exponential_``, ``geometric_``,
``log_normal_``, ``cauchy_``, ``random_``) and the draws ``x.bernoulli()`` and
``x.multinomial(n)``.

Every draw comes from the tensor's backend generator (``ag.manual_seed`` reproduces it; there are
no generator objects) and is computed with array operations on the tensor's device, so a GPU
tensor is filled without a host round trip. A fill is never recorded: the new values are
constants (a tensor that requires grad and has a history is rebound to them and still requires
grad, its gradient to the old values zero, as after PyTorch's in-place fills).
"""

from __future__ import annotations

import math
from typing import Any

from .grad_mode import state as _grad_state

# Bound by tensor.py once Tensor and the ops are loaded (they import this file's importer).
Tensor: Any = None
_sampling: Any = None
_inplace: Any = None  # autograd/tensor_inplace.py: check_recordable, write


class RandomMixin:
    """`Tensor`'s random fills and draws (they read the tensor's slots)."""

    __slots__ = ()

    # -- fills from a continuous distribution ----------------------------------------------------
    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Any:
        """Fills with draws from N(mean, std**2)."""
        _no_generator("normal_", generator)
        if std < 0:
            raise RuntimeError(f"normal_: std must be >= 0, got {std}")
        return self._fill_random("normal_", self._backend.normal(
            float(mean), float(std), self.shape, _draw_dtype(self)))

    def uniform_(self, from_: float = 0.0, to: float = 1.0, *, generator: Any = None,
                 **kwargs: Any) -> Any:
        """Fills with draws from U[from, to) (PyTorch's keyword ``from`` is accepted too)."""
        _no_generator("uniform_", generator)
        from_ = kwargs.pop("from", from_)
        _no_extra("uniform_", kwargs)
        return self._fill_random("uniform_", self._backend.uniform(
            float(from_), float(to), self.shape, _draw_dtype(self)))

    def exponential_(self, lambd: float = 1.0, *, generator: Any = None) -> Any:
        """Fills with draws from the exponential distribution of rate `lambd`."""
        _no_generator("exponential_", generator)
        if not lambd > 0:
            raise RuntimeError(f"exponential_: lambd must be positive, got {lambd}")
        u = self._backend.uniform(0.0, 1.0, self.shape, _draw_dtype(self))
        return self._fill_random("exponential_", -self.xp.log1p(-u) / lambd)

    def log_normal_(self, mean: float = 1.0, std: float = 2.0, *, generator: Any = None) -> Any:
        """Fills with ``exp(z)``, z ~ N(mean, std**2)."""
        _no_generator("log_normal_", generator)
        if not std > 0:
            raise RuntimeError(f"log_normal_: std must be positive, got {std}")
        z = self._backend.normal(float(mean), float(std), self.shape, _draw_dtype(self))
        return self._fill_random("log_normal_", self.xp.exp(z))

    def cauchy_(self, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None) -> Any:
        """Fills with draws from the Cauchy distribution ``median + sigma * tan(pi (u - 1/2))``."""
        _no_generator("cauchy_", generator)
        u = self._backend.uniform(0.0, 1.0, self.shape, _draw_dtype(self))
        return self._fill_random("cauchy_", median + sigma * self.xp.tan(math.pi * (u - 0.5)))

    # -- fills from a discrete distribution ------------------------------------------------------
    def bernoulli_(self, p: Any = 0.5, *, generator: Any = None) -> Any:
        """Fills with 1 with probability `p` (a number or a tensor of probabilities), else 0."""
        _no_generator("bernoulli_", generator)
        if isinstance(p, Tensor):
            prob = p.array
        else:
            if not 0.0 <= p <= 1.0:
                raise RuntimeError(f"bernoulli_: p must be in [0, 1], got {p}")
            prob = float(p)
        u = self._backend.uniform(0.0, 1.0, self.shape, "float64")
        return self._fill_random("bernoulli_", u < prob)

    def geometric_(self, p: float, *, generator: Any = None) -> Any:
        """Fills with the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
        _no_generator("geometric_", generator)
        if not 0.0 < p <= 1.0:
            raise RuntimeError(f"geometric_: p must be in (0, 1], got {p}")
        u = self._backend.uniform(0.0, 1.0, self.shape, "float64")
        if p == 1.0:
            return self._fill_random("geometric_", self.xp.ones_like(u))
        # Inverse CDF: the smallest k with 1 - (1 - p)**k >= u' (u' = 1 - u is in (0, 1]).
        return self._fill_random("geometric_",
                                 self.xp.ceil(self.xp.log1p(-u) / math.log1p(-p)).clip(1, None))

    def random_(self, from_: int = 0, to: int | None = None, *, generator: Any = None,
                **kwargs: Any) -> Any:
        """Fills with integers drawn uniformly from [from, to - 1]; ``random_(to)`` draws from
        [0, to - 1]; without bounds, from [0, 2**mantissa] for floating tensors (every such
        integer is exact) and [0, max] for integer ones."""
        _no_generator("random_", generator)
        by_keyword = "from" in kwargs
        from_ = kwargs.pop("from", from_)
        _no_extra("random_", kwargs)
        if to is None and not by_keyword and from_ != 0:
            from_, to = 0, from_  # random_(to)
        if to is None:
            to = _random_limit(self.array.dtype) + 1
        if not from_ < to:
            raise RuntimeError(f"random_: expects from < to, got from={from_}, to={to}")
        return self._fill_random("random_", self._backend.integers(int(from_), int(to),
                                                                   self.shape))

    def _fill_random(self, name: str, array: Any) -> Any:
        """Puts drawn values (cast to self's dtype) into self: in memory, or rebound where
        autograd records (the tensor requires grad under grad mode)."""
        array = array.astype(self.array.dtype, copy=False)
        if _grad_state.enabled and self.requires_grad:
            _inplace.check_recordable(self, name)
            # Still in the graph, as in PyTorch (the draws get a zero gradient to the old values).
            _inplace.rebind(self, _inplace._filled(self, Tensor._make(array, self._backend)))
            return self
        _inplace.write(self, array)
        return self

    # -- draws that return a new tensor ----------------------------------------------------------
    def bernoulli(self, p: float | None = None, *, generator: Any = None) -> Any:
        """0/1 draws of this shape and dtype: 1 with probability ``self`` elementwise (or `p`)."""
        return _sampling.bernoulli(self, p, generator=generator)

    def multinomial(self, num_samples: int, replacement: bool = False, *,
                    generator: Any = None) -> Any:
        """int64 category indices drawn from this tensor's rows of weights (see
        ``ag.multinomial``); ``probs.multinomial(1)`` samples one token per row."""
        return _sampling.multinomial(self, num_samples, replacement, generator=generator)


def _no_generator(op: str, generator: Any) -> None:
    if generator is not None:
        raise TypeError(f"{op}: generator objects are not supported; seed every draw with "
                        "ag.manual_seed(seed)")


def _no_extra(op: str, kwargs: dict) -> None:
    if kwargs:
        raise TypeError(f"{op}: unexpected keyword argument {next(iter(kwargs))!r}")


def _draw_dtype(x: Any) -> str:
    """float64 draws for float64 tensors, float32 for the others (cast to theirs afterwards)."""
    return "float64" if x.array.dtype.name == "float64" else "float32"


def _random_limit(dtype: Any) -> int:
    """The largest value ``random_()`` draws for a dtype, as PyTorch: 2**digits for floating
    types (every integer up to it is exact), the type's maximum for integer ones, 1 for bool."""
    name = dtype.name
    if name == "bool":
        return 1
    digits = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}.get(name)
    if digits is not None:
        return 2 ** digits
    return _INT_MAX[name]


#: The largest value ``random_()`` draws for each integer dtype: the type's maximum (one less
#: for the 64-bit types, whose exclusive bound 2**63 the backends' int64 draws cannot hold).
_INT_MAX = {"int8": 2**7 - 1, "int16": 2**15 - 1, "int32": 2**31 - 1, "int64": 2**63 - 2,
            "uint8": 2**8 - 1, "uint16": 2**16 - 1, "uint32": 2**32 - 1, "uint64": 2**63 - 2}
