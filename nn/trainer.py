"""`Trainer`, the training loop behind `nn.train.fit`/`evaluate`/`predict`, and the
`NonFiniteLossError` it raises.

The training step does no host synchronisation: the loss and the metrics are summed on the
device, and read back (one transfer) every `log_every` steps and at the end of each epoch. A
non-finite loss is noticed at those reads; the message names the first bad epoch and step,
which a device-side tracker records without syncing.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import backends
from autograd.autocast_mode import autocast
from autograd.grad_mode import no_grad
from autograd.ops.shape import concatenate
from autograd.tensor import Tensor
from backends.device_scope import call_scoped

from . import checkpoint
from .callbacks import Callback, LRSchedulerCallback
from .data import DataLoader, TensorDataset
from .history import History
from .metrics import _metric_fns, _process_group, _Sums
from .progress import _Progress

__all__ = ["Trainer", "NonFiniteLossError"]


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite. ``.history`` holds the epochs finished."""

    def __init__(self, message: str, history: History | None = None) -> None:
        super().__init__(message)
        self.history = history


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


class Trainer:
    """Trains `model` with `loss_fn` and `optimizer`; see `fit` for the arguments."""

    def __init__(self, model: Any, loss_fn: Callable | None, optimizer: Any = None,
                 scheduler: Any = None, metrics: Sequence[Any] = ("accuracy",),
                 device: Any = None, callbacks: Sequence[Callback] = (), progress: bool = True,
                 log_every: int = 50, batch_size: int = 32, seed: int | None = None,
                 grad_clip: float | None = None, nan_policy: str = "raise",
                 scheduler_monitor: str = "val_loss", amp_dtype: Any = None,
                 scaler: Any = None) -> None:
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
        # Under nn.parallel only rank 0 prints (the logs are averaged over ranks anyway).
        ranks = _process_group()
        self.progress = _Progress(progress and (ranks is None or ranks.rank == 0))
        self.log_every = max(1, int(log_every))
        self.batch_size = batch_size
        self.seed = seed
        self.grad_clip = grad_clip
        self.nan_policy = nan_policy
        self.amp_dtype = amp_dtype
        self.scaler = scaler
        self._lr: Any = None  # the lr of the last step taken (see _train_epoch)
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
        metrics, a, b, xp = self.metrics.values(), out.array, y.array, out.xp
        # metrics use raw array operators: they run on the current device (cuda:N)
        return call_scoped(out.backend, lambda: [fn(a, b, xp) for fn in metrics])

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
        epoch, history = extra.get("epoch"), extra.get("history", {})
        if type(epoch) is not int or epoch < 0:
            raise checkpoint.CheckpointError(f"{path}: holds no epoch number (a resumable "
                                             f"checkpoint's 'epoch' is an int >= 0, got {epoch!r})")
        if not isinstance(history, dict) or not all(
                isinstance(v, list) for v in history.values()) or not all(
                type(e) is int for e in history.get("epoch", [])):
            raise checkpoint.CheckpointError(f"{path}: its 'history' is not a training history "
                                             "(lists of values by name, 'epoch' of ints)")
        self.history = History.from_dict(history)
        return epoch + 1

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
        # The lr of the last step taken: a per-step scheduler changes it from step to step, and
        # the bar and the epoch's log show the latest, not the epoch's first.
        self._lr = self._current_lr()
        for step, batch in enumerate(loader):
            x, y = _split_batch(_to(batch, backend))
            opt.zero_grad()
            with self._autocast():
                out = model(x)
                loss = self.loss_fn(out, y)
            scaler = self.scaler
            (loss if scaler is None else scaler.scale(loss)).backward()
            if self.grad_clip:
                from optim import clip_grad_norm_  # optim sits beside nn: import it late

                if scaler is not None:
                    scaler.unscale_(opt)
                clip_grad_norm_(params, self.grad_clip)
            if scaler is None:
                opt.step()
            else:
                scaler.step(opt)
                scaler.update()
            self._lr = self._current_lr()  # before on_batch_end steps a per-step scheduler
            with no_grad():
                n = out.shape[0]
                sums.add(backend, n, loss.array, self._metric_arrays(out.detach(), y), step)
            if self.callbacks:
                self._call("on_batch_end", step, {"loss": loss.detach(), "batch_size": n})
            if (step + 1) % self.log_every == 0:
                logs, bad = sums.read()
                self._check_finite(bad, epoch, steps)
                self.progress.update(step + 1 - shown, self._with_lr(logs))
                shown = step + 1
            if self.stop_training:
                break
        logs, bad = sums.read()
        self._check_finite(bad, epoch, steps)
        if steps is not None and shown < steps:
            self.progress.update(steps - shown, self._with_lr(logs))
        return logs

    def _current_lr(self) -> Any:
        """The optimizer's learning rate now (its first group's), or None without one."""
        return None if self.optimizer is None else self.optimizer.param_groups[0]["lr"]

    def _with_lr(self, logs: dict) -> dict:
        """`logs` with ``lr``: the learning rate of the last step taken (read as a host float
        here, once per log, never per step)."""
        return logs if self._lr is None else {**logs, "lr": float(self._lr)}

    def _autocast(self) -> Any:
        """The forward's mixed-precision region (`amp_dtype`), or a region that does nothing."""
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return autocast(self.backend.device.split(":")[0], dtype=self.amp_dtype)

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
            start = time.perf_counter()
            logs = self._train_epoch(train, epoch)
            if self.stop_reason is not None:  # nan_policy="stop"
                self.log(self.stop_reason)
                break
            if val is not None:
                logs.update({f"val_{k}": v for k, v in self.evaluate(val).items()})
            logs = self._with_lr(logs)  # the lr of the epoch's last step (bar and history alike)
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
                    loss = self.loss_fn(out, y).array if self.loss_fn is not None else None
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
