"""`autograd.scipy.special`: SciPy's special functions, differentiable (to any order).

On plain data each function is SciPy's own where SciPy is installed (kedja's host versions
otherwise); on Tensors it runs kedja's ops on the Tensors' device: erf, erfc, erfinv, erfcinv,
gammaln, gamma, rgamma, digamma (psi), polygamma, multigammaln, beta, betaln, expit, logit,
xlogy, xlog1py, logsumexp (with ``b`` and ``return_sign``), softmax, log_softmax, ndtr,
log_ndtr, ndtri.
"""

from __future__ import annotations

import math
from typing import Any

import autograd as _ag

from ..numpy import dispatch as _dispatch
from ..numpy.dispatch import as_tensor, like_of, numpy_function, onp
from ..ops import bessel as _bessel
from ..ops import reduction as _red
from ..ops import special as _sp
from ..ops.activation import sigmoid as _sigmoid
from ..ops.unary import Erf
from ..tensor import Tensor

__all__ = [
    "erf", "erfc", "erfinv", "erfcinv", "gammaln", "gamma", "rgamma", "digamma", "psi",
    "polygamma", "multigammaln", "beta", "betaln", "expit", "logit", "xlogy", "xlog1py",
    "logsumexp", "softmax", "log_softmax", "ndtr", "log_ndtr", "ndtri", "gammasgn", "j0", "j1",
    "y0", "y1", "i0", "i1", "jn", "yn", "iv", "ive", "gammainc", "gammaincc",
]

try:  # SciPy serves plain-data calls where it is installed
    from scipy import special as _scipy
except ImportError:  # pragma: no cover - depends on the environment
    _scipy = None


def _plain(name: str) -> Any:
    """SciPy's `name`, or (without SciPy) kedja's version run on host tensors."""
    if _scipy is not None and hasattr(_scipy, name):
        return getattr(_scipy, name)
    return lambda *args, **kwargs: _fallback(name, *args, **kwargs)


def _t(x: Any) -> Tensor:
    t = as_tensor(x, like_of(x))
    return t.astype("float64") if t.array.dtype.kind in "biu" else t


def _unary(name: str, impl: Any, doc: str) -> Any:
    def f(x: Any) -> Any:
        return impl(_t(x))

    f.__doc__ = doc
    return numpy_function(_plain(name), name)(f)


erf = _unary("erf", Erf.apply, "The error function ``2/sqrt(pi) int_0^x exp(-t^2) dt``.")
erfc = _unary("erfc", _sp.erfc, "The complementary error function ``1 - erf(x)``.")
erfinv = _unary("erfinv", _sp.erfinv, "The inverse of erf on (-1, 1).")
gammaln = _unary("gammaln", _sp.gammaln, "``log|Gamma(x)|``.")
digamma = _unary("digamma", _sp.digamma, "The digamma function, the derivative of gammaln.")
psi = _unary("psi", _sp.digamma, "The digamma function (SciPy's other name).")
log_ndtr = _unary("log_ndtr", _sp.log_ndtr, "The log of the standard normal cdf (stable in "
                  "both tails).")
expit = _unary("expit", _sigmoid, "The logistic sigmoid ``1 / (1 + exp(-x))``.")


def _logit(x: Tensor) -> Tensor:
    if hasattr(_ag, "logit"):
        return _ag.logit(x)
    return _ag.log(x) - _ag.log1p(-x)


logit = _unary("logit", _logit, "``log(p / (1 - p))``, the inverse of expit.")


def _erfcinv(y: Tensor) -> Tensor:
    return _sp.erfinv(1.0 - y)


erfcinv = _unary("erfcinv", _erfcinv, "The inverse of erfc on (0, 2).")


def _ndtr(x: Tensor) -> Tensor:
    return _sp.erfc(x * (-1.0 / math.sqrt(2.0))) * 0.5


ndtr = _unary("ndtr", _ndtr, "The standard normal cdf.")


def _ndtri(p: Tensor) -> Tensor:
    return _sp.erfinv(p * 2.0 - 1.0) * math.sqrt(2.0)


ndtri = _unary("ndtri", _ndtri, "The inverse of the standard normal cdf.")


def _gamma_sign(x: Tensor) -> Tensor:
    """The sign of Gamma(x): 1 for x > 0, alternating between the poles below 0 (a constant)."""
    xp = x.xp
    a = x.array
    odd = (xp.floor(-a) % 2) == 0  # (-1, 0), (-3, -2), ...: Gamma is negative there
    return Tensor._make(xp.where((a > 0) | ~odd, 1.0, -1.0).astype(a.dtype), x.backend)


def _gamma(x: Tensor) -> Tensor:
    return _ag.exp(_sp.gammaln(x)) * _gamma_sign(x)


gamma = _unary("gamma", _gamma, "The gamma function.")
rgamma = _unary("rgamma", lambda x: 1.0 / _gamma(x), "``1 / Gamma(x)``.")


@numpy_function(_plain("polygamma"))
def polygamma(n: Any, x: Any) -> Any:
    """The n-th derivative of digamma (`n` a non-negative integer)."""
    return _sp.polygamma(int(n), _t(x))


@numpy_function(_plain("multigammaln"))
def multigammaln(a: Any, d: int) -> Any:
    """The log of the multivariate gamma function of dimension `d`."""
    a = _t(a)
    total = a * 0.0 + d * (d - 1) / 4.0 * math.log(math.pi)
    for j in range(d):
        total = total + _sp.gammaln(a - j / 2.0)
    return total


def _pair(a: Any, b: Any) -> tuple:
    like = like_of(a, b)
    a, b = _dispatch.operand(a, like), _dispatch.operand(b, like)
    a = a if isinstance(a, Tensor) else as_tensor(onp.asarray(a, dtype=float), like)
    b = b if isinstance(b, Tensor) else as_tensor(onp.asarray(b, dtype=float), like)
    dtype = _dispatch.result_dtype(a, b, 1.0)
    return _dispatch.cast(a, dtype), _dispatch.cast(b, dtype)


@numpy_function(_plain("betaln"))
def betaln(a: Any, b: Any) -> Any:
    """``log|B(a, b)|`` = gammaln(a) + gammaln(b) - gammaln(a + b)."""
    a, b = _pair(a, b)
    return _sp.gammaln(a) + _sp.gammaln(b) - _sp.gammaln(a + b)


@numpy_function(_plain("beta"))
def beta(a: Any, b: Any) -> Any:
    """The beta function ``Gamma(a) Gamma(b) / Gamma(a + b)`` (positive arguments)."""
    return _ag.exp(betaln(a, b))


@numpy_function(_plain("xlogy"))
def xlogy(x: Any, y: Any) -> Any:
    """``x * log(y)``, 0 where x == 0 (whatever y is)."""
    x, y = _pair(x, y)
    zero = x == 0
    return _ag.where(zero, 0.0, x * _ag.log(_ag.where(zero, 1.0, y)))


@numpy_function(_plain("xlog1py"))
def xlog1py(x: Any, y: Any) -> Any:
    """``x * log1p(y)``, 0 where x == 0."""
    x, y = _pair(x, y)
    zero = x == 0
    return _ag.where(zero, 0.0, x * _ag.log1p(_ag.where(zero, 0.0, y)))


@numpy_function(_plain("logsumexp"))
def logsumexp(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False,
              return_sign: bool = False) -> Any:
    """``log(sum(b * exp(a)))`` over `axis`, computed stably; with `return_sign`, the log of the
    absolute value and the sign (a constant)."""
    like = like_of(a, b)
    a = _t(as_tensor(a, like))
    if b is None:
        out = _red.logsumexp(a, axis=axis, keepdims=keepdims)
        if return_sign:
            return out, Tensor._make(a.xp.ones(out.array.shape, dtype=out.array.dtype),
                                     a.backend)
        return out
    from ..numpy.shaping import broadcast_arrays

    a, b = broadcast_arrays(a, as_tensor(b, like))
    xp = a.xp
    axes = _red._axes(axis, a.ndim)
    if any(a.shape[i] == 0 for i in axes):  # an empty sum: log(0) = -inf
        m = Tensor._make(xp.zeros(_red._keepdims_shape(a.shape, axes), dtype=a.array.dtype),
                         a.backend)
    else:
        m = _red.max(a, axis=axis, keepdims=True).detach()
        m = Tensor._make(xp.where(xp.isfinite(m.array), m.array, 0), a.backend)
    total = _red.sum(b * _ag.exp(a - m), axis=axis, keepdims=True)
    sign = Tensor._make(a.xp.sign(total.array), a.backend)
    out = _ag.log(total * sign) + m
    if not keepdims:
        axes = _red._axes(axis, a.ndim)
        shape = tuple(n for i, n in enumerate(out.shape) if i not in axes)
        out = out.reshape(shape)
        sign = Tensor._make(sign.array.reshape(shape), a.backend)
    return (out, sign) if return_sign else out


@numpy_function(_plain("softmax"))
def softmax(x: Any, axis: Any = None) -> Any:
    """``exp(x) / sum(exp(x), axis)`` (SciPy's default: over all axes)."""
    return _red.softmax(_t(x), axis=axis)


@numpy_function(_plain("log_softmax"))
def log_softmax(x: Any, axis: Any = None) -> Any:
    """``x - logsumexp(x, axis)`` (SciPy's default: over all axes)."""
    return _red.log_softmax(_t(x), axis=axis)


def _fallback(name: str, *args: Any, **kwargs: Any) -> Any:
    """Plain data without SciPy: the kedja version on host tensors, back as NumPy arrays."""
    import backends

    from ..transform_io import to_plain

    fn = globals()[name]
    host = backends.host()
    lifted = [Tensor._make(host.asarray(onp.asarray(a)), host)
              if isinstance(a, (list, tuple, float, int, onp.ndarray, onp.generic)) else a
              for a in args]
    return to_plain(fn(*lifted, **kwargs))


gammasgn = _unary("gammasgn", _gamma_sign, "The sign of the gamma function (a constant).")


def _bessel_of_x(name: str, doc: str) -> Any:
    return _unary(name, lambda x: _bessel.special(name, x), doc)


j0 = _bessel_of_x("j0", "The Bessel function of the first kind of order 0.")
j1 = _bessel_of_x("j1", "The Bessel function of the first kind of order 1.")
y0 = _bessel_of_x("y0", "The Bessel function of the second kind of order 0.")
y1 = _bessel_of_x("y1", "The Bessel function of the second kind of order 1.")
i0 = _bessel_of_x("i0", "The modified Bessel function of the first kind of order 0.")
i1 = _bessel_of_x("i1", "The modified Bessel function of the first kind of order 1.")


def _with_parameter(name: str, doc: str) -> Any:
    def f(p: Any, x: Any) -> Any:
        if isinstance(p, Tensor):
            if p.requires_grad:
                raise TypeError(f"autograd.scipy.special.{name}: differentiable in x only, "
                                "not in its first argument")
            if p.size != 1:
                raise TypeError(f"autograd.scipy.special.{name}: on Tensors the first "
                                "argument must be one number")
            p = p.item()
        return _bessel.special(name, p, _t(x))

    f.__doc__ = doc
    return numpy_function(_plain(name), name)(f)


jn = _with_parameter("jn", "The Bessel function of the first kind of integer order n.")
yn = _with_parameter("yn", "The Bessel function of the second kind of integer order n.")
iv = _with_parameter("iv", "The modified Bessel function of the first kind of real order v.")
ive = _with_parameter("ive", "iv(v, x) * exp(-|x|), exponentially scaled.")
gammainc = _with_parameter("gammainc", "The regularized lower incomplete gamma P(a, x), "
                           "differentiable in x.")
gammaincc = _with_parameter("gammaincc", "The regularized upper incomplete gamma Q(a, x) = "
                            "1 - P(a, x), differentiable in x.")
