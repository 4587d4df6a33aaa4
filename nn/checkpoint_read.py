"""Bounded reading of checkpoint archives: only the members the metadata declares, each checked
against its real size before anything is allocated, the total under a limit the caller sets.

An ``.npz`` is a zip of ``.npy`` members. The zip directory states each member's uncompressed
size; the member's ``.npy`` header declares its dtype and shape. Before a member is read, both
must agree (header + shape x itemsize = uncompressed size), the uncompressed size must be one the
stored bytes can produce (equal to them when stored, at most deflate's 1032:1 when deflated), and
the sizes of all members to be read must fit in ``max_bytes``. Then the array is allocated once
and filled in 1 MiB pieces (the zip CRC is checked at the end), so a load never holds more than
the arrays it returns. Members the metadata does not declare are refused without being read.
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import backends

__all__ = ["CheckpointError", "DEFAULT_MAX_BYTES", "read_npz", "read_safetensors"]

#: The most bytes of array data (and metadata) a load reads unless the caller allows more.
DEFAULT_MAX_BYTES = 4 << 30
#: The most bytes of JSON metadata (far above any real checkpoint's, a few KiB to a few MiB).
MAX_META_BYTES = 16 << 20
#: Deflate's largest expansion: 1032 output bytes per input byte (zlib's technical notes).
_DEFLATE_RATIO = 1032
_CHUNK = 1 << 20
_META_MEMBER = "__kedja__"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read or does not fit the model/optimizer given."""


def _size(n: int) -> str:
    return f"{n} bytes" if n < 1 << 20 else f"{n} bytes ({n / (1 << 20):.1f} MiB)"


def over_limit(path: Path, what: str, nbytes: int, max_bytes: int) -> CheckpointError:
    return CheckpointError(
        f"{path}: {what} would take {_size(nbytes)}, more than max_bytes={max_bytes}; pass a "
        "larger max_bytes to load a file you trust"
    )


# -- npz -----------------------------------------------------------------------------------------
def read_npz(path: Path, expected_of: Callable[[dict], list[str]],
             max_bytes: int) -> tuple[dict, dict]:
    """``(arrays by key, metadata)`` of an npz checkpoint.

    Args:
        path: the file.
        expected_of: the checked metadata -> the keys of the arrays it declares (raises
            CheckpointError for metadata that is not a kedja checkpoint's).
        max_bytes: the most bytes of members to read, metadata included.
    """
    try:
        with open(path, "rb") as f:
            file_size = os.fstat(f.fileno()).st_size
            try:
                archive = zipfile.ZipFile(f)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError,
                    OverflowError, struct.error) as e:
                head = _single_npy(f)
                raise CheckpointError(head or f"{path}: not a readable checkpoint (not a zip "
                                      f"archive, or truncated): {type(e).__name__}: {e}") from e
            with archive:
                return _read_archive(path, archive, file_size, expected_of, max_bytes)
    except IsADirectoryError as e:
        raise CheckpointError(f"{path}: is a directory, not a checkpoint file") from e


def _single_npy(f: Any) -> str | None:
    f.seek(0)
    if f.read(6) == b"\x93NUMPY":
        return f"{f.name}: a single .npy array, not a kedja checkpoint (npz)"
    return None


def _read_archive(path: Path, archive: zipfile.ZipFile, file_size: int,
                  expected_of: Callable[[dict], list[str]], max_bytes: int) -> tuple[dict, dict]:
    infos: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        if info.filename in infos:
            raise CheckpointError(f"{path}: the archive holds two members named "
                                  f"{info.filename!r}")
        infos[info.filename] = info
    meta_info = infos.get(_META_MEMBER + ".npy")
    if meta_info is None:
        raise CheckpointError(f"{path}: no {_META_MEMBER!r} metadata entry: not a kedja "
                              "checkpoint")
    meta_limit = min(MAX_META_BYTES, max_bytes)
    if meta_info.file_size > meta_limit:
        raise over_limit(path, f"the {_META_MEMBER!r} metadata", meta_info.file_size, meta_limit)
    raw = _read_member(path, archive, meta_info, file_size)
    if raw.dtype != backends.host().xp.uint8 or raw.ndim != 1:
        raise CheckpointError(f"{path}: the {_META_MEMBER!r} entry is not a uint8 vector of "
                              f"UTF-8 JSON (dtype {raw.dtype}, shape {raw.shape})")
    meta = parse_meta(path, raw.tobytes())
    expected = expected_of(meta)
    names = {f"{key}.npy": key for key in expected}
    unexpected = [n for n in infos if n not in names and n != meta_info.filename]
    if unexpected:
        raise CheckpointError(f"{path}: the archive holds members its metadata does not declare "
                              f"(refused unread): {_listing(unexpected)}")
    missing = [key for name, key in names.items() if name not in infos]
    if missing:
        raise CheckpointError(f"{path}: incomplete checkpoint, missing arrays: "
                              f"{_listing(missing)}")
    total = meta_info.file_size + sum(infos[name].file_size for name in names)
    if total > max_bytes:
        raise over_limit(path, f"its {len(names)} arrays", total, max_bytes)
    arrays = {key: _read_member(path, archive, infos[name], file_size)
              for name, key in names.items()}
    return arrays, meta


def _listing(names: list[str]) -> str:
    shown = ", ".join(repr(n)[1:-1] for n in names[:10])
    return shown + (f" ... ({len(names)} in all)" if len(names) > 10 else "")


def _read_member(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo,
                 file_size: int) -> Any:
    """One ``.npy`` member as an array, its declared shape and dtype checked against its real
    size before the array is allocated."""
    where = f"{path}: member {info.filename!r}"
    if info.flag_bits & 0x1:
        raise CheckpointError(f"{where} is encrypted")
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size != info.compress_size:
            raise CheckpointError(f"{where} is stored uncompressed but declares {info.file_size} "
                                  f"bytes in {info.compress_size}")
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        if info.file_size > _DEFLATE_RATIO * info.compress_size + 64:
            raise CheckpointError(f"{where} declares {_size(info.file_size)} from "
                                  f"{info.compress_size} deflated bytes, more than deflate can "
                                  "produce")
    else:
        raise CheckpointError(f"{where} uses compression method {info.compress_type}; a "
                              "checkpoint's members are stored or deflated")
    if info.header_offset + info.compress_size > file_size:
        raise CheckpointError(f"{where} extends past the end of the file (truncated?)")
    xp = backends.host().xp
    try:
        with archive.open(info) as fp:
            dtype, shape, fortran = _npy_header(where, fp)
            count = 1
            for n in shape:
                count *= n
            nbytes = count * dtype.itemsize
            if fp.tell() + nbytes != info.file_size:
                raise CheckpointError(
                    f"{where} declares shape {shape} of {dtype} ({_size(nbytes)}), but holds "
                    f"{_size(max(info.file_size - fp.tell(), 0))} of data"
                )
            array = xp.empty(count, dtype=dtype)
            _fill(where, fp, array.view(xp.uint8))
            if fp.read(1):
                raise CheckpointError(f"{where} holds more data than its header declares")
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
            OverflowError, struct.error, RuntimeError) as e:  # RuntimeError: "password required"
        raise CheckpointError(f"{where} cannot be read (truncated or corrupt?): "
                              f"{type(e).__name__}: {e}") from e
    if fortran:
        array = array.reshape(shape[::-1]).transpose()
    else:
        array = array.reshape(shape)
    if not dtype.isnative:
        array = array.astype(dtype.newbyteorder("="))
    return array


def _npy_header(where: str, fp: Any) -> tuple[Any, tuple, bool]:
    """``(dtype, shape, fortran_order)`` from an ``.npy`` header, refusing what a checkpoint
    never holds (objects, which would need pickle; records; strings)."""
    fmt = backends.host().xp.lib.format
    try:
        version = fmt.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(fp)
        else:
            raise CheckpointError(f"{where} is in .npy format version {version}, not 1.0 or 2.0")
    except CheckpointError:
        raise
    except (ValueError, TypeError, SyntaxError, KeyError, RecursionError, MemoryError,
            OverflowError) as e:
        raise CheckpointError(f"{where} has a malformed .npy header: {_first_line(e)}") from e
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None \
            or dtype.kind not in "biufc" or dtype.itemsize == 0:
        raise CheckpointError(f"{where} holds dtype {dtype}; a checkpoint holds numbers and "
                              "booleans only")
    if not all(isinstance(n, int) and n >= 0 for n in shape):
        raise CheckpointError(f"{where} declares an invalid shape {shape!r}"[:300])
    return dtype, tuple(shape), bool(fortran)


def _first_line(e: BaseException) -> str:
    """An exception's message without NumPy's advice (e.g. to pass allow_pickle), cut short."""
    text = str(e).split("\n")[0]
    if "pickle" in text:
        text = "it needs pickle, which checkpoints never use"
    return f"{type(e).__name__}: {text[:200]}"


def _fill(where: str, fp: Any, out: Any) -> None:
    """Reads exactly ``out.size`` bytes from `fp` into `out`, 1 MiB at a time."""
    done, total = 0, out.size
    view = memoryview(out)
    while done < total:
        chunk = fp.read(min(_CHUNK, total - done))
        if not chunk:
            raise CheckpointError(f"{where} ends after {done} of {total} bytes (truncated?)")
        view[done:done + len(chunk)] = chunk
        done += len(chunk)


# -- metadata ----------------------------------------------------------------------------------
def parse_meta(path: Path, raw: bytes) -> Any:
    """The JSON metadata, with nesting and number sizes bounded."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CheckpointError(f"{path}: the {_META_MEMBER!r} metadata is not UTF-8 ({e})") from e
    try:
        return json.loads(text)
    except RecursionError as e:
        raise CheckpointError(f"{path}: the {_META_MEMBER!r} metadata is nested too deeply") from e
    except ValueError as e:  # JSONDecodeError, or an integer too long to convert
        raise CheckpointError(f"{path}: the {_META_MEMBER!r} metadata is not valid JSON "
                              f"({str(e)[:200]})") from e


# -- safetensors ---------------------------------------------------------------------------------
def read_safetensors(path: Path, expected_of: Callable[[dict], list[str]],
                     max_bytes: int) -> tuple[dict, dict]:
    """``(arrays by key, metadata)`` of a safetensors checkpoint, read as `read_npz` reads an
    npz: metadata first, then only the declared tensors, sizes checked before reading."""
    try:
        from safetensors import safe_open
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("checkpoint: reading .safetensors needs the optional 'safetensors' "
                          "package") from e
    if os.path.isdir(path):
        raise CheckpointError(f"{path}: is a directory, not a checkpoint file")
    try:
        with safe_open(str(path), framework="numpy") as f:
            text = (f.metadata() or {}).get(_META_MEMBER)
            if text is None:
                raise CheckpointError(f"{path}: no {_META_MEMBER!r} metadata entry: not a kedja "
                                      "checkpoint")
            raw = text.encode("utf-8")
            meta_limit = min(MAX_META_BYTES, max_bytes)
            if len(raw) > meta_limit:
                raise over_limit(path, f"the {_META_MEMBER!r} metadata", len(raw), meta_limit)
            meta = parse_meta(path, raw)
            expected = expected_of(meta)
            keys = list(f.keys())
            unexpected = [k for k in keys if k not in set(expected)]
            if unexpected:
                raise CheckpointError(f"{path}: the file holds tensors its metadata does not "
                                      f"declare (refused unread): {_listing(unexpected)}")
            missing = [k for k in expected if k not in set(keys)]
            if missing:
                raise CheckpointError(f"{path}: incomplete checkpoint, missing arrays: "
                                      f"{_listing(missing)}")
            total = len(raw)
            for key in expected:
                total += _safetensors_nbytes(path, key, f.get_slice(key))
            if total > max_bytes:
                raise over_limit(path, f"its {len(expected)} arrays", total, max_bytes)
            return {k: f.get_tensor(k) for k in expected}, meta
    except (FileNotFoundError, CheckpointError):
        raise
    except Exception as e:  # noqa: BLE001 - safetensors raises its own error types
        raise CheckpointError(f"{path}: not a readable safetensors checkpoint (truncated or "
                              f"corrupt?): {type(e).__name__}: {str(e)[:200]}") from e


_SAFETENSORS_ITEMSIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F16": 2, "BF16": 2, "I16": 2, "U16": 2,
                         "F32": 4, "I32": 4, "U32": 4, "F64": 8, "I64": 8, "U64": 8}


def _safetensors_nbytes(path: Path, key: str, piece: Any) -> int:
    dtype = piece.get_dtype()
    itemsize = _SAFETENSORS_ITEMSIZE.get(dtype)
    if itemsize is None or dtype == "BF16":
        raise CheckpointError(f"{path}: tensor {key!r} has dtype {dtype}, which NumPy cannot "
                              "hold")
    count = 1
    for n in piece.get_shape():
        count *= n
    return count * itemsize
