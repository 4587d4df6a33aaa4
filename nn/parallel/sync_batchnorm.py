"""`SyncBatchNorm`: batch normalisation whose statistics cover the whole global batch.

Each rank sums its part of the batch per channel; one all-reduce gives the global mean, a
second the global (biased) variance of the centred values (two passes, as BatchNorm computes
it, for the same rounding). The all-reduce is an op (`AllReduceSum`) whose derivative is again
an all-reduce of the upstream gradient, so backward is exact for the global-batch loss.
"""

from __future__ import annotations

from typing import Any

import autograd as ag
from autograd.function import Function
from autograd.grad_mode import no_grad
from autograd.tensor import Tensor

from ..layers.normalization import BatchNorm1d, BatchNorm2d, _BatchNorm
from ..module import Module
from .process_group import get_world_size, group

__all__ = ["SyncBatchNorm", "AllReduceSum"]


class AllReduceSum(Function):
    """y = the sum of x over all ranks; gx = the sum of gy over all ranks (each rank's loss
    depends on every rank's x through y)."""

    raw_backward = True

    def forward(self, x):
        y = self.xp.ascontiguousarray(x).copy()
        group().communicator(self.backend).all_reduce(y, "sum").wait()
        return y

    def backward(self, gy):
        return AllReduceSum.apply(gy)


class SyncBatchNorm(_BatchNorm):
    """BatchNorm over (N, C), (N, C, L) or (N, C, H, W) inputs whose training statistics are
    those of the batch of all ranks together (PyTorch's ``nn.SyncBatchNorm``).

    Without a process group of more than one rank, or in eval mode, it is a plain BatchNorm.
    ``SyncBatchNorm.convert_sync_batchnorm(model)`` swaps every BatchNorm1d/2d of a model for
    one (keeping its parameters and statistics).
    """

    _ndims = (2, 3, 4)
    _layout = "(N, C), (N, C, L) or (N, C, H, W)"

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or get_world_size() == 1:
            return super().forward(x)
        if not isinstance(x, Tensor) or x.ndim not in self._ndims \
                or x.shape[1] != self.num_features:
            return super().forward(x)  # its checks give the error
        channels = self.num_features
        axes = (0, *range(2, x.ndim))
        stat_shape = (1, channels) + (1,) * (x.ndim - 2)
        # Counts travel with the sums (as the data's dtype), so a rank's smaller last batch
        # weighs right and nothing is read back to the host.
        count = Tensor._make(x.xp.full((1,), x.size // channels, dtype=x.dtype), x.backend)
        sums = AllReduceSum.apply(ag.concatenate([ag.sum(x, axis=axes), count]))
        total = sums[channels:]
        mean = (sums[:channels] / total).reshape(stat_shape)
        centred = x - mean
        var = AllReduceSum.apply(ag.sum(centred * centred, axis=axes)) / total
        y = centred * (var.reshape(stat_shape) + self.eps) ** -0.5
        if self.weight is not None:
            y = y * self.weight.reshape(stat_shape) + self.bias.reshape(stat_shape)
        if self.track_running_stats:
            with no_grad():
                self.num_batches_tracked += 1
                momentum: Any = self.momentum
                if momentum is None:
                    momentum = 1.0 / self.num_batches_tracked.astype(self.running_mean.dtype)
                unbiased = var * total / (total - 1)
                self.running_mean.copy_((1 - momentum) * self.running_mean
                                        + momentum * mean.reshape(-1))
                self.running_var.copy_((1 - momentum) * self.running_var + momentum * unbiased)
        return y

    @classmethod
    def convert_sync_batchnorm(cls, module: Module) -> Module:
        """`module` with every BatchNorm1d/BatchNorm2d below it replaced by a SyncBatchNorm
        sharing its parameters and buffers (a BatchNorm `module` itself is returned replaced)."""
        if isinstance(module, (BatchNorm1d, BatchNorm2d)) and not isinstance(module, cls):
            sync = cls(module.num_features, eps=module.eps, momentum=module.momentum,
                       affine=module.affine, track_running_stats=module.track_running_stats)
            for table in ("_parameters", "_buffers"):
                getattr(sync, table).update(getattr(module, table))
            sync.train(module.training)
            return sync
        for name, child in list(module._modules.items()):
            if child is not None:
                module._modules[name] = cls.convert_sync_batchnorm(child)
        return module
