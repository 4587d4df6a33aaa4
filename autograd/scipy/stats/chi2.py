"""The chi-squared distribution: logpdf, pdf (``df``, ``loc``, ``scale``)."""

from __future__ import annotations

import math
from typing import Any

from ... import numpy as np
from .. import special
from ._common import lift, scipy_attribute

__all__ = ["logpdf", "pdf"]


def logpdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """``(df/2 - 1) log z - z/2 - (df/2) log 2 - log Gamma(df/2) - log(scale)``."""
    x, df, loc, scale = lift(x, df, loc, scale)
    z = (x - loc) / scale
    half = df / 2.0
    return (special.xlogy(half - 1.0, z) - z / 2.0 - half * math.log(2.0)
            - special.gammaln(half) - np.log(scale))


def pdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """The density ``exp(logpdf)``."""
    return np.exp(logpdf(x, df, loc, scale))


def __getattr__(name: str) -> Any:
    # SciPy's other chi2 functions (rvs, ...): SciPy's own, on plain data.
    return scipy_attribute("chi2", name)
