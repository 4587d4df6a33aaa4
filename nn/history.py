"""`History`: the per-epoch logs of a training run (returned by `fit`), and their plot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


class History:
    """Per-epoch logs of a training run: ``history["val_loss"]`` is a list with one value per
    epoch, ``history.epoch`` the (0-based) epoch numbers."""

    def __init__(self) -> None:
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def append(self, epoch: int, logs: dict) -> None:
        n = len(self.epoch)
        self.epoch.append(int(epoch))
        for key, value in logs.items():
            self.history.setdefault(key, [None] * n).append(float(value))
        for values in self.history.values():
            if len(values) < n + 1:
                values.append(None)

    def __getitem__(self, key: str) -> list:
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def keys(self) -> Any:
        return self.history.keys()

    def __len__(self) -> int:
        return len(self.epoch)

    def to_dict(self) -> dict:
        return {"epoch": list(self.epoch), **{k: list(v) for k, v in self.history.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> History:
        h = cls()
        h.epoch = [int(e) for e in data.get("epoch", [])]
        h.history = {k: list(v) for k, v in data.items() if k != "epoch"}
        return h

    def __repr__(self) -> str:
        return f"History({len(self)} epochs: {', '.join(self.history)})"

    def plot(self, path: str | Path, keys: Sequence[str] | None = None) -> Path:
        """Writes a PNG with one panel per metric (training and validation curves together).

        Needs the optional matplotlib (``pip install kedja[plot]``).
        """
        try:
            import matplotlib

            matplotlib.use("Agg", force=False)
            import matplotlib.pyplot as plt
        except ImportError as e:
            raise ImportError("History.plot needs matplotlib: pip install matplotlib "
                              "(or the 'plot' extra of kedja)") from e
        names = list(keys) if keys else [k for k in self.history if not k.startswith("val_")]
        fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.2), squeeze=False)
        epochs = [e + 1 for e in self.epoch]
        for ax, name in zip(axes[0], names):
            for key in (name, f"val_{name}"):
                if key in self.history:
                    ax.plot(epochs, self.history[key], label=key, marker=".")
            ax.set_xlabel("epoch")
            ax.set_title(name)
            ax.grid(alpha=0.3)
            ax.legend()
        fig.tight_layout()
        path = Path(path)
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return path
