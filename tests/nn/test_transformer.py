"""The Transformer layers: shapes and layouts, pre- and post-norm, dropout in train and eval,
masks, activations, clones, initialisation, the causal mask, gradients and errors.

Agreement with PyTorch (outputs and gradients from its state_dicts) is in
test_attention_reference.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
import nn
from autograd.gradcheck import gradcheck, gradgradcheck


def _x(backend, *shape, seed=0):
    return ag.tensor(np.random.default_rng(seed).standard_normal(shape), device=backend)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_shapes_and_modes(backend, norm_first, batch_first):
    ag.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3, norm_first=norm_first,
                                       batch_first=batch_first).double()
    x = _x(backend, 2, 5, 8)
    a, b = layer(x).numpy(), layer(x).numpy()
    assert a.shape == (2, 5, 8) and not np.allclose(a, b)  # dropout draws afresh
    layer.eval()
    c, d = layer(x).numpy(), layer(x).numpy()
    np.testing.assert_array_equal(c, d)
    single = layer(_x(backend, 5, 8))  # unbatched (L, E)
    assert single.shape == (5, 8)


def test_post_norm_output_is_normalised_and_pre_norm_is_residual(backend):
    x = _x(backend, 2, 6, 8)
    post = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True).double()
    y = post(x).numpy()
    np.testing.assert_allclose(y.mean(-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(-1), 1.0, rtol=1e-4)
    pre = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True,
                                     norm_first=True).double()
    for p in (pre.self_attn.out_proj.weight, pre.self_attn.out_proj.bias, pre.linear2.weight,
              pre.linear2.bias):
        nn.init.zeros_(p)
    np.testing.assert_allclose(pre(x).numpy(), x.numpy())  # both blocks add zero


def test_causal_mask_makes_positions_independent_of_the_future(backend):
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True,
                                       norm_first=True).double()
    mask = nn.Transformer.generate_square_subsequent_mask(6, dtype="float64")
    x = _x(backend, 1, 6, 8)
    y = x.numpy().copy()
    y[0, 4:] += 3.0
    a = layer(x, src_mask=mask, is_causal=True).numpy()
    b = layer(ag.tensor(y, device=backend), src_mask=mask).numpy()
    np.testing.assert_allclose(a[0, :4], b[0, :4], rtol=1e-12, atol=1e-12)
    assert not np.allclose(a[0, 4:], b[0, 4:])


def test_generate_square_subsequent_mask():
    m = nn.Transformer.generate_square_subsequent_mask(3)
    assert m.dtype == np.float32
    np.testing.assert_array_equal(m.numpy(), [[0, -np.inf, -np.inf], [0, 0, -np.inf],
                                              [0, 0, 0]])


def test_activation_by_name_or_callable(backend):
    x = _x(backend, 2, 3, 8)
    relu = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True).double()
    named = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True,
                                       activation="relu").double()
    module = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True,
                                        activation=nn.ReLU()).double()
    named.load_state_dict(relu.state_dict())
    module.load_state_dict(relu.state_dict())
    np.testing.assert_array_equal(relu(x).numpy(), named(x).numpy())
    np.testing.assert_array_equal(relu(x).numpy(), module(x).numpy())
    with pytest.raises(ValueError, match="relu"):
        nn.TransformerEncoderLayer(8, 2, activation="swish")


def test_decoder_layer_uses_memory_and_masks(backend):
    layer = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True).double()
    tgt, memory = _x(backend, 2, 4, 8), _x(backend, 2, 5, 8, seed=1)
    y = layer(tgt, memory)
    assert y.shape == (2, 4, 8)
    other = _x(backend, 2, 5, 8, seed=2)
    assert not np.allclose(y.numpy(), layer(tgt, other).numpy())
    # memory keys that are padded out do not matter
    pad = ag.tensor(np.array([[False] * 3 + [True] * 2] * 2), device=backend)
    changed = memory.numpy().copy()
    changed[:, 3:] = 9.0
    a = layer(tgt, memory, memory_key_padding_mask=pad).numpy()
    b = layer(tgt, ag.tensor(changed, device=backend), memory_key_padding_mask=pad).numpy()
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_stacks_clone_the_layer(backend):
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    encoder = nn.TransformerEncoder(layer, num_layers=3, norm=nn.LayerNorm(8))
    assert len(encoder.layers) == 3 and encoder.num_layers == 3
    w = [m.linear1.weight for m in encoder.layers]
    assert w[0] is not w[1] and w[0] is not layer.linear1.weight
    np.testing.assert_array_equal(w[0].numpy(), w[1].numpy())  # copies of one layer
    keys = list(encoder.state_dict())
    assert keys[0] == "layers.0.self_attn.in_proj_weight" and keys[-1] == "norm.bias"
    decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), 2)
    assert "layers.1.multihead_attn.out_proj.weight" in decoder.state_dict()


def test_transformer_initialisation_and_shapes(backend):
    ag.manual_seed(0)
    model = nn.Transformer(16, 2, num_encoder_layers=1, num_decoder_layers=2,
                           dim_feedforward=32, dropout=0.0)
    for name, p in model.named_parameters():
        if p.ndim > 1:  # xavier-uniform everywhere, as PyTorch re-draws them
            fan_out, fan_in = p.shape
            assert np.abs(p.numpy()).max() <= math.sqrt(6 / (fan_in + fan_out)), name
    src, tgt = ag.randn(7, 3, 16), ag.randn(5, 3, 16)
    mask = nn.Transformer.generate_square_subsequent_mask(5)
    assert model(src, tgt, tgt_mask=mask, tgt_is_causal=True).shape == (5, 3, 16)
    with pytest.raises(ValueError, match="batch sizes"):
        model(src, ag.randn(5, 2, 16))
    with pytest.raises(ValueError, match="d_model"):
        model(src, ag.randn(5, 3, 8))


def test_encoder_layer_gradcheck(backend):
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, batch_first=True,
                                       activation="gelu").double()
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype="float64")
    x = ag.tensor(np.random.default_rng(0).standard_normal((2, 3, 4)), device=backend,
                  requires_grad=True)

    def f(t):
        return layer(t, src_mask=mask)

    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))
