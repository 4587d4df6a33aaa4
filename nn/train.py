"""The training loop: `fit`, `evaluate`, `predict`, `Trainer`, `History`, `Ensemble`.

    >>> from nn.train import fit, evaluate
    >>> from nn.callbacks import EarlyStopping
    >>> history = fit(model, nn.CrossEntropyLoss(), opt, train_loader, val=val_loader,
    ...               epochs=30, callbacks=[EarlyStopping(patience=5)], device="cuda")
    >>> history["val_accuracy"][-1]

The training step does no host synchronisation: the loss and the metrics are summed on the
device, and read back (one transfer) every `log_every` steps and at the end of each epoch. A
non-finite loss is noticed at those reads; the message names the first bad epoch and step,
which a device-side tracker records without syncing.
"""

from __future__ import annotations

import copy
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import backends
from autograd.grad_mode import no_grad
from autograd.ops.shape import concatenate
from autograd.tensor import Tensor

from . import checkpoint
from .callbacks import Callback, EarlyStopping, LRSchedulerCallback, ModelCheckpoint
from .data import DataLoader, TensorDataset
from .ensemble import Ensemble
from .history import History

__all__ = [
    "fit", "evaluate", "predict", "Trainer", "History", "Ensemble", "NonFiniteLossError",
    "Callback", "EarlyStopping", "ModelCheckpoint", "LRSchedulerCallback", "METRICS",
]


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite. ``.history`` holds the epochs finished."""

    def __init__(self, message: str, history: History | None = None) -> None:
        super().__init__(message)
        self.history = history


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


class _Progress:
    """tqdm where it is installed (and `enabled`), plain prints otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None
        self._tqdm = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            self._tqdm = tqdm

    def start(self, epoch: int, epochs: int, steps: int) -> None:
        if self.enabled and self._tqdm is not None:
            self.bar = self._tqdm(total=steps, desc=f"epoch {epoch + 1}/{epochs}",
                                  leave=True, dynamic_ncols=True, file=sys.stderr)

    def update(self, n: int, logs: dict) -> None:
        if self.bar is not None:
            self.bar.update(n)
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items()}, refresh=False)

    def end(self, epoch: int, epochs: int, logs: dict, seconds: float) -> None:
        text = "  ".join(f"{k} {v:.4g}" for k, v in logs.items())
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=True)
            self.bar.close()
            self.bar = None
        elif self.enabled:
            print(f"epoch {epoch + 1}/{epochs}  {text}  ({seconds:.2f} s)", flush=True)

    def write(self, message: str) -> None:
        if not self.enabled:
            return
        if self._tqdm is not None:
            self._tqdm.write(message, file=sys.stderr)
        else:
            print(message, flush=True)


def _as_loader(data: Any, batch_size: int, shuffle: bool, seed: int | None,
               device: Any) -> Any:
    """A DataLoader for `data`: loaders pass through (on `device`), ``(x, y)`` tuples wrap."""
    if data is None:
        return None
    if isinstance(data, tuple) and not isinstance(data, DataLoader):
        return DataLoader(TensorDataset(*data), batch_size=batch_size, shuffle=shuffle,
                          seed=seed, device=device)
    if isinstance(data, DataLoader) and device is not None and data.device is None:
        data = copy.copy(data)  # a shallow copy sharing the data set; the caller's is left as is
        data.device = device
    return data


def _to(t: Any, backend: backends.Backend) -> Any:
    if isinstance(t, Tensor):
        return t if t.backend is backend else t.to(backend)
    if isinstance(t, (tuple, list)):
        return type(t)(_to(v, backend) for v in t)
    return t


def _split_batch(batch: Any) -> tuple[Any, Any]:
    if isinstance(batch, (tuple, list)):
        if len(batch) == 1:
            return batch[0], None
        if len(batch) == 2:
            return batch[0], batch[1]
        return batch[0], tuple(batch[1:])
    return batch, None


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
        packed = xp.stack([*self.arrays, self.first_bad.astype("float64")])
        host = self.backend.to_numpy(packed)
        means = {k: float(v) / max(self.count, 1) for k, v in zip(self.names, host[:-1])}
        return means, int(host[-1])


class Trainer:
    """Trains `model` with `loss_fn` and `optimizer`; see `fit` for the arguments."""

    def __init__(self, model: Any, loss_fn: Callable | None, optimizer: Any = None,
                 scheduler: Any = None, metrics: Sequence[Any] = ("accuracy",),
                 device: Any = None, callbacks: Sequence[Callback] = (), progress: bool = True,
                 log_every: int = 50, batch_size: int = 32, seed: int | None = None,
                 grad_clip: float | None = None, nan_policy: str = "raise",
                 scheduler_monitor: str = "val_loss") -> None:
        if nan_policy not in ("raise", "stop"):
            raise ValueError(f"nan_policy must be 'raise' or 'stop', got {nan_policy!r}")
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.metrics = _metric_fns(metrics)
        self.device = device
        self.backend = backends.get(device)
        if device is not None and hasattr(model, "to"):
            model.to(device)
        self.callbacks = list(callbacks)
        if scheduler is not None:
            self.callbacks.insert(0, LRSchedulerCallback(scheduler, monitor=scheduler_monitor))
        self.progress = _Progress(progress)
        self.log_every = max(1, int(log_every))
        self.batch_size = batch_size
        self.seed = seed
        self.grad_clip = grad_clip
        self.nan_policy = nan_policy
        self.history = History()
        self.stop_training = False
        self.stop_reason: str | None = None
        self.epochs = 0
        self._train_loader: Any = None

    # -- helpers ----------------------------------------------------------------------------
    def log(self, message: str) -> None:
        """Prints a message without breaking the progress bar (silent with progress=False)."""
        self.progress.write(message)

    def _call(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def _metric_arrays(self, out: Tensor, y: Any) -> list[Any]:
        if not self.metrics or y is None or isinstance(y, tuple):
            return []
        xp = out.xp
        return [fn(out.data, y.data, xp) for fn in self.metrics.values()]

    def save_checkpoint(self, path: str | Path, epoch: int, optimizer: bool = True,
                        **extra: Any) -> Path:
        """Writes model, optimizer, scheduler, epoch, history and loader state to `path`."""
        loader = self._train_loader
        if isinstance(loader, DataLoader):
            extra["loader"] = loader.state_dict()
        return checkpoint.save(
            path, model=self.model,
            optimizer=self.optimizer if optimizer else None,
            scheduler=self.scheduler if optimizer else None,
            epoch=int(epoch), history=self.history.to_dict(), **extra,
        )

    def resume(self, path: str | Path) -> int:
        """Loads a checkpoint written by `save_checkpoint`; returns the next epoch to run."""
        extra = checkpoint.load(path, model=self.model, optimizer=self.optimizer,
                                scheduler=self.scheduler)
        self.history = History.from_dict(extra.get("history", {}))
        return int(extra["epoch"]) + 1

    # -- one epoch ---------------------------------------------------------------------------
    def _train_epoch(self, loader: Any, epoch: int) -> dict:
        model, opt, backend = self.model, self.optimizer, self.backend
        names = ["loss", *self.metrics]
        sums = _Sums(names)
        steps = len(loader) if hasattr(loader, "__len__") else None
        self.progress.start(epoch, self.epochs, steps)
        model.train()
        shown = 0
        params = list(model.parameters()) if self.grad_clip else None
        for step, batch in enumerate(loader):
            x, y = _split_batch(_to(batch, backend))
            opt.zero_grad()
            out = model(x)
            loss = self.loss_fn(out, y)
            loss.backward()
            if self.grad_clip:
                from optim import clip_grad_norm_  # optim sits beside nn: import it late

                clip_grad_norm_(params, self.grad_clip)
            opt.step()
            with no_grad():
                n = out.shape[0]
                sums.add(backend, n, loss.data, self._metric_arrays(out.detach(), y), step)
            if self.callbacks:
                self._call("on_batch_end", step, {"loss": loss.detach(), "batch_size": n})
            if (step + 1) % self.log_every == 0:
                logs, bad = sums.read()
                self._check_finite(bad, epoch, steps)
                self.progress.update(step + 1 - shown, logs)
                shown = step + 1
            if self.stop_training:
                break
        logs, bad = sums.read()
        self._check_finite(bad, epoch, steps)
        if steps is not None and shown < steps:
            self.progress.update(steps - shown, logs)
        return logs

    def _check_finite(self, bad_step: int, epoch: int, steps: int | None) -> None:
        if bad_step < 0 or self.stop_reason is not None:
            return
        of = f" of {steps}" if steps else ""
        message = (f"training loss became NaN or infinite at epoch {epoch + 1}, step "
                   f"{bad_step + 1}{of}; stopped (try a lower learning rate, gradient clipping "
                   "via grad_clip=, or check the inputs for NaN)")
        self.stop_reason = message
        self.stop_training = True
        if self.nan_policy == "raise":
            self.progress.end(epoch, self.epochs, {}, 0.0)
            raise NonFiniteLossError(message, self.history)

    # -- public API ----------------------------------------------------------------------------
    def fit(self, train: Any, val: Any = None, epochs: int = 1, initial_epoch: int = 0,
            resume_from: str | Path | None = None) -> History:
        """Trains for epochs ``initial_epoch .. epochs - 1``; returns the `History`."""
        train = _as_loader(train, self.batch_size, True, self.seed, self.device)
        val = _as_loader(val, max(self.batch_size, 256), False, 0, self.device)
        self._train_loader = train
        if resume_from is not None:
            initial_epoch = self.resume(resume_from)
        self.epochs = epochs
        self.stop_training = False
        self.stop_reason = None
        for cb in self.callbacks:
            cb.set_trainer(self)
        self._call("on_train_begin", {})
        logs: dict = {}
        for epoch in range(initial_epoch, epochs):
            if hasattr(train, "set_epoch"):
                train.set_epoch(epoch)  # the shuffle order depends on (seed, epoch) only
            self._call("on_epoch_begin", epoch, {})
            lr = self.optimizer.param_groups[0]["lr"] if self.optimizer is not None else None
            start = time.perf_counter()
            logs = self._train_epoch(train, epoch)
            if self.stop_reason is not None:  # nan_policy="stop"
                self.log(self.stop_reason)
                break
            if val is not None:
                logs.update({f"val_{k}": v for k, v in self.evaluate(val).items()})
            if lr is not None:
                logs["lr"] = float(lr)
            self.history.append(epoch, logs)
            self.progress.end(epoch, epochs, logs, time.perf_counter() - start)
            self._call("on_epoch_end", epoch, logs)
            if self.stop_training:
                break
        self._call("on_train_end", logs)
        return self.history

    def evaluate(self, data: Any) -> dict:
        """Mean loss and metrics over `data` in eval mode without gradients (host floats)."""
        loader = _as_loader(data, max(self.batch_size, 256), False, 0, self.device)
        model = self.model
        was_training = getattr(model, "training", False)
        model.eval()
        names = (["loss"] if self.loss_fn is not None else []) + list(self.metrics)
        sums = _Sums(names)
        try:
            with no_grad():
                for step, batch in enumerate(loader):
                    x, y = _split_batch(_to(batch, self.backend))
                    out = model(x)
                    loss = self.loss_fn(out, y).data if self.loss_fn is not None else None
                    sums.add(self.backend, out.shape[0], loss, self._metric_arrays(out, y), step)
        finally:
            model.train(was_training)
        return sums.read()[0]

    def predict(self, data: Any) -> Tensor:
        """The model's outputs for all of `data` (inputs, or (inputs, targets) batches),
        concatenated on the device, in eval mode without gradients."""
        if isinstance(data, Tensor) or hasattr(data, "shape"):
            data = (data,)
        loader = _as_loader(data, max(self.batch_size, 256), False, 0, self.device)
        model = self.model
        was_training = getattr(model, "training", False)
        model.eval()
        outs = []
        try:
            with no_grad():
                for batch in loader:
                    x, _ = _split_batch(_to(batch, self.backend))
                    outs.append(model(x))
        finally:
            model.train(was_training)
        return concatenate(outs, axis=0)


def fit(model: Any, loss_fn: Callable, optimizer: Any, train: Any, val: Any = None,
        epochs: int = 1, callbacks: Sequence[Callback] = (), scheduler: Any = None,
        metrics: Sequence[Any] = ("accuracy",), device: Any = None, progress: bool = True,
        log_every: int = 50, batch_size: int = 32, seed: int | None = None,
        initial_epoch: int = 0, resume_from: str | Path | None = None,
        grad_clip: float | None = None, nan_policy: str = "raise",
        scheduler_monitor: str = "val_loss") -> History:
    """Trains `model` and returns its `History`.

    Args:
        model: a Module (moved to `device` when one is given).
        loss_fn: ``loss_fn(output, target)`` -> mean loss (e.g. ``nn.CrossEntropyLoss()``).
        optimizer: e.g. ``optim.Adam(model.parameters(), lr=1e-3)``.
        train: a DataLoader yielding ``(x, y)`` batches, or an ``(x, y)`` tuple of arrays (then
            wrapped in a shuffling DataLoader with `batch_size` and `seed`).
        val: validation data, the same kinds; evaluated after every epoch (``val_*`` logs).
        epochs: the epoch to stop before (epochs run are ``initial_epoch .. epochs - 1``).
        callbacks: `Callback` objects (EarlyStopping, ModelCheckpoint, your own).
        scheduler: an LR scheduler stepped after each epoch; ReduceLROnPlateau is given the
            `scheduler_monitor` log (``val_loss``; ``loss`` without validation data).
        metrics: names from `METRICS` (``"accuracy"``, ``"mae"``, ``"mse"``) or functions.
        device: where the model and the batches go (default: the default backend).
        progress: show a tqdm bar per epoch (plain per-epoch prints without tqdm).
        log_every: read the running loss/metrics back to the host every this many steps.
        initial_epoch: the first epoch to run (to continue a run).
        resume_from: a checkpoint from `ModelCheckpoint`/`Trainer.save_checkpoint`: loads the
            model, optimizer, scheduler and history and continues after its epoch.
        grad_clip: clip the global gradient norm to this value before each step.
        nan_policy: on a NaN/inf training loss, ``"raise"`` NonFiniteLossError or ``"stop"``
            training (with a message naming the epoch and step).

    Returns:
        The `History`: ``loss``, metrics, ``val_loss``, ``val_<metric>`` and ``lr`` per epoch.
    """
    trainer = Trainer(model, loss_fn, optimizer, scheduler=scheduler, metrics=metrics,
                      device=device, callbacks=callbacks, progress=progress,
                      log_every=log_every, batch_size=batch_size, seed=seed,
                      grad_clip=grad_clip, nan_policy=nan_policy,
                      scheduler_monitor=scheduler_monitor)
    return trainer.fit(train, val, epochs=epochs, initial_epoch=initial_epoch,
                       resume_from=resume_from)


def evaluate(model: Any, loss_fn: Callable | None, data: Any,
             metrics: Sequence[Any] = ("accuracy",), device: Any = None,
             batch_size: int = 256) -> dict:
    """Mean loss (if `loss_fn`) and metrics over `data` (a DataLoader or an (x, y) tuple), in
    eval mode under no_grad; returns host floats, e.g. ``{"loss": 0.08, "accuracy": 0.98}``."""
    trainer = Trainer(model, loss_fn, metrics=metrics, device=device, progress=False,
                      batch_size=batch_size)
    return trainer.evaluate(data)


def predict(model: Any, data: Any, device: Any = None, batch_size: int = 256) -> Tensor:
    """The model's outputs for `data` (a Tensor/array of inputs, an (x, ...) tuple or a
    DataLoader), concatenated into one Tensor on the device."""
    trainer = Trainer(model, None, metrics=(), device=device, progress=False,
                      batch_size=batch_size)
    return trainer.predict(data)
