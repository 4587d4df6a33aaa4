"""Careless inputs to every layer and nn.functional function (issue 12 §6): what ag.tensor
accepts works, anything else raises an error that names the op, what it got and what it
expected, never an AttributeError or a message from deep inside NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import backends
import nn
import nn.functional as F

#: Fragments of errors that tell the user nothing about their call.
UNHELPFUL = ("has no attribute", "tuple index out of range", "object is not iterable",
             "not supported between instances", "can't multiply sequence", "unsupported operand",
             "cannot be interpreted as an integer", "invalid literal", "negative dimensions",
             "did not contain a loop", "Cannot cast ufunc")


def assert_helpful(error: BaseException, *names: str) -> None:
    """The error is a plain user-facing one, names one of `names`, and no unhelpful text."""
    assert isinstance(error, (TypeError, ValueError, IndexError, RuntimeError)), repr(error)
    assert not isinstance(error, (AttributeError, KeyError)), repr(error)
    message = str(error)
    assert not any(bad in message for bad in UNHELPFUL), message
    assert any(name.lower() in message.lower() for name in names), (names, message)


def raises_helpfully(call, *names: str) -> BaseException:
    with pytest.raises(Exception) as info:  # noqa: B017, PT011 - any type, checked below
        call()
    assert_helpful(info.value, *names)
    return info.value


# -- constructors -----------------------------------------------------------------------------
CONSTRUCTORS = [
    ("Linear", (-1, 2), "in_features"), ("Linear", (3, -2), "out_features"),
    ("Linear", (3.5, 2), "in_features"), ("Linear", ("3", 2), "in_features"),
    ("Linear", (None, 2), "in_features"),
    ("Embedding", (-5, 2), "num_embeddings"), ("Embedding", (5, -2), "embedding_dim"),
    ("Embedding", (5.0, 2), "num_embeddings"), ("Embedding", (5, 2, 7), "padding_idx"),
    ("Embedding", (5, 2, "a"), "padding_idx"),
    ("Conv2d", (3, -1, 3), "out_channels"), ("Conv2d", (-3, 1, 3), "in_channels"),
    ("Conv2d", (3, 1, 0), "kernel_size"), ("Conv2d", (3, 1, 3.5), "kernel_size"),
    ("Conv2d", (3, 1, (3,)), "kernel_size"), ("Conv2d", (3, 1, 3, 0), "stride"),
    ("Conv2d", (3, 1, 3, 1, -1), "padding"), ("Conv2d", (3, 1, 3, 1, "full"), "padding"),
    ("Conv2d", (3, 1, 3, 2, "same"), "same"), ("Conv2d", (3, 1, 3, 1, 0, 0), "dilation"),
    ("Conv2d", (3, 2, 3, 1, 0, 1, 2), "groups"), ("Conv2d", (3, 3, 3, 1, 0, 1, 0), "groups"),
    ("Conv1d", (3, 1, 0), "kernel_size"), ("Conv1d", (3, 1, 3, -1), "stride"),
    ("BatchNorm1d", (-3,), "num_features"), ("BatchNorm1d", (3.5,), "num_features"),
    ("BatchNorm1d", (3, -1e-5), "eps"), ("BatchNorm1d", (3, 1e-5, 2.0), "momentum"),
    ("BatchNorm2d", (3, 1e-5, "0.1"), "momentum"),
    ("LayerNorm", (-2,), "normalized_shape"), ("LayerNorm", ((2, -1),), "normalized_shape"),
    ("LayerNorm", ("a",), "normalized_shape"), ("LayerNorm", (3, -1.0), "eps"),
    ("Dropout", (-0.1,), "p"), ("Dropout", ("0.5",), "p"), ("Dropout", (1.5,), "p"),
    ("MaxPool2d", (0,), "kernel_size"), ("MaxPool2d", (2, 0), "stride"),
    ("MaxPool2d", (2, 2, -1), "padding"), ("MaxPool2d", (2, 2, 2), "padding"),
    ("MaxPool2d", (2.5,), "kernel_size"), ("AvgPool2d", (0,), "kernel_size"),
    ("AvgPool2d", (2, -1), "stride"), ("AdaptiveAvgPool2d", (0,), "output_size"),
    ("AdaptiveAvgPool2d", ((2, -1),), "output_size"), ("AdaptiveAvgPool2d", ("a",), "output_size"),
    ("Flatten", ("a",), "start_dim"), ("Flatten", (0, 1.5), "end_dim"),
    ("Softmax", ("a",), "dim"), ("LogSoftmax", (1.5,), "dim"),
    ("LeakyReLU", ("a",), "negative_slope"), ("ELU", (None,), "alpha"),
    ("GELU", ("x",), "approximate"), ("Softplus", (0,), "beta"),
    ("Softplus", (1, "a"), "threshold"),
    ("MSELoss", ("avg",), "reduction"), ("HuberLoss", ("mean", "a"), "delta"),
    ("HuberLoss", ("mean", -1.0), "delta"), ("CrossEntropyLoss", (None, -100, "mean", 2.0),
                                            "label_smoothing"),
    ("CrossEntropyLoss", (None, "x"), "ignore_index"), ("NLLLoss", (None, 1.5), "ignore_index"),
]


@pytest.mark.parametrize("name, args, argument", CONSTRUCTORS,
                         ids=[f"{n}{a}" for n, a, _ in CONSTRUCTORS])
def test_bad_constructor_arguments_are_refused_at_construction(name, args, argument):
    error = raises_helpfully(lambda: getattr(nn, name)(*args), name)
    assert argument in str(error)


def test_valid_edge_constructor_arguments_still_work():
    assert nn.Linear(0, 2).weight.shape == (2, 0)
    assert nn.Conv2d(2, 4, (3, 1), stride=(2, 1)).kernel_size == (3, 1)
    assert nn.Conv2d(2, 2, 3, padding="same").padding == "same"
    assert nn.BatchNorm1d(3, momentum=None).momentum is None
    assert nn.LayerNorm((2, 3)).normalized_shape == (2, 3)
    assert nn.MaxPool2d(3, 2, 1).padding == 1
    assert nn.AdaptiveAvgPool2d((None, 2)).output_size == (None, 2)
    assert nn.Linear(np.int64(3), np.int32(2)).in_features == 3


# -- forward: every layer with careless inputs ------------------------------------------------
def _layers(backend):
    """name -> (layer on `backend`, a valid input shape, whether it needs floating input)."""
    d = backend
    return {
        "Linear": (nn.Linear(3, 2, device=d), (2, 3), True),
        "Conv2d": (nn.Conv2d(2, 3, 3, padding=1, device=d), (1, 2, 4, 4), True),
        "Conv1d": (nn.Conv1d(2, 3, 3, device=d), (1, 2, 5), True),
        "BatchNorm1d": (nn.BatchNorm1d(3, device=d), (4, 3), True),
        "BatchNorm2d": (nn.BatchNorm2d(2, device=d), (2, 2, 3, 3), True),
        "LayerNorm": (nn.LayerNorm(3, device=d), (2, 3), True),
        "Dropout": (nn.Dropout(0.0), (2, 3), True),
        "MaxPool2d": (nn.MaxPool2d(2), (1, 2, 4, 4), False),
        "AvgPool2d": (nn.AvgPool2d(2), (1, 2, 4, 4), True),
        "AdaptiveAvgPool2d": (nn.AdaptiveAvgPool2d(1), (1, 2, 4, 4), True),
        "Flatten": (nn.Flatten(), (2, 3, 2), False),
        "ReLU": (nn.ReLU(), (2, 3), False),
        "LeakyReLU": (nn.LeakyReLU(), (2, 3), True),
        "ELU": (nn.ELU(), (2, 3), True),
        "GELU": (nn.GELU(), (2, 3), True),
        "Sigmoid": (nn.Sigmoid(), (2, 3), True),
        "Tanh": (nn.Tanh(), (2, 3), True),
        "Softplus": (nn.Softplus(), (2, 3), True),
        "Softmax": (nn.Softmax(1), (2, 3), True),
        "LogSoftmax": (nn.LogSoftmax(1), (2, 3), True),
        "ResidualBlock": (nn.ResidualBlock(2, 2, device=d), (1, 2, 4, 4), True),
        "Sequential": (nn.Sequential(nn.Linear(3, 2, device=d), nn.ReLU()), (2, 3), True),
    }


#: The op names an error from each layer may carry (the layer's or the function it calls).
ALIASES = {
    "Linear": ("Linear",), "Conv2d": ("conv2d",), "Conv1d": ("conv1d",),
    "BatchNorm1d": ("BatchNorm1d",), "BatchNorm2d": ("BatchNorm2d",),
    "LayerNorm": ("layer_norm", "LayerNorm"), "Dropout": ("dropout",),
    "MaxPool2d": ("max_pool2d",), "AvgPool2d": ("avg_pool2d",),
    "AdaptiveAvgPool2d": ("adaptive_avg_pool2d",), "Flatten": ("Flatten",), "ReLU": ("relu",),
    "LeakyReLU": ("leaky_relu",), "ELU": ("elu",), "GELU": ("gelu",), "Sigmoid": ("sigmoid",),
    "Tanh": ("tanh",), "Softplus": ("softplus",), "Softmax": ("softmax",),
    "LogSoftmax": ("log_softmax",), "ResidualBlock": ("conv2d",), "Sequential": ("Linear",),
}
LAYER_NAMES = list(ALIASES)
WRONG_RANK = {"Linear": (), "Conv2d": (2, 4, 4), "Conv1d": (2, 5), "BatchNorm1d": (3,),
              "BatchNorm2d": (2, 3, 3), "LayerNorm": (2,), "MaxPool2d": (2, 4, 4),
              "AvgPool2d": (2, 4), "AdaptiveAvgPool2d": (4,), "Flatten": (),
              "ResidualBlock": (2, 4, 4), "Sequential": ()}
WRONG_SIZE = {"Linear": (2, 4), "Conv2d": (1, 3, 4, 4), "Conv1d": (1, 3, 5),
              "BatchNorm1d": (4, 5), "BatchNorm2d": (2, 3, 3, 3), "LayerNorm": (2, 4),
              "MaxPool2d": (1, 2, 1, 1), "ResidualBlock": (1, 3, 4, 4), "Sequential": (2, 4)}


def _data(shape):
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_layers_take_nested_lists_as_ag_tensor_does(backend, name):
    layer, shape, _ = _layers(backend)[name]
    data = _data(shape)
    expected = layer(ag.tensor(data, device=backend))
    got = layer(data.tolist())
    assert got.device == expected.device and got.dtype == expected.dtype
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", LAYER_NAMES)
@pytest.mark.parametrize("value", [None, "abc", [["a", "b"]], {"x": 1.0}],
                         ids=["None", "str", "strings", "dict"])
def test_layers_refuse_non_numeric_inputs_helpfully(backend, name, value):
    layer = _layers(backend)[name][0]
    raises_helpfully(lambda: layer(value), *ALIASES[name])


@pytest.mark.parametrize("name", LAYER_NAMES)
@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_layers_name_a_wrong_dtype(backend, name, dtype):
    layer, shape, floating = _layers(backend)[name]
    x = ag.tensor(np.ones(shape, dtype=dtype), device=backend)
    if not floating and dtype == "int64":
        assert layer(x).dtype == np.int64  # relu, max pooling and flatten keep integers
        return
    if name == "Flatten":
        assert layer(x).dtype == np.bool_
        return
    error = raises_helpfully(lambda: layer(x), *ALIASES[name])
    assert dtype in str(error)


@pytest.mark.parametrize("name", [n for n in LAYER_NAMES if n in WRONG_RANK])
def test_layers_name_a_wrong_rank(backend, name):
    layer = _layers(backend)[name][0]
    x = ag.randn(*WRONG_RANK[name], device=backend)
    error = raises_helpfully(lambda: layer(x), *ALIASES[name])
    assert str(tuple(WRONG_RANK[name])) in str(error)


@pytest.mark.parametrize("name", [n for n in LAYER_NAMES if n in WRONG_SIZE])
def test_layers_name_a_wrong_feature_size(backend, name):
    layer = _layers(backend)[name][0]
    x = ag.randn(*WRONG_SIZE[name], device=backend)
    error = raises_helpfully(lambda: layer(x), *ALIASES[name])
    assert str(tuple(WRONG_SIZE[name])) in str(error)


def _other_device() -> str | None:
    """A device other than the host: the fake one where it exists, else a GPU, else None."""
    for device in ("fake", "cuda"):
        try:
            backends.get(device)
            return device
        except Exception:  # noqa: BLE001, S112 - not on this machine
            continue
    return None


OTHER = _other_device()


@pytest.mark.skipif(OTHER is None, reason="needs a second device")
@pytest.mark.parametrize("name", ["Linear", "Conv2d", "Conv1d", "BatchNorm1d", "BatchNorm2d",
                                  "LayerNorm", "ResidualBlock", "Sequential"])
def test_layers_with_parameters_name_both_devices(name):
    device = OTHER
    layer, shape, _ = _layers(backends.get("cpu"))[name]
    x = ag.tensor(_data(shape), device=device)
    error = raises_helpfully(lambda: layer(x), *ALIASES[name])
    assert "cpu" in str(error) and device in str(error)


@pytest.mark.skipif(OTHER is None, reason="needs a second device")
def test_a_host_array_for_a_device_layer_is_refused_as_arithmetic_refuses_it():
    layer = nn.Linear(3, 2, device=OTHER)
    with pytest.raises(RuntimeError, match="move one of them"):
        layer(np.ones((2, 3), dtype=np.float32))
    with pytest.raises(RuntimeError, match="move one of them"):
        ag.zeros(3, device=OTHER) + np.ones(3, dtype=np.float32)


def test_the_issue_example():
    layer = nn.Linear(3, 2)
    np.testing.assert_allclose(layer([1.0, 2.0, 3.0]).numpy(),
                               layer(ag.tensor([1.0, 2.0, 3.0])).numpy())


# -- nn.functional --------------------------------------------------------------------------
X = [[1.0, 2.0, 3.0], [4.0, 5.0, -6.0]]
IMAGE = [[[[1.0, 2.0], [3.0, 4.0]]]]
W = np.random.default_rng(1).standard_normal((2, 3)).astype(np.float32)

#: name -> a call with lists where tensors go (run again with tensors for the reference).
FUNCTIONS = {
    "linear": lambda t: F.linear(t(X), t(W.tolist()), t([0.5, -0.5])),
    "dropout": lambda t: F.dropout(t(X), 0.0),
    "batch_norm": lambda t: F.batch_norm(t(X), t([0.0, 1.0, 2.0]), t([1.0, 2.0, 3.0]),
                                         t([1.0, 1.0, 1.0]), t([0.0, 0.0, 0.0])),
    "layer_norm": lambda t: F.layer_norm(t(X), 3, t([1.0, 2.0, 3.0]), t([0.0, 0.0, 1.0])),
    "embedding": lambda t: F.embedding(t([1, 0, 1]), t([[1.0, 2.0], [3.0, 4.0]])),
    "relu": lambda t: F.relu(t(X)), "leaky_relu": lambda t: F.leaky_relu(t(X), 0.1),
    "elu": lambda t: F.elu(t(X)), "gelu": lambda t: F.gelu(t(X)),
    "sigmoid": lambda t: F.sigmoid(t(X)), "tanh": lambda t: F.tanh(t(X)),
    "softplus": lambda t: F.softplus(t(X)), "softmax": lambda t: F.softmax(t(X), 1),
    "log_softmax": lambda t: F.log_softmax(t(X), dim=0),
    "conv1d": lambda t: F.conv1d(t([[[1.0, 2.0, 3.0]]]), t([[[1.0, -1.0]]]), t([0.5])),
    "conv2d": lambda t: F.conv2d(t(IMAGE), t([[[[2.0]]]])),
    "max_pool2d": lambda t: F.max_pool2d(t(IMAGE), 2),
    "avg_pool2d": lambda t: F.avg_pool2d(t(IMAGE), 2),
    "adaptive_avg_pool2d": lambda t: F.adaptive_avg_pool2d(t(IMAGE), 1),
    "mse_loss": lambda t: F.mse_loss(t(X), t(W.tolist())),
    "l1_loss": lambda t: F.l1_loss(t(X), t(W.tolist())),
    "huber_loss": lambda t: F.huber_loss(t(X), t(W.tolist())),
    "cross_entropy": lambda t: F.cross_entropy(t(X), t([0, 2]), weight=t([1.0, 2.0, 1.0])),
    "nll_loss": lambda t: F.nll_loss(t(X), t([0, 2]), weight=t([1.0, 2.0, 1.0])),
    "binary_cross_entropy": lambda t: F.binary_cross_entropy(t([0.5, 0.2]), t([1.0, 0.0]),
                                                             weight=t([1.0, 2.0])),
    "binary_cross_entropy_with_logits": lambda t: F.binary_cross_entropy_with_logits(
        t([0.5, -0.2]), t([1.0, 0.0]), pos_weight=t([2.0])),
    "scaled_dot_product_attention": lambda t: F.scaled_dot_product_attention(
        t(X), t(W.tolist()), t(X), attn_mask=t([[True, False], [True, True]])),
}


LINE = [[[1.0, -2.0, 3.0, 0.5]]]
IMAGE4 = [[[[1.0, 2.0, 0.0, -1.0], [3.0, 4.0, 1.0, 2.0], [0.5, -2.0, 1.5, 0.0],
            [2.0, 1.0, -1.0, 3.0]]]]
Y = [[0.5, -1.0, 2.0], [1.0, 0.0, -3.0]]

#: issue 16's functions: the same checks.
FUNCTIONS.update({
    "adaptive_avg_pool1d": lambda t: F.adaptive_avg_pool1d(t(LINE), 2),
    "adaptive_max_pool1d": lambda t: F.adaptive_max_pool1d(t(LINE), 2),
    "adaptive_max_pool2d": lambda t: F.adaptive_max_pool2d(t(IMAGE4), 2),
    "alpha_dropout": lambda t: F.alpha_dropout(t(X), 0.5, training=False),
    "avg_pool1d": lambda t: F.avg_pool1d(t(LINE), 2),
    "max_pool1d": lambda t: F.max_pool1d(t(LINE), 2),
    "max_unpool1d": lambda t: F.max_unpool1d(t([[[3.0, 0.5]]]), t([[[2, 3]]]), 2),
    "max_unpool2d": lambda t: F.max_unpool2d(t([[[[4.0]]]]), t([[[[3]]]]), 2),
    "bilinear": lambda t: F.bilinear(t(X), t(Y), t([[[1.0, 0.0, 2.0], [0.5, 1.0, 0.0],
                                                     [0.0, 1.0, 1.0]]]), t([0.5])),
    "celu": lambda t: F.celu(t(X)), "selu": lambda t: F.selu(t(X)),
    "silu": lambda t: F.silu(t(X)), "mish": lambda t: F.mish(t(X)),
    "relu6": lambda t: F.relu6(t(X)), "hardtanh": lambda t: F.hardtanh(t(X)),
    "hardsigmoid": lambda t: F.hardsigmoid(t(X)), "hardswish": lambda t: F.hardswish(t(X)),
    "hardshrink": lambda t: F.hardshrink(t(X)), "softshrink": lambda t: F.softshrink(t(X)),
    "tanhshrink": lambda t: F.tanhshrink(t(X)), "softsign": lambda t: F.softsign(t(X)),
    "logsigmoid": lambda t: F.logsigmoid(t(X)), "softmin": lambda t: F.softmin(t(X), 1),
    "threshold": lambda t: F.threshold(t(X), 1.5, -1.0),
    "glu": lambda t: F.glu(t([[1.0, 2.0, 3.0, 4.0]])),
    "prelu": lambda t: F.prelu(t(X), t([0.25])),
    "conv_transpose1d": lambda t: F.conv_transpose1d(t([[[1.0, 2.0, 3.0]]]),
                                                     t([[[1.0, -1.0]]]), t([0.5])),
    "conv_transpose2d": lambda t: F.conv_transpose2d(t(IMAGE), t([[[[2.0, 1.0]]]]), stride=2),
    "cosine_similarity": lambda t: F.cosine_similarity(t(X), t(Y)),
    "pairwise_distance": lambda t: F.pairwise_distance(t(X), t(Y)),
    "normalize": lambda t: F.normalize(t(X)),
    "one_hot": lambda t: F.one_hot(t([0, 2, 1]), 3),
    "dropout1d": lambda t: F.dropout1d(t([[[1.0, 2.0]], [[3.0, 4.0]]]), 0.5, training=False),
    "dropout2d": lambda t: F.dropout2d(t(IMAGE), 0.5, training=False),
    "dropout3d": lambda t: F.dropout3d(t([IMAGE[0]]), 0.5, training=False),
    "feature_alpha_dropout": lambda t: F.feature_alpha_dropout(t(IMAGE), 0.5, training=False),
    "group_norm": lambda t: F.group_norm(t([[[1.0, 2.0], [3.0, 5.0]]]), 1),
    "instance_norm": lambda t: F.instance_norm(t([[[1.0, 2.0, 4.0], [3.0, 5.0, 0.0]]])),
    "rms_norm": lambda t: F.rms_norm(t(X), (3,)),
    "local_response_norm": lambda t: F.local_response_norm(t(IMAGE4), 2),
    "interpolate": lambda t: F.interpolate(t(IMAGE), scale_factor=2, mode="bilinear"),
    "upsample": lambda t: F.upsample(t(IMAGE), scale_factor=2),
    "pad": lambda t: F.pad(t(IMAGE), (1, 1, 1, 1), mode="reflect"),
    "pixel_shuffle": lambda t: F.pixel_shuffle(t([[[[1.0]], [[2.0]], [[3.0]], [[4.0]]]]), 2),
    "pixel_unshuffle": lambda t: F.pixel_unshuffle(t(IMAGE), 2),
    "unfold": lambda t: F.unfold(t(IMAGE4), 2),
    "fold": lambda t: F.fold(t([[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]]), (3, 2),
                                    (2, 1)),
    "smooth_l1_loss": lambda t: F.smooth_l1_loss(t(X), t(Y)),
    "soft_margin_loss": lambda t: F.soft_margin_loss(t(X), t([[1.0, -1.0, 1.0]] * 2)),
    "kl_div": lambda t: F.kl_div(t(X), t([[0.2, 0.3, 0.5]] * 2), reduction="batchmean"),
    "cosine_embedding_loss": lambda t: F.cosine_embedding_loss(t(X), t(Y), t([1.0, -1.0])),
    "margin_ranking_loss": lambda t: F.margin_ranking_loss(t([1.0, 2.0]), t([2.0, 0.5]),
                                                           t([1.0, -1.0])),
    "triplet_margin_loss": lambda t: F.triplet_margin_loss(t(X), t(Y), t(W.tolist())),
    "triplet_margin_with_distance_loss": lambda t: F.triplet_margin_with_distance_loss(
        t(X), t(Y), t(W.tolist())),
    "hinge_embedding_loss": lambda t: F.hinge_embedding_loss(t(X), t([[1.0, -1.0, 1.0]] * 2)),
    "multilabel_soft_margin_loss": lambda t: F.multilabel_soft_margin_loss(
        t(X), t([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])),
    "poisson_nll_loss": lambda t: F.poisson_nll_loss(t(X), t([[1.0, 0.0, 2.0]] * 2)),
    "gaussian_nll_loss": lambda t: F.gaussian_nll_loss(t(X), t(Y), t([[1.0, 0.5, 2.0]] * 2)),
    "multi_margin_loss": lambda t: F.multi_margin_loss(t(X), t([0, 2])),
})


def test_every_function_is_in_the_table():
    assert set(FUNCTIONS) == set(F.__all__)


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_functions_take_lists_as_ag_tensor_does(backend, name):
    with_lists = FUNCTIONS[name](lambda v: v)
    with_tensors = FUNCTIONS[name](lambda v: ag.tensor(v, device=backend))
    assert with_lists.dtype == with_tensors.dtype and with_lists.shape == with_tensors.shape
    np.testing.assert_allclose(with_lists.numpy(), with_tensors.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize("value", [None, "abc"], ids=["None", "str"])
def test_functions_refuse_non_numeric_inputs_helpfully(name, value):
    calls = []

    def careless(v):  # the first tensor argument (the input) becomes `value`
        calls.append(v)
        return value if len(calls) == 1 else v

    raises_helpfully(lambda: FUNCTIONS[name](careless), name)


BAD_ARGUMENTS = [
    ("dropout", lambda: F.dropout(X, "0.5"), "p"), ("dropout", lambda: F.dropout(X, 2), "p"),
    ("leaky_relu", lambda: F.leaky_relu(X, "a"), "negative_slope"),
    ("elu", lambda: F.elu(X, None), "alpha"), ("gelu", lambda: F.gelu(X, "x"), "approximate"),
    ("softplus", lambda: F.softplus(X, -1), "beta"),
    # (F.softmax(X) without a dim is PyTorch's implicit choice with its warning: see
    # tests/autograd/test_torch_semantics.py.)
    ("softmax", lambda: F.softmax(X, "a"), "dim"),
    ("layer_norm", lambda: F.layer_norm(X, "3"), "normalized_shape"),
    ("layer_norm", lambda: F.layer_norm(X, 3, eps="a"), "eps"),
    ("batch_norm", lambda: F.batch_norm(X, None, None, training=True, eps=-1), "eps"),
    ("embedding", lambda: F.embedding([1], [[1.0], [2.0]], padding_idx="a"), "padding_idx"),
    ("embedding", lambda: F.embedding([1], [1.0, 2.0]), "2-D"),
    ("conv1d", lambda: F.conv1d([[[1.0, 2.0]]], [[[1.0]]], stride=0), "stride"),
    ("conv2d", lambda: F.conv2d(IMAGE, [[[[1.0]]]], padding="x"), "padding"),
    ("conv2d", lambda: F.conv2d(IMAGE, [[[[1.0]]]], groups=0), "groups"),
    ("max_pool2d", lambda: F.max_pool2d(IMAGE, 0), "kernel_size"),
    ("avg_pool2d", lambda: F.avg_pool2d(IMAGE, 2, padding=-1), "padding"),
    ("adaptive_avg_pool2d", lambda: F.adaptive_avg_pool2d(IMAGE, "a"), "output_size"),
    ("adaptive_avg_pool2d", lambda: F.adaptive_avg_pool2d(IMAGE, -1), "(-1, -1)"),
    ("mse_loss", lambda: F.mse_loss(X, [1.0, 2.0]), "shape"),
    ("mse_loss", lambda: F.mse_loss(X, X, "avg"), "reduction"),
    ("huber_loss", lambda: F.huber_loss(X, X, delta="a"), "delta"),
    ("cross_entropy", lambda: F.cross_entropy(X, [0, 1], label_smoothing=2), "label_smoothing"),
    ("cross_entropy", lambda: F.cross_entropy(X, [0, 1], ignore_index=None), "ignore_index"),
    ("cross_entropy", lambda: F.cross_entropy(X, [0, 5]), "5"),
    ("nll_loss", lambda: F.nll_loss(X, [0.0, 1.0]), "integer"),
    ("binary_cross_entropy_with_logits",
     lambda: F.binary_cross_entropy_with_logits([0.5], [1.0], weight="a"), "weight"),
    ("scaled_dot_product_attention",
     lambda: F.scaled_dot_product_attention(X, X, X, dropout_p="0.1"), "dropout_p"),
    ("scaled_dot_product_attention",
     lambda: F.scaled_dot_product_attention(X, X, [[1.0], [2.0], [3.0]]),
     "source length"),
]


@pytest.mark.parametrize("name, call, fragment", BAD_ARGUMENTS,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(BAD_ARGUMENTS)])
def test_functions_name_bad_arguments(name, call, fragment):
    error = raises_helpfully(call, name)
    assert fragment in str(error)
