"""kedja's autograd: tensors that record their computation and differentiate it by backprop.

    >>> import autograd as ag
    >>> x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    tensor([2., 4., 6.], dtype=float32, device=cpu)

Function transforms (`grad`, `value_and_grad`, `vjp`, `jvp`, `jacobian`, `hessian`) and
`gradients` live in `autograd.functional`; `gradcheck`/`gradgradcheck` in `autograd.gradcheck`;
hypothesis strategies for property tests in `autograd.testing` (needs the ``dev`` extra).
"""

from .tensor import Tensor  # first: the op modules it loads need Tensor defined
from .function import Function
from .grad_mode import (
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
    set_grad_enabled,
)
from .anomaly_mode import (
    detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled, set_detect_anomaly,
)
from .creation import *  # noqa: F401,F403
from .creation import __all__ as _creation_all
from .ops.arithmetic import (
    add, div, divide, maximum, minimum, mul, multiply, neg, negative, pow, power, sub,
    subtract, true_divide, where,
)
from .ops.indexing import *  # noqa: F401,F403
from .ops.scatter import *  # noqa: F401,F403
from .ops.scatter_reduce import scatter_reduce
from .ops.linalg import matmul
from .ops.reduction import *  # noqa: F401,F403
from .ops.shape import *  # noqa: F401,F403
from .ops.unary import *  # noqa: F401,F403
from .ops.activation import *  # noqa: F401,F403
from .ops import (
    activation as _activation, indexing as _indexing, reduction as _reduction, scatter as _scatter,
    shape as _shape, unary as _unary,
)
# -- issue 13/14 math and structure ops (NumPy's names and semantics; PyTorch-only names such
# as mm, addmm, topk, kthvalue, cummax take PyTorch's arguments) --------------------------------
from .ops.blending import *  # noqa: F401,F403
from .ops.clamping import *  # noqa: F401,F403
from .ops.cumulative import *  # noqa: F401,F403
from .ops.exponential import *  # noqa: F401,F403
from .ops.logical import *  # noqa: F401,F403
from .ops.products import *  # noqa: F401,F403
from .ops.rounding import *  # noqa: F401,F403
from .ops.sorting import *  # noqa: F401,F403
from .ops.sorting import kthvalue
from .ops.statistics import *  # noqa: F401,F403
from .ops.triangular import *  # noqa: F401,F403
from .ops.trigonometry import *  # noqa: F401,F403
from .ops.cumulative import cummax, cummin
from .ops import (
    blending as _blending, clamping as _clamping, cumulative as _cumulative,
    exponential as _exponential, logical as _logical, products as _products,
    rounding as _rounding, sorting as _sorting, statistics as _statistics,
    triangular as _triangular, trigonometry as _trigonometry,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .dtypes import *  # noqa: F401,F403  (ag.float32, ag.long, ..., set_default_dtype, finfo)
from .dtypes import __all__ as _dtypes_all
# PyTorch's aliases ag.float, ag.int, ag.bool: attributes, not in __all__ (a star import must not
# shadow the builtins). From here on, this file must not call float(), int() or bool().
from .dtypes import bool, float, int  # noqa: A004
from .devices import device
from .ops.sampling import bernoulli, multinomial, normal, randperm
from .queries import is_tensor, numel

__all__ = [
    "Function", "Tensor", "enable_grad", "is_grad_enabled", "no_grad", "set_grad_enabled",
    "inference_mode", "is_inference_mode_enabled",
    "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
    "add", "div", "divide", "maximum", "minimum", "mul", "multiply", "neg", "negative", "pow",
    "power", "sub", "subtract", "true_divide", "where", "matmul", *_creation_all,
    "gradients", "grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian",
    "GradcheckError", "gradcheck", "gradgradcheck", "show_config",
    "checkpoint", "deriv", "elementwise_grad", "grad_and_aux", "grad_named",
    "hessian_tensor_product", "hessian_vector_product", "holomorphic_grad", "make_ggnvp",
    "make_hvp", "make_jvp", "make_vjp", "multigrad_dict", "tensor_jacobian_product",
    "vector_jacobian_product", "primitive", "CaptureError",
    *_reduction.__all__, *_shape.__all__, *_indexing.__all__, *_unary.__all__,
    *_activation.__all__, *_scatter.__all__, "scatter_reduce",
    *_dtypes_all, "device", "bernoulli", "multinomial", "normal", "randperm", "is_tensor",
    "numel",
    "einsum", "kthvalue", "cummax", "cummin",
    "autocast", "is_autocast_enabled", "get_autocast_dtype", "clear_autocast_cache", "GradScaler",
    *_blending.__all__, *_clamping.__all__, *_cumulative.__all__, *_exponential.__all__,
    *_logical.__all__, *_products.__all__, *_rounding.__all__, *_sorting.__all__,
    *_statistics.__all__, *_triangular.__all__, *_trigonometry.__all__,
]
# `autograd.testing` (hypothesis strategies) is imported explicitly: hypothesis is optional.
# HIPS autograd's container helpers (`from autograd import isinstance, list, tuple, dict`):
# attributes only, never star-exported (they would shadow Python's builtins).
from .builtins import dict, isinstance, list, tuple, type  # noqa: E402, A004

# The NumPy-dialect functions take array-likes as NumPy's do (ag.add([1, 2], [3, 4]) adds):
# their array arguments are converted at the entry, NumPy's way (autograd/array_likes.py).
from . import array_likes as _array_likes  # noqa: E402

_array_likes.wrap_namespace(
    globals(), [name for name in __all__ if hasattr(_array_likes.backends.host().xp, name)]
)

# ruff: noqa: F405  (the lazy names below are listed in __all__ above but bound on first use)
# -- loaded on first use (PEP 562), so that `import autograd` stays cheap: function transforms,
# the autograd-compatible extension API and mixed precision are rarely needed by a
# training script and cost about a third of the import. `from autograd import grad`,
# `ag.autocast`, `dir(ag)` and star imports behave as if they were imported above.
from backends.lazy_exports import lazy_exports as _lazy_exports  # noqa: E402

# public name -> submodule that defines it
_LAZY = {
    **dict.fromkeys(("gradients", "grad", "value_and_grad", "vjp", "jvp", "jacobian",
                     "hessian"), ".functional"),
    **dict.fromkeys(("checkpoint", "deriv", "elementwise_grad", "grad_and_aux", "grad_named",
                     "hessian_tensor_product", "hessian_vector_product", "holomorphic_grad",
                     "make_ggnvp", "make_hvp", "make_jvp", "make_vjp", "multigrad_dict",
                     "tensor_jacobian_product", "vector_jacobian_product"),
                    ".differential_operators"),
    # autocast_mode installs the op hooks of autocast_policy.py when a region is first entered
    **dict.fromkeys(("autocast", "is_autocast_enabled", "get_autocast_dtype",
                     "clear_autocast_cache"), ".autocast_mode"),
    "GradScaler": ".grad_scaler", "primitive": ".extend", "show_config": ".config",
    "einsum": ".ops.einsum",
    # the step compiler (docs/compile.md)
    "compile": ".step_compiler", "CaptureError": ".step_compiler",
}
# submodules the eager import used to load (attributes of the package once loaded)
_LAZY_SUBMODULES = frozenset({
    "autocast_mode", "autocast_policy", "config", "differential_operators",
    "extend", "functional", "grad_scaler", "inputs", "jacobian_stack", "pytree",
    "transform_io",
})


def _as_numpy_does(name: str, value: object) -> object:
    if hasattr(_array_likes.backends.host().xp, name):  # as wrap_namespace did above
        return _array_likes.accept_array_likes(value)
    return value


__getattr__, __dir__ = _lazy_exports(__name__, globals(), _LAZY, _LAZY_SUBMODULES,
                                     wrap=_as_numpy_does)
