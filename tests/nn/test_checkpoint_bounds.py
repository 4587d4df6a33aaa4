"""Checkpoint loading is bounded and checked: only declared members are read, sizes are checked
before allocating, loaded values are validated, and every malformed file raises CheckpointError
(never TypeError, KeyError, RecursionError, MemoryError, ..., never NumPy's pickle advice)."""

from __future__ import annotations

import json
import tracemalloc
import zipfile

import numpy as np
import pytest

import autograd as ag
import nn
import nn.checkpoint as ckpt
import optim
from nn.checkpoint import CheckpointError
from nn.trainer import Trainer

from .checkpoint_files import (
    members,
    meta_of,
    npy_data,
    npy_header,
    save_good,
    training_objects,
    with_meta,
    zip_bytes,
)

STORED, DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED


def _load_error(path, **kw):
    """The CheckpointError of loading `path` into fresh objects, and the peak traced bytes."""
    model, opt, sched = training_objects(seed=1)
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError) as info:
            ckpt.load(path, model=model, optimizer=opt, scheduler=sched, **kw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert str(path) in message and "allow_pickle" not in message
    return message, peak


@pytest.fixture
def good(tmp_path):
    return save_good(tmp_path / "good.npz")


def _write(tmp_path, entries, name="bad.npz"):
    path = tmp_path / name
    path.write_bytes(zip_bytes(entries))
    return path


def test_undeclared_deflated_member_is_refused_unread(tmp_path, good):
    """The issue's zip bomb: an extra deflated member of zeros (64 MiB here, 1 GiB there)."""
    zeros = npy_header((1 << 24,)) + bytes(4 << 24)
    path = _write(tmp_path, members(good) + [("evil.npy", zeros, DEFLATED)])
    assert path.stat().st_size < 1 << 20
    message, peak = _load_error(path)
    assert "members its metadata does not declare (refused unread): evil.npy" in message
    assert peak < 4 << 20


def test_declared_member_larger_than_the_limit(tmp_path, good):
    """A consistent but large (deflated) member is refused before it is allocated."""
    entries = members(good)
    big = npy_header((1 << 22,)) + bytes(4 << 22)  # 16 MiB of float32 zeros, deflated
    entries = [(n, big if n == "extra/vec.npy" else d, DEFLATED if n == "extra/vec.npy" else m)
               for n, d, m in entries]
    path = _write(tmp_path, entries)
    message, peak = _load_error(path, max_bytes=1 << 20)
    assert "more than max_bytes=1048576; pass a larger max_bytes" in message
    assert peak < 1 << 20
    # the caller can raise the limit for a file it trusts
    model, opt, sched = training_objects(seed=1)
    out = ckpt.load(path, model=model, max_bytes=64 << 20)
    assert out["vec"].shape == (1 << 22,)


@pytest.mark.parametrize("shape", [(10**12,), (1 << 40, 1 << 40), (3, 5), ()])
def test_declared_shape_must_match_the_real_size(tmp_path, good, shape):
    entries = members(good)
    entries = [(n, npy_header(shape) + npy_data(d) if n == "model/0.weight.npy" else d, m)
               for n, d, m in entries]
    message, peak = _load_error(_write(tmp_path, entries))
    assert f"member 'model/0.weight.npy' declares shape {shape} of float32" in message
    assert "but holds 48 bytes of data" in message
    assert peak < 1 << 20


def test_deflated_member_claiming_more_than_deflate_can_produce(tmp_path, good):
    data = open(good, "rb").read()
    entries = members(good)
    path = _write(tmp_path, [(n, d, DEFLATED) for n, d, _ in entries])
    assert ckpt.load(path)["epoch"] == 3  # savez_compressed-style files load
    # forge the central directory's uncompressed size of one member to 2 GiB
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("model/0.weight.npy")
    central = raw.rfind(b"PK\x01\x02", 0, raw.rfind(b"model/0.weight.npy") + 1)
    raw[central + 24:central + 28] = (2 << 30).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    message, _ = _load_error(path)
    assert f"from {info.compress_size} deflated bytes, more than deflate can produce" in message
    assert data  # the original file is untouched


@pytest.mark.parametrize("descr, what", [
    ("|O", "holds dtype object"), ("<U3", "holds dtype <U3"), ("|V8", "holds dtype |V8"),
    ("<M8[s]", "holds dtype datetime64[s]"), ([("a", "<f4")], "holds dtype [('a', '<f4')]"),
])
def test_member_dtypes_a_checkpoint_never_holds(tmp_path, good, descr, what):
    entries = [(n, npy_header((12,), descr) + bytes(96) if n == "model/0.weight.npy" else d, m)
               for n, d, m in members(good)]
    message, _ = _load_error(_write(tmp_path, entries))
    assert what in message and "pickle" not in message.replace("never use", "")


def test_big_endian_and_fortran_order_members_load(tmp_path, good):
    model, _, _ = training_objects()
    w = model[0].weight.numpy()
    swapped = npy_header(w.shape, ">f4") + w.astype(">f4").tobytes()
    fortran = npy_header(w.shape, "<f4", fortran=True) + np.asfortranarray(w).tobytes("F")
    for member in (swapped, fortran):
        entries = [(n, member if n == "model/0.weight.npy" else d, m)
                   for n, d, m in members(good)]
        other, _, _ = training_objects(seed=1)
        ckpt.load(_write(tmp_path, entries), model=other)
        np.testing.assert_array_equal(other[0].weight.numpy(), w)


META_EDITS = [
    ("nested 1e5 deep", lambda m: json.dumps(m)[:-1] + ', "extra": {"x": '
     + "[" * 100_000 + "]" * 100_000 + "}}", "nested too deeply"),
    ("nested 100 deep", lambda m: json.dumps({**m, "extra": {"x": json.loads("[" * 100
                                                                              + "]" * 100)}}),
     "nested more than 64 levels"),
    ("not UTF-8", lambda m: b"\xff\xfe{}", "is not UTF-8"),
    ("not JSON", lambda m: "{'format': 1}", "is not valid JSON"),
    ("an array", lambda m: "[1, 2]", "metadata is a JSON list, not an object"),
    ("huge int", lambda m: json.dumps(m)[:-1] + ', "extra": {"x": ' + "9" * 5000 + "}}",
     "is not valid JSON"),
    ("version True", lambda m: json.dumps({**m, "version": True}), "format version True"),
    ("unknown field", lambda m: json.dumps({**m, "shape": 1}), "unknown metadata fields"),
    ("model_keys a dict", lambda m: json.dumps({**m, "model_keys": {"a": 1}}),
     "'model_keys' must be a list of strings"),
    ("model key twice", lambda m: json.dumps({**m, "model_keys": m["model_keys"] * 2}),
     "names an entry twice"),
    ("optimizer a list", lambda m: json.dumps({**m, "optimizer": []}),
     "'optimizer' must hold exactly"),
    ("state index 'x'", lambda m: json.dumps(
        {**m, "optimizer": {**m["optimizer"], "state_scalars": {"x": {}}}}),
     "has key 'x', not a parameter index"),
    ("state index '01'", lambda m: json.dumps(
        {**m, "optimizer": {**m["optimizer"], "state_arrays": {"01": []}}}),
     "has key '01', not a parameter index"),
    ("params not indices", lambda m: json.dumps(
        {**m, "optimizer": {**m["optimizer"], "param_groups": [{"params": ["a"]}]}}),
     "needs a 'params' list of parameter indices"),
    ("array and number", lambda m: json.dumps(
        {**m, "optimizer": {**m["optimizer"], "state_scalars": {"0": {"exp_avg": 1}}}}),
     "declared both as an array and as a number"),
    ("scheduler a string", lambda m: json.dumps({**m, "scheduler": "StepLR"}),
     "'scheduler' must be"),
    ("extra reserved", lambda m: json.dumps({**m, "extra": {"model": 1}}), "reserved"),
    ("extra_arrays clash", lambda m: json.dumps({**m, "extra": {"vec": 1}}), "named twice"),
]


@pytest.mark.parametrize("edit, match", [(e, m) for _, e, m in META_EDITS],
                         ids=[name for name, _, _ in META_EDITS])
def test_malformed_metadata(tmp_path, good, edit, match):
    entries = members(good)
    message, _ = _load_error(_write(tmp_path, with_meta(entries, edit(meta_of(entries)))))
    assert match in message


def _meta_edited(tmp_path, good, edit):
    entries = members(good)
    meta = meta_of(entries)
    edit(meta)
    return _write(tmp_path, with_meta(entries, json.dumps(meta)))


@pytest.mark.parametrize("key, value, match", [
    ("lr", float("nan"), "invalid lr: nan"),
    ("lr", -0.1, "invalid learning rate: -0.1"),
    ("lr", "0.1", "lr must be a Python number, got str '0.1'"),
    ("eps", -1.0, "invalid epsilon value: -1.0"),
    ("betas", [0.9, 1.0], "invalid beta parameter at index 1: 1.0"),
])
def test_bad_optimizer_values_in_a_file(tmp_path, good, key, value, match):
    path = _meta_edited(tmp_path, good,
                        lambda m: m["optimizer"]["param_groups"][0].__setitem__(key, value))
    message, _ = _load_error(path)
    assert "does not fit the optimizer: Adam.load_state_dict: parameter group 0:" in message
    assert match in message


def test_bad_step_in_a_file(tmp_path, good):
    path = _meta_edited(tmp_path, good,
                        lambda m: m["optimizer"]["state_scalars"]["0"].__setitem__("step", -3))
    assert "state 'step' of parameter 0 must be a whole number in [0, 2**53]" in \
        _load_error(path)[0]


def test_state_of_another_type_in_a_file(tmp_path, good):
    model, _, _ = training_objects()
    sgd = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(CheckpointError, match="optimizer state of a Adam, cannot load it into a "
                                              "SGD"):
        ckpt.load(good, optimizer=sgd)
    cosine = optim.lr_scheduler.CosineAnnealingLR(optim.Adam(model.parameters()), T_max=5)
    with pytest.raises(CheckpointError, match="scheduler state of a StepLR, cannot load it into a "
                                              "CosineAnnealingLR"):
        ckpt.load(good, scheduler=cosine)
    # a forged type name does not help: the state itself is checked
    path = _meta_edited(tmp_path, good, lambda m: m["scheduler"].__setitem__(
        "type", "CosineAnnealingLR"))
    with pytest.raises(CheckpointError, match=r"unexpected step_size, gamma; missing T_max"):
        ckpt.load(path, scheduler=cosine)
    path = _meta_edited(tmp_path, good, lambda m: m["scheduler"]["state"].__setitem__(
        "step_size", 0))
    with pytest.raises(CheckpointError, match="step_size must be a positive int"):
        ckpt.load(path, scheduler=optim.lr_scheduler.StepLR(optim.Adam(model.parameters()), 2))


def test_a_refused_load_changes_nothing(tmp_path, good):
    """The optimizer and scheduler are checked before the model is written, and the model's
    checks run before anything is copied: a CheckpointError leaves all three as they were."""
    path = _meta_edited(tmp_path, good, lambda m: m["scheduler"]["state"].__setitem__(
        "gamma", "half"))
    model, opt, sched = training_objects(seed=1)
    weights = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    groups = [dict(g) for g in opt.param_groups]
    with pytest.raises(CheckpointError, match="gamma must be a number"):
        ckpt.load(path, model=model, optimizer=opt, scheduler=sched)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), weights[k])
    assert opt.param_groups == groups and sched.gamma == 0.5


def test_member_missing_or_not_a_zip(tmp_path, good):
    entries = [e for e in members(good) if e[0] != "optimizer/state/0/exp_avg.npy"]
    message, _ = _load_error(_write(tmp_path, entries))
    assert "missing arrays: optimizer/state/0/exp_avg" in message
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(CheckpointError, match="is a directory"):
        ckpt.load(tmp_path / "dir.npz")
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(CheckpointError, match="not a zip archive"):
        ckpt.load(tmp_path / "empty.npz")


def test_max_bytes_is_checked(good):
    with pytest.raises(TypeError, match="max_bytes must be an int"):
        ckpt.load(good, max_bytes="1GB")
    with pytest.raises(CheckpointError, match="metadata.*more than max_bytes=10"):
        ckpt.load(good, max_bytes=10)


def test_trainer_resume_checks_the_extras(tmp_path):
    model, opt, _ = training_objects()
    for epoch in (None, -1, "3"):
        extra = {} if epoch is None else {"epoch": epoch}
        ckpt.save(tmp_path / "r.npz", model=model, optimizer=opt, **extra)
        trainer = Trainer(model, nn.MSELoss(), optimizer=opt, progress=False)
        with pytest.raises(CheckpointError, match="holds no epoch number"):
            trainer.resume(tmp_path / "r.npz")


@pytest.mark.parametrize("value, match", [
    (None, "bad value for 0.weight: a NoneType; expected a Tensor or an array"),
    ([[1.0], [1.0, 2.0]], "bad value for 0.weight: a list that is not an array"),
    ({"a": 1}, "bad value for 0.weight: a dict"),
])
def test_module_load_state_dict_names_bad_values(value, match):
    model, _, _ = training_objects()
    state = dict(model.state_dict())
    state["0.weight"] = value
    with pytest.raises(RuntimeError, match=match):
        model.load_state_dict(state)


def test_safetensors_bounded_and_checked(tmp_path):
    safetensors = pytest.importorskip("safetensors.numpy")
    path = save_good(tmp_path / "c.safetensors")
    assert ckpt.load(path)["epoch"] == 3
    with pytest.raises(CheckpointError, match="more than max_bytes"):
        ckpt.load(path, max_bytes=1 << 10)
    arrays, meta = ckpt.read(path)
    text = json.dumps({**meta, "zero_dim": []})
    extra = {**arrays, "evil": np.zeros(4, np.float32)}
    (tmp_path / "x.safetensors").write_bytes(safetensors.save(
        {k: np.ascontiguousarray(v) for k, v in extra.items()}, metadata={"__kedja__": text}))
    message, _ = _load_error(tmp_path / "x.safetensors")
    assert "tensors its metadata does not declare (refused unread): evil" in message
    bad = {**meta, "version": 2}
    (tmp_path / "v.safetensors").write_bytes(safetensors.save(
        {k: np.ascontiguousarray(v) for k, v in arrays.items()},
        metadata={"__kedja__": json.dumps(bad)}))
    assert "format version 2" in _load_error(tmp_path / "v.safetensors")[0]
    (tmp_path / "d.safetensors").write_bytes(safetensors.save(
        {k: np.ascontiguousarray(v) for k, v in arrays.items()},
        metadata={"__kedja__": "[" * 100_000}))
    assert "metadata is nested too deeply" in _load_error(tmp_path / "d.safetensors")[0]
    path.write_bytes(path.read_bytes()[:200])
    assert "not a readable safetensors checkpoint" in _load_error(path)[0]


def test_round_trip_still_exact(tmp_path, good):
    model, opt, sched = training_objects()
    other, other_opt, other_sched = training_objects(seed=1)
    out = ckpt.load(good, model=other, optimizer=other_opt, scheduler=other_sched)
    for (k, a), b in zip(model.state_dict().items(), other.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    assert out["epoch"] == 3 and other_sched.last_epoch == sched.last_epoch
    np.testing.assert_array_equal(out["vec"], ag.arange(4).numpy())
