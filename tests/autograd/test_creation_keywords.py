"""Every creation function takes ``dtype=``, ``device=`` and ``requires_grad=`` with PyTorch's
meaning, as docs/autograd.md says (`from_dlpack` and `from_numpy`, which share memory as they
find it, take ``device=`` only or nothing, and `manual_seed` creates nothing)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import autograd as ag
from autograd import creation

NOT_CREATION = {"manual_seed", "from_dlpack", "from_numpy"}
CREATORS = sorted(set(creation.__all__) - NOT_CREATION)

# One call per function, given its keywords: the first argument(s) it needs, if any.
_ARGS = {
    "tensor": ([1.0, 2.0],), "as_tensor": ([1.0, 2.0],), "zeros": (2,), "ones": (2,),
    "empty": (2,), "full": (2, 1.5), "arange": (2,), "linspace": (0.0, 1.0, 2), "eye": (2,),
    "rand": (2,), "randn": (2,), "randint": (0, 5, (2,)),
}


def _call(name: str, **kwargs):
    fn = getattr(ag, name)
    if name.endswith("_like"):
        args = (ag.zeros(2),) + ((1.5,) if name == "full_like" else ())
    else:
        args = _ARGS[name]
    return fn(*args, **kwargs)


def test_the_list_covers_every_creation_function() -> None:
    assert set(CREATORS) == set(_ARGS) | {n for n in creation.__all__ if n.endswith("_like")}


@pytest.mark.parametrize("name", CREATORS)
def test_every_creation_function_takes_dtype_device_and_requires_grad(name, backend) -> None:
    params = inspect.signature(getattr(ag, name)).parameters
    assert {"dtype", "device", "requires_grad"} <= set(params), name
    t = _call(name, dtype="float64", device=backend, requires_grad=True)
    assert t.dtype == np.float64 and t.backend is backend
    assert t.requires_grad and t.is_leaf and t.grad_fn is None
    plain = _call(name, device=backend)
    assert not plain.requires_grad


def test_randint_stores_whole_numbers_in_the_dtype_asked_for(backend) -> None:
    ints = ag.randint(3, 7, (50,), device=backend)
    assert ints.dtype == np.int64  # PyTorch's default
    floats = ag.randint(3, 7, (50,), dtype="float32", device=backend).numpy()
    assert floats.dtype == np.float32 and set(np.unique(floats)) <= {3.0, 4.0, 5.0, 6.0}
    with pytest.raises(TypeError, match="floating point"):
        ag.randint(0, 2, (3,), requires_grad=True)  # int64 cannot require grad (PyTorch too)


def test_as_tensor_with_requires_grad_keeps_sharing_host_memory() -> None:
    data = np.arange(3.0, dtype=np.float32)
    t = ag.as_tensor(data, device="cpu", requires_grad=True)
    assert t.requires_grad and np.shares_memory(t.array, data)
    same = ag.tensor([1.0])
    assert ag.as_tensor(same, requires_grad=True) is same and same.requires_grad
