"""MultiheadAttention and the Transformer layers against what PyTorch documents: the attention
weights (`need_weights`, `average_attn_weights`) written out head by head, `key_padding_mask` and
`attn_mask` (bool, float, 2-D and per-head 3-D), `is_causal`, `batch_first`, `norm_first`, and
dropout on in training and off in evaluation.

Each expectation is computed here from the layer's own parameters with plain NumPy (the
documented equations), so these tests need no PyTorch; test_attention_reference.py compares with
arrays PyTorch wrote.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn

E, H = 8, 2


def _x(backend, *shape, seed=0):
    return ag.tensor(np.random.default_rng(seed).standard_normal(shape), device=backend)


def _softmax(s):
    s = s - s.max(-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(-1, keepdims=True)


def _heads_by_hand(mha, q, k, v, mask=None):
    """Per-head weights (N, H, L, S) and the output (N, L, E) of a batch-first layer, from its
    parameters: PyTorch's documented equations. `mask` (N, H, L, S) is added to the scores."""
    w = mha.in_proj_weight.numpy()
    b = mha.in_proj_bias.numpy()
    n, length, e = q.shape
    d = e // mha.num_heads

    def split(x, i):
        y = x @ w[i * e:(i + 1) * e].T + b[i * e:(i + 1) * e]
        return y.reshape(n, -1, mha.num_heads, d).transpose(0, 2, 1, 3)

    qh, kh, vh = split(q, 0), split(k, 1), split(v, 2)
    scores = qh @ kh.transpose(0, 1, 3, 2) / np.sqrt(d)
    if mask is not None:
        scores = scores + mask
    weights = _softmax(scores)
    heads = (weights @ vh).transpose(0, 2, 1, 3).reshape(n, length, e)
    out = heads @ mha.out_proj.weight.numpy().T + mha.out_proj.bias.numpy()
    return weights, out


def _mha(backend, **kwargs):
    mha = nn.MultiheadAttention(E, H, batch_first=True, **kwargs).double().to(backend)
    nn.init.normal_(mha.in_proj_bias)  # nonzero biases, so the equations are exercised
    nn.init.normal_(mha.out_proj.bias)
    return mha


def test_weights_are_the_per_head_softmax_and_their_mean(backend):
    mha = _mha(backend)
    q, k = _x(backend, 2, 3, E), _x(backend, 2, 5, E, seed=1)
    v = _x(backend, 2, 5, E, seed=2)
    per_head, expected = _heads_by_hand(mha, q.numpy(), k.numpy(), v.numpy())
    out, w = mha(q, k, v, average_attn_weights=False)
    assert w.shape == (2, H, 3, 5)
    np.testing.assert_allclose(w.numpy(), per_head, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    out_avg, w_avg = mha(q, k, v)  # average_attn_weights=True is the default
    np.testing.assert_allclose(w_avg.numpy(), per_head.mean(1), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(out_avg.numpy(), out.numpy())
    out_none, none = mha(q, k, v, need_weights=False)
    assert none is None
    np.testing.assert_allclose(out_none.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_key_padding_mask_bool_and_float_are_the_documented_additions(backend):
    mha = _mha(backend)
    x = _x(backend, 2, 4, E)
    pad = np.array([[False, False, True, False], [False, True, True, True]])
    additive = np.where(pad, -np.inf, 0.0)[:, None, None, :]  # (N, 1, 1, S)
    per_head, expected = _heads_by_hand(mha, *(x.numpy(),) * 3, additive)
    for mask in (pad, np.where(pad, -np.inf, 0.0)):
        out, w = mha(x, x, x, key_padding_mask=ag.tensor(mask, device=backend),
                     average_attn_weights=False)
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(w.numpy(), per_head, rtol=1e-10, atol=1e-12)
        assert np.all(w.numpy()[np.broadcast_to(pad[:, None, None, :], w.shape)] == 0)
    # a finite float key_padding_mask is added to the scores as it is
    soft = np.random.default_rng(3).standard_normal((2, 4))
    _, expected = _heads_by_hand(mha, *(x.numpy(),) * 3, soft[:, None, None, :])
    out, _ = mha(x, x, x, key_padding_mask=ag.tensor(soft, device=backend))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_attn_mask_2d_is_shared_and_3d_is_per_batch_and_head(backend):
    mha = _mha(backend)
    x = _x(backend, 2, 4, E)
    rng = np.random.default_rng(4)
    shared = rng.standard_normal((4, 4))
    _, expected = _heads_by_hand(mha, *(x.numpy(),) * 3, shared)
    out, _ = mha(x, x, x, attn_mask=ag.tensor(shared, device=backend))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    # (N * num_heads, L, S): row n * H + h is batch n's mask for head h
    per_head = rng.standard_normal((2 * H, 4, 4))
    _, expected = _heads_by_hand(mha, *(x.numpy(),) * 3, per_head.reshape(2, H, 4, 4))
    out, _ = mha(x, x, x, attn_mask=ag.tensor(per_head, device=backend))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    # a bool attn_mask: True means "may not attend", a zero weight there
    banned = np.zeros((2 * H, 4, 4), bool)
    banned[1, :, 0] = banned[2, :, 3] = True
    _, w = mha(x, x, x, attn_mask=ag.tensor(banned, device=backend),
               average_attn_weights=False)
    w = w.numpy().reshape(2 * H, 4, 4)
    assert np.all(w[banned] == 0) and np.all(w[~banned] > 0)


def test_causal_hint_on_the_layer_stacks_keeps_the_future_out(backend):
    # nn.Transformer's tgt_mask with tgt_is_causal: target position i ignores targets after i
    model = nn.Transformer(E, H, num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=16,
                           dropout=0.0, batch_first=True).double().to(backend)
    src, tgt = _x(backend, 2, 5, E), _x(backend, 2, 4, E, seed=1)
    mask = nn.Transformer.generate_square_subsequent_mask(4, dtype="float64", device=backend)
    a = model(src, tgt, tgt_mask=mask, tgt_is_causal=True).numpy()
    changed = tgt.numpy().copy()
    changed[:, 2:] += 4.0
    b = model(src, ag.tensor(changed, device=backend), tgt_mask=mask).numpy()
    np.testing.assert_allclose(a[:, :2], b[:, :2], rtol=1e-10, atol=1e-12)
    assert not np.allclose(a[:, 2:], b[:, 2:])
    # and the encoder-decoder composition is the two stacks run in turn
    memory = model.encoder(src)
    np.testing.assert_allclose(a, model.decoder(tgt, memory, tgt_mask=mask).numpy(),
                               rtol=1e-12, atol=1e-12)


def test_src_key_padding_mask_keeps_padded_tokens_out_of_the_others(backend):
    encoder = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(E, H, 16, dropout=0.0, batch_first=True), 2,
        norm=nn.LayerNorm(E)).double().to(backend)
    x = _x(backend, 2, 5, E)
    pad = ag.tensor(np.array([[False] * 5, [False, False, False, True, True]]), device=backend)
    a = encoder(x, src_key_padding_mask=pad).numpy()
    changed = x.numpy().copy()
    changed[1, 3:] = 7.0
    b = encoder(ag.tensor(changed, device=backend), src_key_padding_mask=pad).numpy()
    np.testing.assert_allclose(a[1, :3], b[1, :3], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("norm_first", [False, True])
def test_batch_first_is_the_transposed_sequence_first_layout(backend, norm_first):
    kwargs = dict(d_model=E, nhead=H, num_encoder_layers=1, num_decoder_layers=1,
                  dim_feedforward=16, dropout=0.0, norm_first=norm_first)
    seq = nn.Transformer(**kwargs).double().to(backend)
    bat = nn.Transformer(**kwargs, batch_first=True).double().to(backend)
    bat.load_state_dict(seq.state_dict())
    src, tgt = _x(backend, 5, 2, E), _x(backend, 3, 2, E, seed=1)
    pad = ag.tensor(np.array([[False] * 5, [False] * 4 + [True]]), device=backend)
    a = seq(src, tgt, src_key_padding_mask=pad, memory_key_padding_mask=pad).numpy()
    b = bat(ag.swapaxes(src, 0, 1), ag.swapaxes(tgt, 0, 1), src_key_padding_mask=pad,
            memory_key_padding_mask=pad).numpy()
    np.testing.assert_allclose(b.transpose(1, 0, 2), a, rtol=1e-12, atol=1e-12)
    mha = nn.MultiheadAttention(E, H).double().to(backend)
    mha_bf = nn.MultiheadAttention(E, H, batch_first=True).double().to(backend)
    mha_bf.load_state_dict(mha.state_dict())
    out, w = mha(src, src, src)
    out_bf, w_bf = mha_bf(ag.swapaxes(src, 0, 1), *(ag.swapaxes(src, 0, 1),) * 2)
    np.testing.assert_allclose(out_bf.numpy().transpose(1, 0, 2), out.numpy(), rtol=1e-12)
    np.testing.assert_allclose(w_bf.numpy(), w.numpy(), rtol=1e-12)  # weights: (N, L, S)


def test_decoder_norm_first_is_a_residual_of_normalised_blocks(backend):
    x, memory = _x(backend, 2, 3, E), _x(backend, 2, 4, E, seed=1)
    pre = nn.TransformerDecoderLayer(E, H, 16, dropout=0.0, batch_first=True,
                                     norm_first=True).double().to(backend)
    for p in (pre.self_attn.out_proj.weight, pre.self_attn.out_proj.bias,
              pre.multihead_attn.out_proj.weight, pre.multihead_attn.out_proj.bias,
              pre.linear2.weight, pre.linear2.bias):
        nn.init.zeros_(p)
    np.testing.assert_allclose(pre(x, memory).numpy(), x.numpy())  # three blocks add zero
    post = nn.TransformerDecoderLayer(E, H, 16, dropout=0.0, batch_first=True).double()
    y = post.to(backend)(x, memory).numpy()  # post-norm: norm3 last, so normalised rows
    np.testing.assert_allclose(y.mean(-1), 0.0, atol=1e-12)


@pytest.mark.parametrize("make", [
    lambda: nn.TransformerEncoderLayer(E, H, 16, dropout=0.5, batch_first=True),
    lambda: nn.TransformerDecoderLayer(E, H, 16, dropout=0.5, batch_first=True),
    lambda: nn.Transformer(E, H, 1, 1, 16, dropout=0.5, batch_first=True),
], ids=["encoder_layer", "decoder_layer", "transformer"])
def test_dropout_in_training_only(backend, make):
    ag.manual_seed(0)
    model = make().double().to(backend)
    x, memory = _x(backend, 2, 4, E), _x(backend, 2, 3, E, seed=1)

    def run():
        if isinstance(model, nn.TransformerEncoderLayer):
            return model(x).numpy()
        return model(memory, x).numpy() if isinstance(model, nn.Transformer) else \
            model(x, memory).numpy()

    assert model.training and not np.allclose(run(), run())
    model.eval()
    a = run()
    np.testing.assert_array_equal(a, run())
    for m in model.modules():  # eval equals training with every dropout probability at 0
        if isinstance(m, nn.Dropout):
            m.p = 0.0
        if isinstance(m, nn.MultiheadAttention):
            m.dropout = 0.0
    model.train()
    np.testing.assert_allclose(run(), a, rtol=1e-12, atol=1e-12)


def test_mha_attention_weights_dropout_in_training_only(backend):
    ag.manual_seed(1)
    mha = _mha(backend, dropout=0.5)
    x = _x(backend, 2, 6, E)
    _, w = mha(x, x, x, average_attn_weights=False)
    w = w.numpy()
    assert np.any(w == 0)
    kept = w[w != 0]
    per_head, _ = _heads_by_hand(mha, *(x.numpy(),) * 3)
    np.testing.assert_allclose(kept, per_head[w != 0] * 2.0, rtol=1e-10)  # 1 / (1 - p)
    mha.eval()
    _, w = mha(x, x, x, average_attn_weights=False)
    np.testing.assert_allclose(w.numpy(), per_head, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("masking", ["causal", "padding", "none"])
@pytest.mark.parametrize("batch_first", [True, False])
def test_packed_self_attention_matches_the_split_projections(backend, masking, batch_first):
    """Self-attention (query is key is value) takes the packed path (one projection, the fused
    packed op; on the host a batch this big runs as two halves on two threads); a copy of the
    input as the key takes the split q/k/v path. Outputs and every gradient agree."""
    n, length = 4, 128  # (N, H, L, L) float32 probabilities of 1 MiB: the host splits them
    mha = nn.MultiheadAttention(16, 4, batch_first=batch_first).to(backend)
    shape = (n, length, 16) if batch_first else (length, n, 16)
    x0 = np.random.default_rng(1).standard_normal(shape).astype("float32")
    kwargs = {"need_weights": False}
    if masking == "causal":
        kwargs.update(attn_mask=nn.Transformer.generate_square_subsequent_mask(length,
                                                                               device=backend),
                      is_causal=True)
    elif masking == "padding":
        padding = np.zeros((n, length), dtype=bool)
        padding[:, -7:] = True
        kwargs["key_padding_mask"] = ag.tensor(padding, device=backend)
    results = []
    for packed in (True, False):
        mha.zero_grad()
        x = ag.tensor(x0, device=backend, requires_grad=True)
        key = x if packed else x * 1.0
        out, _ = mha(x, key, x if packed else x * 1.0, **kwargs)
        (out * out).sum().backward()
        results.append([out.numpy(), x.grad.numpy()]
                       + [p.grad.numpy() for p in mha.parameters()])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-5)
