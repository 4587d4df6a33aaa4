"""Student's t distribution: logpdf, pdf (``df``, ``loc``, ``scale``)."""

from __future__ import annotations

import math
from typing import Any

from ... import numpy as np
from .. import special
from ._common import lift, scipy_attribute

__all__ = ["logpdf", "pdf"]


def logpdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """``log Gamma((df+1)/2) - log Gamma(df/2) - log(pi df)/2 - log(scale)
    - (df+1)/2 log(1 + z^2/df)`` with ``z = (x - loc) / scale``."""
    x, df, loc, scale = lift(x, df, loc, scale)
    z = (x - loc) / scale
    return (special.gammaln((df + 1.0) / 2.0) - special.gammaln(df / 2.0)
            - 0.5 * np.log(math.pi * df) - np.log(scale)
            - (df + 1.0) / 2.0 * np.log1p(z * z / df))


def pdf(x: Any, df: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """The density ``exp(logpdf)``."""
    return np.exp(logpdf(x, df, loc, scale))


def __getattr__(name: str) -> Any:
    # SciPy's other t functions (rvs, ...): SciPy's own, on plain data.
    return scipy_attribute("t", name)
