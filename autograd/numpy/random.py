"""`autograd.numpy.random`: NumPy's random functions, seeded by ``ag.manual_seed`` too.

The module-level functions (``rand``, ``randn``, ``random``, ``uniform``, ``normal``,
``randint``, ``choice``, ``permutation``, ``shuffle``, ``multivariate_normal``, ...) draw from one
`RandomState` owned by this module, as NumPy's legacy functions draw from NumPy's global one:
the same algorithm, so ``seed(0); randn(3)`` gives the values ``numpy.random.seed(0);
numpy.random.randn(3)`` gives. They return plain NumPy arrays (draws are data, not part of a
graph); ``seed(s)`` and ``autograd.manual_seed(s)`` both reseed it. `RandomState`,
`default_rng`, `Generator` and the bit generators are NumPy's own classes.

Draws on a device: ``ag.randn(..., device="cuda")`` (kedja's creation functions) draw there.
"""

from __future__ import annotations

from typing import Any

import backends

_random: Any = backends.host().xp.random

#: NumPy's classes, as they are.
RandomState = _random.RandomState
default_rng = _random.default_rng
Generator = _random.Generator
SeedSequence = _random.SeedSequence
BitGenerator = _random.BitGenerator
MT19937 = _random.MT19937
PCG64 = _random.PCG64
Philox = _random.Philox
SFC64 = _random.SFC64

_state = RandomState()

#: RandomState's drawing methods, exposed as module functions bound to this module's state.
FUNCTIONS = (
    "rand", "randn", "random", "random_sample", "ranf", "sample", "randint", "random_integers",
    "uniform", "normal", "standard_normal", "choice", "permutation", "shuffle", "bytes",
    "beta", "binomial", "chisquare", "dirichlet", "exponential", "f", "gamma", "geometric",
    "gumbel", "hypergeometric", "laplace", "logistic", "lognormal", "logseries",
    "multinomial", "multivariate_normal", "negative_binomial", "noncentral_chisquare",
    "noncentral_f", "pareto", "poisson", "power", "rayleigh", "standard_cauchy",
    "standard_exponential", "standard_gamma", "standard_t", "triangular", "vonmises", "wald",
    "weibull", "zipf", "get_state", "set_state",
)


def _bind(name: str) -> Any:
    def draw(*args: Any, **kwargs: Any) -> Any:
        return getattr(_state, name)(*args, **kwargs)

    method = getattr(RandomState, name, None)
    if method is None:  # "ranf" and "sample" are functions of numpy.random only
        method = getattr(_random, name)
    draw.__name__ = draw.__qualname__ = name
    draw.__doc__ = f"NumPy's ``random.{name}``, drawn from this module's RandomState."
    return draw


for _name in FUNCTIONS:
    if _name in ("ranf", "sample"):
        globals()[_name] = _bind("random_sample")
        globals()[_name].__name__ = _name
    elif hasattr(RandomState, _name):
        globals()[_name] = _bind(_name)


def seed(seed: Any = None) -> None:
    """Reseeds this module's generator (``autograd.manual_seed`` does it too)."""
    _state.seed(seed)


def _reseed_from(seed_value: Any) -> None:
    # Called by backends.seed_all (ag.manual_seed): NumPy's RandomState takes 0..2**32-1.
    _state.seed(None if seed_value is None else int(seed_value) % (2**32))


backends.on_seed(_reseed_from)

__all__ = [
    "seed", "RandomState", "default_rng", "Generator", "SeedSequence", "BitGenerator",
    "MT19937", "PCG64", "Philox", "SFC64",
    *(n for n in FUNCTIONS if n in globals()),
]
