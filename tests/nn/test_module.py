"""Module: registration, naming, state_dict round trips and errors, to(), modes, repr."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import autograd as ag
import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.scale = nn.Parameter(ag.ones(4))
        self.register_buffer("steps", ag.zeros(()))
        self.body = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.BatchNorm1d(4))
        self.fc2 = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc2(self.body(self.fc1(x) * self.scale))


NET_PARAMS = [
    "scale", "fc1.weight", "fc1.bias", "body.0.weight", "body.0.bias", "body.2.weight",
    "body.2.bias", "fc2.weight", "fc2.bias",
]
NET_STATE = [
    "scale", "steps", "fc1.weight", "fc1.bias", "body.0.weight", "body.0.bias",
    "body.2.weight", "body.2.bias", "body.2.running_mean", "body.2.running_var",
    "body.2.num_batches_tracked", "fc2.weight", "fc2.bias",
]


def test_parameter_is_a_float_leaf_that_requires_grad(backend):
    p = nn.Parameter(ag.tensor([1, 2, 3], device=backend))
    assert isinstance(p, ag.Tensor) and p.requires_grad and p.is_leaf
    assert p.dtype == np.float32 and p.device == backend.device
    assert not hasattr(p, "__dict__")
    assert nn.Parameter(ag.zeros(2), requires_grad=False).requires_grad is False
    assert repr(p).startswith("Parameter containing:\ntensor(")


def test_parameter_shares_the_tensor_array(backend):
    t = ag.zeros(3, device=backend)
    p = nn.Parameter(t)
    assert p.array is t.array


def test_registration_order_and_nested_names(backend):
    net = Net()
    assert [n for n, _ in net.named_parameters()] == NET_PARAMS
    assert [n for n, _ in net.named_buffers()] == [
        "steps", "body.2.running_mean", "body.2.running_var", "body.2.num_batches_tracked",
    ]
    assert [n for n, _ in net.named_children()] == ["fc1", "body", "fc2"]
    assert [n for n, _ in net.named_modules()] == [
        "", "fc1", "body", "body.0", "body.1", "body.2", "fc2",
    ]
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in net.named_parameters(prefix="model")][:2] == [
        "model.scale", "model.fc1.weight",
    ]
    assert len(list(net.parameters())) == len(NET_PARAMS)
    assert net.get_submodule("body.2") is net.body[2]
    assert net.get_parameter("body.0.bias") is net.body[0].bias


def test_reassignment_replaces_in_place_and_plain_attributes_are_not_registered(backend):
    net = Net()
    net.fc1 = nn.Linear(3, 4)  # same slot, order kept
    net.note = "hello"
    net.tensor_attr = ag.zeros(2)  # a plain tensor is not a parameter
    assert [n for n, _ in net.named_parameters()] == NET_PARAMS
    net.fc1 = None
    assert "fc1.weight" not in dict(net.named_parameters())
    with pytest.raises(TypeError, match="nn.Parameter or None expected"):
        net.scale = ag.ones(4)
    with pytest.raises(TypeError, match="Tensor or None expected"):
        net.steps = 3
    del net.scale
    assert "scale" not in dict(net.named_parameters())
    with pytest.raises(AttributeError, match="no attribute 'scale'"):
        _ = net.scale


def test_assigning_before_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self) -> None:
            self.w = nn.Parameter(ag.zeros(2))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Bad()


def test_shared_parameters_come_once(backend):
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.Tanh(), shared)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert model.num_parameters() == 6
    tied = nn.Module()
    tied.a = nn.Linear(3, 3)
    tied.b = nn.Linear(3, 3)
    tied.b.weight = tied.a.weight
    assert [n for n, _ in tied.named_parameters()] == ["a.weight", "a.bias", "b.bias"]
    # state_dict keeps every name, as PyTorch's does
    assert list(tied.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_parameter_count(backend):
    net = Net()
    expected = 4 + (3 * 4 + 4) + (4 * 4 + 4) + (4 + 4) + (4 * 2 + 2)
    assert net.num_parameters() == net.parameter_count == expected
    net.fc2.requires_grad_(False)
    assert net.num_parameters(only_trainable=True) == expected - 10


def test_train_eval_propagate(backend):
    net = Net()
    assert net.training and net.body[2].training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.body.train(False)
    assert net.training and not net.body[1].training


def test_zero_grad(backend):
    net = Net()
    net(ag.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(float(abs(p.grad).sum()) == 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_order_detached_and_shared_memory(backend):
    net = Net()
    sd = net.state_dict()
    assert list(sd) == NET_STATE
    assert all(not v.requires_grad and v.grad_fn is None for v in sd.values())
    assert sd["fc1.weight"].array is net.fc1.weight.array
    assert type(sd["fc1.weight"]) is ag.Tensor
    assert net.state_dict(keep_vars=True)["fc1.weight"] is net.fc1.weight


def test_state_dict_round_trip_in_place(backend):
    ag.manual_seed(0)
    src, dst = Net(), Net()
    with ag.no_grad():
        src.steps += 7
    src.body[2](ag.randn(6, 4))  # moves the running statistics
    weight = dst.fc1.weight
    array = weight.array
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert dst.fc1.weight is weight and weight.array is array  # same objects, new values
    for key, value in src.state_dict().items():
        np.testing.assert_array_equal(dst.state_dict()[key].numpy(), value.numpy())
    x = ag.randn(5, 3)
    src.eval(), dst.eval()
    np.testing.assert_allclose(dst(x).numpy(), src(x).numpy())


def test_load_state_dict_accepts_host_arrays(backend):
    src, dst = Net(), Net()
    host = {k: v.numpy() for k, v in src.state_dict().items()}
    dst.load_state_dict(host)
    np.testing.assert_array_equal(dst.fc2.weight.numpy(), host["fc2.weight"])
    assert dst.fc2.weight.device == backend.device
    # float64 values are cast into the float32 model
    host["fc2.bias"] = host["fc2.bias"].astype(np.float64) + 1
    dst.load_state_dict(host)
    assert dst.fc2.bias.dtype == np.float32
    np.testing.assert_allclose(dst.fc2.bias.numpy(), host["fc2.bias"], rtol=1e-6)


def test_load_state_dict_strict_errors_list_everything(backend):
    net = Net()
    sd = net.state_dict()
    del sd["fc2.bias"], sd["steps"]
    sd["extra.weight"] = ag.zeros(2)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    message = str(info.value)
    assert message.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "steps", "fc2.bias".' in message
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in message


def test_load_state_dict_non_strict_reports_keys(backend):
    net = Net()
    sd = net.state_dict()
    del sd["fc2.bias"]
    sd["extra"] = ag.zeros(2)
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["fc2.bias"]
    assert result.unexpected_keys == ["extra"]


def test_load_state_dict_shape_and_dtype_mismatches_raise_even_non_strict(backend):
    net = Net()
    before = net.fc1.bias.numpy().copy()
    sd = net.state_dict()
    sd["fc1.bias"] = ag.zeros(4)  # fine, but nothing may be copied when another entry fails
    sd["fc1.weight"] = ag.zeros(3, 4)
    sd["body.2.num_batches_tracked"] = ag.tensor(1.5)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd, strict=False)
    message = str(info.value)
    assert ("size mismatch for fc1.weight: copying a param with shape (3, 4) from checkpoint, "
            "the shape in current model is (4, 3).") in message
    assert "dtype mismatch for body.2.num_batches_tracked" in message
    assert "float32" in message and "int64" in message
    np.testing.assert_array_equal(net.fc1.bias.numpy(), before)


def test_to_dtype_keeps_parameter_objects(backend):
    net = Net()
    params = list(net.parameters())
    net(ag.randn(4, 3)).sum().backward()
    assert net.to(dtype="float64") is net
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in params)
    assert net.body[2].running_mean.dtype == np.float64
    assert net.body[2].num_batches_tracked.dtype == np.int64  # integers are not cast
    assert net(ag.randn(4, 3, dtype="float64")).dtype == np.float64
    net.float()
    assert all(p.dtype == np.float32 for p in params)
    net.to("float64")  # a dtype in the device position, as module.to(torch.float64)
    assert net.fc1.weight.dtype == np.float64


def test_to_device(backend):
    net = Net().to("cpu")
    weight = net.fc1.weight
    net.to(backend.device)
    assert net.fc1.weight is weight
    assert all(t.device == backend.device for t in [*net.parameters(), *net.buffers()])
    net.to(backend)  # a Backend object works too
    out = net(ag.randn(5, 3, device=backend))
    assert out.device == backend.device
    with pytest.raises(ValueError, match="neither a device nor a dtype"):
        net.to("no-such-thing")


def test_apply_visits_children_first_in_pytorchs_order(backend):
    net = Net()
    seen = []
    net.apply(seen.append)
    # PyTorch: each child's subtree in registration order, every module after its children
    assert seen == [net.fc1, net.body[0], net.body[1], net.body[2], net.body, net.fc2, net]

    def zero_bias(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)

    net.apply(zero_bias)
    assert float(abs(net.fc2.bias).sum()) == 0


def test_apply_visits_a_shared_module_under_each_parent_as_pytorch_does():
    shared = nn.Linear(2, 2)
    left, right = nn.Sequential(shared, nn.ReLU()), nn.Sequential(shared)
    root = nn.Sequential(left, right, nn.Tanh())
    seen = []
    assert root.apply(seen.append) is root
    assert seen == [shared, left[1], left, shared, right, root[2], root]
    loop = nn.Sequential(nn.Linear(1, 1))
    loop.again = loop  # its own child: visited once, not forever
    seen.clear()
    loop.apply(seen.append)
    assert seen == [loop[0], loop]


def test_repr_tree(backend):
    net = Net()
    assert repr(net) == (
        "Net(\n"
        "  (fc1): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (body): Sequential(\n"
        "    (0): Linear(in_features=4, out_features=4, bias=True)\n"
        "    (1): ReLU()\n"
        "    (2): BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, "
        "track_running_stats=True)\n"
        "  )\n"
        "  (fc2): Linear(in_features=4, out_features=2, bias=True)\n"
        ")"
    )
    assert repr(nn.Identity()) == "Identity()"


def test_sequential_container(backend):
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    model.append(nn.Linear(3, 1))
    assert len(model) == 3 and isinstance(model[-1], nn.Linear)
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is model[0]
    assert model(ag.randn(4, 2)).shape == (4, 1)
    del model[1]
    assert [n for n, _ in model.named_children()] == ["0", "1"]
    with pytest.raises(IndexError):
        model[5]
    from collections import OrderedDict

    named = nn.Sequential(OrderedDict([("enc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(named.state_dict()) == ["enc.weight", "enc.bias"]


@pytest.mark.parametrize("pool", [nn.MaxPool2d(2), nn.MaxPool2d(3, stride=2, padding=1)])
def test_sequential_runs_relu_then_pool_as_pool_then_relu(backend, pool):
    """Sequential pools before relu (they commute), fused for disjoint blocks: the same values
    and gradients as the modules one at a time."""
    rng = np.random.default_rng(0)
    z0 = rng.standard_normal((2, 3, 6, 6))
    z0[0, 0] = -1.0 - rng.random((6, 6))  # a channel with no positive window maximum
    g0 = rng.standard_normal(pool(ag.tensor(z0)).shape)
    model = nn.Sequential(nn.Identity(), nn.ReLU(), pool, nn.Identity())
    z = ag.tensor(z0, device=backend, requires_grad=True)
    y = model(z)
    fused = pool.stride == pool.kernel_size and not pool.padding  # disjoint blocks: one op
    assert type(y.grad_fn).__name__ == ("BlockMaxPoolRelu" if fused else "Relu")
    y.backward(ag.tensor(g0, device=backend))
    z_ref = ag.tensor(z0, device=backend, requires_grad=True)
    y_ref = z_ref
    for module in model:  # in order, one at a time
        y_ref = module(y_ref)
    y_ref.backward(ag.tensor(g0, device=backend))
    np.testing.assert_array_equal(y.numpy(), y_ref.numpy())
    np.testing.assert_allclose(z.grad.numpy(), z_ref.grad.numpy(), rtol=0, atol=0)


def test_module_list_and_dict(backend):
    class Stack(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = nn.ModuleList(nn.Linear(2, 2) for _ in range(3))
            self.heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 4)})

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return {k: head(x) for k, head in self.heads.items()}

    s = Stack()
    assert len(s.blocks) == 3 and len(s.heads) == 2 and "a" in s.heads
    assert [n for n, _ in s.named_parameters()][:2] == ["blocks.0.weight", "blocks.0.bias"]
    assert [n for n, _ in s.named_parameters()][-2:] == ["heads.b.weight", "heads.b.bias"]
    out = s(ag.randn(5, 2))
    assert out["b"].shape == (5, 4)
    s.blocks.insert(0, nn.Identity())
    assert isinstance(s.blocks[0], nn.Identity) and len(s.blocks) == 4
    s.blocks += [nn.Tanh()]
    assert isinstance(s.blocks[-1], nn.Tanh)
    s.heads["c"] = nn.Identity()
    assert list(s.heads) == ["a", "b", "c"]
    s.heads.pop("c")
    assert list(s.heads.keys()) == ["a", "b"]


def test_buffers_non_persistent_and_none(backend):
    m = nn.Module()
    m.register_buffer("kept", ag.ones(2))
    m.register_buffer("scratch", ag.zeros(2), persistent=False)
    m.register_buffer("nothing", None)
    assert [n for n, _ in m.named_buffers()] == ["kept", "scratch"]
    assert list(m.state_dict()) == ["kept"]
    m.to(dtype="float64")
    assert m.scratch.dtype == np.float64


def test_registration_errors(backend):
    m = nn.Module()
    with pytest.raises(KeyError, match="can't be empty or contain"):
        m.register_buffer("a.b", ag.zeros(1))
    with pytest.raises(TypeError, match="nn.Parameter or None expected"):
        m.register_parameter("w", ag.zeros(1))
    m.x = 1
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("x", ag.zeros(1))


def test_deepcopy_gives_independent_parameters(backend):
    net = Net()
    clone = copy.deepcopy(net)
    assert clone.fc1.weight is not net.fc1.weight
    assert clone.fc1.weight.backend is net.fc1.weight.backend
    assert clone.steps is not net.steps and clone.steps.backend is net.steps.backend
    assert clone(ag.randn(4, 3)).shape == (4, 2)  # no device mismatch between copies
    np.testing.assert_array_equal(clone.fc1.weight.numpy(), net.fc1.weight.numpy())


def test_optimizer_style_update_survives_to(backend):
    net = Net()
    params = list(net.parameters())
    net.to(dtype="float64")
    x = ag.randn(4, 3, dtype="float64")
    net(x).sum().backward()
    with ag.no_grad():
        for p in params:
            p -= 0.1 * p.grad
    assert all(p.grad is not None for p in net.parameters())


def test_load_state_dict_across_devices(backend):
    on_host = Net().to("cpu")
    on_backend = Net().to(backend)
    on_backend.load_state_dict(on_host.state_dict())  # host tensors into the backend's model
    assert on_backend.fc1.weight.device == backend.device
    np.testing.assert_array_equal(on_backend.fc1.weight.numpy(), on_host.fc1.weight.numpy())
    with ag.no_grad():
        on_backend.fc2.bias += 1
    on_host.load_state_dict(on_backend.state_dict())  # and back
    assert on_host.fc2.bias.device == "cpu"
    np.testing.assert_array_equal(on_host.fc2.bias.numpy(), on_backend.fc2.bias.numpy())
