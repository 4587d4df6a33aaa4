"""Train a DCGAN on the bundled 8x8 digits, draw a grid of generated digits, and measure them
with the digits CNN.

    python examples/gan_digits.py                       # defaults: about 7 minutes of CPU
    python examples/gan_digits.py --epochs 5 --out /tmp/gan
    python examples/gan_digits.py --classifier cnn.kedja   # a checkpoint of train_digits.py

The generator maps 64 normal numbers to a 1x8x8 image through transposed convolutions
(2x2 -> 4x4 -> 8x8, BatchNorm and ReLU between, tanh at the end); the discriminator mirrors
it with strided convolutions, BatchNorm and LeakyReLU(0.2). Both train with
BCE-with-logits and Adam(lr=2e-4, betas=(0.5, 0.999)) on all 1,797 digits scaled to [-1, 1],
for 400 epochs: the learning rates hold for the first half and fall linearly to 0 over the
second (--lr-decay-start).

The evaluation: the CNN of examples/train_digits.py (trained here first, or loaded from
--classifier) labels 1,000 generated digits; the script prints the share it labels with
probability >= 0.9 and how many of the ten classes appear among those. It writes
`samples.png` (a grid of generated digits) and `losses.png` (both losses per step) to --out.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# Tiny matrices: BLAS threads cost more than they save (this must happen before NumPy loads).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import autograd as ag  # noqa: E402
import backends  # noqa: E402
import nn  # noqa: E402
import optim  # noqa: E402
from nn.data import DataLoader, TensorDataset  # noqa: E402
from nn.datasets import load_digits  # noqa: E402

LATENT = 64


def generator(width: int = 64) -> nn.Module:
    """z (N, 64, 1, 1) -> images (N, 1, 8, 8) in [-1, 1]."""
    return nn.Sequential(
        nn.ConvTranspose2d(LATENT, 4 * width, 2, 1, 0, bias=False),     # 2x2
        nn.BatchNorm2d(4 * width), nn.ReLU(),
        nn.ConvTranspose2d(4 * width, 2 * width, 4, 2, 1, bias=False),  # 4x4
        nn.BatchNorm2d(2 * width), nn.ReLU(),
        nn.ConvTranspose2d(2 * width, 1, 4, 2, 1),                      # 8x8
        nn.Tanh(),
    )


def discriminator(width: int = 64) -> nn.Module:
    """images (N, 1, 8, 8) -> one logit each (N,)."""
    return nn.Sequential(
        nn.Conv2d(1, width, 4, 2, 1),                                   # 4x4
        nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False),               # 2x2
        nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2),
        nn.Conv2d(2 * width, 1, 2, 1, 0),                               # 1x1
        nn.Flatten(0),
    )


def dcgan_init(module: nn.Module) -> None:
    """DCGAN's initialisation: conv weights N(0, 0.02), BatchNorm weights N(1, 0.02)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=400)
    p.add_argument("--steps", type=int, default=None, help="stop after this many steps "
                   "(quick checks); default: all the epochs")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--width", type=int, default=64, help="channels of the first layers")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--lr-decay-start", type=float, default=0.5, help="fraction of the "
                   "steps after which both learning rates fall linearly to 0 (1: no decay)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None)
    p.add_argument("--samples", type=int, default=1000, help="generated digits to evaluate")
    p.add_argument("--classifier", type=Path, default=None, help="a checkpoint of "
                   "train_digits.py --model cnn --save PATH (default: train the CNN here)")
    p.add_argument("--classifier-epochs", type=int, default=None)
    p.add_argument("--out", type=Path, default=Path("gan_digits_out"))
    p.add_argument("--quiet", action="store_true")
    return p.parse_args(argv)


def train_gan(args: argparse.Namespace, device: backends.Backend) -> dict:
    """The adversarial training loop; returns the models and the loss curves."""
    images, _ = load_digits()
    data = images.reshape(-1, 1, 8, 8) * 2.0 - 1.0                    # [0, 1] -> [-1, 1]
    loader = DataLoader(TensorDataset(data), batch_size=args.batch_size, shuffle=True,
                        drop_last=True, seed=args.seed, device=device)
    gen = generator(args.width).to(device)
    disc = discriminator(args.width).to(device)
    gen.apply(dcgan_init)
    disc.apply(dcgan_init)
    initial = {name: p.numpy().copy() for name, p in gen.named_parameters()}
    opt_g = optim.Adam(gen.parameters(), lr=args.lr, betas=(0.5, 0.999))
    opt_d = optim.Adam(disc.parameters(), lr=args.lr, betas=(0.5, 0.999))
    # Constant learning rates, then a linear fall to 0 over the last steps: the share of
    # confident digits kept climbing while the rates fell (README, "A GAN").
    total = args.epochs * len(loader) if args.steps is None else args.steps
    hold = int(args.lr_decay_start * total)

    def rate(step: int) -> float:
        return min(1.0, (total - step) / max(total - hold, 1))

    scheds = [optim.lr_scheduler.LambdaLR(opt, rate) for opt in (opt_g, opt_d)]
    bce = nn.BCEWithLogitsLoss()
    ones = ag.ones(args.batch_size, device=device)
    zeros = ag.zeros(args.batch_size, device=device)
    losses_g, losses_d = [], []
    step = 0
    start = time.perf_counter()
    for epoch in range(args.epochs):
        for (real,) in loader:
            z = ag.randn(args.batch_size, LATENT, 1, 1, device=device)
            fake = gen(z)
            # discriminator: real -> 1, fake -> 0 (the generator's graph is not needed here)
            opt_d.zero_grad()
            loss_d = bce(disc(real), ones) + bce(disc(fake.detach()), zeros)
            loss_d.backward()
            opt_d.step()
            # generator: make the discriminator say 1 on fakes
            opt_g.zero_grad()
            loss_g = bce(disc(fake), ones)
            loss_g.backward()
            opt_g.step()
            for sched in scheds:
                sched.step()
            losses_d.append(float(loss_d.item()))
            losses_g.append(float(loss_g.item()))
            step += 1
            if args.steps is not None and step >= args.steps:
                break
        if not args.quiet:
            print(f"epoch {epoch + 1}/{args.epochs}  step {step}  loss_d "
                  f"{np.mean(losses_d[-len(loader):]):.3f}  loss_g "
                  f"{np.mean(losses_g[-len(loader):]):.3f}  "
                  f"{time.perf_counter() - start:.0f} s", flush=True)
        if args.steps is not None and step >= args.steps:
            break
    return {"generator": gen, "discriminator": disc, "loss_g": losses_g, "loss_d": losses_d,
            "initial_generator": initial, "optimizers": (opt_g, opt_d),
            "seconds": time.perf_counter() - start}


def classifier(args: argparse.Namespace, device: backends.Backend) -> nn.Module:
    """The digits CNN of train_digits.py: loaded from --classifier, or trained now."""
    import train_digits

    if args.classifier is not None:
        from nn.checkpoint import load

        model = train_digits.build_model("cnn").to(device)
        load(args.classifier, model=model)
        return model.eval()
    argv = ["--model", "cnn", "--seed", str(args.seed), "--quiet"]
    if args.device:
        argv += ["--device", args.device]
    if args.classifier_epochs is not None:
        argv += ["--epochs", str(args.classifier_epochs)]
    return train_digits.main(argv)["model"].eval()


def evaluate_samples(gen: nn.Module, cnn: nn.Module, count: int, seed: int,
                     device: backends.Backend) -> dict:
    """Labels `count` generated digits with the CNN: the share it labels with probability
    >= 0.9, and the classes among those."""
    gen.eval()
    ag.manual_seed(seed + 1)
    with ag.no_grad():
        z = ag.randn(count, LATENT, 1, 1, device=device)
        digits = (gen(z) + 1.0) * 0.5                                  # back to [0, 1]
        probs = cnn(digits).softmax(-1).numpy()
    confident = probs.max(axis=1) >= 0.9
    labels = probs.argmax(axis=1)
    counts = np.bincount(labels[confident], minlength=10)
    return {"digits": digits.numpy(), "confident_share": float(confident.mean()),
            "class_counts": counts.tolist(), "classes": int((counts > 0).sum()),
            "labels": labels, "confident": confident}


def write_plots(out: Path, result: dict, evaluation: dict) -> list:
    """samples.png (64 generated digits, the CNN's label above each) and losses.png."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(8, 8, figsize=(6, 6.6))
    for i, ax in enumerate(axes.flat):
        ax.imshow(evaluation["digits"][i, 0], cmap="gray_r", vmin=0, vmax=1)
        mark = "" if evaluation["confident"][i] else "?"
        ax.set_title(f"{evaluation['labels'][i]}{mark}", fontsize=7, pad=1)
        ax.axis("off")
    fig.suptitle("DCGAN digits (the CNN's label; ? = probability < 0.9)", fontsize=9)
    fig.tight_layout()
    samples = out / "samples.png"
    fig.savefig(samples, dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(result["loss_d"], label="discriminator", lw=0.6)
    ax.plot(result["loss_g"], label="generator", lw=0.6)
    ax.set_xlabel("step")
    ax.set_ylabel("BCE with logits")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    losses = out / "losses.png"
    fig.savefig(losses, dpi=100)
    plt.close(fig)
    return [samples, losses]


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    device = backends.get(args.device)
    start, cpu_start = time.perf_counter(), time.process_time()
    ag.manual_seed(args.seed)
    result = train_gan(args, device)
    cnn = classifier(args, device)
    evaluation = evaluate_samples(result["generator"], cnn, args.samples, args.seed, device)
    paths = write_plots(args.out, result, evaluation)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.samples} generated digits: {evaluation['confident_share']:.1%} labelled "
          f"with probability >= 0.9, classes among them {evaluation['classes']}/10 "
          f"{evaluation['class_counts']}; GAN {len(result['loss_g'])} steps in "
          f"{result['seconds']:.0f} s, total {seconds:.0f} s, {cpu_seconds:.0f} s of CPU (load "
          f"average {load:.1f}); "
          f"wrote {', '.join(str(p) for p in paths)}", flush=True)
    return {**result, **evaluation, "total_seconds": seconds, "cpu_seconds": cpu_seconds,
            "paths": paths}


if __name__ == "__main__":
    main()
