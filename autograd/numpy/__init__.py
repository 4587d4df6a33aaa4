"""NumPy's functions, differentiable: ``import autograd.numpy as np``.

Every name NumPy has is here, with NumPy's arguments and semantics (``axis``, ``keepdims``,
``ddof``, out-of-place results, NEP 50 promotion). The rule (see `dispatch`):

* called on plain data (NumPy arrays, lists, scalars) a function is NumPy's own and returns
  what NumPy returns, so ``np.array([1.0])`` is a float64 NumPy array;
* called on kedja Tensors it runs kedja's ops on the Tensors' device and returns Tensors that
  autograd differentiates (to any order);
* inside ``grad(f)(x)`` with a NumPy `x`, `f` sees an `ArrayBox`: a Tensor whose methods and
  operators speak NumPy; the transform hands back NumPy arrays.

    >>> import autograd.numpy as np
    >>> from autograd import grad
    >>> grad(lambda x: np.sum(np.tanh(x) ** 2))(np.array([0.5, -1.0]))   # a NumPy array

Functions without a differentiable kedja version still run on Tensors that do not require
grad, and raise a clear TypeError when asked to differentiate (docs/numpy.md lists which are
which). Submodules: `linalg`, `fft`, `random`.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from ..ops import indexing as _idx
from ..ops.unary import astype as _cast
from . import box as _box
from .box import ArrayBox
from .calls import constant_call as _constant_call
from .creation import *  # noqa: F401,F403
from .creation import __all__ as _creation_all
from .dispatch import onp as _onp
from .dispatch import retag as _retag
from .elementwise import *  # noqa: F401,F403
from .elementwise import __all__ as _elementwise_all
from .elementwise import not_differentiable as _not_differentiable
from .index_tricks import c_, make_diagonal, r_  # noqa: F401
from .reductions import *  # noqa: F401,F403
from .reductions import __all__ as _reductions_all
from .selection import *  # noqa: F401,F403
from .selection import __all__ as _selection_all
from .shaping import *  # noqa: F401,F403
from .shaping import __all__ as _shaping_all

# Constants and types: NumPy's own objects.
pi = _onp.pi
e = _onp.e
inf = _onp.inf
nan = _onp.nan
newaxis = _onp.newaxis
euler_gamma = _onp.euler_gamma
__version__ = _onp.__version__
ndarray = _onp.ndarray
dtype = _onp.dtype
float16, float32, float64 = _onp.float16, _onp.float32, _onp.float64
int8, int16, int32, int64 = _onp.int8, _onp.int16, _onp.int32, _onp.int64
uint8, uint16, uint32, uint64 = _onp.uint8, _onp.uint16, _onp.uint32, _onp.uint64
complex64, complex128 = _onp.complex64, _onp.complex128
bool_ = _onp.bool_
finfo, iinfo = _onp.finfo, _onp.iinfo

#: Names defined here (not forwarded to NumPy by `__getattr__`).
DEFINED = frozenset(
    ["r_", "c_", "nonzero", "real_if_close", "make_diagonal", "vecdot", *_creation_all,
     *_elementwise_all, *_reductions_all, *_selection_all, *_shaping_all]
)


def _getitem(x: ArrayBox, index: Any) -> ArrayBox:
    """``box[index]`` with NumPy's indexing rules (views for basic indices, gathers else)."""
    return _retag(_idx.getitem(x, index), [x])


def _astype(x: ArrayBox, dtype: Any) -> ArrayBox:
    """``box.astype(dtype)``: differentiable between floating types."""
    return _retag(_cast(x, _onp.dtype(dtype)), [x])


def nonzero(a: Any) -> Any:
    """NumPy's ``nonzero``: a tuple of index arrays (constants)."""
    from .dispatch import tensors_in

    if not tensors_in((a,)):
        return _onp.nonzero(a)
    return _constant_call("nonzero", (a,), {})


from . import fft, linalg, random  # noqa: E402,F401  (before __getattr__, which shadows them)

if hasattr(_onp, "vecdot"):  # NumPy 2: the top-level vecdot is linalg.vecdot's computation
    from .dispatch import numpy_function as _numpy_function

    vecdot = _numpy_function(_onp.vecdot, "vecdot", "NumPy's ``vecdot``: sum(conj(x1) * x2) "
                             "along `axis`.")(linalg.vecdot._kedja)


def real_if_close(a: Any, tol: float = 100) -> Any:
    """NumPy's ``real_if_close``: a real Tensor itself; a complex one's real part if its
    imaginary part is negligible (forward only for complex tensors)."""
    from .dispatch import tensors_in

    if not tensors_in((a,)):
        return _onp.real_if_close(a, tol=tol)
    if a.array.dtype.kind != "c":
        return a
    return _constant_call("real_if_close", (a,), {"tol": tol})


def __getattr__(name: str) -> Any:
    # Everything else NumPy has: constants and types as they are; functions forward-only on
    # Tensors (a clear error when asked to differentiate), NumPy's own on plain data.
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        attr = getattr(_onp, name)
    except AttributeError:
        raise AttributeError(f"module 'autograd.numpy' has no attribute {name!r}") from None
    if callable(attr) and not isinstance(attr, (type, types.ModuleType)):
        attr = _not_differentiable(name)
    globals()[name] = attr
    return attr


__all__ = sorted(set(DEFINED) | {n for n in getattr(_onp, "__all__", ()) if not
                                  n.startswith("_") and n not in ("linalg", "fft", "random")})

_box._NP = sys.modules[__name__]
