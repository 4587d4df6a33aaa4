"""Tensor operators promote dtypes as PyTorch does; the `ag.` functions as NumPy does.

The tables below are PyTorch's results (``torch.ones(2, dtype=a) + torch.ones((), dtype=b)``
and so on, written down from PyTorch 2.x), checked cell by cell on every backend; the whole
file runs under both cores. Where PyTorch gives complex32 (float16 with a complex number)
kedja gives complex64: NumPy has no complex32.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import backends

from ..conftest import has_bfloat16

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
         "float64", "complex64", "complex128"]
SHORT = {"b": "bool", "u8": "uint8", "i8": "int8", "i16": "int16", "i32": "int32",
         "i64": "int64", "f16": "float16", "bf16": "bfloat16", "f32": "float32",
         "f64": "float64", "c64": "complex64", "c128": "complex128"}

# Rows: the left operand's dtype, columns: the right operand's (in NAMES' order).
DIM_DIM = """
b     b     u8    i8    i16   i32   i64   f16   bf16  f32   f64   c64   c128
u8    u8    u8    i16   i16   i32   i64   f16   bf16  f32   f64   c64   c128
i8    i8    i16   i8    i16   i32   i64   f16   bf16  f32   f64   c64   c128
i16   i16   i16   i16   i16   i32   i64   f16   bf16  f32   f64   c64   c128
i32   i32   i32   i32   i32   i32   i64   f16   bf16  f32   f64   c64   c128
i64   i64   i64   i64   i64   i64   i64   f16   bf16  f32   f64   c64   c128
f16   f16   f16   f16   f16   f16   f16   f16   f32   f32   f64   c64   c128
bf16  bf16  bf16  bf16  bf16  bf16  bf16  f32   bf16  f32   f64   c64   c128
f32   f32   f32   f32   f32   f32   f32   f32   f32   f32   f64   c64   c128
f64   f64   f64   f64   f64   f64   f64   f64   f64   f64   f64   c128  c128
c64   c64   c64   c64   c64   c64   c64   c64   c64   c64   c128  c64   c128
c128  c128  c128  c128  c128  c128  c128  c128  c128  c128  c128  c128  c128
"""

# The left operand has dimensions, the right one is 0-d: it counts only with a higher category.
DIM_ZERO = """
b     b     u8    i8    i16   i32   i64   f16   bf16  f32   f64   c64   c128
u8    u8    u8    u8    u8    u8    u8    f16   bf16  f32   f64   c64   c128
i8    i8    i8    i8    i8    i8    i8    f16   bf16  f32   f64   c64   c128
i16   i16   i16   i16   i16   i16   i16   f16   bf16  f32   f64   c64   c128
i32   i32   i32   i32   i32   i32   i32   f16   bf16  f32   f64   c64   c128
i64   i64   i64   i64   i64   i64   i64   f16   bf16  f32   f64   c64   c128
f16   f16   f16   f16   f16   f16   f16   f16   f16   f16   f16   c64   c64
bf16  bf16  bf16  bf16  bf16  bf16  bf16  bf16  bf16  bf16  bf16  c64   c64
f32   f32   f32   f32   f32   f32   f32   f32   f32   f32   f32   c64   c64
f64   f64   f64   f64   f64   f64   f64   f64   f64   f64   f64   c128  c128
c64   c64   c64   c64   c64   c64   c64   c64   c64   c64   c64   c64   c64
c128  c128  c128  c128  c128  c128  c128  c128  c128  c128  c128  c128  c128
"""

SCALARS = [True, 2, 2.5, 1j]
# A tensor (with dimensions or 0-d: the same) with a Python scalar: per scalar in SCALARS'
# order, the dtype of ``t + s`` and of ``t / s``; default dtype float32.
SCALARS_F32 = """
b     b     f32   i64   f32   f32   f32   c64   c64
u8    u8    f32   u8    f32   f32   f32   c64   c64
i8    i8    f32   i8    f32   f32   f32   c64   c64
i16   i16   f32   i16   f32   f32   f32   c64   c64
i32   i32   f32   i32   f32   f32   f32   c64   c64
i64   i64   f32   i64   f32   f32   f32   c64   c64
f16   f16   f16   f16   f16   f16   f16   c64   c64
bf16  bf16  bf16  bf16  bf16  bf16  bf16  c64   c64
f32   f32   f32   f32   f32   f32   f32   c64   c64
f64   f64   f64   f64   f64   f64   f64   c128  c128
c64   c64   c64   c64   c64   c64   c64   c64   c64
c128  c128  c128  c128  c128  c128  c128  c128  c128
"""

def _parse(table: str) -> dict:
    rows = {}
    for line in table.strip().splitlines():
        first, *cells = line.split()
        rows[SHORT[first]] = [SHORT[c] for c in cells]
    return rows


_INTEGRAL = NAMES[:6]  # bool and the integer dtypes

# The tables PyTorch's rules derive from those above:
# - the left operand 0-d, the right one with dimensions: promotion is symmetric, so this is
#   DIM_ZERO transposed;
ZERO_DIM = {a: [_parse(DIM_ZERO)[b][i] for b in NAMES] for i, a in enumerate(NAMES)}
# - true division, both with dimensions: a bool or integer result becomes the default dtype;
DIV_DIM_DIM = {a: [c if c not in _INTEGRAL else "float32" for c in row]
               for a, row in _parse(DIM_DIM).items()}
# - a Python scalar with the default dtype float64 (``ag.set_default_dtype(ag.float64)``): a
#   bool or integer tensor's floating and complex results follow the default dtype.
_WIDER = {"float32": "float64", "complex64": "complex128"}
SCALARS_F64 = {a: [_WIDER.get(c, c) if a in _INTEGRAL else c for c in row]
               for a, row in _parse(SCALARS_F32).items()}


def _table(table: str | dict) -> dict:
    return table if isinstance(table, dict) else _parse(table)


def _dtypes_on(backend) -> list:
    """The dtypes the backend has: bfloat16 only on the CPU with ml_dtypes (CuPy has none)."""
    skip = backend.is_device or not has_bfloat16()
    return [n for n in NAMES if not (skip and n == "bfloat16")]


def _ones(shape: tuple, dtype: str, backend) -> ag.Tensor:
    return ag.ones(shape, dtype=dtype, device=backend)


def _check_table(backend, table: str | dict, shapes: tuple, op) -> None:
    expected = _table(table)
    names = _dtypes_on(backend)
    wrong = []
    for a in names:
        for j, b in enumerate(NAMES):
            if b not in names:
                continue
            got = op(_ones(shapes[0], a, backend), _ones(shapes[1], b, backend)).dtype
            if got != np.dtype(backends.dtype_of(expected[a][j])):
                wrong.append(f"{a} {b}: got {got}, PyTorch gives {expected[a][j]}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("op", ["+", "*"])
def test_tensors_with_dimensions(backend, op) -> None:
    _check_table(backend, DIM_DIM, ((2,), (2,)), lambda a, b: eval(f"a {op} b"))


def test_a_0d_tensor_counts_only_with_a_higher_category(backend) -> None:
    _check_table(backend, DIM_ZERO, ((2,), ()), lambda a, b: a + b)
    _check_table(backend, ZERO_DIM, ((), (2,)), lambda a, b: a + b)


def test_two_0d_tensors_promote_as_tensors_with_dimensions(backend) -> None:
    _check_table(backend, DIM_DIM, ((), ()), lambda a, b: a * b)


def test_true_division_is_floating(backend) -> None:
    _check_table(backend, DIV_DIM_DIM, ((2,), (2,)), lambda a, b: a / b)


@pytest.fixture
def default_float64():
    ag.set_default_dtype(ag.float64)
    try:
        yield
    finally:
        ag.set_default_dtype(ag.float32)


def _check_scalars(backend, table: str | dict) -> None:
    expected = _table(table)
    wrong = []
    for a in _dtypes_on(backend):
        for shape in ((2,), ()):
            t = _ones(shape, a, backend)
            for i, s in enumerate(SCALARS):
                results = {"t + s": t + s, "s + t": s + t, "t / s": t / s, "s / t": s / t}
                for k, (expr, y) in enumerate(results.items()):
                    want = expected[a][2 * i + k // 2]
                    if y.dtype != backends.dtype_of(want):
                        wrong.append(f"{expr} with t {a}{list(shape)}, s={s!r}: got {y.dtype}, "
                                     f"PyTorch gives {want}")
    assert not wrong, "\n".join(wrong)


def test_python_scalars_with_the_default_float32(backend) -> None:
    _check_scalars(backend, SCALARS_F32)


def test_python_scalars_follow_the_default_dtype(backend, default_float64) -> None:
    _check_scalars(backend, SCALARS_F64)


def test_subtraction_and_power_promote_alike(backend) -> None:
    i = ag.tensor([1, 2], device=backend)
    f = ag.ones(2, device=backend)
    d0 = ag.tensor(2.0, dtype="float64", device=backend)
    assert (i - 0.5).dtype == ag.float32 and (0.5 - i).dtype == ag.float32
    assert (f - d0).dtype == ag.float32 and (d0 - f).dtype == ag.float32
    assert (i**2).dtype == ag.int64 and (2**i).dtype == ag.int64
    assert (i**0.5).dtype == ag.float32 and (2.0**i).dtype == ag.float32
    assert (f**d0).dtype == ag.float32
    assert (f ** ag.ones(2, dtype="float64", device=backend)).dtype == ag.float64


def test_matmul_promotes_across_categories(backend) -> None:
    f = ag.ones((2, 2), device=backend)
    i = ag.ones((2, 2), dtype="int64", device=backend)
    assert (i @ f).dtype == ag.float32 and (f @ i).dtype == ag.float32
    assert (f @ ag.ones((2, 2), dtype="float64", device=backend)).dtype == ag.float64


def test_numpy_operands_count_as_tensors_and_numpy_scalars_as_numbers() -> None:
    f = ag.ones(3)
    assert (f + np.ones(3)).dtype == ag.float64  # a float64 array with dimensions
    assert (np.ones(3) * f).dtype == ag.float64
    assert (f + np.array(1.5)).dtype == ag.float32  # a 0-d array: a 0-d tensor
    assert (f * np.float64(2.0)).dtype == ag.float32  # a NumPy scalar: a Python number
    assert (ag.tensor([1, 2]) * np.float32(2.0)).dtype == ag.float32
    assert (ag.tensor([1, 2], dtype="int32") + np.int64(1)).dtype == ag.int32
    assert (ag.tensor([1, 2]) + [0.5, 0.5]).dtype == ag.float32  # lists: the default dtype


def test_values_are_computed_in_the_result_type(backend) -> None:
    i = ag.tensor([1, 2, 3], device=backend)
    np.testing.assert_allclose((i / 2).numpy(), [0.5, 1.0, 1.5])
    np.testing.assert_allclose((i * 1.5).numpy(), [1.5, 3.0, 4.5])
    big = ag.tensor([16777217], device=backend)  # not a float32: rounds as PyTorch's does
    assert (big / 1).item() == 16777216.0
    u = ag.tensor([200], dtype="uint8", device=backend)
    assert (u + ag.tensor([100], dtype="int8", device=backend)).item() == 300  # in int16


def test_gradients_flow_through_the_promoting_casts(backend) -> None:
    w = ag.tensor([1.0, 2.0], dtype="float64", device=backend, requires_grad=True)
    s = ag.tensor(3.0, dtype="float64", device=backend, requires_grad=True)  # 0-d float64
    x = ag.tensor([1.0, 1.0], device=backend, requires_grad=True)  # float32
    y = x * s  # float32: the 0-d float64 tensor is cast to float32
    assert y.dtype == ag.float32
    (y.sum() + (x * w).sum()).backward()  # x * w is float64
    assert s.grad.dtype == ag.float64 and s.grad.item() == 2.0
    assert x.grad.dtype == ag.float32 and x.grad.numpy().tolist() == [4.0, 5.0]
    assert w.grad.dtype == ag.float64


def test_float_methods_compute_integers_in_the_default_dtype(backend) -> None:
    i = ag.tensor(2, device=backend)
    for y in (i.exp(), i.log(), i.sqrt(), i.sin(), i.cos(), i.tanh(), i.sigmoid(), i.erf(),
              i.log1p(), i.expm1()):
        assert y.dtype == ag.float32
    assert ag.tensor([True], device=backend).exp().dtype == ag.float32
    assert i.abs().dtype == ag.int64 and i.square().dtype == ag.int64  # not float functions
    assert i.clip(0.5).dtype == ag.float32 and i.clip(0, 1).dtype == ag.int64
    np.testing.assert_allclose(i.exp().item(), np.exp(2.0), rtol=1e-6)


def test_binary_methods_promote_as_the_operators(backend) -> None:
    f = ag.ones(2, device=backend)
    d0 = ag.tensor(0.5, dtype="float64", device=backend)
    assert f.maximum(d0).dtype == ag.float32 and f.minimum(d0).dtype == ag.float32
    assert ag.tensor([1, 2], device=backend).maximum(f).dtype == ag.float32


def test_the_numpy_dialect_keeps_numpys_rules(backend) -> None:
    i = ag.tensor([1, 2], device=backend)
    f = ag.ones(2, device=backend)
    d0 = ag.tensor(0.5, dtype="float64", device=backend)
    assert ag.exp(i).dtype == ag.float64  # NumPy: float64
    assert ag.divide(i, i).dtype == ag.float64
    assert ag.add(f, d0).dtype == ag.float64  # NEP 50: a 0-d array is not weak
    assert ag.multiply(i, 1.5).dtype == ag.float64
    assert ag.maximum(f, d0).dtype == ag.float64


def test_in_place_operators_keep_the_tensors_dtype(backend) -> None:
    f = ag.ones(2, device=backend)
    f += ag.ones(2, dtype="float64", device=backend)
    f *= 2.5
    assert f.dtype == ag.float32 and f.numpy().tolist() == [5.0, 5.0]
    i = ag.tensor([1, 2], device=backend)
    with pytest.raises(RuntimeError, match="cannot write"):
        i += 1.5  # as PyTorch (a RuntimeError): a float result cannot go into an int tensor


def test_promotion_needs_no_host_sync_on_the_fake_device() -> None:
    fake = backends.get("fake")
    i = ag.tensor([1, 2], device=fake)
    f = ag.ones(2, device=fake)
    d0 = ag.tensor(0.5, dtype="float64", device=fake)
    with fake.expect_no_sync():
        for y in (i / i, i * 1.5, f * d0, i.exp(), f + [1.0, 2.0], i**0.5, f * np.float64(2)):
            assert y.dtype.kind == "f"


def test_operators_on_a_tensor_without_an_array_raise() -> None:
    empty = ag.Tensor.__new__(ag.Tensor)  # never initialised: no array (both cores must raise)
    for op in (lambda: empty * 2.0, lambda: empty * ag.ones(2), lambda: ag.ones(2) / empty):
        with pytest.raises(AttributeError):
            op()


def test_math_methods_and_operators_promote_as_pytorch(backend) -> None:
    i = ag.tensor([1, 2, 3], device=backend)
    f = ag.ones(3, device=backend)
    d0 = ag.tensor(2.0, dtype="float64", device=backend)
    for y in (i.tan(), (i - i).asin(), i.rsqrt(), i.reciprocal(), i.log2(), i.deg2rad(), i.sinh(),
              i.atan2(i), i.hypot(f), i.copysign(i), i % 2.5, i // 2.5, 2.5 % i, i.fmod(1.5)):
        assert y.dtype == ag.float32
    assert (i % 2).dtype == ag.int64 and (i // 2).dtype == ag.int64 and i.floor().dtype == ag.int64
    assert (f % d0).dtype == ag.float32 and (f // d0).dtype == ag.float32
    assert f.fmin(d0).dtype == ag.float32 and i.fmax(f).dtype == ag.float32
