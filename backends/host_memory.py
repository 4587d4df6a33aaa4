"""Keeps freed host memory mapped between training steps (glibc's ``M_TOP_PAD``).

A training step allocates and frees the same large arrays every time. By default glibc gives
the freed top of the heap back to the kernel after each step, and the next step maps it in
again page by page: on the benchmark VM a CNN step took ~2300 page faults (~8 ms of 22 ms).
Asking glibc to keep a pad of free memory at the heap top removes them (0 faults, 14 ms).

This is process-wide and costs up to the pad in resident memory, so it is set once, when
`backends` is imported, and can be changed or turned off with ``KEDJA_MALLOC_TOP_PAD``
(bytes; ``0`` leaves the allocator alone). On other C libraries it does nothing.
"""

from __future__ import annotations

import ctypes
import os

#: The pad glibc keeps at the heap top (64 MiB): several steps' worth of temporaries.
DEFAULT_TOP_PAD = 64 * 1024 * 1024
_M_TOP_PAD = -2  # mallopt parameter number, from glibc's <malloc.h>

#: The pad set at import (bytes), or None where nothing was set.
top_pad: int | None = None


def _requested_pad() -> int:
    raw = os.environ.get("KEDJA_MALLOC_TOP_PAD")
    if raw is None or not raw.strip():
        return DEFAULT_TOP_PAD
    try:
        pad = int(raw)
    except ValueError:
        raise ValueError(
            f"KEDJA_MALLOC_TOP_PAD must be a number of bytes (0 to turn it off), got {raw!r}"
        ) from None
    if pad < 0:
        raise ValueError(f"KEDJA_MALLOC_TOP_PAD must be >= 0, got {pad}")
    return pad


def keep_heap_top(pad: int | None = None) -> int | None:
    """Sets glibc's ``M_TOP_PAD`` to `pad` bytes (default: ``KEDJA_MALLOC_TOP_PAD`` or 64 MiB).

    Returns the pad set, or None where it was not (pad 0, not glibc, or mallopt refused).
    """
    global top_pad
    pad = _requested_pad() if pad is None else pad
    if pad == 0:
        return None
    try:
        libc = ctypes.CDLL(None)  # the process's own symbols: libc is among them on Linux
        libc.gnu_get_libc_version  # noqa: B018 - present in glibc only
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    if mallopt(_M_TOP_PAD, min(pad, 2**31 - 1)) != 1:
        return None
    top_pad = pad
    return pad
