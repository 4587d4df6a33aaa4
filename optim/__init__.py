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

from backends.lazy_exports import lazy_exports as _lazy_exports

from .adagrad import Adagrad
from .adam import Adam, AdamW
from .clip import clip_grad_norm_, clip_grad_value_
from .optimizer import Optimizer, required
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "Optimizer", "required", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW",
    "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "LBFGS",
    "clip_grad_norm_", "clip_grad_value_", "lr_scheduler",
]

# Loaded on first use (PEP 562), so that `import optim` stays cheap: the schedulers and the less
# common optimizers. `optim.LBFGS`, `from optim import lr_scheduler` and
# `optim.lr_scheduler.StepLR` work as if they were imported above.
_LAZY = {
    "Adadelta": "adadelta", "Adamax": "adamax", "NAdam": "nadam", "RAdam": "radam",
    "ASGD": "asgd", "LBFGS": "lbfgs",
}
# submodules the eager import used to load (attributes of the package once loaded)
_LAZY_SUBMODULES = frozenset({
    "adadelta", "adamax", "asgd", "lbfgs", "line_search", "lr_base", "lr_cycles",
    "lr_policies", "lr_scheduler", "nadam", "radam", "scalar_state",
})


__getattr__, __dir__ = _lazy_exports(__name__, globals(), _LAZY, _LAZY_SUBMODULES)
