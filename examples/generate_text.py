"""Train a character-level language model (a small GPT or an LSTM) and generate text with it.

    python examples/generate_text.py --model gpt               # ~5 minutes on 2 idle CPU cores
    python examples/generate_text.py --model lstm
    python examples/generate_text.py --model gpt --text my_book.txt --steps 3000
    python examples/generate_text.py --model gpt --resume      # continue from runs/gpt/last.npz
    python examples/generate_text.py --sample runs/gpt/best.npz --prompt "def " --top-k 10

Data: without --text, the Python standard library's own source files, read from the running
interpreter's installation (a sorted walk, test suites and installed packages left out, the
first --max-chars characters), so every machine has a corpus without a download. The last
--val-fraction of the text is the validation split; the vocabulary is every character of the
text.

Training: AdamW with a linear warmup and a cosine decay per step, gradient clipping, a progress
bar, a validation loss every --eval-every steps, and atomic checkpoints (no pickle) holding the
model, optimizer, schedule, history, vocabulary and model configuration: ``best.npz`` (lowest
validation loss) and ``last.npz`` (resume with --resume). With --max-minutes, training stops
early, with a message, once it runs past that much wall time. Losses are reported in bits per
character, next to a bigram baseline that the script computes from the training split (add-0.1
smoothing).

Sampling: temperature and top-k, from the trained model or from a checkpoint (--sample).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

# Small matrices: one BLAS thread avoids spinning on a shared machine (before numpy loads).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402  (host-side text processing only)

import autograd as ag  # noqa: E402
import backends  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
import optim  # noqa: E402
from nn import checkpoint  # noqa: E402
from nn.callbacks import Callback, LRSchedulerCallback, ModelCheckpoint  # noqa: E402
from nn.trainer import Trainer  # noqa: E402

#: Per model: its shape and the training defaults (chosen to finish in minutes on 2 CPU cores).
DEFAULTS = {
    "gpt": {"layers": 4, "heads": 4, "width": 128, "dropout": 0.05, "steps": 4000,
            "batch_size": 16, "context": 64, "lr": 3e-3, "weight_decay": 0.1},
    "lstm": {"layers": 2, "width": 256, "embed": 64, "dropout": 0.0, "steps": 4000,
             "batch_size": 16, "context": 64, "lr": 2e-3, "weight_decay": 0.01},
}
SKIPPED_DIRS = {"test", "tests", "idle_test", "__pycache__", "site-packages", "dist-packages"}


# -- data ------------------------------------------------------------------------------------
def stdlib_text(max_chars: int) -> str:
    """The standard library's .py sources, walked in sorted order (directories pruned of test
    suites and installed packages), up to `max_chars` characters."""
    root = sysconfig.get_paths()["stdlib"]
    parts, total = [], 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)  # walk order, pruned
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            try:
                text = Path(folder, name).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            parts.append(text)
            total += len(text)
            if total >= max_chars:
                return "".join(parts)[:max_chars]
    if not parts:
        raise SystemExit(f"no Python sources found under {root}; pass --text FILE")
    return "".join(parts)


def load_text(path: Path | None, max_chars: int) -> str:
    if path is None:
        return stdlib_text(max_chars)
    return path.read_text(encoding="utf-8", errors="replace")[:max_chars]


def encode(text: str, vocab: str) -> np.ndarray:
    """Character ids (int64) of `text`; every character must be in `vocab`."""
    index = {c: i for i, c in enumerate(vocab)}
    missing = sorted(set(text) - index.keys())
    if missing:
        raise SystemExit(f"characters not in the model's vocabulary: {''.join(missing)!r}")
    return np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text))


def bigram_bits(train: np.ndarray, val: np.ndarray, vocab_size: int,
                alpha: float = 0.1) -> float:
    """Validation cross-entropy (bits/char) of P(next | previous) counted on `train`."""
    counts = np.full((vocab_size, vocab_size), alpha)
    np.add.at(counts, (train[:-1], train[1:]), 1.0)
    logp = np.log2(counts / counts.sum(axis=1, keepdims=True))
    return float(-logp[val[:-1], val[1:]].mean())


class WindowLoader:
    """`steps` batches of random windows per epoch: ``x = text[i:i+T]``, ``y = text[i+1:i+T+1]``.

    The starts of epoch `e` depend only on ``(seed, e)``, so a resumed run sees what the first
    run would have seen. Each batch is one gather on the device from the text stored there.
    """

    def __init__(self, ids: np.ndarray, context: int, batch_size: int, steps: int,
                 seed: int, device: Any) -> None:
        self.backend = backends.get(device)
        self.ids = ag.tensor(ids, device=self.backend)
        self.offsets = ag.arange(context + 1, dtype="int64", device=self.backend)
        self.context, self.batch_size, self.steps, self.seed = context, batch_size, steps, seed
        self.epoch = 0

    def __len__(self) -> int:
        return self.steps

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        starts = rng.integers(0, len(self.ids) - self.context - 1, (self.steps, self.batch_size))
        starts = ag.tensor(starts, device=self.backend)  # one transfer per epoch
        self.epoch += 1
        for row in range(self.steps):
            window = self.ids[starts[row].reshape(-1, 1) + self.offsets]
            yield window[:, :-1], window[:, 1:]


def val_windows(ids: np.ndarray, context: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping (x, y) windows covering `ids`: every character is predicted once."""
    n = (len(ids) - 1) // context
    x = ids[:n * context].reshape(n, context)
    y = ids[1:n * context + 1].reshape(n, context)
    return x, y


# -- models ----------------------------------------------------------------------------------
class GPT(nn.Module):
    """A decoder-only Transformer: token + position embeddings, pre-norm causal layers
    (``nn.TransformerEncoderLayer`` under a causal mask), a final LayerNorm and a linear head."""

    def __init__(self, vocab_size: int, context: int, width: int, layers: int, heads: int,
                 dropout: float) -> None:
        super().__init__()
        self.context = context
        self.tok = nn.Embedding(vocab_size, width)
        self.pos = nn.Embedding(context, width)
        self.drop = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(width, heads, 4 * width, dropout=dropout,
                                           activation=nn.GELU(approximate="tanh"),
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, layers)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab_size)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(context),
                             persistent=False)

    def forward(self, idx: ag.Tensor) -> ag.Tensor:
        """(N, T) character ids, T <= context -> (N, T, vocab) next-character logits."""
        t = idx.shape[1]
        x = self.drop(self.tok(idx) + self.pos.weight[:t])
        x = self.blocks(x, mask=self.mask[:t, :t], is_causal=True)
        return self.head(self.norm(x))

    def next_logits(self, idx: ag.Tensor, state: Any = None) -> tuple[ag.Tensor, Any]:
        """Logits for the character after `idx` (N, T): the model sees the last `context`."""
        return self(idx[:, -self.context:])[:, -1], None


class CharLSTM(nn.Module):
    """Embedding, a stacked ``nn.LSTM`` and a linear head over its outputs."""

    def __init__(self, vocab_size: int, embed: int, width: int, layers: int,
                 dropout: float) -> None:
        super().__init__()
        self.tok = nn.Embedding(vocab_size, embed)
        self.lstm = nn.LSTM(embed, width, num_layers=layers, batch_first=True, dropout=dropout)
        self.head = nn.Linear(width, vocab_size)

    def forward(self, idx: ag.Tensor, state: Any = None) -> ag.Tensor:
        """(N, T) character ids -> (N, T, vocab) next-character logits (zero initial state)."""
        out, _ = self.lstm(self.tok(idx), state)
        return self.head(out)

    def next_logits(self, idx: ag.Tensor, state: Any = None) -> tuple[ag.Tensor, Any]:
        """Logits after `idx`, carrying the LSTM state: only the new characters are fed."""
        out, state = self.lstm(self.tok(idx if state is None else idx[:, -1:]), state)
        return self.head(out[:, -1]), state


def build_model(config: dict) -> nn.Module:
    if config["model"] == "gpt":
        return GPT(config["vocab_size"], config["context"], config["width"], config["layers"],
                   config["heads"], config["dropout"])
    return CharLSTM(config["vocab_size"], config["embed"], config["width"], config["layers"],
                    config["dropout"])


# -- sampling --------------------------------------------------------------------------------
def _sample(probs: ag.Tensor) -> ag.Tensor:
    """One draw per row of `probs` (N, V): (N, 1) int64 indices."""
    return ag.multinomial(probs, 1)


def generate(model: nn.Module, vocab: str, prompt: str, length: int, temperature: float = 1.0,
             top_k: int | None = None, seed: int = 0, device: Any = None) -> str:
    """`prompt` continued by `length` sampled characters (temperature, then top-k)."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    backend = backends.get(device)
    ag.manual_seed(seed)
    ids = encode(prompt or "\n", vocab)
    idx = ag.tensor(ids.reshape(1, -1), device=backend)
    out, state = [], None
    model.eval()
    with ag.no_grad():
        for _ in range(length):
            logits, state = model.next_logits(idx, state)
            logits = logits / temperature
            if top_k is not None and top_k < logits.shape[-1]:
                kth = logits.topk(top_k, dim=-1)[0][:, -1:]
                logits = ag.where(logits < kth, -math.inf, logits)
            nxt = _sample(ag.softmax(logits, axis=-1))
            idx = ag.concatenate([idx, nxt.astype("int64")], axis=1)
            out.append(nxt)
    chars = ag.concatenate(out, axis=1).numpy()[0] if out else []
    return prompt + "".join(vocab[int(i)] for i in chars)


# -- training ----------------------------------------------------------------------------------
def warmup_cosine(warmup: int, total: int, floor: float) -> Any:
    """lr factor at step s: linear warmup to 1 over `warmup` steps, then a cosine to `floor`."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


class TimeLimit(Callback):
    """Stops training (after the current step) once `minutes` of wall time have passed."""

    def __init__(self, minutes: float) -> None:
        self.seconds = minutes * 60
        self.start = time.perf_counter()
        self.hit = False

    def on_batch_end(self, step: int, logs: dict | None = None) -> None:
        if time.perf_counter() - self.start > self.seconds and not self.hit:
            self.hit = True
            self.trainer.stop_training = True
            self.trainer.log(f"time limit of {self.seconds / 60:g} minutes reached: stopping "
                             "after this epoch's evaluation")


class CharTrainer(Trainer):
    """The library's Trainer; its checkpoints also hold the vocabulary and model config."""

    def __init__(self, *args: Any, extra: dict, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.extra = extra

    def save_checkpoint(self, path: str | Path, epoch: int, optimizer: bool = True,
                        **extra: Any) -> Path:
        return super().save_checkpoint(path, epoch, optimizer, **self.extra, **extra)


def sequence_loss(logits: ag.Tensor, target: ag.Tensor) -> ag.Tensor:
    """Mean cross-entropy over every position of every sequence (nats per character)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))


class EpochSeed(Callback):
    """Seeds the engine's generators at each epoch's start from (seed, epoch), as the loader's
    windows are: a run resumed at an epoch draws the same dropout masks as an uninterrupted
    one (the generators' state is not in the checkpoint)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        ag.manual_seed(int(np.random.SeedSequence([self.seed, epoch]).generate_state(1)[0]))


class BitsReport(Callback):
    """Prints the epoch's losses in bits per character (the progress bar shows nats)."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        steps = (epoch + 1) * len(self.trainer._train_loader)
        text = f"step {steps}: train {logs.get('loss', math.nan) / math.log(2):.3f}"
        if "val_loss" in logs:
            text += f", validation {logs['val_loss'] / math.log(2):.3f}"
        self.trainer.log(text + " bits/char")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=sorted(DEFAULTS), default="gpt")
    p.add_argument("--text", type=Path, default=None,
                   help="train on this UTF-8 text file (default: the Python standard library)")
    p.add_argument("--max-chars", type=int, default=1_000_000, help="read at most this much text")
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--context", type=int, default=None, help="characters per training window "
                   "(default: 64)")
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--eval-every", type=int, default=250, help="steps per epoch (validation, "
                   "checkpoints)")
    p.add_argument("--eval-chars", type=int, default=32_768, help="validation characters used "
                   "after each epoch (the whole split is used at the end)")
    p.add_argument("--layers", type=int, default=None, help="model depth")
    p.add_argument("--width", type=int, default=None, help="model width (LSTM hidden size)")
    p.add_argument("--heads", type=int, default=None, help="GPT attention heads")
    p.add_argument("--embed", type=int, default=None, help="LSTM character embedding size")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--weight-decay", type=float, default=None)
    p.add_argument("--warmup", type=int, default=100, help="linear warmup steps")
    p.add_argument("--min-lr", type=float, default=0.1, help="final lr, as a share of --lr")
    p.add_argument("--grad-clip", type=float, default=1.0, help="max global gradient norm")
    p.add_argument("--dropout", type=float, default=None)
    p.add_argument("--max-minutes", type=float, default=None, help="stop training after this "
                   "much wall time (the epoch's evaluation and checkpoint still run)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: KEDJA_DEVICE or cpu)")
    p.add_argument("--out", type=Path, default=None, help="checkpoint directory (default "
                   "runs/<model>)")
    p.add_argument("--resume", action="store_true", help="continue from <out>/last.npz")
    p.add_argument("--stop-after", type=int, default=None, metavar="STEPS",
                   help="end this run after about this many steps in all (whole epochs), "
                   "keeping the schedule of --steps; continue later with --resume")
    p.add_argument("--sample", type=Path, default=None, metavar="CHECKPOINT",
                   help="only generate, from this checkpoint")
    p.add_argument("--prompt", default="def ")
    p.add_argument("--length", type=int, default=300, help="characters to generate")
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")
    return p.parse_args(argv)


def load_for_sampling(path: Path, device: Any) -> tuple[nn.Module, str]:
    """The model and vocabulary stored in a checkpoint written by this script."""
    _, meta = checkpoint.read(path)
    extra = meta.get("extra", {})
    if "vocab" not in extra or "config" not in extra:
        raise SystemExit(f"{path}: not a checkpoint of generate_text.py (no vocabulary)")
    model = build_model(extra["config"]).to(device)
    checkpoint.load(path, model=model)
    return model, extra["vocab"]


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    device = backends.get(args.device)
    if args.sample is not None:
        model, vocab = load_for_sampling(args.sample, device)
        text = generate(model, vocab, args.prompt, args.length, args.temperature, args.top_k,
                        args.seed, device)
        print(text)
        return {"sample": text}
    start = time.perf_counter()
    cfg = dict(DEFAULTS[args.model])
    for key in ("steps", "batch_size", "context", "lr", "weight_decay", "dropout", "layers",
                "width", "heads", "embed"):
        if getattr(args, key) is not None and (key in cfg or key not in ("heads", "embed")):
            cfg[key] = getattr(args, key)
    out_dir = args.out or Path("runs") / args.model
    args.context = cfg["context"]

    text = load_text(args.text, args.max_chars)
    vocab = "".join(sorted(set(text)))
    ids = encode(text, vocab)
    split = int(len(ids) * (1 - args.val_fraction))
    train_ids, val_ids = ids[:split], ids[split:]
    if len(train_ids) <= args.context + 1 or len(val_ids) <= args.context + 1:
        raise SystemExit(f"text too short: {len(ids)} characters for --context {args.context}")
    bigram = bigram_bits(train_ids, val_ids, len(vocab))
    config = {"model": args.model, "vocab_size": len(vocab), "context": args.context,
              **{k: cfg[k] for k in ("layers", "heads", "width", "embed", "dropout") if k in cfg}}
    if args.resume:  # the run's own configuration and vocabulary
        _, meta = checkpoint.read(out_dir / "last.npz")
        if meta["extra"].get("vocab") != vocab:
            raise SystemExit(f"{out_dir / 'last.npz'} was trained on another text (its "
                             "vocabulary differs); pass the same --text and --max-chars")
        config = meta["extra"]["config"]
        args.context = config["context"]

    ag.manual_seed(args.seed)
    model = build_model(config)
    opt = optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    steps, per_epoch = cfg["steps"], min(args.eval_every, cfg["steps"])
    epochs = math.ceil(steps / per_epoch)
    sched = optim.lr_scheduler.LambdaLR(opt, warmup_cosine(args.warmup, steps, args.min_lr))
    train = WindowLoader(train_ids, args.context, cfg["batch_size"], per_epoch, args.seed,
                         device)
    xv, yv = val_windows(val_ids[:args.eval_chars + 1], args.context)
    limit = TimeLimit(math.inf if args.max_minutes is None else args.max_minutes)
    callbacks = [EpochSeed(args.seed), LRSchedulerCallback(sched, interval="step"), limit,
                 ModelCheckpoint(out_dir, monitor="val_loss")]
    if not args.quiet:
        callbacks.append(BitsReport())
    trainer = CharTrainer(model, sequence_loss, opt, metrics=(), device=device,
                          callbacks=callbacks, progress=not args.quiet, grad_clip=args.grad_clip,
                          batch_size=256, extra={"vocab": vocab, "config": config})
    trainer.scheduler = sched  # saved in the checkpoints (stepped by the callback per step)
    if not args.quiet:
        print(f"{args.model}: {model.num_parameters():,} parameters; {len(train_ids):,} training "
              f"/ {len(val_ids):,} validation characters, vocabulary {len(vocab)}; bigram "
              f"baseline {bigram:.3f} bits/char; {steps} steps of {cfg['batch_size']} x "
              f"{args.context}; device {device.device}", flush=True)
    if args.stop_after is not None:
        epochs = min(epochs, max(1, math.ceil(args.stop_after / per_epoch)))
    history = trainer.fit(train, val=(xv, yv), epochs=epochs,
                          resume_from=out_dir / "last.npz" if args.resume else None)
    train_seconds = time.perf_counter() - start
    xv, yv = val_windows(val_ids, args.context)
    val_bits = trainer.evaluate((xv, yv))["loss"] / math.log(2)
    done = sched.last_epoch  # the schedule counts the steps taken (resumed runs included)
    sample = generate(model, vocab, args.prompt, args.length, args.temperature, args.top_k,
                      args.seed, device)
    result = {"model": args.model, "val_bits": val_bits, "bigram_bits": bigram,
              "seconds": train_seconds, "steps": done, "stopped_early": limit.hit,
              "history": history, "sample": sample, "trained": model}
    stop = " (stopped by --max-minutes)" if limit.hit else ""
    print(f"validation {val_bits:.3f} bits/char (bigram baseline {bigram:.3f}) after "
          f"{done} steps{stop}; {train_seconds:.0f} s; model {args.model}", flush=True)
    print(f"--- sample (temperature {args.temperature}, top-k {args.top_k}) ---\n{sample}")
    return result


if __name__ == "__main__":
    main()
