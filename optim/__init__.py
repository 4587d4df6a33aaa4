"""Optimizers, learning-rate schedulers and gradient clipping (PyTorch's names and semantics).

    >>> import optim
    >>> opt = optim.Adam(model.parameters(), lr=1e-3)
    >>> sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    >>> for x, y in loader:
    ...     opt.zero_grad()
    ...     loss = loss_fn(model(x), y)
    ...     loss.backward()
    ...     optim.clip_grad_norm_(model.parameters(), max_norm=1.0)
    ...     opt.step()
    >>>     sched.step()

Works on any Tensors with ``requires_grad`` (``nn.Parameter`` is one); optim never imports nn.
"""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .clip import clip_grad_norm_, clip_grad_value_
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer, required
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "Optimizer", "required", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW",
    "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "LBFGS",
    "clip_grad_norm_", "clip_grad_value_", "lr_scheduler",
]
