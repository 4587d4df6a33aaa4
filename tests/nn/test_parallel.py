"""nn.parallel in one process: the sampler's protocol, the one-process group, DDP's buckets and
no_sync on a single rank, SyncBatchNorm's fallback (test_parallel_mpi.py runs several ranks)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import nn
import nn.parallel as dist
from nn.data import DataLoader, TensorDataset


@pytest.fixture
def group():
    g = dist.init()
    yield g
    dist.destroy_process_group()


def test_sampler_splits_every_index_once_padded():
    ds = TensorDataset(np.arange(10))
    shares = [list(dist.DistributedSampler(ds, num_replicas=3, rank=r, shuffle=False))
              for r in range(3)]
    assert shares == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]  # padded from the start
    assert all(len(dist.DistributedSampler(ds, 3, r)) == 4 for r in range(3))


def test_sampler_drop_last_and_epochs():
    ds = TensorDataset(np.arange(10))
    s = [dist.DistributedSampler(ds, 3, r, shuffle=True, seed=7, drop_last=True)
         for r in range(3)]
    assert [len(x) for x in s] == [3, 3, 3]
    first = [list(x) for x in s]
    assert len(set(sum(first, []))) == 9  # disjoint
    for x in s:
        x.set_epoch(1)
    second = [list(x) for x in s]
    assert first != second
    assert [list(x) for x in s] == second  # fixed by (seed, epoch)


def test_sampler_checks_arguments():
    ds = TensorDataset(np.arange(4))
    with pytest.raises(ValueError, match="invalid rank 2"):
        dist.DistributedSampler(ds, num_replicas=2, rank=2)
    with pytest.raises(TypeError, match="length"):
        dist.DistributedSampler(object())
    assert dist.DistributedSampler(ds).num_replicas == 1  # no group: one replica


@pytest.mark.skipif("sampler" not in inspect.signature(DataLoader).parameters,
                    reason="DataLoader(sampler=) is not in this branch yet (toolbox-optim-data "
                    "adds it); the sampler is tested standalone")
def test_sampler_in_a_dataloader():
    ds = TensorDataset(np.arange(10.0), np.arange(10))
    loader = DataLoader(ds, batch_size=2, sampler=dist.DistributedSampler(ds, 2, 1, False))
    seen = [int(v) for _, y in loader for v in y.array]
    assert seen == [1, 3, 5, 7, 9]


def test_no_group_is_a_clear_error():
    with pytest.raises(dist.DistributedError, match="init"):
        dist.all_reduce(ag.ones(2))
    assert dist.get_rank() == 0 and dist.get_world_size() == 1 and not dist.is_initialized()


def test_init_checks_its_arguments():
    with pytest.raises(dist.DistributedError, match="NCCL backend moves CUDA"):
        dist.init(backend="nccl", device="cpu")
    with pytest.raises(dist.DistributedError, match="MPI backend moves host"):
        dist.init(backend="mpi", device="fake")
    with pytest.raises(dist.DistributedError, match="timeout must be > 0"):
        dist.init(timeout=0)
    assert not dist.is_initialized()


def test_one_process_group_and_collectives(group):
    assert (group.rank, group.world_size, group.backend) == (0, 1, "local")
    with pytest.raises(dist.DistributedError, match="already"):
        dist.init()
    t = ag.tensor([1.0, 2.0])
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    dist.broadcast(t, 0)
    out = [ag.zeros(2)]
    dist.all_gather(out, t)
    assert out[0].tolist() == [1.0, 2.0]
    with pytest.raises(dist.DistributedError, match="op must be"):
        dist.all_reduce(t, op="mean")
    with pytest.raises(dist.DistributedError, match="src 1"):
        dist.broadcast(t, 1)
    dist.barrier()


def _model():
    ag.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3)).double()


def test_ddp_one_rank_gives_plain_gradients_and_accumulates(group):
    x, y = ag.randn(8, 5, dtype="float64"), ag.randint(0, 3, (8,))
    plain, wrapped = _model(), _model()
    ddp = dist.DistributedDataParallel(wrapped, bucket_cap_mb=1e-6)
    assert len(ddp._buckets) == 4  # one per parameter at this size
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(2):  # no zero_grad: both accumulate
        loss_fn(plain(x), y).backward()
        with ddp.no_sync():
            loss_fn(ddp(x), y).backward()
        loss_fn(ddp(x), y).backward()
        loss_fn(plain(x), y).backward()
    for a, b in zip(plain.parameters(), wrapped.parameters()):
        np.testing.assert_allclose(a.grad.array, b.grad.array, rtol=1e-12)
    assert list(ddp.state_dict()) == [f"module.{k}" for k in plain.state_dict()]


def test_ddp_forward_twice_before_backward_is_refused(group):
    ddp = dist.DistributedDataParallel(_model())
    x = ag.randn(4, 5, dtype="float64")
    loss = ddp(x).sum() + ddp(x).sum()
    with pytest.raises(dist.DistributedError, match="twice"):
        loss.backward()


def test_syncbatchnorm_is_batchnorm_on_one_rank(group):
    ag.manual_seed(0)
    x = ag.randn(6, 4, 3, dtype="float64")
    bn, sync = nn.BatchNorm1d(4).double(), nn.SyncBatchNorm(4).double()
    np.testing.assert_allclose(bn(x).array, sync(x).array)
    model = nn.SyncBatchNorm.convert_sync_batchnorm(
        nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)))
    assert isinstance(model[1], nn.SyncBatchNorm)
    assert "running_mean" in model.state_dict().__repr__()


def test_ddp_starts_bucket_all_reduces_during_backward(group, monkeypatch):
    """The last layer's bucket is all-reduced before backward reaches the first layer."""
    events = []
    real = group.comm.all_reduce

    def recording(array, op="sum"):
        events.append(("all_reduce", array.size))
        return real(array, op)

    monkeypatch.setattr(group.comm, "all_reduce", recording)
    ag.manual_seed(0)
    first = nn.Linear(5, 7).double()
    model = nn.Sequential(first, nn.Tanh(), nn.Linear(7, 3).double())
    ddp = dist.DistributedDataParallel(model, bucket_cap_mb=1e-6)  # a bucket per parameter
    x = ag.randn(4, 5, dtype="float64")
    hidden = []

    class Probe(nn.Module):
        def forward(self, h):
            h.register_hook(lambda g: events.append(("first layer's output gradient",)))
            hidden.append(h)
            return h

    model._modules["0"] = nn.Sequential(first, Probe())
    ddp(x).sum().backward()
    names = [e[0] for e in events]
    probe = names.index("first layer's output gradient")
    assert names[:probe] == ["all_reduce", "all_reduce"]  # the second Linear's two buckets
    assert names[probe + 1:] == ["all_reduce", "all_reduce"]
    assert first.weight.grad is not None and ddp.comm_wait_seconds >= 0


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 40), replicas=st.integers(1, 6), shuffle=st.booleans(),
       drop_last=st.booleans(), seed=st.integers(0, 5), epoch=st.integers(0, 3))
def test_sampler_shares_are_equal_and_cover_the_data(n, replicas, shuffle, drop_last, seed,
                                                     epoch):
    ds = TensorDataset(np.arange(max(n, 1))[:n].reshape(n, 1) if n else np.zeros((0, 1)))
    shares = []
    for r in range(replicas):
        s = dist.DistributedSampler(ds, replicas, r, shuffle=shuffle, seed=seed,
                                    drop_last=drop_last)
        s.set_epoch(epoch)
        shares.append(list(s))
        assert len(shares[-1]) == len(s)
    lengths = {len(s) for s in shares}
    assert len(lengths) == 1  # every rank runs the same number of steps
    flat = sum(shares, [])
    assert all(0 <= i < n for i in flat)
    if drop_last:
        assert len(set(flat)) == len(flat) == n - n % replicas
    elif n:
        assert set(flat) == set(range(n)) and len(flat) == -(-n // replicas) * replicas
