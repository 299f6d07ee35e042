"""Dask or not: a small fleet is checked in this process, because starting Dask costs more
than it saves.

Starting a local Dask cluster (its scheduler, and worker processes that each import polars
and logdoctor) takes about :data:`DASK_STARTUP` seconds on a 2-core machine; it then runs W
bundles at once where the process runs one. The work of a fleet is estimated from its size
on disk (the scaling model in the README: about :data:`MB_PER_SECOND` MB of logs per second
per process, plus :data:`SECONDS_PER_CLUSTER` per cluster for its report; a compressed file
or archive counts :data:`COMPRESSION` times its size). Dask saves ``work x (1 - 1/W)`` and
costs the start-up, so the fleet runs in process when::

    work < DASK_STARTUP x W / (W - 1)

On 2 cores that is about 4 s of work: some 55 MB of logs, or 20 small clusters. ``fleet
--dask`` and ``fleet --in-process`` force either; ``--scheduler`` and ``--workers`` mean Dask.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from logdoctor.fleet.bundles import Bundle

__all__ = [
    "COMPRESSION",
    "DASK_STARTUP",
    "MB_PER_SECOND",
    "SECONDS_PER_CLUSTER",
    "Sizing",
    "choose",
    "estimate_seconds",
]

DASK_STARTUP = 2.0
"""Seconds to start a local Dask cluster and its workers (measured: 1.9 s on 2 cores)."""
MB_PER_SECOND = 15.0
"""Logs parsed, correlated and checked per second by one process (README, scaling model)."""
SECONDS_PER_CLUSTER = 0.2
"""A cluster's HTML report."""
COMPRESSION = 10
"""How much a compressed file or archive expands (a conservative ratio for UCM logs)."""

_COMPRESSED = (".gz", ".zip", ".bz2", ".xz", ".tgz", ".tbz2", ".txz")


def _weighted_size(path: Path) -> int:
    """The bytes of logs a bundle stands for: its files' sizes, compressed ones x COMPRESSION."""

    def weight(p: Path, size: int) -> int:
        name = p.name.lower()
        return size * COMPRESSION if name.endswith(_COMPRESSED) else size

    try:
        if path.is_file():
            return weight(path, path.stat().st_size)
        total = 0
        for root, _dirs, files in os.walk(path):
            for name in files:
                p = Path(root, name)
                try:
                    total += weight(p, p.stat().st_size)
                except OSError:
                    continue
        return total
    except OSError:
        return 0


def estimate_seconds(bundles: Sequence[Bundle]) -> float:
    """The fleet's work for one process, in seconds (see the module's model)."""
    size = sum(_weighted_size(Path(b.path)) for b in bundles)
    return size / (MB_PER_SECOND * 1e6) + SECONDS_PER_CLUSTER * len(bundles)


@dataclass(frozen=True)
class Sizing:
    """The choice and why."""

    in_process: bool
    seconds: float
    """The estimated work (one process)."""
    reason: str


def choose(bundles: Sequence[Bundle], workers: int | None = None) -> Sizing:
    """In process or on a local Dask cluster of ``workers`` (default: one per core)."""
    w = workers or os.cpu_count() or 1
    work = estimate_seconds(bundles)
    if w < 2:
        return Sizing(True, work, "one core: Dask would not run two bundles at once")
    limit = DASK_STARTUP * w / (w - 1)
    if work < limit:
        return Sizing(True, work, f"small fleet: about {work:.1f} s of work, under {limit:.1f} s")
    return Sizing(False, work, f"about {work:.1f} s of work on {w} workers")
