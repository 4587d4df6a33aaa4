"""`autograd.scipy.stats`: log densities, densities and (where cheap) cdfs of SciPy's
distributions, differentiable in every argument: `norm`, `multivariate_normal`, `t`, `gamma`,
`beta`, `chi2`, `poisson`, `dirichlet`. Plain data in, plain NumPy arrays out; Tensors in,
Tensors out (see autograd.numpy's rule)."""

from . import beta, chi2, dirichlet, gamma, multivariate_normal, norm, poisson, t  # noqa: F401
