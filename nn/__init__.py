"""Neural-network building blocks on top of autograd: modules, layers, losses, data, training.

    >>> import nn
    >>> model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))

Names are loaded from their submodule on first use, so ``import nn`` stays cheap.
"""

from __future__ import annotations

from backends.lazy_exports import lazy_exports as _lazy_exports

# public name -> submodule that defines it
_EXPORTS = {
    # modules and containers
    "Module": "module", "Parameter": "parameter", "Sequential": "containers",
    "ModuleList": "containers", "ModuleDict": "containers",
    "ParameterList": "parameter_containers", "ParameterDict": "parameter_containers",
    # layers
    "Linear": "layers.basic", "Identity": "layers.basic", "Flatten": "layers.basic",
    "Embedding": "layers.basic", "Dropout": "layers.basic",
    "Dropout1d": "layers.dropout_variants", "Dropout2d": "layers.dropout_variants",
    "Dropout3d": "layers.dropout_variants", "AlphaDropout": "layers.dropout_variants",
    "FeatureAlphaDropout": "layers.dropout_variants", "Unflatten": "layers.basic_extended",
    "Bilinear": "layers.basic_extended", "CosineSimilarity": "layers.basic_extended",
    "PairwiseDistance": "layers.basic_extended",
    "ReLU": "layers.activation", "LeakyReLU": "layers.activation", "ELU": "layers.activation",
    "GELU": "layers.activation", "Sigmoid": "layers.activation", "Tanh": "layers.activation",
    "Softmax": "layers.activation", "LogSoftmax": "layers.activation",
    "Softplus": "layers.activation",
    "SiLU": "layers.activation_extended", "Mish": "layers.activation_extended",
    "SELU": "layers.activation_extended", "CELU": "layers.activation_extended",
    "Hardtanh": "layers.activation_extended", "ReLU6": "layers.activation_extended",
    "Hardsigmoid": "layers.activation_extended", "Hardswish": "layers.activation_extended",
    "LogSigmoid": "layers.activation_extended", "Softsign": "layers.activation_extended",
    "Tanhshrink": "layers.activation_extended", "Softshrink": "layers.activation_extended",
    "Hardshrink": "layers.activation_extended", "Threshold": "layers.activation_extended",
    "Softmin": "layers.activation_extended", "PReLU": "layers.activation_extended",
    "GLU": "layers.activation_extended",
    "BatchNorm1d": "layers.normalization", "BatchNorm2d": "layers.normalization",
    "LayerNorm": "layers.normalization", "SyncBatchNorm": "parallel.sync_batchnorm",
    "GroupNorm": "layers.normalization_extended",
    "InstanceNorm1d": "layers.normalization_extended",
    "InstanceNorm2d": "layers.normalization_extended", "RMSNorm": "layers.normalization_extended",
    "LocalResponseNorm": "layers.normalization_extended",
    "Conv1d": "layers.conv", "Conv2d": "layers.conv",
    "ConvTranspose1d": "layers.conv_transpose", "ConvTranspose2d": "layers.conv_transpose",
    "MaxPool2d": "layers.pooling", "AvgPool2d": "layers.pooling",
    "AdaptiveAvgPool2d": "layers.pooling", "MaxPool1d": "layers.pooling",
    "AvgPool1d": "layers.pooling", "AdaptiveAvgPool1d": "layers.pooling",
    "AdaptiveMaxPool1d": "layers.pooling", "AdaptiveMaxPool2d": "layers.pooling",
    "MaxUnpool1d": "layers.pooling", "MaxUnpool2d": "layers.pooling",
    "Upsample": "layers.spatial", "UpsamplingNearest2d": "layers.spatial",
    "UpsamplingBilinear2d": "layers.spatial", "PixelShuffle": "layers.spatial",
    "PixelUnshuffle": "layers.spatial", "Unfold": "layers.spatial", "Fold": "layers.spatial",
    "ZeroPad1d": "layers.spatial", "ZeroPad2d": "layers.spatial",
    "ConstantPad1d": "layers.spatial", "ConstantPad2d": "layers.spatial",
    "ReflectionPad1d": "layers.spatial", "ReflectionPad2d": "layers.spatial",
    "ReplicationPad1d": "layers.spatial", "ReplicationPad2d": "layers.spatial",
    "CircularPad1d": "layers.spatial", "CircularPad2d": "layers.spatial",
    "ResidualBlock": "layers.residual", "ResNet": "layers.residual",
    "RNN": "layers.recurrent", "LSTM": "layers.recurrent", "GRU": "layers.recurrent",
    "RNNBase": "layers.recurrent",
    "RNNCell": "layers.recurrent_cells", "LSTMCell": "layers.recurrent_cells",
    "GRUCell": "layers.recurrent_cells", "RNNCellBase": "layers.recurrent_cells",
    "MultiheadAttention": "layers.attention",
    "TransformerEncoderLayer": "layers.transformer",
    "TransformerDecoderLayer": "layers.transformer",
    "TransformerEncoder": "layers.transformer", "TransformerDecoder": "layers.transformer",
    "Transformer": "layers.transformer",
    # losses (module forms; the functions live in nn.functional)
    "MSELoss": "losses", "L1Loss": "losses", "HuberLoss": "losses",
    "CrossEntropyLoss": "losses", "NLLLoss": "losses", "BCELoss": "losses",
    "BCEWithLogitsLoss": "losses",
    "SmoothL1Loss": "loss_modules_extended", "KLDivLoss": "loss_modules_extended",
    "CosineEmbeddingLoss": "loss_modules_extended", "MarginRankingLoss": "loss_modules_extended",
    "TripletMarginLoss": "loss_modules_extended",
    "TripletMarginWithDistanceLoss": "loss_modules_extended",
    "HingeEmbeddingLoss": "loss_modules_extended", "SoftMarginLoss": "loss_modules_extended",
    "MultiLabelSoftMarginLoss": "loss_modules_extended", "PoissonNLLLoss": "loss_modules_extended",
    "GaussianNLLLoss": "loss_modules_extended", "MultiMarginLoss": "loss_modules_extended",
    # data
    "Dataset": "data", "TensorDataset": "data", "DataLoader": "data",
}
_SUBMODULES = {
    "functional", "init", "losses", "data", "datasets", "train", "history", "ensemble",
    "callbacks", "checkpoint", "layers", "parallel", "functional_spatial",
    "functional_activation", "functional_norm", "utils",
    "functional_vectors", "losses_extended",
}

__all__ = sorted([*_EXPORTS, *_SUBMODULES])


__getattr__, __dir__ = _lazy_exports(__name__, globals(), _EXPORTS, _SUBMODULES, listed=__all__)
