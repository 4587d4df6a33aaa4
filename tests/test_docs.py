"""The docs run as written: every ```python block of README.md and docs/*.md runs on its own.

Each block runs as a reader would paste it into a fresh interpreter (fresh namespace and global
state, its own imports; see tests/doc_blocks.py), so a block that leans on names or settings
from the blocks before it fails here. Blocks marked ``# requires: cuda`` (or a module name)
are skipped with the reason where that is missing. New doc files are picked up by the glob.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.doc_blocks import REPO, Block, blocks, doc_files, missing, parse

PYTHON_BLOCKS = blocks()


@pytest.fixture(scope="module")
def results(request: pytest.FixtureRequest) -> dict[str, dict]:
    """The result of every selected runnable block, from one runner process (forking a child
    per block)."""
    selected = {item.callspec.params["block"].name for item in request.session.items
                if "block" in getattr(getattr(item, "callspec", None), "params", {})}
    runnable = [b for b in PYTHON_BLOCKS if b.name in selected and missing(b) is None]
    env = {k: v for k, v in os.environ.items() if k != "KEDJA_DEVICE"}  # a reader's default
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    done = subprocess.run(
        [sys.executable, "-m", "tests.doc_blocks"], cwd=REPO, env=env, capture_output=True,
        text=True, input=json.dumps([{"path": b.path, "line": b.line, "code": b.code}
                                     for b in runnable]),
        timeout=600,
    )
    assert done.returncode == 0, f"the doc block runner failed:\n{done.stderr[-5000:]}"
    return {b.name: r for b, r in zip(runnable, json.loads(done.stdout))}


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda b: b.name)
def test_the_python_block_runs_on_its_own(block: Block, results: dict) -> None:
    why = missing(block)
    if why is not None:
        pytest.skip(f"{block.name} {why}")
    result = results[block.name]
    if result["status"] != "ok":
        pytest.fail(f"{block.name}: this ```python block fails when run on its own (fresh "
                    f"interpreter, its own imports):\n{result['output'][-4000:]}",
                    pytrace=False)


def test_the_docs_have_python_blocks_in_every_file_that_shows_code() -> None:
    files = {b.path for b in PYTHON_BLOCKS}
    assert "README.md" in files and "docs/autograd.md" in files, files


def test_every_fence_is_closed_and_python_tags_hold_python() -> None:
    for file in doc_files():
        rel = file.relative_to(REPO).as_posix()
        for block in parse(file.read_text(encoding="utf-8"), rel):  # raises on an open fence
            if block.lang in ("python", "py"):
                assert block.lang == "python", f"{block.name}: tag Python blocks ```python"
                compile(block.code, block.name, "exec")  # a SyntaxError names the block


def test_the_parser_reads_indented_fences_and_the_requires_marker() -> None:
    text = ("x\n\n  ```python\n  # requires: cuda, torch\n  import autograd\n  ```\n"
            "```bash\nls\n```\n")
    found = parse(text, "doc.md")
    assert [(b.lang, b.line) for b in found] == [("python", 4), ("bash", 8)]
    assert found[0].code == "# requires: cuda, torch\nimport autograd\n"
    assert found[0].requires == ("cuda", "torch")
    assert missing(Block("doc.md", 1, "python", "", ("no_such_module_here",))) is not None
    with pytest.raises(ValueError, match="never closed"):
        parse("```python\nx = 1\n", "doc.md")
