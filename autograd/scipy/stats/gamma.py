"""The gamma distribution: logpdf, pdf (shape ``a``, ``loc``, ``scale``)."""

from __future__ import annotations

from typing import Any

from ... import numpy as np
from .. import special
from ._common import lift, scipy_attribute

__all__ = ["logpdf", "pdf"]


def logpdf(x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """``(a - 1) log z - z - log Gamma(a) - log(scale)`` with ``z = (x - loc) / scale``."""
    x, a, loc, scale = lift(x, a, loc, scale)
    z = (x - loc) / scale
    return special.xlogy(a - 1.0, z) - z - special.gammaln(a) - np.log(scale)


def pdf(x: Any, a: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """The density ``exp(logpdf)``."""
    return np.exp(logpdf(x, a, loc, scale))


def __getattr__(name: str) -> Any:
    # SciPy's other gamma functions (rvs, ...): SciPy's own, on plain data.
    return scipy_attribute("gamma", name)
