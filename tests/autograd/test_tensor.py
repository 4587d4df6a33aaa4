"""Tensor: creation functions, properties, conversions, repr, in-place ops, comparisons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import autograd as ag

REPO = Path(__file__).resolve().parents[2]


def test_autograd_is_this_repositorys_package() -> None:
    # HIPS autograd installs under the same import name; make sure it is not the one imported.
    assert Path(ag.__file__).resolve().is_relative_to(REPO)
    assert hasattr(ag, "Function") and hasattr(ag, "gradcheck")


def test_import_autograd_does_not_import_hypothesis() -> None:
    import subprocess
    import sys

    code = "import sys, autograd; print('hypothesis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_tensor_and_as_tensor(backend) -> None:
    host = np.array([1.0, 2.0])
    t = ag.tensor(host, device=backend)
    assert t.device == backend.device and t.shape == (2,)
    host[0] = 99.0
    assert t.numpy().tolist() == [1.0, 2.0]  # tensor() copies
    t2 = ag.tensor(t)
    assert t2.numpy().tolist() == [1.0, 2.0]
    with ag.no_grad():
        t2 += 1.0
    assert t.numpy().tolist() == [1.0, 2.0]
    assert ag.as_tensor(t) is t
    assert ag.tensor([[1, 2], [3, 4]], device=backend).tolist() == [[1, 2], [3, 4]]


def test_zeros_ones_full_empty(backend) -> None:
    assert ag.zeros(2, 3, device=backend).numpy().tolist() == [[0.0] * 3] * 2
    assert ag.zeros((2, 3), device=backend).shape == (2, 3)
    assert ag.ones(2, device=backend).numpy().tolist() == [1.0, 1.0]
    assert ag.full((2,), 7.0, device=backend).numpy().tolist() == [7.0, 7.0]
    assert ag.full(3, 1.5, dtype="float64", device=backend).dtype == np.float64
    assert ag.empty(4, device=backend).shape == (4,)
    assert ag.zeros((), device=backend).shape == ()
    assert ag.ones(0, 3, device=backend).numel() == 0


def test_arange_linspace_eye(backend) -> None:
    assert ag.arange(4, device=backend).tolist() == [0, 1, 2, 3]
    assert ag.arange(1, 7, 2, device=backend).tolist() == [1, 3, 5]
    np.testing.assert_allclose(ag.arange(0.0, 1.0, 0.25, device=backend).numpy(),
                               [0.0, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(ag.linspace(0.0, 1.0, 5, device=backend).numpy(),
                               [0.0, 0.25, 0.5, 0.75, 1.0])
    assert ag.eye(2, device=backend).numpy().tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert ag.eye(2, 3, device=backend).shape == (2, 3)


def test_random_draws_and_manual_seed(backend) -> None:
    ag.manual_seed(123)
    a = ag.rand(3, 4, device=backend).numpy()
    b = ag.randn(5, device=backend).numpy()
    c = ag.randint(0, 10, (6,), device=backend).numpy()
    ag.manual_seed(123)
    np.testing.assert_array_equal(ag.rand(3, 4, device=backend).numpy(), a)
    np.testing.assert_array_equal(ag.randn(5, device=backend).numpy(), b)
    np.testing.assert_array_equal(ag.randint(0, 10, (6,), device=backend).numpy(), c)
    assert ((a >= 0) & (a < 1)).all() and c.dtype == np.int64 and ((c >= 0) & (c < 10)).all()
    assert not np.array_equal(ag.rand(3, 4, device=backend).numpy(), a)


def test_like_functions(backend) -> None:
    x = ag.ones(2, 3, dtype="float64", device=backend)
    for fn in (ag.zeros_like, ag.ones_like, ag.rand_like, ag.randn_like):
        y = fn(x)
        assert (y.shape, y.dtype, y.device) == ((2, 3), np.float64, backend.device)
    assert ag.full_like(x, 4.0).numpy().tolist() == [[4.0] * 3] * 2
    assert ag.zeros_like(x, dtype="float32").dtype == np.float32
    assert ag.ones_like(x, requires_grad=True).requires_grad


def test_creation_with_requires_grad(backend) -> None:
    for t in (ag.zeros(2, device=backend, requires_grad=True),
              ag.tensor([1.0], device=backend, requires_grad=True),
              ag.randn(2, device=backend, requires_grad=True)):
        assert t.requires_grad and t.is_leaf and t.grad is None


def test_properties(backend) -> None:
    x = ag.ones(2, 3, device=backend)
    assert x.shape == (2, 3) and x.ndim == 2 and x.numel() == 6 and len(x) == 2
    assert x.size() == (2, 3) and x.size(-1) == 3 and x.dim() == 2
    assert x.dtype == np.float32 and x.device == backend.device and x.backend is backend
    assert x.xp is backend.xp
    assert x.is_leaf and not x.requires_grad and x.grad_fn is None
    assert x.T.shape == (3, 2)
    y = x * 2.0
    assert y.is_leaf  # computed from tensors that need no grad
    z = ag.ones(2, device=backend, requires_grad=True) * 2.0
    assert not z.is_leaf and z.grad_fn is not None
    with pytest.raises(TypeError, match="0-d"):
        len(ag.tensor(1.0, device=backend))


def test_conversions(backend) -> None:
    x = ag.tensor([[1.5, 2.0]], device=backend)
    arr = x.numpy()
    assert isinstance(arr, np.ndarray) and arr.tolist() == [[1.5, 2.0]]
    assert x.tolist() == [[1.5, 2.0]]
    s = ag.tensor([3.5], device=backend)
    assert s.item() == 3.5 and isinstance(s.item(), float)
    assert float(s) == 3.5 and int(ag.tensor(4, device=backend)) == 4
    assert bool(ag.tensor(1.0, device=backend))
    assert [3.0, 4.0][int(ag.tensor(1, device=backend))] == 4.0


def test_detach_shares_data_but_leaves_the_graph(backend) -> None:
    x = ag.ones(2, device=backend, requires_grad=True)
    y = x * 2.0
    d = y.detach()
    assert d.grad_fn is None and not d.requires_grad
    assert d.numpy().tolist() == [2.0, 2.0]
    with ag.no_grad():
        d += 1.0
    assert y.numpy().tolist() == [3.0, 3.0]  # same memory


def test_requires_grad_(backend) -> None:
    x = ag.ones(2, device=backend)
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad


def test_repr_shows_values_dtype_device_and_grad_fn(backend) -> None:
    x = ag.tensor([1.0, 2.0], device=backend, requires_grad=True)
    r = repr(x)
    assert r.startswith("tensor([1., 2.]") and "dtype=float32" in r
    assert f"device={backend.device}" in r and "requires_grad=True" in r
    y = x * 2.0
    assert "grad_fn=<MulBackward>" in repr(y)
    m = repr(ag.tensor([[1.0, 2.0], [3.0, 4.0]], dtype="float64", device=backend))
    assert m.splitlines()[1].startswith("        [3.")  # continuation lines line up
    assert "dtype=float64" in m
    assert repr(ag.tensor(2.5, device=backend)).startswith("tensor(2.5,")
    # NumPy wraps its dtype onto a line of its own for long rows: named once all the same
    wide = repr(ag.tensor([1.4130163e-01, 9.8228455e-05, 0.0, 0.0], device=backend))
    assert wide.count("dtype=") == 1 and wide.rstrip().endswith(f"device={backend.device})")


def test_in_place_on_a_non_leaf_is_recorded(backend) -> None:
    x = ag.tensor([1.0, 2.0], device=backend, requires_grad=True)
    y = x * 2.0
    y += x  # y = 3x, recorded
    assert y.grad_fn is not None and y.grad_fn.name() == "Add"
    y *= y  # y = 9 x^2
    y.sum().backward()
    assert x.grad.numpy().tolist() == [18.0, 36.0]


def test_in_place_with_a_grad_requiring_operand_on_a_plain_tensor(backend) -> None:
    w = ag.tensor([2.0], device=backend, requires_grad=True)
    acc = ag.zeros(1, device=backend)
    acc += w * 3.0
    assert acc.requires_grad
    acc.sum().backward()
    assert w.grad.numpy().tolist() == [3.0]


def test_in_place_on_a_leaf_requiring_grad_raises_but_works_under_no_grad(backend) -> None:
    w = ag.tensor([1.0, 2.0], device=backend, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w -= 0.5
    with ag.no_grad():
        w -= 0.5
        w *= 2.0
    assert w.numpy().tolist() == [1.0, 3.0]
    assert w.is_leaf and w.requires_grad and w.grad_fn is None


def test_in_place_without_grad_writes_into_memory_and_bumps_the_version(backend) -> None:
    x = ag.ones(2, device=backend)
    data = x.array
    version = x._version[0]
    x += 1.0
    assert x.array is data and x._version[0] == version + 1
    x.zero_()
    x.fill_(3.0)
    x.copy_(ag.tensor([4.0, 5.0], device=backend))
    assert x.numpy().tolist() == [4.0, 5.0] and x._version[0] == version + 4


def test_comparisons_return_plain_bool_tensors(backend) -> None:
    x = ag.tensor([1.0, 2.0, 3.0], device=backend, requires_grad=True)
    y = ag.tensor([3.0, 2.0, 1.0], device=backend)
    for result, expected in (
        (x < y, [True, False, False]),
        (x <= y, [True, True, False]),
        (x > 2.0, [False, False, True]),
        (x >= 2.0, [False, True, True]),
        (x == y, [False, True, False]),
        (x != y, [True, False, True]),
        (x.eq(2.0), [False, True, False]),
    ):
        assert isinstance(result, ag.Tensor)
        assert result.dtype == np.bool_ and not result.requires_grad and result.grad_fn is None
        assert result.tolist() == expected
    assert (x > 0.0).all().item() and (x > 2.5).any().item()
    assert not (x > 5.0).any().item()


def test_tensors_are_hashable_by_identity(backend) -> None:
    x = ag.ones(1, device=backend)
    y = ag.ones(1, device=backend)
    assert len({x, y, x}) == 2


def test_iteration_yields_rows(backend) -> None:
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]], device=backend)
    assert [row.tolist() for row in x] == [[1.0, 2.0], [3.0, 4.0]]
