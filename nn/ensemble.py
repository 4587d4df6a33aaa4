"""`Ensemble`: a Module averaging the predictions of several models."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from autograd.tensor import Tensor

from .containers import ModuleList
from .module import Module


class Ensemble(Module):
    """Averages the predictions of several models.

    Args:
        models: the members (Modules with the same output shape).
        average: ``"probs"`` (default) returns the mean of the members' softmax probabilities
            over the last axis, the usual way to ensemble classifiers; ``"logits"`` returns
            the mean of their raw outputs (regression, or logits); ``"log_probs"`` returns the
            log of the mean probabilities (feed it to ``nn.NLLLoss``).

    The argmax of ``"probs"`` and ``"log_probs"`` agree, so ``accuracy`` works with either.
    """

    def __init__(self, models: Iterable[Any], average: str = "probs") -> None:
        super().__init__()
        if average not in ("probs", "logits", "log_probs"):
            raise ValueError(f"Ensemble: average must be 'probs', 'logits' or 'log_probs', "
                             f"got {average!r}")
        self.members = ModuleList(list(models))
        if len(self.members) == 0:
            raise ValueError("Ensemble: needs at least one model")
        self.average = average

    def forward(self, x: Any) -> Tensor:
        outs = [m(x) for m in self.members]
        if self.average == "logits":
            total = outs[0]
            for o in outs[1:]:
                total = total + o
            return total / len(outs)
        total = outs[0].softmax(axis=-1)
        for o in outs[1:]:
            total = total + o.softmax(axis=-1)
        mean = total / len(outs)
        return mean.log() if self.average == "log_probs" else mean

    def extra_repr(self) -> str:
        return f"average={self.average!r}"
