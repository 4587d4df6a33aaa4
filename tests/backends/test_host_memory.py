"""The allocator setting made when `backends` is imported (glibc's M_TOP_PAD)."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backends import host_memory

REPO = Path(__file__).resolve().parents[2]


def _glibc() -> bool:
    try:
        ctypes.CDLL(None).gnu_get_libc_version  # noqa: B018
    except (OSError, AttributeError, TypeError):
        return False
    return True


def _pad_in_fresh_process(value: str | None) -> str:
    env = dict(os.environ)
    env.pop("KEDJA_MALLOC_TOP_PAD", None)
    if value is not None:
        env["KEDJA_MALLOC_TOP_PAD"] = value
    code = "import backends.host_memory as m; import backends; print(m.top_pad)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.skipif(not _glibc(), reason="M_TOP_PAD is a glibc setting")
def test_import_keeps_a_heap_top_pad_by_default() -> None:
    assert _pad_in_fresh_process(None) == str(host_memory.DEFAULT_TOP_PAD)
    assert _pad_in_fresh_process("1048576") == "1048576"


def test_zero_leaves_the_allocator_alone() -> None:
    assert _pad_in_fresh_process("0") == "None"
    assert host_memory.keep_heap_top(0) is None


def test_bad_setting_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEDJA_MALLOC_TOP_PAD", "lots")
    with pytest.raises(ValueError, match="KEDJA_MALLOC_TOP_PAD must be a number of bytes"):
        host_memory.keep_heap_top()
    monkeypatch.setenv("KEDJA_MALLOC_TOP_PAD", "-1")
    with pytest.raises(ValueError, match=">= 0"):
        host_memory.keep_heap_top()
