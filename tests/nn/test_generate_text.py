"""examples/generate_text.py in short runs: data, bigram baseline, training (losses finite,
parameters change), checkpoints with the vocabulary, resume, sampling, and the fake device."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn

REPO = Path(__file__).resolve().parent.parent.parent
SHORT = ["--max-chars", "20000", "--context", "16", "--batch-size", "4", "--steps", "4",
         "--eval-every", "2", "--eval-chars", "2000", "--warmup", "2", "--length", "40",
         "--layers", "1", "--width", "16", "--heads", "2", "--embed", "8", "--quiet"]


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("generate_text",
                                                  REPO / "examples" / "generate_text.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_stdlib_corpus_is_deterministic_and_bounded(example):
    a, b = example.stdlib_text(5000), example.stdlib_text(5000)
    assert a == b and len(a) == 5000
    assert "def " in example.stdlib_text(50_000)


def test_bigram_baseline_is_the_counted_cross_entropy(example):
    train = np.array([0, 1, 0, 1, 0, 1, 1])
    val = np.array([0, 1, 1])
    counts = np.full((2, 2), 0.1) + np.array([[0, 3], [2, 1]])
    probs = counts / counts.sum(1, keepdims=True)
    expected = -(np.log2(probs[0, 1]) + np.log2(probs[1, 1])) / 2
    assert math.isclose(example.bigram_bits(train, val, 2), expected)


def test_warmup_cosine_schedule(example):
    f = example.warmup_cosine(warmup=4, total=14, floor=0.1)
    assert [f(s) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert math.isclose(f(9), 0.55) and math.isclose(f(14), 0.1) and f(20) == f(14)


@pytest.mark.parametrize("model", ["gpt", "lstm"])
def test_short_run_trains_checkpoints_and_samples(example, tmp_path, model):
    if model == "lstm" and not hasattr(nn, "LSTM"):
        pytest.skip("nn.LSTM is not in this tree yet")
    out = tmp_path / model
    ag.manual_seed(0)
    initial = _weights(example.build_model(_config(example, model)))
    result = example.main(["--model", model, "--out", str(out), *SHORT])
    history = result["history"]
    assert len(history) == 2 and result["steps"] == 4
    for key in ("loss", "val_loss"):
        assert all(math.isfinite(v) for v in history[key])
    assert math.isfinite(result["val_bits"]) and result["bigram_bits"] > 0
    trained = _weights(result["trained"])
    assert all(not np.array_equal(initial[k], trained[k]) for k in trained)
    sample = result["sample"]
    assert sample.startswith("def ") and len(sample) == 4 + 40
    # the checkpoint holds the vocabulary: sampling from it alone works and is reproducible
    again = example.main(["--sample", str(out / "last.npz"), "--prompt", "import ",
                          "--length", "30", "--seed", "1"])["sample"]
    assert again.startswith("import ") and len(again) == 7 + 30
    assert again == example.main(["--sample", str(out / "last.npz"), "--prompt", "import ",
                                  "--length", "30", "--seed", "1"])["sample"]
    assert (out / "best.npz").exists()


def _config(example, model):
    text = example.stdlib_text(20000)
    small = {"layers": 1, "width": 16, "heads": 2, "embed": 8, "dropout": 0.0}
    return {"model": model, "vocab_size": len(set(text)), "context": 16,
            **{k: v for k, v in small.items() if k in example.DEFAULTS[model]}}


def test_resume_continues_where_the_run_stopped(example, tmp_path):
    whole = example.main(["--out", str(tmp_path / "whole"), *SHORT])
    first = example.main(["--out", str(tmp_path / "parts"), "--stop-after", "2", *SHORT])
    assert first["steps"] == 2 and len(first["history"]) == 1
    second = example.main(["--out", str(tmp_path / "parts"), "--resume", *SHORT])
    assert second["steps"] == 4 and len(second["history"]) == 2
    a, b = _weights(whole["trained"]), _weights(second["trained"])
    for k in a:
        np.testing.assert_allclose(b[k], a[k], rtol=1e-4, atol=1e-6, err_msg=k)
    with pytest.raises(SystemExit, match="vocabulary"):
        example.main(["--out", str(tmp_path / "parts"), "--resume", *SHORT[2:],
                      "--max-chars", "3000"])  # another text: another vocabulary


def test_runs_on_the_fake_device(example, tmp_path):
    result = example.main(["--out", str(tmp_path), "--device", "fake", *SHORT])
    assert math.isfinite(result["val_bits"]) and len(result["sample"]) == 44


def test_context_default_and_resume_keeps_the_run_s(example, tmp_path):
    """Without --context a run trains on its model's default windows (DEFAULTS, 64 characters);
    a resumed run keeps its checkpoint's context whatever --context says now."""
    from nn import checkpoint

    short = [a for i, a in enumerate(SHORT) if a != "--context" and SHORT[i - 1] != "--context"]
    out = tmp_path / "gpt"
    example.main(["--model", "gpt", "--out", str(out), "--stop-after", "2", *short])
    want = example.DEFAULTS["gpt"]["context"]
    assert checkpoint.read(out / "last.npz")[1]["extra"]["config"]["context"] == want
    resumed = example.main(["--model", "gpt", "--out", str(out), "--resume", "--context", "16",
                            *short])
    assert resumed["trained"].context == want and resumed["steps"] == 4
