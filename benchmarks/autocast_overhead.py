"""What the autocast hooks cost while no region is active: an in-process A/B.

    python benchmarks/autocast_overhead.py [--rounds 30] [--steps 100]

Times a small MLP's SGD step (64-128-128-10, batch 32) with the listed ops' hooked ``apply``
installed and removed, interleaved round by round (so that a busy machine's load hits both
alike), and one no-grad call of a trivial op with and without the hook.
"""

from __future__ import annotations

import argparse
import os
import sys
import timeit
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import autograd as ag  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
import optim  # noqa: E402
from autograd import autocast_policy  # noqa: E402
from autograd.function import Function  # noqa: E402

HOOKED = {c: c.__dict__["apply"] for c in autocast_policy.LOWER_PRECISION
          + autocast_policy.FLOAT32}


def set_hooks(on: bool) -> None:
    """Installs (on) or removes the hooked ``apply`` of every listed op class."""
    for cls, apply in HOOKED.items():
        if on:
            cls.apply = apply
        elif "apply" in cls.__dict__:
            delattr(cls, "apply")


class _Same(Function):
    """y = x (a trivial op: the hook's cost is not hidden by work)."""

    def forward(self, x):
        return x


class _SameHooked(_Same):
    pass


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--steps", type=int, default=100)
    args = p.parse_args()
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    opt = optim.SGD(model.parameters(), lr=0.01)
    x, t = ag.randn(32, 64), ag.tensor(np.arange(32) % 10)
    plain_loss = F.cross_entropy.__wrapped__  # the loss without its float32 decorator

    def step(loss_fn):
        opt.zero_grad()
        loss_fn(model(x), t).backward()
        opt.step()

    for _ in range(args.steps):
        step(F.cross_entropy)
    times: dict[bool, list] = {True: [], False: []}
    for _ in range(args.rounds):
        for on in (True, False):
            set_hooks(on)
            loss_fn = F.cross_entropy if on else plain_loss
            times[on].append(timeit.timeit(lambda f=loss_fn: step(f), number=args.steps)
                             / args.steps * 1e6)
    set_hooks(True)
    for on in (True, False):
        print(f"MLP step, hooks {'installed' if on else 'removed  '}: "
              f"min {min(times[on]):.1f} us, median {np.median(times[on]):.1f} us")
    autocast_policy._hook(_SameHooked, lower=True)
    y = ag.randn(2)
    with ag.no_grad():
        for cls in (_Same, _SameHooked):
            best = min(timeit.repeat(lambda c=cls: c.apply(y), number=20000, repeat=15)) / 20000
            print(f"trivial op apply, {'hooked' if cls is _SameHooked else 'plain '}: "
                  f"{best * 1e9:.0f} ns")


if __name__ == "__main__":
    main()
