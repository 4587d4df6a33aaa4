"""Callbacks for `nn.train.fit`: early stopping, checkpoints, LR scheduling, and the base class.

A callback's hooks get the epoch (0-based) or step and a ``logs`` dict. Epoch logs hold host
floats (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, ``lr``); batch logs hold the
step's ``loss`` as a detached device Tensor and the ``batch_size`` (reading the Tensor is a host
synchronisation: do it rarely). ``self.trainer`` is the running `Trainer` (``.model``,
``.optimizer``, ``.scheduler``, ``.history``, ``.stop_training``).
"""

from __future__ import annotations

import inspect
import math
import warnings
from pathlib import Path
from typing import Any

__all__ = ["Callback", "EarlyStopping", "ModelCheckpoint", "LRSchedulerCallback"]


class Callback:
    """Base class: override the hooks you need (each does nothing by default)."""

    trainer: Any = None

    def set_trainer(self, trainer: Any) -> None:
        self.trainer = trainer

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Called once before the first epoch."""

    def on_train_end(self, logs: dict | None = None) -> None:
        """Called once after the last epoch (also after an early stop)."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Called at the start of every epoch."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Called after every epoch (and its validation) with that epoch's metrics."""

    def on_batch_end(self, step: int, logs: dict | None = None) -> None:
        """Called after every optimizer step; ``logs["loss"]`` is a device Tensor."""


def _resolve_mode(mode: str, monitor: str, who: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return "max" if any(k in monitor for k in ("acc", "auc", "f1", "precision")) else "min"
    return mode


def _improved(value: float, best: float | None, mode: str, min_delta: float) -> bool:
    if best is None:
        return not math.isnan(value)
    if mode == "min":
        return value < best - min_delta
    return value > best + min_delta


def _monitored(logs: dict, monitor: str, who: str) -> float | None:
    if monitor in logs:
        return float(logs[monitor])
    # no validation data: fall back from val_x to x once, with a warning
    if monitor.startswith("val_") and monitor[4:] in logs:
        warnings.warn(f"{who}: {monitor!r} is not logged (no validation data?); using "
                      f"{monitor[4:]!r} instead", stacklevel=3)
        return float(logs[monitor[4:]])
    raise KeyError(f"{who}: monitored metric {monitor!r} is not among the logged "
                   f"{sorted(logs)}")


class EarlyStopping(Callback):
    """Stops training when a monitored metric has stopped improving.

    Args:
        monitor: the epoch log to watch (``val_loss``, ``val_accuracy``, ``loss``...).
        patience: epochs without improvement before stopping.
        min_delta: the least change that counts as an improvement.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy-like names).
        restore_best_weights: at the end of training, load the weights of the best epoch
            (kept as on-device copies, so no host transfer is made).

    After training, ``stopped_epoch`` is the epoch it stopped at (None if it did not stop) and
    ``best_epoch`` / ``best`` the best epoch and value.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = True) -> None:
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = abs(float(min_delta))
        self.mode = _resolve_mode(mode, monitor, "EarlyStopping")
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None
        self._best_state: dict | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = _monitored(logs or {}, self.monitor, "EarlyStopping")
        if _improved(value, self.best, self.mode, self.min_delta):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self._best_state = {k: v.xp.copy(v.array)
                                    for k, v in self.trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True
            self.trainer.log(f"EarlyStopping: {self.monitor} has not improved for "
                             f"{self.patience} epochs (best {self.best:.6g} at epoch "
                             f"{self.best_epoch + 1}); stopping after epoch {epoch + 1}")

    def on_train_end(self, logs: dict | None = None) -> None:
        if not self.restore_best_weights or self._best_state is None:
            return
        last = self.trainer.history.epoch[-1] if self.trainer.history.epoch else None
        if last != self.best_epoch:
            self.trainer.model.load_state_dict(self._best_state)
            self.trainer.log(f"EarlyStopping: restored the weights of epoch "
                             f"{self.best_epoch + 1} ({self.monitor} = {self.best:.6g})")


class ModelCheckpoint(Callback):
    """Saves checkpoints (model, optimizer, scheduler, epoch, history) with `nn.checkpoint`.

    Args:
        path: a directory (files ``best.npz`` and ``last.npz`` in it), or a file path such as
            ``run/model.npz`` (best to that path, last to ``run/model.last.npz``).
        monitor: the epoch log deciding which epoch is best.
        mode: ``"min"``, ``"max"`` or ``"auto"``.
        save_best: write the best checkpoint whenever `monitor` improves.
        save_last: write the last checkpoint after every epoch (resume from it with
            ``fit(..., resume_from=path)``).
        save_optimizer: include the optimizer (and scheduler) state.

    Attributes ``best_path``, ``last_path``, ``best`` and ``best_epoch`` say what was written.
    """

    def __init__(self, path: str | Path, monitor: str = "val_loss", mode: str = "auto",
                 save_best: bool = True, save_last: bool = True,
                 save_optimizer: bool = True) -> None:
        path = Path(path)
        if path.suffix in (".npz", ".safetensors"):
            self.best_path = path
            self.last_path = path.with_name(f"{path.stem}.last{path.suffix}")
        else:
            self.best_path = path / "best.npz"
            self.last_path = path / "last.npz"
        self.monitor = monitor
        self.mode = _resolve_mode(mode, monitor, "ModelCheckpoint")
        self.save_best = save_best
        self.save_last = save_last
        self.save_optimizer = save_optimizer
        self.best: float | None = None
        self.best_epoch: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.save_best:
            value = _monitored(logs or {}, self.monitor, "ModelCheckpoint")
            if _improved(value, self.best, self.mode, 0.0):
                self.best, self.best_epoch = value, epoch
                self.trainer.save_checkpoint(self.best_path, epoch,
                                             optimizer=self.save_optimizer,
                                             monitor=self.monitor, best=value)
        if self.save_last:
            self.trainer.save_checkpoint(self.last_path, epoch, optimizer=self.save_optimizer)


def _wants_metric(scheduler: Any) -> bool:
    """True for ReduceLROnPlateau-like schedulers, whose ``step`` takes the metric."""
    try:
        params = inspect.signature(scheduler.step).parameters
    except (TypeError, ValueError):
        return False
    return "metrics" in params or "metric" in params


class LRSchedulerCallback(Callback):
    """Steps an LR scheduler after every epoch (or every step with ``interval="step"``).

    A scheduler whose ``step`` takes a metric (ReduceLROnPlateau) is given the epoch log
    `monitor` (``val_loss`` by default, ``loss`` when there is no validation data).
    `fit(scheduler=...)` adds one of these for you, ahead of your callbacks.
    """

    def __init__(self, scheduler: Any, monitor: str = "val_loss", interval: str = "epoch") -> None:
        if interval not in ("epoch", "step"):
            raise ValueError(f"LRSchedulerCallback: interval must be 'epoch' or 'step', got "
                             f"{interval!r}")
        self.scheduler = scheduler
        self.monitor = monitor
        self.interval = interval
        self.with_metric = _wants_metric(scheduler)
        if self.with_metric and interval == "step":
            raise ValueError("LRSchedulerCallback: a scheduler stepped with a metric "
                             "(ReduceLROnPlateau) must use interval='epoch'")

    def on_batch_end(self, step: int, logs: dict | None = None) -> None:
        if self.interval == "step":
            self.scheduler.step()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.interval != "epoch":
            return
        if self.with_metric:
            logs = logs or {}
            key = self.monitor if self.monitor in logs else self.monitor.removeprefix("val_")
            self.scheduler.step(_monitored(logs, key, "LRSchedulerCallback"))
        else:
            self.scheduler.step()
