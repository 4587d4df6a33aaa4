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
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
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
from .functional import gradients, grad, value_and_grad, vjp, jvp, jacobian, hessian
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .config import show_config

__all__ = [
    "Function", "Tensor", "enable_grad", "is_grad_enabled", "no_grad", "set_grad_enabled",
    "add", "div", "divide", "maximum", "minimum", "mul", "multiply", "neg", "negative", "pow",
    "power", "sub", "subtract", "true_divide", "where", "matmul", *_creation_all,
    "gradients", "grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian",
    "GradcheckError", "gradcheck", "gradgradcheck", "show_config",
    *_reduction.__all__, *_shape.__all__, *_indexing.__all__, *_unary.__all__,
    *_activation.__all__, *_scatter.__all__, "scatter_reduce",
]
# `autograd.testing` (hypothesis strategies) is imported explicitly: hypothesis is optional.
