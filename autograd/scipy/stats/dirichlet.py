"""The Dirichlet distribution: logpdf, pdf (concentrations ``alpha``, x on the simplex, along
the last axis)."""

from __future__ import annotations

from typing import Any

from ... import numpy as np
from .. import special
from ._common import lift, scipy_attribute

__all__ = ["logpdf", "pdf"]


def logpdf(x: Any, alpha: Any) -> Any:
    """``sum((alpha - 1) log x) + log Gamma(sum alpha) - sum(log Gamma(alpha))``."""
    x, alpha = lift(x, alpha)
    return (np.sum(special.xlogy(alpha - 1.0, x), axis=-1)
            + special.gammaln(np.sum(alpha, axis=-1)) - np.sum(special.gammaln(alpha), axis=-1))


def pdf(x: Any, alpha: Any) -> Any:
    """The density ``exp(logpdf)``."""
    return np.exp(logpdf(x, alpha))


def __getattr__(name: str) -> Any:
    # SciPy's other dirichlet functions (rvs, ...): SciPy's own, on plain data.
    return scipy_attribute("dirichlet", name)
