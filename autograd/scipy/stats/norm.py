"""The normal distribution: pdf, logpdf, cdf, logcdf, sf, logsf, ppf (``loc``, ``scale``)."""

from __future__ import annotations

import math
from typing import Any

from ... import numpy as np
from .. import special
from ._common import lift, scipy_attribute

__all__ = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "ppf"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def logpdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """``-((x - loc) / scale)^2 / 2 - log(scale) - log(2 pi) / 2``."""
    x, loc, scale = lift(x, loc, scale)
    z = (x - loc) / scale
    return -0.5 * z * z - np.log(scale) - _HALF_LOG_2PI


def pdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """The density ``exp(logpdf)``."""
    return np.exp(logpdf(x, loc, scale))


def cdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """``Phi((x - loc) / scale)``."""
    x, loc, scale = lift(x, loc, scale)
    return special.ndtr((x - loc) / scale)


def logcdf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """``log Phi((x - loc) / scale)``, stable far in the left tail."""
    x, loc, scale = lift(x, loc, scale)
    return special.log_ndtr((x - loc) / scale)


def sf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """The survival function ``1 - cdf`` (computed as the cdf at the mirrored point)."""
    x, loc, scale = lift(x, loc, scale)
    return special.ndtr((loc - x) / scale)


def logsf(x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """``log(1 - cdf)``, stable far in the right tail."""
    x, loc, scale = lift(x, loc, scale)
    return special.log_ndtr((loc - x) / scale)


def ppf(q: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
    """The quantile function, the inverse of cdf."""
    q, loc, scale = lift(q, loc, scale)
    return loc + scale * special.ndtri(q)


def __getattr__(name: str) -> Any:
    # SciPy's other norm functions (rvs, ...): SciPy's own, on plain data.
    return scipy_attribute("norm", name)
