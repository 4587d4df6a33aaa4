"""Training metrics: the built-in ones by name (`METRICS`), and `_Sums`, the running sums of
the loss and metrics that the `Trainer` keeps on the device.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

import backends

__all__ = ["METRICS"]


# -- metrics: (output array, target array, xp) -> sum over the batch, on the device --------------
def _accuracy(out: Any, target: Any, xp: Any) -> Any:
    """Share of correct predictions: argmax for (N, C) outputs, ``> 0`` (logits) for (N,)/(N, 1).

    Targets may be class indices, or one-hot / probability rows (their argmax counts)."""
    if out.ndim >= 2 and out.shape[-1] > 1:
        pred = xp.argmax(out, axis=-1)
        if target.ndim == out.ndim:
            target = xp.argmax(target, axis=-1)
    else:
        pred = (out.reshape(out.shape[0]) > 0).astype("int64")
        target = target.reshape(target.shape[0])
    return xp.sum(pred == target.astype(pred.dtype))


def _mae(out: Any, target: Any, xp: Any) -> Any:
    per_sample = xp.abs(out - target.reshape(out.shape)).reshape(out.shape[0], -1)
    return xp.sum(xp.mean(per_sample, axis=1))


def _mse(out: Any, target: Any, xp: Any) -> Any:
    d = (out - target.reshape(out.shape)).reshape(out.shape[0], -1)
    return xp.sum(xp.mean(d * d, axis=1))


#: Built-in metrics by name. A custom metric is a function ``(output array, target array, xp)``
#: returning the metric summed over the batch as an array on the device (no host reads).
METRICS: dict[str, Callable] = {"accuracy": _accuracy, "mae": _mae, "mse": _mse}


def _metric_fns(metrics: Iterable[Any]) -> dict[str, Callable]:
    out = {}
    for m in metrics or ():
        if isinstance(m, str):
            if m not in METRICS:
                raise ValueError(f"unknown metric {m!r}; known: {sorted(METRICS)} (or pass "
                                 "a function)")
            out[m] = METRICS[m]
        elif callable(m):
            out[getattr(m, "__name__", "metric")] = m
        else:
            raise TypeError(f"a metric is a name or a function, got {m!r}")
    return out


class _Sums:
    """Running sums of the loss and metrics on the device; `read` is the only host sync."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.arrays: list[Any] | None = None
        self.count = 0
        self.first_bad: Any = None
        self.backend: backends.Backend | None = None

    def add(self, backend: backends.Backend, n: int, loss: Any, metrics: list[Any],
            step: int) -> None:
        with backend.device_scope():  # raw array operators run on the current device (cuda:N)
            self._add(backend, n, loss, metrics, step)

    def _add(self, backend: backends.Backend, n: int, loss: Any, metrics: list[Any],
             step: int) -> None:
        xp = backend.xp
        values = ([] if loss is None else [loss * n]) + metrics
        if self.arrays is None:
            self.backend = backend
            self.arrays = [v.astype("float64") for v in values]
            self.first_bad = xp.full((), -1, dtype="int64")
        else:
            self.arrays = [a + v for a, v in zip(self.arrays, values)]
        if loss is not None:
            # remember the first step with a non-finite loss, without reading anything back
            bad = (self.first_bad < 0) & ~xp.isfinite(loss)
            self.first_bad = xp.where(bad, xp.full((), step, dtype="int64"), self.first_bad)
        self.count += n

    def read(self) -> tuple[dict, int]:
        """({name: mean}, first non-finite step or -1): one device -> host transfer."""
        if self.arrays is None:
            return {}, -1
        xp = self.backend.xp
        with self.backend.device_scope():
            packed = xp.stack([*self.arrays, self.first_bad.astype("float64")])
        host = self.backend.to_numpy(packed)
        count = self.count
        ranks = _process_group()
        if ranks is not None:
            # Sums and counts of all ranks: the means of the whole data, the same on each rank.
            host = backends.host().xp.append(host, [float(count)])
            first_bad = host[-2]
            ranks.host.all_reduce(host, "sum").wait()
            count, host = int(host[-1]), host[:-1]
            host[-1] = first_bad
        means = {k: float(v) / max(count, 1) for k, v in zip(self.names, host[:-1])}
        return means, int(host[-1])


def _process_group() -> Any:
    """nn.parallel's group when this process is one of several ranks, else None."""
    module = sys.modules.get("nn.parallel.process_group")
    group = getattr(module, "_group", None)
    return group if group is not None and group.world_size > 1 else None
