"""The errors of nn.parallel: a collective that timed out, ranks that disagree, no launcher."""

from __future__ import annotations

__all__ = ["DistributedError", "DistributedTimeoutError"]


class DistributedError(RuntimeError):
    """A distributed operation failed: no process group, ranks that disagree, a bad argument."""


class DistributedTimeoutError(DistributedError, TimeoutError):
    """A collective did not complete within the process group's timeout (a rank died or hangs)."""
