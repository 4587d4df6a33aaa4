"""Random draws PyTorch programs use: `multinomial`, `bernoulli`, `normal`, `randperm`.

Each draws from the backend's seeded generator (``ag.manual_seed`` reproduces it; there are no
generator objects) with array operations on the tensor's device: no host synchronisation on a
GPU. Checks that need the values (negative or non-finite probabilities, an all-zero row, a
negative std) run on the CPU, where reading them costs nothing; on a GPU they are skipped (PyTorch
defers them to device-side asserts) and a bad distribution gives meaningless but in-range draws.

`normal` and `bernoulli` are differentiable the way PyTorch defines them: their results require
grad where an input does, and the gradient with respect to each input is zero (for a
reparameterised draw write ``mean + std * ag.randn_like(std)``).
"""

from __future__ import annotations

import operator
from typing import Any

import backends

from .. import dtypes, promotion
from ..function import Function
from ..tensor import Tensor

__all__ = ["multinomial", "bernoulli", "normal", "randperm"]


def _no_generator(op: str, generator: Any) -> None:
    if generator is not None:
        raise TypeError(f"{op}: generator objects are not supported; seed every draw with "
                        "ag.manual_seed(seed)")


def _zero_grad(gy: Tensor) -> Tensor:
    return Tensor._make(gy.xp.zeros_like(gy.array), gy.backend)


def _draw_dtype(dtype: Any) -> Any:
    """float64 draws for float64 results, float32 for the narrower floating types."""
    return dtype if dtype.name == "float64" else backends.dtype_of("float32")


# -- normal -------------------------------------------------------------------------------------
class Normal(Function):
    """y = mean + std * z with z ~ N(0, 1) drawn here; zero gradients, as PyTorch defines them."""

    def forward(self, mean, std):
        shape = backends.host().xp.broadcast_shapes(_shape(mean), _shape(std))
        z = self.backend.normal(0.0, 1.0, shape, _draw_dtype(self.dtype))
        return (mean + std * z).astype(self.dtype, copy=False)

    def backward(self, gy):
        need_mean, need_std = self.needs_input_grad
        return (_zero_grad(gy) if need_mean else None), (_zero_grad(gy) if need_std else None)


def _shape(x: Any) -> tuple:
    return tuple(getattr(x, "shape", ()))


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, dtype: Any = None,
           device: Any = None, requires_grad: bool = False, generator: Any = None) -> Tensor:
    """Draws from normal distributions: PyTorch's ``normal`` in all its forms.

    * ``normal(mean_tensor, std_tensor)``: one draw per element of their broadcast shape;
    * ``normal(mean_tensor, std=1.0)`` / ``normal(mean_float, std_tensor)``: the tensor's shape;
    * ``normal(mean_float, std_float, size)``: a new tensor of `size` (``dtype=``, ``device=``,
      ``requires_grad=`` as in the creation functions).

    The result's dtype is PyTorch's result type of `mean` and `std` (the default dtype for
    two numbers). Where `mean` or `std` requires grad the result does too, with zero gradients.

        >>> ag.manual_seed(0); ag.normal(ag.zeros(3), 2.0).shape
        (3,)
    """
    _no_generator("normal", generator)
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal: give a size for float mean and std, or a tensor mean or std")
        _check_std(std)
        backend = backends.get(device)
        resolved = dtypes.default_float() if dtype is None else dtypes.resolve(dtype, backend)
        size = (size,) if isinstance(size, int) else tuple(size)
        draws = backend.normal(float(mean), float(std), size, _draw_dtype(resolved))
        t = Tensor._make(draws.astype(resolved, copy=False), backend)
        return t.requires_grad_(True) if requires_grad else t
    if size is not None or dtype is not None or device is not None:
        raise TypeError("normal: size, dtype and device are for float mean and std only; the "
                        "tensors give them otherwise")
    if not all(isinstance(x, (Tensor, int, float)) and not isinstance(x, bool)
               for x in (mean, std)):
        raise TypeError(f"normal: mean and std must be tensors or Python numbers, got "
                        f"{type(mean).__name__} and {type(std).__name__}")
    result = promotion.result_type(mean, std)
    if not dtypes.is_floating(result) or result.kind == "c":
        raise TypeError(f"normal: expected floating mean and std, got dtype {result}")
    _check_std(std)
    return Normal.apply(mean, std, dtype=result)


def _check_std(std: Any) -> None:
    if isinstance(std, Tensor):
        if not std.backend.is_device and bool((std.array < 0).any()):
            raise RuntimeError("normal: std must be >= 0 everywhere")
    elif std < 0:
        raise RuntimeError(f"normal: std must be >= 0, got {std}")


# -- bernoulli ----------------------------------------------------------------------------------
class Bernoulli(Function):
    """y = 1 with probability p (the input, or the constant `p`), else 0; zero gradient."""

    def forward(self, x):
        u = self.backend.uniform(0.0, 1.0, x.shape, _draw_dtype(x.dtype))
        p = x if self.p is None else self.p
        return (u < p).astype(x.dtype)

    def backward(self, gy):
        return _zero_grad(gy)


def bernoulli(input: Tensor, p: float | None = None, *,  # noqa: A002 - PyTorch's name
              generator: Any = None) -> Tensor:
    """0/1 draws of `input`'s shape and dtype: 1 with probability ``input`` elementwise, or with
    probability `p` everywhere where `p` is given (PyTorch's ``bernoulli``).

        >>> ag.bernoulli(ag.full((2, 3), 0.5))   # a random 0/1 mask
    """
    _no_generator("bernoulli", generator)
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli: expected a Tensor, got {type(input).__name__}")
    if not dtypes.is_floating(input.dtype) or input.dtype.kind == "c":
        raise TypeError(f"bernoulli: expected a floating tensor, got dtype {input.dtype}")
    if p is not None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"bernoulli: p must be in [0, 1], got {p}")
        p = float(p)
    elif not input.backend.is_device:
        x = input.array
        if bool(((x < 0) | (x > 1) | (x != x)).any()):
            raise ValueError("bernoulli: every probability must be in [0, 1]")
    return Bernoulli.apply(input, p=p)


# -- multinomial --------------------------------------------------------------------------------
def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator: Any = None) -> Tensor:
    """Category indices drawn from the rows of `input` (weights, need not sum to 1): PyTorch's
    ``multinomial``, e.g. for sampling the next token from a language model's softmax.

    Args:
        input: weights of shape ``(n,)`` or ``(rows, n)``, floating and non-negative.
        num_samples: draws per row.
        replacement: draw with replacement; without it (the default, as in PyTorch) each row's
            draws are distinct categories, ``num_samples <= n``, drawn in sequence each with
            probability proportional to its weight among those left.

    Returns:
        int64 indices of shape ``(num_samples,)`` or ``(rows, num_samples)``.

        >>> probs = logits.softmax(-1)
        >>> next_token = ag.multinomial(probs, num_samples=1)
    """
    _no_generator("multinomial", generator)
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial: expected a Tensor, got {type(input).__name__}")
    if not dtypes.is_floating(input.dtype) or input.dtype.kind == "c":
        raise TypeError(f"multinomial: only floating weights are supported, got dtype "
                        f"{input.dtype}")
    if input.ndim not in (1, 2):
        raise ValueError(f"multinomial: weights must be 1-D or 2-D, got shape {input.shape}")
    num_samples = operator.index(num_samples)
    n = input.shape[-1]
    if num_samples <= 0:
        raise ValueError(f"multinomial: num_samples must be positive, got {num_samples}")
    if n == 0:
        raise ValueError("multinomial: there are no categories to draw from (size-0 weights)")
    if not replacement and num_samples > n:
        raise ValueError(f"multinomial: cannot draw {num_samples} distinct categories out of "
                         f"{n} without replacement; pass replacement=True")
    backend = input.backend
    weights = input.array.reshape((-1, n)).astype(backends.dtype_of("float64"))
    if not backend.is_device:
        _check_weights(weights)
    with backend.device_scope():
        if replacement:
            index = _draw_with_replacement(backend, weights, num_samples)
        else:
            index = _draw_without_replacement(backend, weights, num_samples)
        index = index.reshape(input.shape[:-1] + (num_samples,))
    return Tensor._make(index, backend)


def _check_weights(weights: Any) -> None:
    if bool(((weights < 0) | ~(weights < float("inf"))).any()):
        raise ValueError("multinomial: weights must be finite and non-negative")
    if bool((weights.sum(axis=-1) <= 0).any()):
        raise ValueError("multinomial: every row of weights must have a positive sum")


def _draw_with_replacement(backend: Any, weights: Any, k: int) -> Any:
    """Inverse-CDF draws for every row at once, by one sorted search over the rows' CDFs laid
    end to end: row r's normalised CDF is shifted to [r, r + 1], so a draw u + r in it finds
    its category; zero-weight categories have empty intervals and are never drawn."""
    xp = backend.xp
    rows, n = weights.shape
    cdf = xp.cumsum(weights, axis=-1)
    shift = xp.arange(rows, dtype=cdf.dtype).reshape((rows, 1))
    ends = (cdf / cdf[:, -1:] + shift).reshape((-1,))  # each row ends at exactly r + 1
    u = backend.uniform(0.0, 1.0, (rows, k), cdf.dtype) + shift
    u = xp.minimum(u, xp.nextafter(shift + 1.0, shift))  # strictly inside row r's interval
    found = xp.searchsorted(ends, u.reshape((-1,)), side="right").reshape((rows, k))
    index = found - xp.arange(rows, dtype=found.dtype).reshape((rows, 1)) * n
    return xp.clip(index, 0, n - 1).astype(backends.dtype_of("int64"), copy=False)


def _draw_without_replacement(backend: Any, weights: Any, k: int) -> Any:
    """The exponential race: category i finishes at E_i / w_i with E_i ~ Exp(1), and the
    first k to finish are k draws without replacement (each in turn with probability
    proportional to its weight among those left). Sorted by w_i / E_i, largest first."""
    xp = backend.xp
    u = backend.uniform(0.0, 1.0, weights.shape, weights.dtype)
    tiny = xp.finfo(weights.dtype).tiny
    race = weights / xp.maximum(-xp.log1p(-u), tiny)  # E = -log(1 - u) > 0
    if k == 1:
        index = xp.argmax(race, axis=-1).reshape((-1, 1))
    else:
        index = xp.argsort(-race, axis=-1)[:, :k]
    return index.astype(backends.dtype_of("int64"), copy=False)


# -- randperm -----------------------------------------------------------------------------------
def randperm(n: int, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
             generator: Any = None) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64 unless `dtype` says otherwise)."""
    _no_generator("randperm", generator)
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"randperm: n must be non-negative, got {n}")
    backend = backends.get(device)
    array = backend.permutation(n)
    if dtype is not None:
        array = array.astype(dtypes.resolve(dtype, backend), copy=False)
    t = Tensor._make(array, backend)
    return t.requires_grad_(True) if requires_grad else t
