"""Running a fleet: the observer that sees progress, the run's result, the in-process runner.

A runner takes bundles and :class:`~logdoctor.fleet.work.Options`, runs
:func:`~logdoctor.fleet.work.prepare` (and, for a split bundle, ``parse_part`` and ``finish``)
for each, tells its :class:`Observer` when a bundle starts running and when it is done, and
hands every result to ``on_result`` as it arrives (the CLI writes the cluster's report there
and drops its bytes, so a thousand clusters do not pile up in memory). The Dask runner is in
:mod:`logdoctor.fleet.dask_runner`; this module does not import Dask.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from logdoctor.fleet.bundles import Bundle
from logdoctor.fleet.document import REPORT_KINDS
from logdoctor.fleet.work import BundleResult, Options, Plan, finish, parse_part, prepare
from logdoctor.model import Severity
from logdoctor.verdict import FAIL_ON

__all__ = [
    "FleetResult",
    "NullObserver",
    "Observer",
    "WorkerInfo",
    "peak_rss",
    "run_in_process",
    "validate",
]


class Observer(Protocol):
    """Progress of a run, called from the thread that started it."""

    def begin(self, total: int, where: str) -> None:
        """The run starts: ``total`` bundles, on ``where`` (workers or this process)."""

    def running(self, cluster: str) -> None:
        """A worker started on the bundle of ``cluster``."""

    def done(self, result: BundleResult) -> None:
        """A bundle is finished (checked, or failed with its error)."""


class NullObserver:
    """An observer that ignores everything."""

    def begin(self, total: int, where: str) -> None:
        """Ignore."""

    def running(self, cluster: str) -> None:
        """Ignore."""

    def done(self, result: BundleResult) -> None:
        """Ignore."""


OnResult = Callable[[BundleResult], BundleResult]


@dataclass(frozen=True)
class WorkerInfo:
    """One worker process and its peak memory (resident set size)."""

    address: str
    peak_rss: int | None
    """Bytes; the process's peak since it started (None where the OS does not say)."""
    bundles: int = 0
    """Bundles it checked or parsed part of."""


@dataclass
class FleetResult:
    """The bundles' results in input order, and how the run went."""

    bundles: list[BundleResult]
    fail_on: str = "warning"
    where: str = ""
    """``in this process`` or the scheduler's address and worker count."""
    workers: list[WorkerInfo] = field(default_factory=list)
    seconds: float = 0.0
    """Wall time of the run (without starting or connecting to a cluster)."""
    startup_seconds: float = 0.0
    """Time to start the local cluster or connect to the scheduler."""

    @property
    def failed(self) -> list[BundleResult]:
        """Bundles that could not be checked, or only in part."""
        return [b for b in self.bundles if not b.ok]

    @property
    def failing(self) -> list[BundleResult]:
        """Bundles with a finding at or above ``fail_on``."""
        return [b for b in self.bundles if b.failing_count]

    @property
    def exit_code(self) -> int:
        """As ``check``: 2 when a bundle could not be read (in full), 1 when a finding is at
        or above ``fail_on``, else 0."""
        if self.failed:
            return 2
        return 1 if self.failing else 0

    def summary(self) -> dict[str, Any]:
        """Counts, the verdict and the workers, as written to ``summary.json``."""
        by_sev = {s.value: sum(b.count(s) for b in self.bundles) for s in Severity}
        status = {s: sum(1 for b in self.bundles if b.status == s) for s in ("ok", "partial")}
        status["failed"] = sum(1 for b in self.bundles if b.status == "failed")
        return {
            "clusters": len(self.bundles),
            "status": status,
            "findings": sum(len(b.findings) for b in self.bundles),
            "by_severity": by_sev,
            "failing_clusters": len(self.failing),
            "failing_findings": sum(b.failing_count for b in self.bundles),
            "fail_on": self.fail_on,
            "passed": self.exit_code == 0,
            "exit_code": self.exit_code,
            "events": sum(b.events for b in self.bundles),
            "files": sum(b.files for b in self.bundles),
            "where": self.where,
            "seconds": round(self.seconds, 3),
            "startup_seconds": round(self.startup_seconds, 3),
            "workers": [
                {"address": w.address, "peak_rss_bytes": w.peak_rss, "bundles": w.bundles}
                for w in self.workers
            ],
        }


def validate(opts: Options) -> None:
    """Check options on the client before any work is sent (one-line ValueError)."""
    from logdoctor.ingest.formats.catalog import load_formats
    from logdoctor.rules import select_rules
    from logdoctor.timestamps import resolve_zone

    if opts.fail_on not in FAIL_ON:
        raise ValueError(f"--fail-on {opts.fail_on!r}: allowed values are {', '.join(FAIL_ON)}")
    select_rules(opts.select, opts.ignore)
    resolve_zone(opts.tz)
    if opts.formats_dir:
        load_formats(opts.formats_dir)
    if opts.report not in REPORT_KINDS:
        raise ValueError(
            f"--cluster-reports {opts.report!r}: allowed values are {', '.join(REPORT_KINDS)}"
        )
    if opts.jobs < 1:
        raise ValueError(f"jobs {opts.jobs}: must be at least 1")


def peak_rss() -> int | None:
    """This process's peak resident set size in bytes (None where unknown)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) * (1 if os.uname().sysname == "Darwin" else 1024)


def _keep(result: BundleResult) -> BundleResult:
    return result


def run_in_process(
    bundles: Sequence[Bundle],
    opts: Options,
    *,
    observer: Observer | None = None,
    on_result: OnResult | None = None,
) -> FleetResult:
    """Check every bundle in this process, one after the other (no Dask needed)."""
    validate(opts)
    obs = observer or NullObserver()
    sink = on_result or _keep
    obs.begin(len(bundles), "this process (no Dask)")
    t0 = time.perf_counter()
    results = []
    for b in bundles:
        obs.running(b.cluster)
        first = prepare(b, opts)
        if isinstance(first, Plan):
            parsed = [parse_part(b, opts, p) for p in first.parts]
            result = finish(b, opts, first, parsed)
        else:
            result = first
        result = sink(replace(result, workers=("local",)))
        results.append(result)
        obs.done(result)
    seconds = time.perf_counter() - t0
    worker = WorkerInfo("local", peak_rss(), len(results))
    return FleetResult(results, opts.fail_on, "this process (no Dask)", [worker], seconds)
