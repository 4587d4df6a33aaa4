"""Train a classifier on the bundled 8x8 digits and report its test accuracy.

    python examples/train_digits.py --model mlp              # ~97-98% in a few seconds on a CPU
    python examples/train_digits.py --model cnn --epochs 20
    python examples/train_digits.py --model resnet --device cuda
    mpiexec -n 2 python examples/train_digits.py --distributed   # data-parallel (nn.parallel)

The test split is 20% of the 1,797 images (360), stratified by class with a fixed seed
(`nn.datasets.digits_split`); the model never sees it before the final evaluation. With the
same --seed, two runs on the CPU end with bit-identical weights.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# The matrices here are tiny (batch 32 x a few hundred): BLAS threads cost more than they save,
# and on a busy machine they spin. One thread unless the caller's environment says otherwise
# (this must happen before NumPy is imported).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import autograd as ag  # noqa: E402
import backends  # noqa: E402
import nn  # noqa: E402
import optim  # noqa: E402
from nn.checkpoint import save  # noqa: E402
from nn.data import DataLoader, TensorDataset, train_val_split  # noqa: E402
from nn.datasets import digits_split  # noqa: E402
from nn.train import EarlyStopping, evaluate, fit  # noqa: E402

# per model: epochs, learning rate, weight decay (AdamW), batch size
DEFAULTS = {
    "mlp": {"epochs": 30, "lr": 2e-3, "weight_decay": 1e-4, "batch_size": 32},
    "cnn": {"epochs": 20, "lr": 3e-3, "weight_decay": 1e-4, "batch_size": 32},
    "resnet": {"epochs": 15, "lr": 3e-3, "weight_decay": 1e-4, "batch_size": 32},
}


def build_model(name: str) -> nn.Module:
    """The three architectures; all take (N, 1, 8, 8) images and return (N, 10) logits."""
    if name == "mlp":
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(64, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.2),
            nn.Linear(256, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.2),
            nn.Linear(128, 10),
        )
    if name == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),       # 16 x 8 x 8
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.MaxPool2d(2),                                                      # 32 x 4 x 4
            nn.Flatten(),
            nn.Dropout(0.25),
            nn.Linear(32 * 4 * 4, 10),
        )
    if name == "resnet":
        return nn.ResNet(in_channels=1, num_classes=10, widths=(16, 32), blocks_per_stage=1)
    raise ValueError(f"unknown model {name!r}; choose mlp, cnn or resnet")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=sorted(DEFAULTS), default="mlp")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1, ... (default: "
                   "KEDJA_DEVICE or cpu)")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--weight-decay", type=float, default=None)
    p.add_argument("--val-fraction", type=float, default=0.0,
                   help="hold out this share of the training set for validation and early "
                   "stopping (default: none; the test set is never used for either)")
    p.add_argument("--limit", type=int, default=None, help="train on the first N training "
                   "images only (quick checks)")
    p.add_argument("--save", type=Path, default=None, help="write the final checkpoint here")
    p.add_argument("--plot", type=Path, default=None, help="write the History plot here (PNG)")
    p.add_argument("--amp", choices=("float16", "bfloat16"), default=None,
                   help="mixed precision: forward and loss under ag.autocast with this dtype "
                   "(float16 adds an ag.GradScaler); the test evaluation runs under it too")
    p.add_argument("--quiet", action="store_true", help="no per-epoch output")
    p.add_argument("--distributed", action="store_true", help="data-parallel over the ranks "
                   "of mpiexec (nn.parallel): each rank trains on its share of every batch "
                   "of --batch-size (the global batch), gradients are averaged")
    p.add_argument("--sync-bn", action="store_true", help="with --distributed: BatchNorm "
                   "statistics over the global batch (nn.SyncBatchNorm)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    cfg = dict(DEFAULTS[args.model])
    for key in ("epochs", "lr", "weight_decay", "batch_size"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    rank, world = 0, 1
    if args.distributed:
        import nn.parallel as dist

        group = dist.init(device=args.device)  # this rank's device becomes the default
        rank, world = group.rank, group.world_size
        device = group.device
        args.quiet = args.quiet or rank != 0  # only rank 0 prints
    else:
        device = backends.get(args.device)
    start = time.perf_counter()

    ag.manual_seed(args.seed)  # parameter init and dropout draw from the backends' generators
    (x_train, y_train), (x_test, y_test) = digits_split(test_fraction=0.2, seed=0)
    x_train = x_train.reshape(-1, 1, 8, 8)
    x_test = x_test.reshape(-1, 1, 8, 8)
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    train_set = TensorDataset(x_train, y_train)
    val_loader, callbacks = None, []
    if args.val_fraction > 0:
        train_set, val_set = train_val_split(train_set, args.val_fraction, seed=args.seed)
        val_loader = DataLoader(val_set, batch_size=512, device=device)
        callbacks.append(EarlyStopping("val_accuracy", patience=8, restore_best_weights=True))
    if args.distributed:
        train_loader = _distributed_loader(train_set, cfg["batch_size"], world, args.seed,
                                           device)
    else:
        train_loader = DataLoader(train_set, batch_size=cfg["batch_size"], shuffle=True,
                                  seed=args.seed, device=device)

    model = build_model(args.model).to(device)
    if args.distributed:
        if args.sync_bn:
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        model = dist.DistributedDataParallel(model)  # rank 0's initial weights everywhere
        ag.manual_seed(args.seed + rank)  # dropout masks differ between ranks
    opt = optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg["epochs"])
    loss_fn = nn.CrossEntropyLoss()
    if not args.quiet:
        print(f"{args.model}: {model.num_parameters():,} parameters, {len(train_set)} training "
              f"/ {len(x_test)} test images, device {device.device}, {cfg}", flush=True)
    amp_dtype = getattr(ag, args.amp) if args.amp else None
    scaler = ag.GradScaler() if args.amp == "float16" else None
    history = fit(model, loss_fn, opt, train_loader, val=val_loader, epochs=cfg["epochs"],
                  scheduler=sched, callbacks=callbacks, device=device,
                  progress=not args.quiet, scheduler_monitor="val_accuracy",
                  amp_dtype=amp_dtype, scaler=scaler)
    region = ag.autocast(device.device.split(":")[0], dtype=amp_dtype, enabled=bool(args.amp))
    with region:
        test = evaluate(model, loss_fn, (x_test, y_test), device=device)
    seconds = time.perf_counter() - start
    if args.distributed:
        model = model.module  # the plain model: its checkpoint loads without nn.parallel
    if rank == 0:
        print(f"test accuracy {test['accuracy']:.4f} ({round(test['accuracy'] * len(x_test))}/"
          f"{len(x_test)})  test loss {test['loss']:.4f}  model {args.model}  "
          f"epochs {len(history)}  amp {args.amp or 'off'}  wall time {seconds:.1f} s"
          f"{f'  ranks {world}' if args.distributed else ''}", flush=True)
    if args.save is not None:
        save(args.save, model=model, optimizer=opt, scheduler=sched, epoch=len(history) - 1,
             test_accuracy=test["accuracy"])
    if args.plot is not None and rank == 0:
        history.plot(args.plot)
    return {"test_accuracy": test["accuracy"], "test_loss": test["loss"], "seconds": seconds,
            "history": history, "model": model}


def _distributed_loader(train_set, batch_size: int, world: int, seed: int, device):
    """This rank's batches: a DistributedSampler's share of the data, batch_size // world
    samples per step, reshuffled each epoch by (seed, epoch) on all ranks alike (fit calls the
    loader's set_epoch, which passes it on to the sampler)."""
    from nn.parallel import DistributedSampler

    sampler = DistributedSampler(train_set, shuffle=True, seed=seed)
    return DataLoader(train_set, batch_size=max(1, batch_size // world), sampler=sampler,
                      device=device)


if __name__ == "__main__":
    main()
