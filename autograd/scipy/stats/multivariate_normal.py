"""The multivariate normal distribution: logpdf, pdf, entropy (``mean``, ``cov``), batched over
the leading axes of x."""

from __future__ import annotations

import math
from typing import Any

from ... import numpy as np
from ._common import lift, scipy_attribute

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
    if allow_singular:
        return _logpdf_pseudo(diff, cov, d)
    # LU-based solve and log|det| rather than a Cholesky factor: like SciPy, a covariance that
    # is symmetric positive definite only up to rounding (a kernel matrix, say) still works.
    z = np.linalg.solve(cov, np.swapaxes(np.reshape(diff, (-1, d)), 0, 1))
    maha = np.reshape(np.sum(np.swapaxes(np.reshape(diff, (-1, d)), 0, 1) * z, axis=0),
                      np.shape(diff)[:-1])
    log_det = np.linalg.slogdet(cov)[1]
    return -0.5 * (d * math.log(2 * math.pi) + log_det + maha)


def _logpdf_pseudo(diff: Any, cov: Any, d: int) -> Any:
    """logpdf with a singular covariance allowed (SciPy's ``allow_singular=True``): the
    pseudo-inverse and pseudo-determinant over the eigenvalues above SciPy's cutoff."""
    w, v = np.linalg.eigh(cov)
    w_plain = w.numpy() if hasattr(w, "numpy") else w
    eps = 1e6 * np.finfo(float).eps * np.max(np.abs(w_plain))
    kept = w_plain > eps  # a constant mask, as SciPy's rank decision is
    rank = int(np.sum(kept))
    safe_w = np.where(kept, w, 1.0)
    log_pdet = np.sum(np.where(kept, np.log(safe_w), 0.0))
    inv_w = np.where(kept, 1.0 / safe_w, 0.0)
    projected = np.reshape(diff, (-1, d)) @ v
    maha = np.reshape(np.sum(projected * projected * inv_w, axis=-1), np.shape(diff)[:-1])
    value = -0.5 * (rank * math.log(2 * math.pi) + log_pdet + maha)
    # Points off the covariance's range have density 0, as in SciPy (a constant mask).
    off = np.where(kept, 0.0, projected)
    off = off.numpy() if hasattr(off, "numpy") else off
    size = np.reshape(np.abs(diff.numpy() if hasattr(diff, "numpy") else diff), (-1, d))
    outside = np.max(np.abs(off), axis=-1) > 1e-8 * (1.0 + np.max(size, axis=-1))
    return np.where(np.reshape(outside, np.shape(diff)[:-1]), -np.inf, value)


def pdf(x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
    """The density ``exp(logpdf)``."""
    return np.exp(logpdf(x, mean, cov, allow_singular))


def entropy(mean: Any = None, cov: Any = 1) -> Any:
    """``(d (1 + log(2 pi)) + log det(cov)) / 2``."""
    (cov,) = lift(cov)
    d = np.shape(cov)[-1]
    sign, log_det = np.linalg.slogdet(cov)
    return 0.5 * (d * (1.0 + math.log(2 * math.pi)) + log_det)


def __getattr__(name: str) -> Any:
    # SciPy's other multivariate_normal functions (rvs, ...): SciPy's own, on plain data.
    return scipy_attribute("multivariate_normal", name)
