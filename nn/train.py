"""The training loop: `fit`, `evaluate`, `predict`, `Trainer`, `History`, `Ensemble`.

    >>> from nn.train import fit, evaluate
    >>> from nn.callbacks import EarlyStopping
    >>> history = fit(model, nn.CrossEntropyLoss(), opt, train_loader, val=val_loader,
    ...               epochs=30, callbacks=[EarlyStopping(patience=5)], device="cuda")
    >>> history["val_accuracy"][-1]

The functions here build a `Trainer` (nn.trainer) and run it. This module is also where the
loop's names are imported from: `Trainer` and `NonFiniteLossError` (nn.trainer), `METRICS`
(nn.metrics), `History` (nn.history), `Ensemble` (nn.ensemble) and the callbacks
(nn.callbacks) are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from autograd.tensor import Tensor

from .callbacks import Callback, EarlyStopping, LRSchedulerCallback, ModelCheckpoint
from .ensemble import Ensemble
from .history import History
from .metrics import METRICS
from .trainer import NonFiniteLossError, Trainer

__all__ = [
    "fit", "evaluate", "predict", "Trainer", "History", "Ensemble", "NonFiniteLossError",
    "Callback", "EarlyStopping", "ModelCheckpoint", "LRSchedulerCallback", "METRICS",
]


def fit(model: Any, loss_fn: Callable, optimizer: Any, train: Any, val: Any = None,
        epochs: int = 1, callbacks: Sequence[Callback] = (), scheduler: Any = None,
        metrics: Sequence[Any] = ("accuracy",), device: Any = None, progress: bool = True,
        log_every: int = 50, batch_size: int = 32, seed: int | None = None,
        initial_epoch: int = 0, resume_from: str | Path | None = None,
        grad_clip: float | None = None, nan_policy: str = "raise",
        scheduler_monitor: str = "val_loss", amp_dtype: Any = None,
        scaler: Any = None) -> History:
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
        amp_dtype: run each forward and loss under ``ag.autocast(device, dtype=amp_dtype)``
            (``ag.float16`` or ``ag.bfloat16``; see docs/training.md "Mixed precision").
        scaler: an ``ag.GradScaler``: scales the loss, unscales before clipping, skips steps
            with inf/NaN gradients and adapts the scale.

    Returns:
        The `History`: ``loss``, metrics, ``val_loss``, ``val_<metric>`` and ``lr`` per epoch.
    """
    trainer = Trainer(model, loss_fn, optimizer, scheduler=scheduler, metrics=metrics,
                      device=device, callbacks=callbacks, progress=progress,
                      log_every=log_every, batch_size=batch_size, seed=seed,
                      grad_clip=grad_clip, nan_policy=nan_policy,
                      scheduler_monitor=scheduler_monitor, amp_dtype=amp_dtype, scaler=scaler)
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
