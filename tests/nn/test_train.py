"""nn.train and nn.callbacks: fit/evaluate/predict, History, callbacks, resume, the example."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn
import nn.checkpoint as ckpt
import optim
from nn.callbacks import Callback, EarlyStopping, LRSchedulerCallback, ModelCheckpoint
from nn.data import DataLoader, TensorDataset
from nn.datasets import digits_split, make_spirals
from nn.train import Ensemble, History, NonFiniteLossError, Trainer, evaluate, fit, predict

REPO = Path(__file__).resolve().parents[2]


def _mlp(seed=0, hidden=32, n_in=2, n_out=3):
    ag.manual_seed(seed)
    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, n_out))


def _spirals(n=60):
    x, y = make_spirals(n, n_classes=3, noise=0.05, seed=0)
    return x, y


def _weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def _assert_same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    assert list(wa) == list(wb)
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k], err_msg=k)


class Recorder(Callback):
    """Records hook calls and the weights after each epoch."""

    def __init__(self):
        self.calls = []
        self.weights = []

    def on_train_begin(self, logs=None):
        self.calls.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(f"epoch_begin {epoch}")

    def on_batch_end(self, step, logs=None):
        assert isinstance(logs["loss"], ag.Tensor) and logs["batch_size"] > 0
        self.calls.append("batch")

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(f"epoch_end {epoch}")
        self.weights.append(_weights(self.trainer.model))

    def on_train_end(self, logs=None):
        self.calls.append("train_end")


def test_spirals_mlp_learns_on_every_backend(backend):
    x, y = _spirals()
    model = _mlp()
    opt = optim.Adam(model.parameters(), lr=0.02)
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, seed=0,
                        device=backend.device)
    rec = Recorder()
    history = fit(model, nn.CrossEntropyLoss(), opt, loader, val=(x, y), epochs=25,
                  callbacks=[rec], progress=False, device=backend.device)
    assert history["accuracy"][-1] >= 0.9 and history["val_accuracy"][-1] >= 0.9
    assert set(history.keys()) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert len(history) == 25 and history.epoch == list(range(25))
    assert history["loss"][-1] < history["loss"][0]
    assert rec.calls[:3] == ["train_begin", "epoch_begin 0", "batch"]
    assert rec.calls.count("batch") == 25 * len(loader) and rec.calls[-1] == "train_end"
    assert model[0].weight.device == backend.device


def test_training_steps_do_not_sync_the_device(backend):
    if not hasattr(backend, "sync_count"):
        pytest.skip("only the fake device counts host synchronisations")
    x, y = _spirals(20)
    model = _mlp().to(backend.device)
    opt = optim.Adam(model.parameters(), lr=0.01)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, seed=0)
    fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=1, progress=False,
        device=backend.device)  # warm up: the data set is copied to the device once
    before = backend.sync_count
    fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=3, progress=False,
        device=backend.device, log_every=1000)
    assert backend.sync_count - before == 3  # one read of the running sums per epoch
    before = backend.sync_count
    fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=1, progress=False,
        device=backend.device, log_every=2)  # 8 steps: reads after steps 2, 4, 6, 8 and the end
    assert backend.sync_count - before == 5


def test_digits_cnn_on_a_subset():
    (xtr, ytr), (xte, yte) = digits_split(seed=0)
    xtr, xte = xtr[:500].reshape(-1, 1, 8, 8), xte.reshape(-1, 1, 8, 8)
    ag.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(8 * 4 * 4, 10))
    opt = optim.Adam(model.parameters(), lr=0.01)
    fit(model, nn.CrossEntropyLoss(), opt, (xtr, ytr[:500]), epochs=8, batch_size=32, seed=0,
        progress=False)
    result = evaluate(model, nn.CrossEntropyLoss(), (xte, yte))
    assert result["accuracy"] >= 0.85 and set(result) == {"loss", "accuracy"}


def test_same_seed_gives_bit_identical_weights():
    x, y = _spirals(30)
    runs = []
    for _ in range(2):
        model = _mlp(seed=7)
        opt = optim.Adam(model.parameters(), lr=0.01)
        fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=3, batch_size=16, seed=1,
            progress=False)
        runs.append(model)
    _assert_same_weights(*runs)


def test_resume_matches_an_uninterrupted_run(tmp_path):
    x, y = _spirals(30)

    def setup():
        model = _mlp(seed=3)
        opt = optim.Adam(model.parameters(), lr=0.01)
        sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, seed=5)
        return model, opt, sched, loader

    model, opt, sched, loader = setup()
    full = fit(model, nn.CrossEntropyLoss(), opt, loader, val=(x, y), epochs=5,
               scheduler=sched, progress=False)

    m1, o1, s1, l1 = setup()
    fit(m1, nn.CrossEntropyLoss(), o1, l1, val=(x, y), epochs=3, scheduler=s1,
        callbacks=[ModelCheckpoint(tmp_path, save_best=False)], progress=False)
    m2, o2, s2, l2 = setup()  # fresh objects, as after a restart
    m2[0].weight.array[...] = 0.0
    resumed = fit(m2, nn.CrossEntropyLoss(), o2, l2, val=(x, y), epochs=5, scheduler=s2,
                  resume_from=tmp_path / "last.npz", progress=False)
    _assert_same_weights(model, m2)
    assert resumed.epoch == list(range(5))
    assert resumed["loss"] == full["loss"] and resumed["lr"] == full["lr"]


def test_early_stopping_stops_and_restores_best_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    xv = rng.normal(size=(64, 2)).astype(np.float32)
    yv = rng.integers(0, 3, 64)  # random labels: validation loss soon rises as the MLP memorises
    model = _mlp(hidden=64)
    opt = optim.Adam(model.parameters(), lr=0.03)
    stop = EarlyStopping(monitor="val_loss", patience=3)
    rec = Recorder()
    history = fit(model, nn.CrossEntropyLoss(), opt, (x, y), val=(xv, yv), epochs=60,
                  batch_size=16, seed=0, callbacks=[rec, stop], progress=False)
    assert stop.stopped_epoch is not None and len(history) < 60
    assert len(history) == stop.stopped_epoch + 1
    best = int(np.argmin(history["val_loss"]))
    assert stop.best_epoch == best and stop.stopped_epoch == best + 3
    restored = _weights(model)
    for k, v in rec.weights[best].items():
        np.testing.assert_array_equal(restored[k], v)


def test_early_stopping_modes():
    class Stub:
        def __init__(self):
            self.model = _mlp()
            self.history = History()
            self.stop_training = False

        def log(self, message):
            self.message = message

    stub = Stub()
    es = EarlyStopping(monitor="val_accuracy", patience=2, min_delta=0.01,
                       restore_best_weights=False)
    assert es.mode == "max"
    es.set_trainer(stub)
    es.on_train_begin()
    for epoch, acc in enumerate([0.5, 0.6, 0.605, 0.59]):
        es.on_epoch_end(epoch, {"val_accuracy": acc})
    assert stub.stop_training and es.best == 0.6 and es.stopped_epoch == 3
    assert "val_accuracy has not improved for 2 epochs" in stub.message
    with pytest.raises(KeyError, match="'val_f1' is not among"):
        EarlyStopping(monitor="val_f1").on_epoch_end(0, {"loss": 1.0})


def test_model_checkpoint_writes_best_and_last(tmp_path):
    x, y = _spirals(30)
    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    mc = ModelCheckpoint(tmp_path / "run", monitor="val_accuracy")
    history = fit(model, nn.CrossEntropyLoss(), opt, (x, y), val=(x, y), epochs=4,
                  batch_size=32, seed=0, callbacks=[mc], progress=False)
    best = ckpt.load(tmp_path / "run" / "best.npz")
    last = ckpt.load(tmp_path / "run" / "last.npz")
    accs = history["val_accuracy"]
    assert best["epoch"] == int(np.argmax(accs)) == mc.best_epoch
    assert best["best"] == max(accs) and best["monitor"] == "val_accuracy"
    assert last["epoch"] == 3 and last["history"]["loss"] == history["loss"]
    np.testing.assert_array_equal(last["model"]["0.weight"], model[0].weight.numpy())
    assert last["optimizer"]["param_groups"][0]["momentum"] == 0.9
    file_mc = ModelCheckpoint(tmp_path / "m.npz", monitor="loss")
    assert file_mc.last_path == tmp_path / "m.last.npz"


def test_nan_loss_raises_naming_epoch_and_step():
    x, y = _spirals(20)  # 60 samples, batches of 20: 3 steps per epoch
    calls = {"n": 0}
    ce = nn.CrossEntropyLoss()

    def poisoned(out, target):
        calls["n"] += 1
        loss = ce(out, target)
        return loss * float("nan") if calls["n"] == 5 else loss

    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.01)
    with pytest.raises(NonFiniteLossError, match="epoch 2, step 2 of 3") as info:
        fit(model, poisoned, opt, (x, y), epochs=3, batch_size=20, seed=0, progress=False)
    assert len(info.value.history) == 1
    calls["n"] = 0
    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.01)
    trainer = Trainer(model, poisoned, opt, batch_size=20, seed=0, progress=False,
                      nan_policy="stop")
    history = trainer.fit((x, y), epochs=3)
    assert len(history) == 1 and "epoch 2, step 2" in trainer.stop_reason


def test_scheduler_stepping_and_plateau_metric():
    x, y = _spirals(20)

    class Plateau:
        def __init__(self):
            self.seen = []

        def step(self, metrics):
            self.seen.append(metrics)

    model = _mlp()
    opt = optim.Adam(model.parameters(), lr=0.01)
    plateau = Plateau()
    history = fit(model, nn.CrossEntropyLoss(), opt, (x, y), val=(x, y), epochs=3,
                  scheduler=plateau, progress=False)
    assert plateau.seen == history["val_loss"]
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=3, scheduler=sched,
                  progress=False)
    assert history["lr"] == [0.01, 0.005, 0.0025]  # the lr used during each epoch
    real = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=2, scheduler=real, progress=False)
    with pytest.raises(ValueError, match="interval='epoch'"):
        LRSchedulerCallback(plateau, interval="step")


def test_a_per_step_schedule_shows_the_current_lr():
    """The bar (and the epoch's log) show the lr of the last step taken, not the epoch's first:
    a scheduler stepped per batch changes it within the epoch."""

    class Bar:  # records what the progress display is given
        def __init__(self):
            self.updates, self.ends = [], []

        def start(self, epoch, epochs, steps):
            pass

        def update(self, n, logs):
            self.updates.append(logs["lr"])

        def end(self, epoch, epochs, logs, seconds):
            self.ends.append(logs["lr"])

        def write(self, message):
            pass

    x, y = _spirals(16)  # 48 samples, batch 8: 6 steps an epoch
    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, batch_size=8, seed=0, log_every=2,
                      callbacks=[LRSchedulerCallback(sched, interval="step")])
    trainer.progress = bar = Bar()
    history = trainer.fit((x, y), epochs=2)
    # steps 2, 4, 6 of each epoch ran with lr 0.1 * 0.5 ** (step - 1)
    used = [0.1 * 0.5 ** (s - 1) for s in (2, 4, 6, 8, 10, 12)]
    np.testing.assert_allclose(bar.updates, used, rtol=1e-12)
    np.testing.assert_allclose(bar.ends, [used[2], used[5]], rtol=1e-12)
    np.testing.assert_allclose(history["lr"], bar.ends, rtol=1e-12)


def test_evaluate_predict_and_modes(backend):
    x, y = _spirals(10)
    model = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.5), nn.Linear(8, 3))
    model.train()
    out = predict(model, x)
    assert out.shape == (30, 3) and out.device == backend.device
    assert model.training  # restored after eval mode
    np.testing.assert_allclose(out.numpy(), predict(model, ag.tensor(x)).numpy())
    result = evaluate(model, nn.CrossEntropyLoss(), (x, y), batch_size=7)
    assert set(result) == {"loss", "accuracy"}
    expected = (out.numpy().argmax(1) == y).mean()
    assert result["accuracy"] == pytest.approx(expected)
    assert evaluate(model, None, (x, y))["accuracy"] == pytest.approx(expected)


def test_binary_accuracy_and_custom_metric():
    x = np.array([[1.0], [-1.0], [2.0], [-3.0]], np.float32)
    y = np.array([[1.0], [0.0], [0.0], [0.0]], np.float32)
    model = nn.Identity()

    def hits(out, target, xp):
        return xp.sum(out > 0)

    result = evaluate(model, nn.BCEWithLogitsLoss(), (x, y),
                      metrics=("accuracy", hits, "mse", "mae"))
    assert result["accuracy"] == 0.75 and result["hits"] == 0.5
    assert result["mse"] == 3.5 and result["mae"] == 1.5
    with pytest.raises(ValueError, match="unknown metric"):
        evaluate(model, None, (x, y), metrics=("f1",))


def test_history_plot(tmp_path, monkeypatch):
    h = History()
    h.append(0, {"loss": 1.0, "val_loss": 1.2, "accuracy": 0.5})
    h.append(1, {"loss": 0.5, "val_loss": 0.9, "accuracy": 0.7})
    assert h["loss"] == [1.0, 0.5] and "val_loss" in h
    assert History.from_dict(h.to_dict()).history == h.history
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="matplotlib"):
        h.plot(tmp_path / "h.png")
    monkeypatch.undo()
    pytest.importorskip("matplotlib")
    path = h.plot(tmp_path / "h.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_progress_without_tqdm_prints_epochs(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    x, y = _spirals(10)
    model = _mlp()
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (x, y),
        epochs=2, progress=True)
    out = capsys.readouterr().out
    assert "epoch 1/2" in out and "epoch 2/2" in out and "accuracy" in out


def test_ensemble_averages_members(backend):
    a, b = nn.Linear(3, 4), nn.Linear(3, 4)
    x = ag.randn(5, 3)
    pa, pb = a(x).softmax(axis=-1).numpy(), b(x).softmax(axis=-1).numpy()
    ens = Ensemble([a, b])
    np.testing.assert_allclose(ens(x).numpy(), (pa + pb) / 2, rtol=1e-5)
    logits = Ensemble([a, b], average="logits")(x).numpy()
    np.testing.assert_allclose(logits, (a(x).numpy() + b(x).numpy()) / 2, rtol=1e-5)
    logp = Ensemble([a, b], average="log_probs")(x).numpy()
    np.testing.assert_allclose(np.exp(logp), (pa + pb) / 2, rtol=1e-5)
    assert len(list(ens.parameters())) == 4
    with pytest.raises(ValueError, match="average"):
        Ensemble([a], average="vote")


def _load_example():
    spec = importlib.util.spec_from_file_location("train_digits",
                                                  REPO / "examples" / "train_digits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_digits_example_is_reproducible():
    example = _load_example()
    args = ["--model", "cnn", "--epochs", "1", "--limit", "200", "--quiet", "--seed", "3"]
    first, second = example.main(args), example.main(args)
    _assert_same_weights(first["model"], second["model"])
    assert first["test_accuracy"] == second["test_accuracy"]
    other = example.main(["--model", "cnn", "--epochs", "1", "--limit", "200", "--quiet",
                          "--seed", "4"])
    assert not np.array_equal(_weights(other["model"])["0.weight"],
                              _weights(first["model"])["0.weight"])
