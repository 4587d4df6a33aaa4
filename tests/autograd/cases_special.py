"""Op-table rows for `autograd.scipy.special` and `autograd.scipy.stats`, against SciPy."""

from __future__ import annotations

import numpy as np

import autograd.scipy.special as asp
from autograd.scipy import stats as astats

from .op_table import OpCase, broadcast_shapes, one_shape

try:  # SciPy is the reference (the dev extra installs it)
    import scipy.special as scipy_special
    import scipy.stats as scipy_stats
except ImportError:  # pragma: no cover - depends on the environment
    scipy_special = scipy_stats = None


def _mvn_shapes():
    from hypothesis import strategies as st

    return st.tuples(st.integers(0, 3), st.integers(1, 3)).map(lambda nd: ((nd[0], nd[1]),
                                                                           (nd[1],)))


def _nonempty_pairs():
    """Two broadcastable shapes without empty axes (an empty logsumexp is -inf: no slope)."""
    from hypothesis.extra import numpy as hnp

    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1,
                                             max_side=3).map(lambda b: tuple(b.input_shapes))


def _mvn_cov(d: int) -> np.ndarray:
    a = np.arange(d * d, dtype=float).reshape(d, d) / (d * d)
    return a @ a.T + np.eye(d)


def _dirichlet_shapes():
    from hypothesis import strategies as st

    return st.integers(1, 4).map(lambda n: ((n,),))


CASES = [] if scipy_special is None else [
    OpCase("sp_erfc", asp.erfc, scipy_special.erfc, domain=(-3.0, 3.0)),
    OpCase("sp_erfinv", asp.erfinv, scipy_special.erfinv, domain=(-0.95, 0.95)),
    OpCase("sp_erfcinv", asp.erfcinv, scipy_special.erfcinv, domain=(0.1, 1.9), rtol=1e-3),
    OpCase("sp_gammaln", asp.gammaln, scipy_special.gammaln, domain=(0.2, 6.0)),
    OpCase("sp_gammaln_negative", asp.gammaln, scipy_special.gammaln, domain=(-2.9, -0.1),
           kinks=(-2.0, -1.0), margin=0.1),
    OpCase("sp_digamma", asp.digamma, scipy_special.digamma, domain=(0.3, 6.0)),
    OpCase("sp_polygamma_1", lambda x: asp.polygamma(1, x),
           lambda x: scipy_special.polygamma(1, x), domain=(0.5, 6.0)),
    OpCase("sp_polygamma_2", lambda x: asp.polygamma(2, x),
           lambda x: scipy_special.polygamma(2, x), domain=(0.5, 6.0), atol=1e-4),
    OpCase("sp_gamma", asp.gamma, scipy_special.gamma, domain=(0.3, 4.0)),
    OpCase("sp_gamma_negative", asp.gamma, scipy_special.gamma, domain=(-1.9, -0.1),
           kinks=(-1.0,), margin=0.1),
    OpCase("sp_multigammaln", lambda x: asp.multigammaln(x, 3),
           lambda x: scipy_special.multigammaln(x, 3), domain=(1.5, 4.0)),
    OpCase("sp_betaln", asp.betaln, scipy_special.betaln, shapes=broadcast_shapes(2),
           domain=(0.3, 4.0)),
    OpCase("sp_beta", asp.beta, scipy_special.beta, shapes=broadcast_shapes(2),
           domain=(0.5, 3.0)),
    OpCase("sp_expit", asp.expit, scipy_special.expit, domain=(-6.0, 6.0)),
    OpCase("sp_logit", asp.logit, scipy_special.logit, domain=(0.05, 0.95)),
    OpCase("sp_xlogy", asp.xlogy, scipy_special.xlogy, shapes=broadcast_shapes(2),
           domain=(0.1, 3.0)),
    OpCase("sp_xlog1py", asp.xlog1py, scipy_special.xlog1py, shapes=broadcast_shapes(2),
           domain=(0.1, 3.0)),
    OpCase("sp_logsumexp_b", lambda a, b: asp.logsumexp(a, b=b),
           lambda a, b: scipy_special.logsumexp(a, b=b), shapes=_nonempty_pairs(),
           domain=(0.2, 2.0)),
    OpCase("sp_logsumexp_axis", lambda a: asp.logsumexp(a, axis=-1, keepdims=True),
           lambda a: scipy_special.logsumexp(a, axis=-1, keepdims=True),
           shapes=one_shape(min_dims=1, min_side=1)),
    OpCase("sp_softmax", asp.softmax, scipy_special.softmax, shapes=one_shape(min_side=1)),
    OpCase("sp_log_softmax", lambda x: asp.log_softmax(x, axis=0),
           lambda x: scipy_special.log_softmax(x, axis=0), shapes=one_shape(min_dims=1,
                                                                             min_side=1)),
    OpCase("sp_ndtr", asp.ndtr, scipy_special.ndtr, domain=(-4.0, 4.0)),
    OpCase("sp_log_ndtr", asp.log_ndtr, scipy_special.log_ndtr, domain=(-40.0, 6.0)),
    OpCase("sp_ndtri", asp.ndtri, scipy_special.ndtri, domain=(0.05, 0.95)),
    OpCase("sp_j0", asp.j0, scipy_special.j0, domain=(-4.0, 4.0)),
    OpCase("sp_j1", asp.j1, scipy_special.j1, domain=(-4.0, 4.0)),
    OpCase("sp_y0", asp.y0, scipy_special.y0, domain=(0.5, 4.0)),
    OpCase("sp_y1", asp.y1, scipy_special.y1, domain=(0.5, 4.0)),
    OpCase("sp_i0", asp.i0, scipy_special.i0),
    OpCase("sp_i1", asp.i1, scipy_special.i1),
    OpCase("sp_jn", lambda x: asp.jn(2, x), lambda x: scipy_special.jn(2, x), domain=(-4.0, 4.0)),
    OpCase("sp_yn", lambda x: asp.yn(1, x), lambda x: scipy_special.yn(1, x), domain=(0.5, 4.0)),
    OpCase("sp_iv", lambda x: asp.iv(1.5, x), lambda x: scipy_special.iv(1.5, x),
           domain=(0.2, 3.0)),
    OpCase("sp_ive", lambda x: asp.ive(0.5, x), lambda x: scipy_special.ive(0.5, x),
           domain=(0.2, 3.0)),
    OpCase("sp_gammainc", lambda x: asp.gammainc(2.5, x),
           lambda x: scipy_special.gammainc(2.5, x), domain=(0.2, 4.0)),
    OpCase("sp_gammaincc", lambda x: asp.gammaincc(1.5, x),
           lambda x: scipy_special.gammaincc(1.5, x), domain=(0.2, 4.0)),
    OpCase("stats_norm_logpdf", lambda x, m: astats.norm.logpdf(x, m, 1.5),
           lambda x, m: scipy_stats.norm.logpdf(x, m, 1.5), shapes=broadcast_shapes(2)),
    OpCase("stats_norm_pdf_scale", lambda x, s: astats.norm.pdf(x, 0.2, s),
           lambda x, s: scipy_stats.norm.pdf(x, 0.2, s), shapes=broadcast_shapes(2),
           domain=(0.5, 2.0)),
    OpCase("stats_norm_cdf", lambda x: astats.norm.cdf(x, 0.1, 2.0),
           lambda x: scipy_stats.norm.cdf(x, 0.1, 2.0)),
    OpCase("stats_norm_logcdf", lambda x: astats.norm.logcdf(x, 0.1, 0.5),
           lambda x: scipy_stats.norm.logcdf(x, 0.1, 0.5), domain=(-8.0, 3.0)),
    OpCase("stats_norm_logsf", lambda x: astats.norm.logsf(x),
           lambda x: scipy_stats.norm.logsf(x), domain=(-3.0, 8.0)),
    OpCase("stats_mvn_logpdf", lambda x, m: astats.multivariate_normal.logpdf(
        x, m, _mvn_cov(x.shape[-1])), lambda x, m: scipy_stats.multivariate_normal.logpdf(
        x, m, _mvn_cov(x.shape[-1])).reshape(x.shape[:-1]), shapes=_mvn_shapes()),
    OpCase("stats_t_logpdf", lambda x, df: astats.t.logpdf(x, df, 0.3, 1.2),
           lambda x, df: scipy_stats.t.logpdf(x, df, 0.3, 1.2), shapes=broadcast_shapes(2),
           domain=(0.5, 3.0)),
    OpCase("stats_gamma_logpdf", lambda x, a: astats.gamma.logpdf(x, a, 0.0, 1.5),
           lambda x, a: scipy_stats.gamma.logpdf(x, a, 0.0, 1.5), shapes=broadcast_shapes(2),
           domain=(0.3, 3.0)),
    OpCase("stats_beta_logpdf", lambda x, a: astats.beta.logpdf(x * 0.3, a, 2.0),
           lambda x, a: scipy_stats.beta.logpdf(x * 0.3, a, 2.0), shapes=broadcast_shapes(2),
           domain=(0.3, 3.0)),
    OpCase("stats_chi2_logpdf", lambda x, df: astats.chi2.logpdf(x, df),
           lambda x, df: scipy_stats.chi2.logpdf(x, df), shapes=broadcast_shapes(2),
           domain=(0.3, 3.0)),
    OpCase("stats_poisson_logpmf_mu", lambda mu: astats.poisson.logpmf(3.0, mu),
           lambda mu: scipy_stats.poisson.logpmf(3.0, mu), domain=(0.3, 4.0)),
    OpCase("stats_dirichlet_logpdf", lambda a: astats.dirichlet.logpdf(
        np.linspace(1.0, 2.0, a.shape[-1]) / np.linspace(1.0, 2.0, a.shape[-1]).sum(), a),
        lambda a: scipy_stats.dirichlet.logpdf(
            np.linspace(1.0, 2.0, a.shape[-1]) / np.linspace(1.0, 2.0, a.shape[-1]).sum(), a),
        shapes=_dirichlet_shapes(), make_inputs=lambda rng, s: [rng.uniform(0.5, 3.0, s[0])]),
]
