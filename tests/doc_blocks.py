"""The ```python blocks of README.md and docs/*.md, and a runner that runs each on its own.

`blocks()` finds every fenced block (its file, first line, language and code). Running
``python -m tests.doc_blocks`` with a JSON list of blocks on stdin runs each one as a reader
would paste it into a fresh interpreter: in a forked child of a process that imported kedja
once (a fresh namespace and fresh global state per block, at a few milliseconds each instead
of a new interpreter's import), in an empty working directory, with a time limit. It prints
one JSON result per block: ``{"status": "ok" | "failed", "output": ..., "seconds": ...}``.

A block whose first line is ``# requires: cuda`` (or a comma-separated list of ``cuda`` and
importable module names, e.g. ``# requires: torch``) runs only where that is available; see
docs/design.md, "Tests".
"""

from __future__ import annotations

import glob
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: Seconds a block may run before it is stopped (docs show usage, they do not train for long).
TIME_LIMIT = 60

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_REQUIRES = re.compile(r"^#\s*requires:\s*(?P<what>.+?)\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced code block: `path` relative to the repository, `line` of its first code line
    (1-based), its language tag, its code (dedented by the fence's indent) and what its
    ``# requires:`` line asks for."""

    path: str
    line: int
    lang: str
    code: str
    requires: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.path}:{self.line}"


def doc_files(root: Path = REPO) -> list[Path]:
    """README.md and every docs/*.md, in reading order (README first, then by name)."""
    return [root / "README.md", *sorted(Path(p) for p in glob.glob(str(root / "docs" / "*.md")))]


def parse(text: str, path: str) -> list[Block]:
    """The fenced code blocks of one Markdown text. Raises ValueError on an unclosed fence."""
    lines = text.split("\n")
    found = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        info = opening["info"].strip()
        lang = info.split()[0].lower() if info else ""
        start = i + 1
        end = start
        while end < len(lines):
            closing = _FENCE.match(lines[end])
            if (closing and closing["fence"][0] == fence[0]
                    and len(closing["fence"]) >= len(fence) and not closing["info"].strip()):
                break
            end += 1
        else:
            raise ValueError(f"{path}:{i + 1}: the code fence {fence} is never closed")
        body = [ln[len(indent):] if ln.startswith(indent) else ln.lstrip()
                for ln in lines[start:end]]
        code = "\n".join(body) + "\n"
        first = next((ln for ln in body if ln.strip()), "")
        marker = _REQUIRES.match(first.strip())
        requires = tuple(w.strip() for w in marker["what"].split(",")) if marker else ()
        found.append(Block(path, start + 1, lang, code, requires))
        i = end + 1
    return found


def blocks(root: Path = REPO, lang: str | None = "python") -> list[Block]:
    """The blocks of every doc file, in reading order; only those tagged `lang` unless None."""
    found = []
    for file in doc_files(root):
        rel = file.relative_to(root).as_posix()
        found += [b for b in parse(file.read_text(encoding="utf-8"), rel)
                  if lang is None or b.lang == lang]
    return found


def missing(block: Block) -> str | None:
    """Why `block` cannot run here (what its ``# requires:`` names is absent), or None."""
    import importlib.util

    for need in block.requires:
        if need == "cuda":
            import backends

            if "cupy" not in backends.available():
                return "needs a CUDA GPU with CuPy (# requires: cuda)"
        elif importlib.util.find_spec(need) is None:
            return f"needs {need} installed (# requires: {need})"
    return None


def _run_here(block: dict, workdir: str) -> None:
    """Runs one block in this (forked) process and exits: status 0, or 1 with a traceback on
    stderr. Line numbers in the traceback are the Markdown file's."""
    import signal
    import traceback

    def too_long(signum, frame):
        raise TimeoutError(f"the block ran longer than {TIME_LIMIT} s")

    status = 1
    try:
        os.chdir(workdir)
        signal.signal(signal.SIGALRM, too_long)
        signal.alarm(TIME_LIMIT)
        source = str(REPO / block["path"])  # the traceback shows the Markdown lines
        code = compile("\n" * (block["line"] - 1) + block["code"], source, "exec")
        exec(code, {"__name__": "__main__", "__builtins__": __builtins__})
        status = 0
    except BaseException:  # noqa: BLE001 - everything a block raises is its failure
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def _run_forked(block: dict) -> dict:
    """`block` run in a forked child; its output (stdout and stderr) kept for the report."""
    import tempfile

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir, tempfile.TemporaryFile() as log:
        pid = os.fork()
        if pid == 0:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            _run_here(block, workdir)
        _, wait_status = os.waitpid(pid, 0)
        log.seek(0)
        output = log.read().decode("utf-8", "replace")
    code = os.waitstatus_to_exitcode(wait_status)
    if code < 0:
        output += f"\n(the block's process died from signal {-code})"
    return {"status": "ok" if code == 0 else "failed", "output": output,
            "seconds": round(time.perf_counter() - start, 3)}


def _run_in_subprocess(block: dict) -> dict:
    """`block` run in a new interpreter (where fork is not available)."""
    import subprocess
    import tempfile

    source = "\n" * (block["line"] - 1) + block["code"]  # line numbers: the Markdown file's
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        script = Path(workdir) / Path(block["path"]).name.replace(".md", "_md.py")
        script.write_text(source, encoding="utf-8")
        try:
            done = subprocess.run([sys.executable, str(script)], cwd=workdir, text=True,
                                  capture_output=True, timeout=TIME_LIMIT,
                                  env={**os.environ, "PYTHONPATH": path})
        except subprocess.TimeoutExpired:
            return {"status": "failed", "output": f"the block ran longer than {TIME_LIMIT} s",
                    "seconds": TIME_LIMIT}
    return {"status": "ok" if done.returncode == 0 else "failed",
            "output": done.stdout + done.stderr,
            "seconds": round(time.perf_counter() - start, 3)}


def _quiet_hypothesis() -> None:
    """Property tests in the docs run under the suite's health checks (tests/conftest.py): no
    deadline and no "too slow" failure on a busy machine, and no example database written."""
    try:
        from hypothesis import HealthCheck, settings
    except ImportError:
        return
    settings.register_profile("docs", deadline=None, database=None,
                              suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile("docs")


def main() -> None:
    """Reads a JSON list of blocks (path, line, code) on stdin; prints a JSON list of results."""
    todo = json.load(sys.stdin)
    sys.path.insert(0, str(REPO))  # blocks run from a checkout (docs/nn.md imports tests.nn)
    _quiet_hypothesis()
    if hasattr(os, "fork") and sys.platform == "linux":
        # What nearly every block imports, once: each child starts with it loaded.
        import autograd  # noqa: F401
        import nn  # noqa: F401
        import optim  # noqa: F401

        run = _run_forked
    else:
        run = _run_in_subprocess
    results = [run(block) for block in todo]
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
