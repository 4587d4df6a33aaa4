"""Runs under ``mpiexec -n N``: each scenario named on the command line checks one promise of
nn.parallel on every rank and prints ``ok <scenario> rank <r>``; a failure raises, which the
fault handler turns into a non-zero exit of the whole job (tests/nn/test_parallel_mpi.py).

Scenarios ``fault``, ``hang`` and ``mismatch`` end the job on purpose.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import autograd as ag  # noqa: E402
import backends  # noqa: E402
import nn  # noqa: E402
import nn.parallel as dist  # noqa: E402
import optim  # noqa: E402

B = 4  # samples per rank and step


def close(a, b, what, tol=1e-10):
    a, b = backends.get(a.backend).to_numpy(a.array), backends.get(b.backend).to_numpy(b.array)
    err = abs(a - b).max() if a.size else 0.0
    assert a.shape == b.shape and err <= tol * (1 + abs(b).max()), f"{what}: differ by {err}"


def host(t):
    return t.backend.to_numpy(t.array)


def data(steps, n, device, features=6, classes=3, images=False):
    """The global batches of every step (the same on all ranks)."""
    ag.manual_seed(123)
    shape = (steps, n, 2, 4, 4) if images else (steps, n, features)
    x = ag.randn(*shape, dtype="float64")
    y = ag.randint(0, classes, (steps, n))
    return x.to(device), y.to(device)


def mlp(bn=None):
    layers = [nn.Linear(6, 16)]
    if bn is not None:
        layers.append(bn(16))
    layers += [nn.Tanh(), nn.Linear(16, 3)]
    return nn.Sequential(*layers)


def cnn():
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(16, 3))


def build(factory):
    ag.manual_seed(dist.get_rank() + 1)  # different on each rank: DDP copies rank 0's
    local = factory().double().to(dist.group().device)
    ag.manual_seed(1)  # rank 0's initial weights, for the one-process reference
    reference = factory().double().to(dist.group().device)
    return local, reference


def rank_slice(t):
    r = dist.get_rank()
    return t[r * B:(r + 1) * B]


def scenario_equivalence(device):
    """N ranks with batch B give the parameters of one process with batch N*B."""
    world = dist.get_world_size()
    loss_fn = nn.CrossEntropyLoss()
    for factory, images in ((mlp, False), (cnn, True)):
        local, reference = build(factory)
        model = dist.DistributedDataParallel(local, bucket_cap_mb=1e-4)  # several buckets
        assert len(model._buckets) > 1
        for a, b in zip(local.parameters(), reference.parameters()):
            close(a, b, "broadcast of rank 0's parameters")
        opt = optim.Adam(model.parameters(), lr=0.05)
        ref_opt = optim.Adam(reference.parameters(), lr=0.05)
        x, y = data(4, world * B, device, images=images)
        for step in range(4):
            opt.zero_grad()
            loss_fn(model(rank_slice(x[step])), rank_slice(y[step])).backward()
            opt.step()
            ref_opt.zero_grad()
            loss_fn(reference(x[step]), y[step]).backward()
            ref_opt.step()
        for (name, a), b in zip(local.named_parameters(), reference.parameters()):
            close(a, b, f"{factory.__name__} {name} after 4 steps")


def scenario_no_sync(device):
    """Two micro-batches under no_sync plus one synced match one process's accumulation."""
    world = dist.get_world_size()
    loss_fn = nn.CrossEntropyLoss()
    local, reference = build(mlp)
    model = dist.DistributedDataParallel(local)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    ref_opt = optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    x, y = data(6, world * B, device)
    for step in range(2):
        opt.zero_grad()
        ref_opt.zero_grad()
        for micro in range(3):
            i = step * 3 + micro
            if micro < 2:
                with model.no_sync():
                    loss_fn(model(rank_slice(x[i])), rank_slice(y[i])).backward()
            else:
                loss_fn(model(rank_slice(x[i])), rank_slice(y[i])).backward()
            loss_fn(reference(x[i]), y[i]).backward()
        opt.step()
        ref_opt.step()
    for (name, a), b in zip(local.named_parameters(), reference.parameters()):
        close(a, b, f"no_sync {name}")


def scenario_syncbn(device):
    """SyncBatchNorm over N ranks matches BatchNorm1d over the whole batch (weights, outputs,
    running statistics), and DDP keeps rank 0's buffers on all ranks."""
    world = dist.get_world_size()
    loss_fn = nn.CrossEntropyLoss()
    local, reference = build(lambda: mlp(nn.SyncBatchNorm))
    model = dist.DistributedDataParallel(local)
    ag.manual_seed(1)
    reference = mlp(nn.BatchNorm1d).double().to(dist.group().device)
    opt = optim.SGD(model.parameters(), lr=0.2)
    ref_opt = optim.SGD(reference.parameters(), lr=0.2)
    x, y = data(3, world * B, device)
    for step in range(3):
        opt.zero_grad()
        out = model(rank_slice(x[step]))
        loss_fn(out, rank_slice(y[step])).backward()
        opt.step()
        ref_opt.zero_grad()
        ref_out = reference(x[step])
        loss_fn(ref_out, y[step]).backward()
        ref_opt.step()
        close(out, rank_slice(ref_out), f"SyncBatchNorm output, step {step}")
    for (name, a), b in zip(local.state_dict().items(), reference.state_dict().values()):
        close(a, b, f"SyncBatchNorm state {name}")
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(mlp(nn.BatchNorm1d))
    assert type(converted[1]).__name__ == "SyncBatchNorm"


def scenario_collectives(device):
    """all_reduce (sum, avg, max), broadcast, all_gather(_into_tensor), reduce_scatter(_tensor),
    barrier, on contiguous and strided tensors."""
    r, world = dist.get_rank(), dist.get_world_size()
    dev = dist.group().device
    t = ag.full((2, 3), float(r + 1), device=dev)
    dist.all_reduce(t)
    assert (host(t) == sum(range(1, world + 1))).all()
    t = ag.full((2, 3), float(r + 1), device=dev)
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    assert abs(host(t) - (world + 1) / 2).max() < 1e-12
    t = ag.tensor([float(r), -float(r)], device=dev)
    work = dist.all_reduce(t, op="max", async_op=True)
    work.wait()
    assert host(t).tolist() == [world - 1, 0.0]
    strided = ag.zeros((4, 4), device=dev)[:, ::2]  # a view that is not contiguous
    strided += r
    dist.all_reduce(strided)
    assert (host(strided) == sum(range(world))).all()
    b = ag.full((3,), float(r), device=dev)
    dist.broadcast(b, src=world - 1)
    assert (host(b) == world - 1).all()
    gathered = [ag.zeros(2, device=dev) for _ in range(world)]
    dist.all_gather(gathered, ag.full((2,), float(r), device=dev))
    assert [host(g)[0] for g in gathered] == list(map(float, range(world)))
    out = ag.zeros((2 * world, 3), device=dev)
    dist.all_gather_into_tensor(out, ag.full((2, 3), float(r), device=dev))
    assert host(out)[::2, 0].tolist() == list(map(float, range(world)))
    chunk = ag.zeros((2,), device=dev)
    dist.reduce_scatter_tensor(chunk, ag.arange(2 * world, dtype="float32", device=dev))
    assert host(chunk).tolist() == [2.0 * r * world, (2.0 * r + 1) * world]
    one = ag.zeros((), device=dev)
    dist.reduce_scatter(one, [ag.full((), float(i), device=dev) for i in range(world)])
    assert float(host(one)) == r * world
    dist.barrier()


def scenario_unused(device):
    """find_unused_parameters lets backward finish when a parameter gets no gradient; without
    it, the next forward names the parameter."""
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.used = nn.Linear(6, 3)
            self.unused = nn.Linear(6, 3)

        def forward(self, x):
            return self.used(x)

    x, y = data(1, B, device)
    ag.manual_seed(0)
    model = dist.DistributedDataParallel(Branchy().double().to(dist.group().device),
                                         find_unused_parameters=True)
    for _ in range(2):
        nn.CrossEntropyLoss()(model(x[0]), y[0]).backward()
    assert model.module.unused.weight.grad is not None
    assert abs(host(model.module.unused.weight.grad)).max() == 0
    ag.manual_seed(0)
    strict = dist.DistributedDataParallel(Branchy().double().to(dist.group().device),
                                          bucket_cap_mb=1e-5)
    nn.CrossEntropyLoss()(strict(x[0]), y[0]).backward()
    try:
        strict(x[0])
    except dist.DistributedError as e:
        assert "unused.weight" in str(e) and "find_unused_parameters" in str(e), e
    else:
        raise AssertionError("no error for a parameter without gradient")


def scenario_fit(device):
    """fit/evaluate average their metrics over ranks (weighted by samples); only rank 0 saves."""
    import tempfile

    from nn.checkpoint import load, save
    from nn.train import evaluate, fit

    world = dist.get_world_size()
    n = world * B * 3 + 1  # ranks hold different numbers of samples
    x, y = data(1, n, device)
    x, y = x[0], y[0]
    ag.manual_seed(5)
    model = dist.DistributedDataParallel(mlp().double().to(dist.group().device))
    r = dist.get_rank()
    share = (x[r::world], y[r::world])
    metrics = evaluate(model, nn.CrossEntropyLoss(), share, batch_size=5)
    whole = evaluate(model.module, nn.CrossEntropyLoss(), (x, y), batch_size=5)
    assert abs(metrics["loss"] - whole["loss"]) < 1e-9, (metrics, whole)
    assert abs(metrics["accuracy"] - whole["accuracy"]) < 1e-12
    opt = optim.SGD(model.parameters(), lr=0.1)
    m = world * B * 3  # fit: every rank must run the same number of steps
    share = (x[:m][r::world], y[:m][r::world])
    history = fit(model, nn.CrossEntropyLoss(), opt, share, epochs=2, batch_size=4,
                  progress=False, seed=0)
    losses = ag.tensor(history["loss"], dtype="float64", device=dist.group().device)
    first = losses.clone()
    dist.broadcast(first, 0)
    close(losses, first, "fit's loss history is the same on every rank")
    path = Path(tempfile.gettempdir()) / f"kedja-ddp-{os.environ.get('KEDJA_TEST_ID', '0')}.npz"
    if r == 0 and path.exists():
        path.unlink()
    dist.barrier()
    save(path, model=model.module)
    assert path.exists()  # save returns after rank 0 wrote it
    fresh = mlp().double().to(dist.group().device)
    load(path, model=fresh)
    for a, b in zip(fresh.parameters(), model.module.parameters()):
        close(a, b, "checkpoint loaded on every rank")
    dist.barrier()
    if r == 0:
        path.unlink()


def scenario_sampler(device):
    """DistributedSampler shares out every index once (padded to equal lengths)."""
    world, r = dist.get_world_size(), dist.get_rank()
    ds = nn.TensorDataset(ag.arange(10))
    s = dist.DistributedSampler(ds, shuffle=True, seed=3)
    s.set_epoch(2)
    mine = ag.tensor(list(s), device=dist.group().device)
    allv = ag.zeros(len(s) * world, dtype="int64", device=dist.group().device)
    dist.all_gather_into_tensor(allv, mine)
    assert sorted(set(host(allv).tolist())) == list(range(10))
    assert len(s) == -(-10 // world) and r < world


def scenario_device_step(device):
    """On the fake device a DDP training step (buckets, NCCL all-reduces, SyncBatchNorm)
    makes no device -> host synchronisation."""
    if not hasattr(device, "expect_no_sync"):
        return
    local, _ = build(lambda: mlp(nn.SyncBatchNorm))
    model = dist.DistributedDataParallel(local, bucket_cap_mb=1e-4)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = data(2, B, device)
    loss_fn = nn.CrossEntropyLoss()
    with device.expect_no_sync():
        for step in range(2):
            opt.zero_grad()
            loss_fn(model(x[step]), y[step]).backward()
            opt.step()


def scenario_fault(device):
    if dist.get_rank() == 1:
        raise ValueError("rank 1 failed on purpose")
    t = ag.ones(3, device=dist.group().device)
    dist.all_reduce(t)  # rank 0 waits here for a rank that is gone
    time.sleep(60)


def scenario_hang(device):
    if dist.get_rank() == 1:
        time.sleep(60)  # alive but never joins: rank 0's all_reduce must time out
    dist.all_reduce(ag.ones(3, device=dist.group().device))


def scenario_mismatch(device):
    width = 8 if dist.get_rank() == 0 else 9
    dist.DistributedDataParallel(nn.Linear(4, width).to(dist.group().device))


def main() -> None:
    names = sys.argv[1].split(",")
    device = sys.argv[2] if len(sys.argv) > 2 else "cpu"
    dist.init(device=device)
    dev = dist.group().device
    for name in names:
        globals()[f"scenario_{name}"](dev)
        dist.barrier()
        print(f"ok {name} rank {dist.get_rank()} of {dist.get_world_size()} "
              f"({dist.group().backend}, {dev.device})", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
