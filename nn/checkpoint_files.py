"""Atomic checkpoint writes, and the removal of the temporary files killed writers leave behind.

A save writes ``.<name>.<8 random characters>.tmp`` beside the target, fsyncs it and renames it
over the target. A writer killed with SIGKILL (or by a power cut) cannot remove its temporary
file; the next save of the same target does. A temporary file is recognised as stale, and not
as the file of a writer still at work (another process or thread saving the same target), by an
exclusive ``flock`` every writer holds on its own temporary file from creation to rename: the
kernel drops it when the writer dies, however it dies. A cleaner removes a temporary only if it
can take that lock itself. Where ``fcntl.flock`` does not exist (Windows) nothing is removed.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["atomic_write", "remove_stale_temporaries"]

# Temporary files this process is writing: on file systems where flock is emulated with POSIX
# record locks (NFS), a lock does not exclude another thread of the same process.
_writing: set[str] = set()
_writing_lock = threading.Lock()
_BUSY = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES)


def _temporary_pattern(path: Path) -> re.Pattern:
    # mkstemp's names: the prefix, 8 characters of [a-z0-9_], the suffix
    return re.compile(re.escape(f".{path.name}.") + r"[a-z0-9_]{8}\.tmp\Z")


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Removes the temporary files that writers of `path` left when they died; returns them.

    Never removes the temporary file of a writer still at work (see the module docstring).
    """
    if fcntl is None:
        return []
    pattern = _temporary_pattern(path)
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    removed = []
    for name in names:
        if not pattern.match(name):
            continue
        candidate = path.parent / name
        with _writing_lock:
            if str(candidate) in _writing:
                continue
        if _remove_if_unlocked(candidate):
            removed.append(candidate)
    return removed


def _remove_if_unlocked(candidate: Path) -> bool:
    try:  # O_NOFOLLOW: a symbolic link with a temporary's name is not ours to follow
        fd = os.open(candidate, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a live writer holds it (or locks are unsupported here: keep it)
        opened, current = os.fstat(fd), os.lstat(candidate)
        if (opened.st_dev, opened.st_ino) != (current.st_dev, current.st_ino):
            return False  # renamed away and replaced meanwhile
        os.unlink(candidate)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _locked_temporary(path: Path) -> tuple[int, str]:
    """A new temporary file beside `path`, opened for writing and flock-ed by this writer."""
    while True:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        if fcntl is None:
            return fd, tmp
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in _BUSY:
                return fd, tmp  # no locks on this file system: cleaners cannot lock it either
            os.close(fd)  # a cleaner saw it before we locked it and is removing it: again
            continue
        try:
            opened, current = os.fstat(fd), os.stat(tmp)
            if (opened.st_dev, opened.st_ino) == (current.st_dev, current.st_ino):
                return fd, tmp
        except FileNotFoundError:
            pass
        os.close(fd)  # removed by a cleaner between creation and our lock: again


def atomic_write(path: Path, write: Callable[[Any], None]) -> None:
    """Writes via ``write(fileobj)`` into a temporary sibling, fsyncs, then renames over `path`.

    First removes the stale temporary files of earlier writers of `path` that were killed.
    """
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = _locked_temporary(path)
    with _writing_lock:
        _writing.add(tmp)
    f = os.fdopen(fd, "wb")
    try:
        write(f)
        f.flush()
        os.fsync(f.fileno())
        if os.name == "nt":  # pragma: no cover - Windows renames no open file
            f.close()
        os.replace(tmp, path)  # still locked: a cleaner never sees it unlocked under its name
    except BaseException:
        f.close()
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    finally:
        f.close()
        with _writing_lock:
            _writing.discard(tmp)
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    """Makes the rename itself durable (where the OS lets a directory be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
