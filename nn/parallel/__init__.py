"""Data-parallel training over MPI (host arrays) and NCCL (CUDA arrays): ``nn.parallel``.

    import nn.parallel as dist
    dist.init()                                    # rank, world size, device from mpiexec
    model = dist.DistributedDataParallel(model)    # rank 0's weights on every rank
    sampler = dist.DistributedSampler(train_set, shuffle=True)

launched as ``mpiexec -n 4 python train.py`` (or ``python -m nn.parallel --nproc 4 train.py``).
See docs/distributed.md.
"""

from __future__ import annotations

from .collectives import (
    ReduceOp,
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    barrier,
    broadcast,
    reduce_scatter,
    reduce_scatter_tensor,
)
from .ddp import DistributedDataParallel
from .errors import DistributedError, DistributedTimeoutError
from .process_group import (
    ProcessGroup,
    destroy_process_group,
    get_local_rank,
    get_rank,
    get_world_size,
    group,
    init,
    init_process_group,
    is_initialized,
    is_main_process,
)
from .sampler import DistributedSampler
from .sync_batchnorm import SyncBatchNorm

__all__ = [
    "init", "init_process_group", "destroy_process_group", "is_initialized", "get_rank",
    "get_world_size", "get_local_rank", "is_main_process", "group", "ProcessGroup",
    "ReduceOp", "all_reduce", "broadcast", "all_gather", "all_gather_into_tensor",
    "reduce_scatter", "reduce_scatter_tensor", "barrier", "DistributedDataParallel",
    "DistributedSampler", "SyncBatchNorm", "DistributedError", "DistributedTimeoutError",
]
