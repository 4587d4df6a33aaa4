"""The Poisson distribution: logpmf, pmf (differentiable in the rate ``mu``)."""

from __future__ import annotations

from typing import Any

from ... import numpy as np
from .. import special
from ._common import lift, scipy_attribute

__all__ = ["logpmf", "pmf"]


def logpmf(k: Any, mu: Any, loc: Any = 0.0) -> Any:
    """``k log mu - mu - log k!`` at ``k - loc`` (-inf off the non-negative integers)."""
    k, mu, loc = lift(k, mu, loc)
    k = k - loc
    value = special.xlogy(k, mu) - mu - special.gammaln(k + 1.0)
    valid = np.logical_and(k >= 0, np.floor(k) == k)
    return np.where(valid, value, -np.inf)


def pmf(k: Any, mu: Any, loc: Any = 0.0) -> Any:
    """The probability mass ``exp(logpmf)``."""
    return np.exp(logpmf(k, mu, loc))


def __getattr__(name: str) -> Any:
    # SciPy's other poisson functions (rvs, ...): SciPy's own, on plain data.
    return scipy_attribute("poisson", name)
