"""HIPS autograd's `unary_to_nary`, for code written against its internals."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

__all__ = ["unary_to_nary", "get_name"]


def get_name(f: Any) -> str:
    return getattr(f, "__name__", "[unknown name]")


def unary_to_nary(unary_operator: Callable) -> Callable:
    """``op(f, x, ...)`` (a transform of one-argument functions) made into ``op(f, argnum=0,
    ...)(*args, **kwargs)``: the argument(s) at `argnum` (an int or a tuple) are the ones
    transformed, the others held fixed."""

    @wraps(unary_operator)
    def nary_operator(fun: Callable, argnum: Any = 0, *op_args: Any, **op_kwargs: Any) -> Callable:
        @wraps(fun)
        def nary_f(*args: Any, **kwargs: Any) -> Any:
            single = isinstance(argnum, int)
            nums = (argnum,) if single else tuple(argnum)

            def unary_f(x: Any) -> Any:
                new = list(args)
                for i, value in zip(nums, (x,) if single else x):
                    new[i] = value
                return fun(*new, **kwargs)

            x = args[argnum] if single else tuple(args[i] for i in nums)
            return unary_operator(unary_f, x, *op_args, **op_kwargs)

        return nary_f

    return nary_operator
