"""A save killed with SIGKILL leaves its temporary file; the next save of the same target removes
it, and never the temporary file of a writer still at work (another process or thread)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

import nn.checkpoint as ckpt
from nn import checkpoint_files

from .checkpoint_files import training_objects

pytestmark = pytest.mark.skipif(checkpoint_files.fcntl is None or not hasattr(signal, "SIGKILL"),
                                reason="needs POSIX flock and SIGKILL")

# A writer that stops half-way through its save, says so, and waits for a line on stdin.
WRITER = textwrap.dedent("""
    import sys
    import nn.checkpoint as ckpt

    real = ckpt._write_npz

    def slow(f, arrays, meta):
        f.write(b"PK" + bytes(4096))
        f.flush()
        print("writing", flush=True)
        sys.stdin.readline()
        f.seek(0)
        f.truncate()
        real(f, arrays, meta)

    ckpt._write_npz = slow
    ckpt.save(sys.argv[1], epoch=int(sys.argv[2]))
    print("saved", flush=True)
""")


def _temporaries(directory, target="c.npz"):
    pattern = re.compile(re.escape(f".{target}.") + r"[a-z0-9_]{8}\.tmp\Z")
    return sorted(n for n in os.listdir(directory) if pattern.match(n))


def _writer(path, epoch):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(epoch)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "writing\n"
    return proc


def test_killed_writers_temporaries_are_removed_by_the_next_save(tmp_path):
    path = tmp_path / "c.npz"
    ckpt.save(path, epoch=1)
    left = []
    for _ in range(2):
        proc = _writer(path, 2)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        proc.stdin.close()
        # each writer removed the one killed before it: they never pile up
        now = _temporaries(tmp_path)
        assert len(now) == 1 and now != left
        left = now
    assert ckpt.load(path)["epoch"] == 1  # the kills never touched the checkpoint
    ckpt.save(path, epoch=3)
    assert _temporaries(tmp_path) == []
    assert ckpt.load(path)["epoch"] == 3


def test_a_live_writer_in_another_process_keeps_its_temporary(tmp_path):
    path = tmp_path / "c.npz"
    proc = _writer(path, 2)
    try:
        (live,) = _temporaries(tmp_path)
        ckpt.save(path, epoch=1)
        assert _temporaries(tmp_path) == [live]
        assert ckpt.load(path)["epoch"] == 1
        out, _ = proc.communicate("go\n", timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0 and out == "saved\n"
    assert ckpt.load(path)["epoch"] == 2 and _temporaries(tmp_path) == []


def test_a_live_writer_thread_keeps_its_temporary(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    writing, go = threading.Event(), threading.Event()
    real = ckpt._write_npz

    def slow(f, arrays, meta):
        if threading.current_thread() is not threading.main_thread():
            writing.set()
            go.wait(60)
        real(f, arrays, meta)

    monkeypatch.setattr(ckpt, "_write_npz", slow)
    errors = []
    thread = threading.Thread(target=lambda: _catch(errors, ckpt.save, path, epoch=2))
    thread.start()
    assert writing.wait(60)
    (live,) = _temporaries(tmp_path)
    ckpt.save(path, epoch=1)
    assert _temporaries(tmp_path) == [live]
    go.set()
    thread.join(60)
    assert errors == [] and ckpt.load(path)["epoch"] == 2 and _temporaries(tmp_path) == []


def _catch(errors, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except BaseException as e:  # noqa: BLE001 - reported by the test
        errors.append(e)


def test_only_this_targets_stale_temporaries_are_removed(tmp_path):
    names = [".c.npz.abcd1234.tmp", ".other.npz.abcd1234.tmp", ".c.npz.short.tmp",
             "c.npz.abcd1234.tmp", ".c.npz.abcd1234.tmp.keep", ".c.npz.x.abcd1234.tmp"]
    for name in names:
        (tmp_path / name).write_bytes(b"partial")
    os.symlink(tmp_path / "c.npz.abcd1234.tmp", tmp_path / ".c.npz.link5678.tmp")
    model, _, _ = training_objects()
    ckpt.save(tmp_path / "c.npz", model=model)
    left = sorted(os.listdir(tmp_path))
    assert ".c.npz.abcd1234.tmp" not in left
    assert sorted(set(names[1:]) | {".c.npz.link5678.tmp", "c.npz"}) == left


def test_remove_stale_temporaries_reports_what_it_removed(tmp_path):
    (tmp_path / ".c.npz.zzzzzzzz.tmp").write_bytes(b"")
    removed = checkpoint_files.remove_stale_temporaries(tmp_path / "c.npz")
    assert removed == [tmp_path / ".c.npz.zzzzzzzz.tmp"]
    assert checkpoint_files.remove_stale_temporaries(tmp_path / "missing" / "c.npz") == []
