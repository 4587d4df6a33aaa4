"""Argument handling shared by the distributions: everything as Tensors on one device once any
argument is a Tensor (so that operators combine Tensors), plain data left as it is."""

from __future__ import annotations

from typing import Any

from ...numpy.dispatch import as_tensor, onp, tensors_in


def lift(*args: Any) -> list:
    """The arguments as float Tensors on the first Tensor's device, if any is a Tensor; else
    as float64 NumPy arrays."""
    found = tensors_in(args)
    if not found:
        return [onp.asarray(a, dtype=float) for a in args]
    like = found[0]
    out = []
    for a in args:
        t = as_tensor(a if not isinstance(a, (int, float)) else onp.asarray(float(a)), like)
        out.append(t.astype("float64") if t.array.dtype.kind in "biu" else t)
    return out


def scipy_attribute(distribution: str, name: str) -> Any:
    """SciPy's `name` of `distribution` (rvs, entropy, ...) for plain data: the distribution
    modules' other attributes. Called on a Tensor it raises a TypeError (it would silently
    drop the gradient); AttributeError without SciPy or such a name."""
    try:
        from scipy import stats
    except ImportError:  # pragma: no cover - depends on the environment
        raise AttributeError(f"autograd.scipy.stats.{distribution} has no {name!r} (it would "
                             "come from SciPy, which is not installed)") from None
    attr = getattr(getattr(stats, distribution), name, None)
    if attr is None or name.startswith("_"):
        raise AttributeError(f"autograd.scipy.stats.{distribution} has no attribute {name!r}")
    if not callable(attr):
        return attr

    def plain_only(*args: Any, **kwargs: Any) -> Any:
        if tensors_in(args, kwargs):
            raise TypeError(
                f"autograd.scipy.stats.{distribution}.{name} is SciPy's own: it takes plain "
                "data, not Tensors, and is not differentiable in kedja (the differentiable "
                f"ones are listed in docs/numpy.md)"
            )
        return attr(*args, **kwargs)

    plain_only.__name__ = name
    plain_only.__doc__ = f"SciPy's ``stats.{distribution}.{name}`` on plain data."
    return plain_only
