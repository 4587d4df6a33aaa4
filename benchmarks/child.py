"""One workload column in a fresh process: what `benchmarks.run` starts for every cell.

    python -m benchmarks.child WORKLOAD COLUMN [--quick] [--seed S] [--device D]
                               [--repeats N] [--checks DIR]

COLUMN is ``kedja``, ``torch`` or ``numpy``: only that column's library is imported, built,
checked and timed (see `harness.timed_row`); with ``--checks`` its check arrays are saved as
``DIR/<row>.<column>.npz`` for the parent to compare against the floor's. COLUMN ``all`` runs a
workload whose rows isolate their own columns or do not time them (memory, array_ops) as a
whole. Prints one JSON object: the rows, and what this process found about its library.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import numpy as np

from .harness import QUICK, Context, json_default
from .workloads import load


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.child", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workload")
    p.add_argument("column", choices=("kedja", "torch", "numpy", "all"))
    p.add_argument("--quick", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--checks", default=None, help="directory for the check arrays")
    return p.parse_args(argv)


def library_facts(column: str, torch: Any) -> dict:
    """The version facts of the library this process imported, for the report's machine line."""
    if column == "torch" and torch is not None:
        return {"torch": torch.__version__, "torch_threads": torch.get_num_threads()}
    if column in ("kedja", "all"):
        from . import machine

        return {"kedja_core": machine.kedja_core()}
    return {}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch = None
    if args.column in ("torch", "all") and not args.no_torch:
        try:
            import torch
        except ImportError:
            torch = None
    ctx = Context(device=args.device, quick=args.quick, torch=torch, seed=args.seed,
                  column=None if args.column == "all" else args.column,
                  **(QUICK if args.quick else {}))
    if args.repeats:
        ctx.repeats = args.repeats
    rows = load(args.workload).rows(ctx)
    if args.checks:
        for name, arrays in ctx.checks.items():
            np.savez(os.path.join(args.checks, f"{name}.{args.column}.npz"), **arrays)
    out = {"rows": [r.to_json() for r in rows], "facts": library_facts(args.column, torch)}
    print(json.dumps(out, default=json_default))
    return 0



if __name__ == "__main__":
    sys.exit(main())
