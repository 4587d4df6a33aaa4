"""docs/numpy.md's coverage table is the one docs/numpy_table.py generates from the namespace."""

from __future__ import annotations

import importlib.util

from tests.doc_blocks import REPO


def _generator():
    spec = importlib.util.spec_from_file_location("numpy_table", REPO / "docs" / "numpy_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_coverage_table_is_current() -> None:
    generator = _generator()
    text = generator.DOC.read_text()
    assert generator.render(text) == text, (
        "docs/numpy.md: the coverage table is stale; run `python docs/numpy_table.py`"
    )


def test_the_table_classifies_what_the_namespace_does() -> None:
    rows = dict(_generator().rows())
    assert rows["sum"] == rows["linalg.eigh"] == rows["hstack"] == "differentiable"
    assert rows["argmax"] == rows["isnan"] == "constant"
    assert rows["fft.fft"] == "forward only" and rows["zeros"] == "NumPy's own"
