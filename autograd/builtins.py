"""HIPS autograd's ``autograd.builtins`` (``from autograd import isinstance, list, tuple, dict``).

In kedja the traced value is a Tensor and containers of Tensors are plain Python containers,
so `list`, `tuple` and `dict` are Python's own. `isinstance` and `type` see an `ArrayBox` (the
NumPy-speaking Tensor a function of NumPy arrays is called with) as the NumPy array it stands
for, as HIPS autograd's do.
"""

from __future__ import annotations

import builtins as _builtins
from typing import Any

__all__ = ["isinstance", "type", "list", "tuple", "dict"]

list = _builtins.list  # noqa: A001
tuple = _builtins.tuple  # noqa: A001
dict = _builtins.dict  # noqa: A001


def _stands_for(obj: Any) -> Any:
    from .numpy.box import ArrayBox
    from .numpy.dispatch import onp

    return onp.ndarray if _builtins.isinstance(obj, ArrayBox) else None


def isinstance(obj: Any, kinds: Any) -> bool:  # noqa: A001
    """Python's ``isinstance``, with an ArrayBox counted as a NumPy ndarray."""
    standin = _stands_for(obj)
    if standin is not None:
        kinds_tuple = kinds if _builtins.isinstance(kinds, _builtins.tuple) else (kinds,)
        if any(_builtins.isinstance(k, _builtins.type) and issubclass(standin, k)
               for k in kinds_tuple):
            return True
    return _builtins.isinstance(obj, kinds)


def type(obj: Any) -> Any:  # noqa: A001
    """Python's ``type``, with an ArrayBox's type given as NumPy's ndarray."""
    standin = _stands_for(obj)
    return standin if standin is not None else _builtins.type(obj)
