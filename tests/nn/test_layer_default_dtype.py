"""Every layer makes its floating parameters and buffers in the default dtype, as PyTorch's do
(``ag.set_default_dtype(ag.float64)`` before building a model gives a float64 model)."""

from __future__ import annotations

import pytest

import autograd as ag
import nn

LAYERS = {
    "Linear": lambda: nn.Linear(3, 2),
    "Bilinear": lambda: nn.Bilinear(2, 3, 4),
    "Conv2d": lambda: nn.Conv2d(2, 3, 3),
    "ConvTranspose2d": lambda: nn.ConvTranspose2d(2, 3, 3),
    "BatchNorm2d": lambda: nn.BatchNorm2d(4),
    "GroupNorm": lambda: nn.GroupNorm(2, 4),
    "InstanceNorm2d": lambda: nn.InstanceNorm2d(4, affine=True, track_running_stats=True),
    "LayerNorm": lambda: nn.LayerNorm(4),
    "RMSNorm": lambda: nn.RMSNorm(4),
    "PReLU": lambda: nn.PReLU(3),
    "Embedding": lambda: nn.Embedding(5, 2),
    "LSTM": lambda: nn.LSTM(2, 3, proj_size=2),
    "GRUCell": lambda: nn.GRUCell(2, 3),
    "MultiheadAttention": lambda: nn.MultiheadAttention(4, 2, kdim=3, vdim=5),
    "TransformerEncoderLayer": lambda: nn.TransformerEncoderLayer(4, 2, dim_feedforward=8),
}


@pytest.fixture(params=[ag.float64, ag.float32], ids=["float64", "float32"])
def default_dtype(request):
    before = ag.get_default_dtype()
    ag.set_default_dtype(request.param)
    yield request.param
    ag.set_default_dtype(before)


@pytest.mark.parametrize("name", list(LAYERS))
def test_floating_state_follows_the_default_dtype(name, default_dtype) -> None:
    state = LAYERS[name]().state_dict()
    floating = {key: value.dtype for key, value in state.items() if value.is_floating_point()}
    assert floating and set(floating.values()) == {default_dtype}, floating


def test_the_causal_mask_follows_the_default_dtype(default_dtype) -> None:
    assert nn.Transformer.generate_square_subsequent_mask(3).dtype == default_dtype
