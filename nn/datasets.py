"""Data sets: the bundled 8x8 digits, MNIST-style IDX files, and small synthetic problems.

Everything returns host arrays (NumPy, through ``backends.host().xp``): float32 inputs and int64
class labels. Wrap them in `nn.data.TensorDataset` and let a `DataLoader` move batches to a
device.

    >>> from nn.datasets import digits_split
    >>> (x_train, y_train), (x_test, y_test) = digits_split(test_fraction=0.2, seed=0)
    >>> x_train.shape, x_test.shape
    ((1437, 8, 8), (360, 8, 8))
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import Any

import backends

__all__ = [
    "load_digits", "digits_split", "stratified_split", "load_idx", "load_mnist",
    "make_spirals", "make_moons", "make_regression", "DIGITS_PATH",
]

DIGITS_PATH = Path(__file__).resolve().parent / "data_files" / "digits.npz"


def _xp() -> Any:
    return backends.host().xp


# -- the bundled digits -------------------------------------------------------------------------
def load_digits(flatten: bool = False) -> tuple[Any, Any]:
    """The 1,797 8x8 handwritten digits bundled with kedja (UCI, CC BY 4.0).

    Args:
        flatten: return images as (1797, 64) rows instead of (1797, 8, 8).

    Returns:
        ``(images, labels)``: float32 images scaled from 0..16 to [0, 1], int64 labels 0..9.
    """
    xp = _xp()
    with xp.load(DIGITS_PATH, allow_pickle=False) as f:
        images, labels = f["images"], f["labels"]
    images = images.astype("float32") / 16.0
    if flatten:
        images = images.reshape(len(images), -1)
    return images, labels.astype("int64")


def stratified_split(labels: Any, test_fraction: float = 0.2, seed: int = 0) -> tuple[Any, Any]:
    """Train and test indices with each class split in the same proportion.

    The test set has ``ceil(test_fraction * n)`` samples, shared among the classes by their
    size (largest remainders first). Both index arrays are sorted; the split depends only on
    the labels, the fraction and the seed.
    """
    xp = _xp()
    labels = xp.asarray(labels).reshape(-1)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"stratified_split: test_fraction must be in (0, 1), got {test_fraction}")
    n = len(labels)
    classes, counts = xp.unique(labels, return_counts=True)
    n_test = math.ceil(test_fraction * n)
    exact = counts * (n_test / n)
    take = xp.floor(exact).astype("int64")
    # hand out what flooring left over to the classes with the largest remainders
    leftover = n_test - int(take.sum())
    order = xp.argsort(-(exact - take), kind="stable")
    take[order[:leftover]] += 1
    rng = xp.random.default_rng(seed)
    test_parts = []
    for cls, k in zip(classes, take):
        members = xp.flatnonzero(labels == cls)
        test_parts.append(rng.permutation(members)[:k])
    test = xp.sort(xp.concatenate(test_parts))
    mask = xp.ones(n, dtype=bool)
    mask[test] = False
    return xp.flatnonzero(mask), test


def digits_split(test_fraction: float = 0.2, seed: int = 0,
                 flatten: bool = False) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """The digits split into a stratified train and test set (default 1437 / 360).

    Returns:
        ``((x_train, y_train), (x_test, y_test))`` as in `load_digits`.
    """
    images, labels = load_digits(flatten=flatten)
    train, test = stratified_split(labels, test_fraction, seed)
    return (images[train], labels[train]), (images[test], labels[test])


# -- IDX (MNIST, Fashion-MNIST) ---------------------------------------------------------------
# type code -> big-endian dtype, from the IDX format description on yann.lecun.com
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class IDXError(ValueError):
    """An IDX file that cannot be read: bad magic number, unknown type, truncated data."""


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        head = f.read(2)
        f.seek(0)
        if head == b"\x1f\x8b":  # gzip, whatever the name says
            try:
                with gzip.GzipFile(fileobj=f) as g:
                    return g.read()
            except (OSError, EOFError, zlib.error) as e:
                raise IDXError(f"{path}: corrupt or truncated gzip stream ({e})") from e
        return f.read()


def load_idx(path: str | os.PathLike) -> Any:
    """Reads an IDX file (MNIST's format), gzip-compressed or not, into a host array.

    The file is: two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64), the number of dimensions, each dimension as a big-endian
    uint32, then the data in C order, big-endian.

    Returns:
        The array in native byte order, with the type the file declares.

    Raises:
        IDXError: (a ValueError) naming the file and what is wrong with it.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise IDXError(f"{path}: too short for an IDX header ({len(raw)} bytes)")
    if raw[0] != 0 or raw[1] != 0:
        raise IDXError(
            f"{path}: bad magic number 0x{raw[:4].hex()} (an IDX file starts with two zero "
            "bytes, a type code and the number of dimensions)"
        )
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES:
        raise IDXError(f"{path}: unknown IDX type code 0x{code:02x}; known: "
                       + ", ".join(f"0x{c:02x}" for c in _IDX_TYPES))
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(f"{path}: truncated header ({len(raw)} bytes, {ndim} dimensions need "
                       f"{header})")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    xp = _xp()
    dtype = xp.dtype(_IDX_TYPES[code])
    expected = math.prod(shape) * dtype.itemsize
    got = len(raw) - header
    if got != expected:
        what = "truncated" if got < expected else "has trailing bytes"
        raise IDXError(f"{path}: {what}: shape {shape} of {dtype.name} needs {expected} data "
                       f"bytes, found {got}")
    array = xp.frombuffer(raw, dtype=dtype, count=math.prod(shape), offset=header)
    return array.reshape(shape).astype(dtype.newbyteorder("="))


def _find(root: Path, names: list[str]) -> Path:
    for name in names:
        for candidate in (root / name, root / (name + ".gz")):
            if candidate.is_file():
                return candidate
    tried = ", ".join(n + "[.gz]" for n in names)
    raise FileNotFoundError(f"load_mnist: none of {tried} in {root}")


def load_mnist(root: str | os.PathLike, kind: str = "train") -> tuple[Any, Any]:
    """MNIST or Fashion-MNIST from the IDX files in `root` (nothing is downloaded).

    Looks for ``train-images-idx3-ubyte`` / ``train-labels-idx1-ubyte`` (``kind="train"``) or
    ``t10k-images-idx3-ubyte`` / ``t10k-labels-idx1-ubyte`` (``kind="test"``), each optionally
    ending in ``.gz`` (the ``-idx3-`` may also be spelt ``.idx3-``).

    Returns:
        ``(images, labels)``: float32 (N, 28, 28) images in [0, 1], int64 labels.
    """
    prefix = {"train": "train", "test": "t10k", "t10k": "t10k"}.get(kind)
    if prefix is None:
        raise ValueError(f"load_mnist: kind must be 'train' or 'test', got {kind!r}")
    root = Path(root)
    images_path = _find(root, [f"{prefix}-images-idx3-ubyte", f"{prefix}-images.idx3-ubyte"])
    labels_path = _find(root, [f"{prefix}-labels-idx1-ubyte", f"{prefix}-labels.idx1-ubyte"])
    images, labels = load_idx(images_path), load_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1:
        raise IDXError(f"load_mnist: expected (N, H, W) images and (N,) labels, got "
                       f"{images.shape} in {images_path} and {labels.shape} in {labels_path}")
    if len(images) != len(labels):
        raise IDXError(f"load_mnist: {len(images)} images in {images_path} but {len(labels)} "
                       f"labels in {labels_path}")
    scale = 255.0 if images.dtype.kind == "u" else 1.0
    return images.astype("float32") / scale, labels.astype("int64")


# -- synthetic problems -------------------------------------------------------------------------
def make_spirals(n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2,
                 seed: int | None = 0) -> tuple[Any, Any]:
    """Interleaved spiral arms in the plane, one per class (cs231n's toy problem).

    Returns:
        ``(x, y)``: float32 points of shape (n_per_class * n_classes, 2), int64 labels.
    """
    xp = _xp()
    rng = xp.random.default_rng(seed)
    r = xp.tile(xp.linspace(0.0, 1.0, n_per_class), n_classes)
    y = xp.repeat(xp.arange(n_classes, dtype="int64"), n_per_class)
    theta = (y * (4.0 * math.pi / n_classes) + r * 4.0
             + rng.normal(0.0, noise, n_per_class * n_classes))
    x = xp.stack([r * xp.sin(theta), r * xp.cos(theta)], axis=1)
    return x.astype("float32"), y


def make_moons(n: int = 200, noise: float = 0.1, seed: int | None = 0) -> tuple[Any, Any]:
    """Two interleaving half circles (class 0 on top, class 1 below), with Gaussian noise.

    Returns:
        ``(x, y)``: float32 points of shape (n, 2), int64 labels (n // 2 of class 0).
    """
    xp = _xp()
    rng = xp.random.default_rng(seed)
    n0 = n // 2
    n1 = n - n0
    t0 = xp.linspace(0.0, math.pi, n0)
    t1 = xp.linspace(0.0, math.pi, n1)
    upper = xp.stack([xp.cos(t0), xp.sin(t0)], axis=1)
    lower = xp.stack([1.0 - xp.cos(t1), 0.5 - xp.sin(t1)], axis=1)
    x = xp.concatenate([upper, lower]) + rng.normal(0.0, noise, (n, 2))
    y = xp.concatenate([xp.zeros(n0, dtype="int64"), xp.ones(n1, dtype="int64")])
    return x.astype("float32"), y


def make_regression(n: int = 100, n_features: int = 1, noise: float = 0.1, n_targets: int = 1,
                    seed: int | None = 0) -> tuple[Any, Any, Any]:
    """A linear problem ``y = x @ w + b + noise`` with standard normal inputs.

    Returns:
        ``(x, y, w)``: float32 inputs (n, n_features), float32 targets (n, n_targets) (2-d, so
        they line up with a ``Linear(n_features, n_targets)`` output under MSELoss), and the
        true float32 weights (n_features, n_targets).
    """
    xp = _xp()
    rng = xp.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, (n, n_features))
    w = rng.normal(0.0, 1.0, (n_features, n_targets))
    y = x @ w + 0.5 + rng.normal(0.0, noise, (n, n_targets))
    return x.astype("float32"), y.astype("float32"), w.astype("float32")
