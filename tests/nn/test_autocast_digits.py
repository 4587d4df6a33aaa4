"""The digits CNN under autocast ends within 0.5 points of its float32 test accuracy.

Each case trains examples/train_digits.py's CNN twice with the same seed and data, once in
float32 and once under ``--amp``, and compares the accuracy on the 360 test images (0.5
points is under 2 images). The quick cases train 2 epochs on NumPy; the fake device (whose
float16 matmul is NumPy's, without BLAS) and the full 20-epoch runs are marked slow.
"""

import functools
import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("ml_dtypes")
REPO = Path(__file__).resolve().parents[2]


@functools.cache
def _example():
    spec = importlib.util.spec_from_file_location("train_digits_amp",
                                                  REPO / "examples" / "train_digits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def _accuracy(*args: str) -> float:
    return _example().main(["--model", "cnn", "--quiet", "--seed", "0", *args])["test_accuracy"]


def _check(device: str, amp: str, budget: tuple) -> None:
    reference = _accuracy("--device", "cpu", *budget)
    mixed = _accuracy("--device", device, "--amp", amp, *budget)
    assert abs(mixed - reference) <= 0.005 + 1e-9, (device, amp, budget, mixed, reference)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the scaler's first overflowing steps
@pytest.mark.parametrize("amp", ["bfloat16", "float16"])
def test_digits_cnn_under_autocast_matches_float32(amp):
    _check("cpu", amp, ("--epochs", "2"))


@pytest.mark.slow  # ~70 s on a busy 2-core machine: NumPy's float16 matmul has no BLAS
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_digits_cnn_under_autocast_on_the_fake_device_matches_float32():
    # 45 steps: at 10 (2 epochs of 160 images) the scaler's first skipped steps still show
    # (73.1% vs 75.8% measured), so this budget is the smallest that tests the criterion.
    _check("fake", "float16", ("--epochs", "3", "--limit", "480"))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("device, amp", [("cpu", "bfloat16"), ("cpu", "float16"),
                                         ("fake", "float16")])
def test_digits_cnn_under_autocast_matches_float32_full_run(device, amp):
    _check(device, amp, ("--epochs", "20"))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fit_with_amp_dtype_scaler_and_grad_clip(backend):
    import numpy as np

    import autograd as ag
    import nn
    import optim
    from nn.train import fit

    ag.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 2))
    opt = optim.Adam(model.parameters(), lr=0.05)
    scaler = ag.GradScaler(init_scale=256.0)
    history = fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=4, device=backend.device,
                  progress=False, amp_dtype=ag.float16, scaler=scaler, grad_clip=1.0)
    assert history["loss"][-1] < history["loss"][0]
    assert all(p.dtype == ag.float32 for p in model.parameters())
    assert scaler.get_scale() == 256.0   # no overflow at this scale: never backed off
