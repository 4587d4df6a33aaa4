"""Zero-copy interop through DLPack, and copies of tensors keeping their backend."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import autograd as ag


def test_numpy_reads_a_cpu_tensor_without_copying() -> None:
    t = ag.arange(5.0)
    shared = np.from_dlpack(t)
    t.array[0] = 42.0
    assert shared[0] == 42.0


def test_from_dlpack_shares_memory_with_a_numpy_array() -> None:
    a = np.arange(4, dtype=np.float32)
    t = ag.from_dlpack(a)
    a[1] = -1.0
    assert t.tolist() == [0.0, -1.0, 2.0, 3.0]
    assert t.device == "cpu"


def test_a_tensor_that_requires_grad_refuses_export() -> None:
    t = ag.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad.*detach"):
        t.__dlpack__()
    np.testing.assert_array_equal(np.from_dlpack(t.detach()), np.ones(3, dtype=np.float32))


def test_torch_round_trip_when_installed() -> None:
    torch = pytest.importorskip("torch")
    t = ag.from_dlpack(torch.arange(3.0))
    back = torch.from_dlpack(t)
    assert back.tolist() == [0.0, 1.0, 2.0]


def test_deepcopy_keeps_the_backend(backend) -> None:
    t = ag.ones(2, device=backend)
    clone = copy.deepcopy(t)
    assert clone.backend is t.backend
    assert clone.tolist() == [1.0, 1.0]
