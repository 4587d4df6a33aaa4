"""The beta distribution: logpdf, pdf (shapes ``a``, ``b``, ``loc``, ``scale``)."""

from __future__ import annotations

from typing import Any

from ... import numpy as np
from .. import special
from ._common import lift, scipy_attribute

__all__ = ["logpdf", "pdf"]


def logpdf(x: Any, a: Any, b: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """``(a-1) log z + (b-1) log(1-z) - log B(a, b) - log(scale)``, ``z = (x - loc)/scale``."""
    x, a, b, loc, scale = lift(x, a, b, loc, scale)
    z = (x - loc) / scale
    return (special.xlogy(a - 1.0, z) + special.xlog1py(b - 1.0, -z) - special.betaln(a, b)
            - np.log(scale))


def pdf(x: Any, a: Any, b: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """The density ``exp(logpdf)``."""
    return np.exp(logpdf(x, a, b, loc, scale))


def __getattr__(name: str) -> Any:
    # SciPy's other beta functions (rvs, ...): SciPy's own, on plain data.
    return scipy_attribute("beta", name)
