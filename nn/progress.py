"""`_Progress`: the `Trainer`'s per-epoch progress display (tqdm where installed, else prints)."""

from __future__ import annotations

import sys


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
