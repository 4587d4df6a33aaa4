"""Fuzzing checkpoint loading: valid checkpoints mutated (bit flips, truncation, metadata edits,
extra or missing members, huge or odd declared shapes and dtypes, deflate bombs) load correctly
or raise CheckpointError: never another exception, never an allocation beyond the limit.

The default run takes a few seconds; ``-m slow`` runs many more examples.
"""

from __future__ import annotations

import json
import tracemalloc
import zipfile
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import autograd as ag
import nn.checkpoint as ckpt
from nn.checkpoint import CheckpointError

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

#: The limit the fuzzed loads run under, and what a load may use beyond it (zipfile's and
#: json's own objects, the model's copies): far below what any mutation declares.
LIMIT = 1 << 20
SLACK = 2 << 20
DTYPES = ["<f4", "<f8", ">f4", "|b1", "<i8", "<c16", "|O", "<U3", "|V8", "<M8[s]", "<f2"]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=4)
    | st.sampled_from([10**400, -(10**400), 2**53 + 1, 1e308, -1e308, 5e-324]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                 max_size=3),
    max_leaves=6,
)


@cache
def _base(tmp_factory_dir):
    """The members of one valid checkpoint (model, Adam, StepLR, extras)."""
    return tuple(members(save_good(tmp_factory_dir / "base.npz")))


def _paths(meta):
    """Every (container, key) in the metadata tree, for an edit to pick from."""
    out, stack = [], [meta]
    while stack:
        node = stack.pop()
        keys = list(node) if isinstance(node, dict) else range(len(node))
        for k in keys:
            out.append((node, k))
            if isinstance(node[k], (dict, list)):
                stack.append(node[k])
    return out


@st.composite
def member_edit(draw):
    kind = draw(st.sampled_from(["meta", "meta", "extra", "drop", "shape", "bomb", "swap"]))
    return kind, draw(st.integers(0, 2**32)), draw(JSON_VALUES), draw(
        st.lists(st.integers(0, 2**40), max_size=3)), draw(st.sampled_from(DTYPES))


@st.composite
def byte_edit(draw):
    return draw(st.sampled_from(["flip", "truncate"])), draw(st.integers(0, 2**32)), draw(
        st.integers(0, 7))


def _apply_member_edit(entries, edit):
    kind, seed, value, shape, dtype = edit
    names = [n for n, _, _ in entries]
    pick = names[seed % len(names)]
    if kind == "meta":
        try:
            meta = meta_of(entries)
        except (KeyError, ValueError):  # an earlier edit dropped or replaced the metadata
            return entries
        paths = _paths(meta) if isinstance(meta, (dict, list)) else []
        if not paths:
            return entries
        node, key = paths[seed % len(paths)]
        op = (seed >> 8) % 3
        if op == 0:
            node[key] = value
        elif op == 1:
            del node[key]
        elif isinstance(node, dict):
            node[f"k{seed % 7}"] = value
        else:
            node.append(value)
        return with_meta(entries, json.dumps(meta))
    if kind == "extra":
        method = zipfile.ZIP_DEFLATED if seed % 2 else zipfile.ZIP_STORED
        name = pick if seed % 3 == 0 else f"model/x{seed % 5}.npy"
        return entries + [(name, npy_header((4,)) + bytes(16), method)]
    if kind == "drop":
        return [e for e in entries if e[0] != pick]
    if kind == "shape":
        return [(n, npy_header(shape, dtype) + npy_data(d) if n == pick else d, m)
                for n, d, m in entries]
    if kind == "bomb":  # a consistent deflated member far beyond the limit
        big = npy_header((2 * LIMIT,), "|u1") + bytes(2 * LIMIT)
        return [(n, big if n == pick else d, zipfile.ZIP_DEFLATED if n == pick else m)
                for n, d, m in entries]
    other = names[(seed >> 8) % len(names)]  # swap two members' contents
    data = {n: d for n, d, _ in entries}
    return [(n, data[other] if n == pick else data[pick] if n == other else d, m)
            for n, d, m in entries]


def _apply_byte_edit(raw, edit):
    kind, where, bit = edit
    if not raw:
        return raw
    if kind == "truncate":
        return raw[:where % len(raw)]
    i = where % len(raw)
    return raw[:i] + bytes([raw[i] ^ (1 << bit)]) + raw[i + 1:]


def _check_one(tmp_path, edits, flips):
    entries = list(_base(tmp_path.parent))
    for edit in edits:
        entries = _apply_member_edit(entries, edit)
    raw = zip_bytes(entries)
    for flip in flips:
        raw = _apply_byte_edit(raw, flip)
    path = tmp_path / "fuzzed.npz"
    path.write_bytes(raw)
    model, opt, sched = training_objects(seed=1)
    tracemalloc.start()
    try:
        ckpt.load(path, model=model, optimizer=opt, scheduler=sched, max_bytes=LIMIT)
        loaded = True
    except CheckpointError as e:
        assert "allow_pickle" not in str(e)
        loaded = False
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak <= LIMIT + SLACK, f"a load allocated {peak} bytes"
    if loaded:  # a correct load: everything loaded is usable; training goes on
        for p in model.parameters():
            p.grad = p.detach() * 0 + 1
        opt.step()
        sched.step()
        try:  # a valid but extreme gamma may take lr out of range: then step() says so
            opt.step()
        except ValueError as e:
            assert str(e).startswith("Adam.step: param_groups[0]: invalid learning rate") \
                or "(must be a finite number)" in str(e), e
        model.eval()
        assert model(ag.tensor(np.ones((2, 3), np.float32))).shape == (2, 2)
    return loaded


EDITS = st.lists(member_edit(), max_size=2)
FLIPS = st.lists(byte_edit(), max_size=2)


@settings(max_examples=120, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(edits=EDITS, flips=FLIPS)
def test_mutated_checkpoints_load_or_raise_checkpoint_error(tmp_path, edits, flips):
    event("loaded" if _check_one(tmp_path, edits, flips) else "refused")


@pytest.mark.slow
@settings(max_examples=3000, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(edits=st.lists(member_edit(), max_size=4), flips=st.lists(byte_edit(), max_size=4))
def test_mutated_checkpoints_load_or_raise_checkpoint_error_long(tmp_path, edits, flips):
    event("loaded" if _check_one(tmp_path, edits, flips) else "refused")


def test_unmutated_base_loads(tmp_path):
    assert _check_one(tmp_path, [], [])
