"""The multivariate normal distribution: logpdf, pdf, entropy (``mean``, ``cov``), batched over
the leading axes of x; the covariance is used through its Cholesky factor."""

from __future__ import annotations

import math
from typing import Any

from ... import numpy as np
from ._common import lift

__all__ = ["logpdf", "pdf", "entropy"]


def logpdf(x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
    """``-(d log(2 pi) + log det(cov) + (x - mean)^T cov^-1 (x - mean)) / 2`` per row of x
    (`cov` a matrix, its diagonal, or a scalar times the identity)."""
    x, mean, cov = lift(x, 0.0 if mean is None else mean, cov)
    d = np.shape(x)[-1] if np.ndim(x) else 1
    eye = lift(x, np.eye(d))[1]  # on x's device
    if np.ndim(cov) < 2:
        cov = (np.reshape(cov, (-1, 1)) if np.ndim(cov) == 1 else cov) * eye
    diff = x - mean
    factor = np.linalg.cholesky(cov)
    # z = L^-1 (x - mean) for every row; |z|^2 is the Mahalanobis distance.
    z = np.linalg.solve(factor, np.swapaxes(np.reshape(diff, (-1, d)), 0, 1))
    maha = np.reshape(np.sum(z * z, axis=0), np.shape(diff)[:-1])
    log_det = 2.0 * np.sum(np.log(np.sum(factor * eye, axis=-1)))
    return -0.5 * (d * math.log(2 * math.pi) + log_det + maha)


def pdf(x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
    """The density ``exp(logpdf)``."""
    return np.exp(logpdf(x, mean, cov, allow_singular))


def entropy(mean: Any = None, cov: Any = 1) -> Any:
    """``(d (1 + log(2 pi)) + log det(cov)) / 2``."""
    (cov,) = lift(cov)
    d = np.shape(cov)[-1]
    sign, log_det = np.linalg.slogdet(cov)
    return 0.5 * (d * (1.0 + math.log(2 * math.pi)) + log_det)
