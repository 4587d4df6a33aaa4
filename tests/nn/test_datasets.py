"""nn.datasets: bundled digits and its split, the IDX reader, MNIST files, synthetic sets."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from nn.datasets import (
    IDXError,
    digits_split,
    load_digits,
    load_idx,
    load_mnist,
    make_moons,
    make_regression,
    make_spirals,
    stratified_split,
)


def test_load_digits():
    x, y = load_digits()
    assert x.shape == (1797, 8, 8) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert set(np.unique(y)) == set(range(10))
    assert load_digits(flatten=True)[0].shape == (1797, 64)


def test_digits_split_is_stratified_disjoint_and_fixed():
    (xtr, ytr), (xte, yte) = digits_split(test_fraction=0.2, seed=0)
    assert len(xte) == 360 and len(xtr) == 1437
    _, y = load_digits()
    counts = np.bincount(y)
    assert np.all(np.abs(np.bincount(yte) - 0.2 * counts) <= 1)
    train, test = stratified_split(y, 0.2, seed=0)
    assert not set(train) & set(test) and len(train) + len(test) == 1797
    train2, test2 = stratified_split(y, 0.2, seed=0)
    np.testing.assert_array_equal(test, test2)
    _, test3 = stratified_split(y, 0.2, seed=1)
    assert not np.array_equal(test, test3)
    (_, _), (xte2, _) = digits_split(seed=0)
    np.testing.assert_array_equal(xte, xte2)
    with pytest.raises(ValueError, match="test_fraction"):
        stratified_split(y, 1.5)


# -- IDX --------------------------------------------------------------------------------------
_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D,
          np.float64: 0x0E}


def idx_bytes(array):
    array = np.asarray(array)
    header = bytes([0, 0, _CODES[array.dtype.type], array.ndim])
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("dtype", list(_CODES))
def test_idx_round_trip(tmp_path, dtype):
    a = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    if np.dtype(dtype).kind == "u":
        a = np.arange(24, dtype=dtype).reshape(2, 3, 4)
    path = tmp_path / "a.idx"
    path.write_bytes(idx_bytes(a))
    got = load_idx(path)
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    np.testing.assert_array_equal(got, a)


def test_idx_gzip_and_1d(tmp_path):
    labels = np.array([7, 2, 1, 0], dtype=np.uint8)
    path = tmp_path / "labels.idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(labels)))
    np.testing.assert_array_equal(load_idx(path), labels)


@pytest.mark.parametrize("mangle, message", [
    (lambda b: b[:-3], "truncated"),
    (lambda b: b + b"\x00", "trailing bytes"),
    (lambda b: b"\x01\x02" + b[2:], "bad magic"),
    (lambda b: b[:2] + b"\x07" + b[3:], "unknown IDX type"),
    (lambda b: b[:6], "truncated header"),
    (lambda b: b[:2], "too short"),
])
def test_idx_errors_name_the_file(tmp_path, mangle, message):
    path = tmp_path / "broken.idx"
    path.write_bytes(mangle(idx_bytes(np.zeros((3, 2, 2), np.uint8))))
    with pytest.raises(IDXError, match=message) as info:
        load_idx(path)
    assert str(path) in str(info.value)


def test_idx_truncated_gzip(tmp_path):
    data = gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint8).reshape(10, 100)))
    path = tmp_path / "t.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IDXError, match="gzip"):
        load_idx(path)


def test_load_mnist(tmp_path):
    images = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
    labels = np.array([1, 2, 3], dtype=np.uint8)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images)))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(labels))
    x, y = load_mnist(tmp_path, "train")
    assert x.shape == (3, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(x, images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, [1, 2, 3])
    with pytest.raises(FileNotFoundError, match="t10k-images"):
        load_mnist(tmp_path, "test")
    with pytest.raises(ValueError, match="kind"):
        load_mnist(tmp_path, "validation")
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(images))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(labels[:2]))
    with pytest.raises(IDXError, match="3 images .* but 2 labels"):
        load_mnist(tmp_path, "test")


# -- synthetic --------------------------------------------------------------------------------
def test_spirals_and_moons():
    x, y = make_spirals(50, n_classes=4, noise=0.1, seed=1)
    assert x.shape == (200, 2) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [50] * 4)
    np.testing.assert_array_equal(make_spirals(50, 4, 0.1, seed=1)[0], x)
    assert not np.array_equal(make_spirals(50, 4, 0.1, seed=2)[0], x)
    x, y = make_moons(101, noise=0.05, seed=0)
    assert x.shape == (101, 2) and np.bincount(y).tolist() == [50, 51]
    assert x[y == 0, 1].mean() > x[y == 1, 1].mean()  # class 0 is the upper moon


def test_make_regression():
    x, y, w = make_regression(500, n_features=3, noise=0.01, seed=0)
    assert x.shape == (500, 3) and y.shape == (500, 1) and w.shape == (3, 1)
    assert x.dtype == y.dtype == np.float32
    np.testing.assert_allclose(y, x @ w + 0.5, atol=0.05)
