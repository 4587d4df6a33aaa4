"""nn.checkpoint: round trips, the no-pickle npz layout, atomic writes, clear load errors."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import autograd as ag
import nn
import nn.checkpoint as ckpt
import optim
from nn.checkpoint import CheckpointError


def _model(seed=0):
    ag.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 3))


def _train_steps(model, opt, n=3):
    x = ag.tensor(np.linspace(-1, 1, 24, dtype=np.float32).reshape(6, 4))
    for _ in range(n):
        opt.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        opt.step()


def _weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_round_trip_model_optimizer_extras(backend, tmp_path):
    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.9))
    _train_steps(model, opt)
    path = ckpt.save(tmp_path / "c.npz", model=model, optimizer=opt, epoch=3,
                     note="hi", table={"a": [1, 2.5]}, vec=ag.arange(4))
    other = _model(seed=1)
    other_opt = optim.Adam(other.parameters(), lr=1.0)
    extra = ckpt.load(path, model=other, optimizer=other_opt)
    for (k, a), b in zip(_weights(model).items(), _weights(other).values()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    assert extra["epoch"] == 3 and extra["note"] == "hi" and extra["table"] == {"a": [1, 2.5]}
    np.testing.assert_array_equal(extra["vec"], np.arange(4))
    group = other_opt.param_groups[0]
    assert group["lr"] == 0.01 and group["betas"] == (0.8, 0.9)
    # the restored optimizer continues exactly like the original
    _train_steps(model, opt, 2)
    _train_steps(other, other_opt, 2)
    for (k, a), b in zip(_weights(model).items(), _weights(other).values()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    assert other.state_dict()["0.weight"].device == backend.device


def test_file_is_plain_npz_without_pickle(tmp_path):
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    _train_steps(model, opt, 1)
    ckpt.save(tmp_path / "c.npz", model=model, optimizer=opt, step=7)
    with np.load(tmp_path / "c.npz", allow_pickle=False) as f:
        files = set(f.files)
        meta = json.loads(f["__kedja__"].tobytes().decode())
        assert f["__kedja__"].dtype == np.uint8
        np.testing.assert_array_equal(f["model/0.weight"], model[0].weight.numpy())
        assert "model/1.running_mean" in files
        assert "optimizer/state/0/momentum_buffer" in files
    assert meta["format"] == "kedja-checkpoint" and meta["version"] == 1
    assert meta["optimizer"]["type"] == "SGD"
    assert meta["optimizer"]["param_groups"][0]["momentum"] == 0.9
    assert meta["extra"] == {"step": 7}
    assert all(not k.startswith("model/") or k[6:] in meta["model_keys"] for k in files)


def test_save_state_dict_and_load_state_dict_file(tmp_path):
    model = _model()
    ckpt.save_state_dict(tmp_path / "w.npz", model)
    state = ckpt.load_state_dict_file(tmp_path / "w.npz")
    assert list(state) == list(model.state_dict())
    other = _model(seed=5)
    other.load_state_dict(state)
    np.testing.assert_array_equal(other[3].weight.numpy(), model[3].weight.numpy())


def test_crash_mid_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    model = _model()
    ckpt.save(path, model=model, epoch=1)
    before = path.read_bytes()

    def partial_write(f, arrays, meta):
        f.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr(ckpt, "_write_npz", partial_write)
    with pytest.raises(KeyboardInterrupt):
        ckpt.save(path, model=_model(seed=3), epoch=2)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["c.npz"]  # no temporary file left behind
    monkeypatch.undo()

    def failing_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="disk full"):
        ckpt.save(path, model=_model(seed=3), epoch=2)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["c.npz"]
    monkeypatch.undo()
    assert ckpt.load(path)["epoch"] == 1


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip"])
def test_damaged_files_raise_clear_errors(tmp_path, damage):
    path = tmp_path / "c.npz"
    ckpt.save(path, model=_model(), epoch=1)
    data = path.read_bytes()
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "garbage":
        data = b"this is not a checkpoint at all" * 10
    else:  # flip bytes inside a stored array: the zip CRC check must notice
        middle = len(data) // 3
        data = data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 16]) + \
            data[middle + 16:]
    path.write_bytes(data)
    with pytest.raises(CheckpointError) as info:
        ckpt.load(path, model=_model())
    assert str(path) in str(info.value)


def test_not_a_kedja_checkpoint(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.arange(3))
    with pytest.raises(CheckpointError, match="not a kedja checkpoint"):
        ckpt.load(tmp_path / "plain.npz")
    np.save(tmp_path / "single.npy", np.arange(3))
    with pytest.raises(CheckpointError, match="single .npy"):
        ckpt.load(tmp_path / "single.npy")
    with pytest.raises(FileNotFoundError):
        ckpt.load(tmp_path / "missing.npz")


def test_incomplete_and_wrong_version(tmp_path):
    path = tmp_path / "c.npz"
    ckpt.save(path, model=_model())
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    del arrays["model/3.bias"]
    np.savez(path, **arrays)
    with pytest.raises(CheckpointError, match="missing arrays: model/3.bias"):
        ckpt.load(path)
    meta = json.loads(arrays["__kedja__"].tobytes())
    meta["version"] = 99
    arrays["__kedja__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(path, **arrays)
    with pytest.raises(CheckpointError, match="version 99"):
        ckpt.load(path)


def test_mismatched_model_and_optimizer(tmp_path):
    path = tmp_path / "c.npz"
    model = _model()
    opt = optim.Adam(model.parameters())
    _train_steps(model, opt, 1)
    ckpt.save(path, model=model, optimizer=opt)
    wider = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))
    with pytest.raises(CheckpointError, match="size mismatch") as info:
        ckpt.load(path, model=wider)
    assert str(path) in str(info.value)
    deeper = nn.Sequential(*_model(), nn.Linear(3, 3))
    with pytest.raises(CheckpointError, match="Missing key"):
        ckpt.load(path, model=deeper)
    ckpt.load(path, model=deeper, strict=False)  # loads what matches
    np.testing.assert_array_equal(deeper[0].weight.numpy(), model[0].weight.numpy())
    with pytest.raises(CheckpointError, match="Adam, cannot load it into a SGD"):
        ckpt.load(path, optimizer=optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(CheckpointError, match="does not fit the optimizer"):
        ckpt.load(path, optimizer=optim.Adam(list(model.parameters())[:2]))
    ckpt.save(path, model=model)
    with pytest.raises(CheckpointError, match="no optimizer state"):
        ckpt.load(path, optimizer=opt)


def test_extra_values_are_checked(tmp_path):
    with pytest.raises(TypeError, match="extra value 'fn'"):
        ckpt.save(tmp_path / "c.npz", fn=print)
    assert not (tmp_path / "c.npz").exists()


def test_scheduler_state_round_trip(tmp_path):
    model = _model()
    opt = optim.SGD(model.parameters(), lr=1.0)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        opt.step()
        sched.step()
    ckpt.save(tmp_path / "c.npz", model=model, optimizer=opt, scheduler=sched)
    opt2 = optim.SGD(model.parameters(), lr=1.0)
    sched2 = optim.lr_scheduler.StepLR(opt2, step_size=2, gamma=0.5)
    ckpt.load(tmp_path / "c.npz", optimizer=opt2, scheduler=sched2)
    assert sched2.last_epoch == sched.last_epoch and opt2.param_groups[0]["lr"] == 0.5
    sched.step()
    sched2.step()
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


def test_safetensors_round_trip(tmp_path):
    pytest.importorskip("safetensors")
    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.02)
    _train_steps(model, opt, 2)
    path = ckpt.save(tmp_path / "c.safetensors", model=model, optimizer=opt, epoch=4)
    other = _model(seed=2)
    other_opt = optim.Adam(other.parameters())
    assert ckpt.load(path, model=other, optimizer=other_opt)["epoch"] == 4
    np.testing.assert_array_equal(other[0].weight.numpy(), model[0].weight.numpy())
    assert other_opt.param_groups[0]["lr"] == 0.02
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(CheckpointError, match="safetensors"):
        ckpt.load(path)
