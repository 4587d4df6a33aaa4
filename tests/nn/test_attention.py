"""scaled_dot_product_attention and MultiheadAttention: agreement with a composition of existing
ops (values, first and second order), masks, dropout, fully masked rows, shapes and errors.

PyTorch's own answers are checked in test_attention_reference.py; the op's gradients over drawn
shapes in the op table (tests/autograd/cases_attention.py).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from autograd.gradcheck import gradcheck, gradgradcheck
from autograd.ops.attention import ScaledDotProductAttention


def _randn(backend, *shape, seed=0, requires_grad=True):
    a = np.random.default_rng(seed).standard_normal(shape)
    return ag.tensor(a, device=backend, requires_grad=requires_grad)


def _composed(q, k, v, mask=None, scale=None):
    """The same attention from existing ops: matmul, scale, mask, softmax, matmul."""
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = (q @ ag.swapaxes(k, -1, -2)) * scale
    if mask is not None:
        s = ag.where(mask, s, -math.inf) if mask.dtype.kind == "b" else s + mask
    return ag.softmax(s, axis=-1) @ v


def test_one_recorded_op(backend):
    q, k, v = (_randn(backend, 2, 3, 4, seed=i) for i in range(3))
    y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert isinstance(y.grad_fn, ScaledDotProductAttention)
    assert all(e is not None for e in y.grad_fn.next_edges[:3])


@pytest.mark.parametrize("mask_kind", [None, "float", "bool"])
def test_agrees_with_the_composition_first_and_second_order(backend, mask_kind):
    q = _randn(backend, 2, 2, 3, 4, seed=1)
    k = _randn(backend, 2, 2, 5, 4, seed=2)
    v = _randn(backend, 2, 2, 5, 3, seed=3)
    mask = None
    if mask_kind == "float":
        mask = _randn(backend, 3, 5, seed=4)
    elif mask_kind == "bool":
        m = np.random.default_rng(5).uniform(size=(2, 1, 3, 5)) > 0.3
        m[..., 0] = True  # every query sees a key: the composition's softmax is then finite
        mask = ag.tensor(m, device=backend)
    inputs = [q, k, v] + ([mask] if mask_kind == "float" else [])
    fused = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    plain = _composed(q, k, v, mask)
    np.testing.assert_allclose(fused.numpy(), plain.numpy(), rtol=1e-12, atol=1e-12)
    g = _randn(backend, *fused.shape, seed=6, requires_grad=False)
    first = ag.gradients(fused, inputs, g, create_graph=True)
    first_plain = ag.gradients(plain, inputs, g, create_graph=True)
    for a, b in zip(first, first_plain):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)
    # second order: the gradient of a scalar of the first-order gradients
    total = sum((t * t).sum() for t in first)
    total_plain = sum((t * t).sum() for t in first_plain)
    second = ag.gradients(total, inputs)
    second_plain = ag.gradients(total_plain, inputs)
    for a, b in zip(second, second_plain):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-11)


def test_first_order_raw_rule_agrees_with_the_tensor_rule(backend):
    # backward() takes the raw-array path; gradients with create_graph the Tensor path
    q, k, v = (_randn(backend, 3, 4, 5, seed=i) for i in range(3))
    mask = _randn(backend, 4, 4, seed=9)
    g = _randn(backend, 3, 4, 5, seed=8, requires_grad=False)
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=0.4)
    recorded = ag.gradients(y, [q, k, v, mask], g, create_graph=True)
    y.backward(g)
    for t, r in zip([q, k, v, mask], recorded):
        np.testing.assert_allclose(t.grad.numpy(), r.numpy(), rtol=1e-12, atol=1e-13)


def test_fully_masked_queries_give_zero_output_and_zero_gradients(backend):
    q, k, v = (_randn(backend, 3, 4, seed=i) for i in range(3))
    m = np.ones((3, 3), dtype=bool)
    m[1] = False
    for mask in (ag.tensor(m, device=backend),
                 ag.tensor(np.where(m, 0.0, -np.inf), device=backend)):
        q.grad = k.grad = v.grad = None
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        out = y.numpy()
        assert np.all(out[1] == 0) and np.all(np.isfinite(out))
        y.sum().backward()
        assert np.all(q.grad.numpy()[1] == 0)
        for t in (q, k, v):
            assert np.all(np.isfinite(t.grad.numpy()))


def test_no_keys_gives_zeros(backend):
    q = _randn(backend, 2, 3, 4)
    k = _randn(backend, 2, 0, 4, seed=1)
    v = _randn(backend, 2, 0, 5, seed=2)
    y = F.scaled_dot_product_attention(q, k, v)
    assert y.shape == (2, 3, 5) and np.all(y.numpy() == 0)
    y.sum().backward()
    assert np.all(q.grad.numpy() == 0)


def test_causal_is_top_left_aligned(backend):
    q = _randn(backend, 3, 2, seed=1)
    k = _randn(backend, 5, 2, seed=2)
    v = _randn(backend, 5, 2, seed=3)
    allowed = ag.tensor(np.tril(np.ones((3, 5), dtype=bool)), device=backend)
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v, is_causal=True).numpy(),
                               F.scaled_dot_product_attention(q, k, v, attn_mask=allowed).numpy())


def test_dropout_draws_one_keep_mask_from_the_backend_generator(backend):
    q, k, v = (_randn(backend, 2, 4, 3, seed=i) for i in range(3))
    ag.manual_seed(7)
    y = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    ag.manual_seed(7)
    keep = backend.to_numpy(backend.uniform(0.0, 1.0, (2, 4, 4), q.array.dtype)) >= 0.4
    s = np.matmul(q.numpy(), np.swapaxes(k.numpy(), -1, -2)) / math.sqrt(3)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    expected = np.matmul(p * keep / 0.6, v.numpy())
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)
    assert 0 < keep.mean() < 1
    # the gradient goes through the same mask: check it against the composition
    ag.manual_seed(7)
    y = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    grads = ag.gradients(y.sum(), [q, k, v])
    drop = ag.tensor(keep / 0.6, device=backend)
    plain = (ag.softmax((q @ ag.swapaxes(k, -1, -2)) / math.sqrt(3), axis=-1) * drop) @ v
    for a, b in zip(grads, ag.gradients(plain.sum(), [q, k, v])):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


def test_dropout_one_zeroes_and_zero_is_deterministic(backend):
    q, k, v = (_randn(backend, 3, 2, seed=i) for i in range(3))
    assert np.all(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy() == 0)
    a = F.scaled_dot_product_attention(q, k, v).numpy()
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.0).numpy()
    np.testing.assert_array_equal(a, b)


def test_grouped_query_attention_shares_key_heads(backend):
    q = _randn(backend, 1, 4, 3, 2)
    k = _randn(backend, 1, 2, 3, 2, seed=1)
    v = _randn(backend, 1, 2, 3, 2, seed=2)
    y = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    k_full = ag.tensor(np.repeat(k.numpy(), 2, axis=1), device=backend)
    v_full = ag.tensor(np.repeat(v.numpy(), 2, axis=1), device=backend)
    np.testing.assert_allclose(y.numpy(),
                               F.scaled_dot_product_attention(q, k_full, v_full).numpy())
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, enable_gqa=True),
                     (q, k, v))


def test_gradcheck_with_masks_causal_and_scale(backend):
    q, k, v = (_randn(backend, 2, 3, 2, seed=i) for i in range(3))
    mask = _randn(backend, 1, 3, 3, seed=5)
    for fn in (lambda a, b, c, m: F.scaled_dot_product_attention(a, b, c, attn_mask=m),
               lambda a, b, c, m: F.scaled_dot_product_attention(a, b, c, is_causal=True,
                                                                 scale=0.5) * m.sum()):
        assert gradcheck(fn, (q, k, v, mask))
        assert gradgradcheck(fn, (q, k, v, mask))


@pytest.mark.parametrize("bad, message", [
    (dict(attn_mask="bool", is_causal=True), "not both"),
    (dict(dropout_p=1.5), "dropout_p"),
    (dict(attn_mask="int"), "attn_mask must be bool"),
    (dict(attn_mask="shape"), "does not broadcast"),
])
def test_bad_arguments_name_the_op(backend, bad, message):
    q, k, v = (_randn(backend, 2, 3, 4, seed=i) for i in range(3))
    masks = {"bool": np.ones((3, 3), bool), "int": np.ones((3, 3), np.int64),
             "shape": np.ones((4, 3), bool)}
    if "attn_mask" in bad:
        bad = {**bad, "attn_mask": ag.tensor(masks[bad["attn_mask"]], device=backend)}
    with pytest.raises((ValueError, TypeError), match=message):
        F.scaled_dot_product_attention(q, k, v, **bad)


def test_bad_shapes_name_the_op(backend):
    q = _randn(backend, 2, 3, 4)
    with pytest.raises(ValueError, match="scaled_dot_product_attention: query .* key"):
        F.scaled_dot_product_attention(q, _randn(backend, 2, 3, 5), _randn(backend, 2, 3, 4))
    with pytest.raises(ValueError, match="source length"):
        F.scaled_dot_product_attention(q, q, _randn(backend, 2, 4, 4))
    with pytest.raises(ValueError, match="enable_gqa"):
        F.scaled_dot_product_attention(_randn(backend, 1, 3, 2, 2), _randn(backend, 1, 2, 2, 2),
                                       _randn(backend, 1, 2, 2, 2), enable_gqa=True)


# -- MultiheadAttention ------------------------------------------------------------------------


@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_shapes(backend, batch_first):
    mha = nn.MultiheadAttention(8, 2, batch_first=batch_first)
    x = ag.randn(*((3, 5, 8) if batch_first else (5, 3, 8)))
    out, w = mha(x, x, x)
    assert out.shape == x.shape and w.shape == (3, 5, 5)
    out, w = mha(x, x, x, average_attn_weights=False)
    assert w.shape == (3, 2, 5, 5)
    np.testing.assert_allclose(w.numpy().sum(-1), 1.0, rtol=1e-5)
    out, w = mha(x, x, x, need_weights=False)
    assert w is None and out.shape == x.shape
    single = ag.randn(5, 8)
    out, w = mha(single, single, single)
    assert out.shape == (5, 8) and w.shape == (5, 5)


def test_mha_parameters_are_pytorchs(backend):
    mha = nn.MultiheadAttention(8, 2)
    assert [(n, p.shape) for n, p in mha.named_parameters()] == [
        ("in_proj_weight", (24, 8)), ("in_proj_bias", (24,)), ("out_proj.weight", (8, 8)),
        ("out_proj.bias", (8,))]
    assert np.all(mha.in_proj_bias.numpy() == 0) and np.all(mha.out_proj.bias.numpy() == 0)
    bound = math.sqrt(6 / (8 + 24))  # xavier-uniform over the packed (3E, E) weight
    assert np.abs(mha.in_proj_weight.numpy()).max() <= bound
    other = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True, bias=False)
    assert [(n, p.shape) for n, p in other.named_parameters()] == [
        ("q_proj_weight", (8, 8)), ("k_proj_weight", (8, 3)), ("v_proj_weight", (8, 5)),
        ("bias_k", (1, 1, 8)), ("bias_v", (1, 1, 8)), ("out_proj.weight", (8, 8))]


def test_mha_dropout_only_in_training(backend):
    ag.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = ag.randn(2, 6, 8)
    a = mha(x, x, x, need_weights=False)[0].numpy()
    b = mha(x, x, x, need_weights=False)[0].numpy()
    assert not np.allclose(a, b)
    w = mha(x, x, x)[1].numpy()  # weights after dropout: zeros and 1 / (1 - p) scaling
    assert np.any(w == 0)
    mha.eval()
    c = mha(x, x, x, need_weights=False)[0].numpy()
    d, w = mha(x, x, x)
    np.testing.assert_allclose(c, d.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w.numpy().sum(-1), 1.0, rtol=1e-5)


def test_mha_masks_agree_across_forms(backend):
    # bool and -inf masks, key padding and attn_mask, weights and fused paths: one answer
    mha = nn.MultiheadAttention(8, 2, batch_first=True).double()
    x = ag.tensor(np.random.default_rng(0).standard_normal((2, 4, 8)), device=backend)
    pad = np.array([[False, False, False, True], [False, True, True, True]])
    causal = np.triu(np.ones((4, 4), bool), 1)
    results = []
    for as_float in (False, True):
        kpm = np.where(pad, -np.inf, 0.0) if as_float else pad
        am = np.where(causal, -np.inf, 0.0) if as_float else causal
        for need_weights in (False, True):
            out = mha(x, x, x, key_padding_mask=ag.tensor(kpm, device=backend),
                      attn_mask=ag.tensor(am, device=backend), need_weights=need_weights)[0]
            results.append(out.numpy())
    for r in results[1:]:
        np.testing.assert_allclose(r, results[0], rtol=1e-12, atol=1e-12)
    # the padded keys do not matter: changing them leaves the outputs as they are
    y = x.numpy().copy()
    y[0, 3] += 5.0
    moved = mha(ag.tensor(y, device=backend), x, x,
                key_padding_mask=ag.tensor(pad, device=backend))[0].numpy()
    first = mha(x, x, x, key_padding_mask=ag.tensor(pad, device=backend))[0].numpy()
    np.testing.assert_allclose(moved[0, :3], first[0, :3], rtol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the log of 0 in the NaN rows
def test_mha_fully_masked_query_follows_pytorch(backend):
    # PyTorch gives NaN on the explicit-weights path and 0 on the fused path; kedja does too.
    mha = nn.MultiheadAttention(4, 2, batch_first=True)
    x = ag.randn(2, 3, 4)
    kpm = ag.tensor(np.array([[False] * 3, [True] * 3]))
    out, _ = mha(x, x, x, key_padding_mask=kpm)
    assert np.all(np.isnan(out.numpy()[1])) and np.all(np.isfinite(out.numpy()[0]))
    out, _ = mha(x, x, x, key_padding_mask=kpm, need_weights=False)
    np.testing.assert_allclose(out.numpy()[1], np.broadcast_to(mha.out_proj.bias.numpy(), (3, 4)))


def test_mha_causal_hint_agrees_with_the_mask(backend):
    mha = nn.MultiheadAttention(8, 4, batch_first=True).double()
    x = ag.tensor(np.random.default_rng(1).standard_normal((2, 5, 8)), device=backend)
    mask = nn.Transformer.generate_square_subsequent_mask(5, dtype="float64")
    hinted = mha(x, x, x, attn_mask=mask, is_causal=True, need_weights=False)[0]
    plain = mha(x, x, x, attn_mask=mask, need_weights=False)[0]
    np.testing.assert_allclose(hinted.numpy(), plain.numpy(), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="is_causal"):
        mha(x, x, x, is_causal=True)


def test_mha_gradcheck_first_and_second_order(backend):
    mha = nn.MultiheadAttention(4, 2, batch_first=True, kdim=3, vdim=2).double()
    q = _randn(backend, 2, 3, 4)
    k = _randn(backend, 2, 2, 3, seed=1)
    v = _randn(backend, 2, 2, 2, seed=2)
    kpm = ag.tensor(np.array([[False, False], [False, True]]), device=backend)

    def f(a, b, c):
        return mha(a, b, c, key_padding_mask=kpm, need_weights=False)[0]

    assert gradcheck(f, (q, k, v))
    assert gradgradcheck(f, (q, k, v))


@pytest.mark.parametrize("call, message", [
    (lambda m, x: m(x, x[:, :, :4], x), "key of shape"),
    (lambda m, x: m(x, x, x, key_padding_mask=ag.zeros(2, 3, dtype="bool")), "key_padding"),
    (lambda m, x: m(x, x, x, attn_mask=ag.zeros(3, 5, dtype="bool")), "attn_mask"),
    (lambda m, x: m(x, x, x, attn_mask=ag.zeros(5, 5, dtype="int64")), "bool and float"),
    (lambda m, x: m(x[0], x, x), "batched"),
])
def test_mha_bad_input_is_named(backend, call, message):
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    with pytest.raises((ValueError, TypeError), match=message):
        call(mha, ag.randn(2, 5, 8))


def test_mha_rejects_indivisible_heads():
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(10, 3)
