"""Helpers of the checkpoint tests: a checkpoint's members as editable bytes, rebuilt into a zip."""

from __future__ import annotations

import io
import json
import warnings
import zipfile

import numpy as np

import autograd as ag
import nn
import nn.checkpoint as ckpt
import optim


def training_objects(seed=0):
    """(model, optimizer, scheduler) after one training step, each with some state."""
    ag.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    x = ag.tensor(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3))
    opt.zero_grad()
    (model(x) ** 2).mean().backward()
    opt.step()
    sched.step()
    return model, opt, sched


def members(path):
    """``[(name, bytes, compress_type)]`` of a zip file, in order."""
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i), i.compress_type) for i in z.infolist()]


def zip_bytes(entries):
    """A zip archive of ``[(name, bytes, compress_type)]``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are among the damage tests make
        for name, data, method in entries:
            z.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buf.getvalue()


def npy_header(shape, descr="<f4", fortran=False):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": fortran, "shape": tuple(shape)})
    return buf.getvalue()


def npy_data(raw):
    """The data bytes of an ``.npy`` member (after its header)."""
    fp = io.BytesIO(raw)
    np.lib.format.read_magic(fp)
    np.lib.format.read_array_header_1_0(fp)
    return raw[fp.tell():]


def meta_of(entries):
    for name, data, _ in entries:
        if name == "__kedja__.npy":
            return json.loads(npy_data(data).decode())
    raise KeyError("__kedja__")


def with_meta(entries, meta_text):
    """`entries` with the metadata member replaced by `meta_text` (a str, or bytes as is)."""
    raw = meta_text.encode() if isinstance(meta_text, str) else meta_text
    member = npy_header((len(raw),), "|u1") + raw
    return [(n, member if n == "__kedja__.npy" else d, m) for n, d, m in entries]


def save_good(path, **extra):
    model, opt, sched = training_objects()
    ckpt.save(path, model=model, optimizer=opt, scheduler=sched, epoch=3,
              vec=ag.arange(4), **extra)
    return path
