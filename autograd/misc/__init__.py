"""HIPS autograd's ``autograd.misc``: `flatten` (nested containers to one vector) and the
optimizers of `autograd.misc.optimizers` (sgd, rmsprop, adam)."""

from .flatten import flatten, flatten_func

__all__ = ["flatten", "flatten_func"]
