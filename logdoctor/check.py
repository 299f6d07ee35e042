"""``check``: load logs and / or a deployment file, run the rules, judge against a threshold.

The CLI's ``logdoctor check`` and the HTML report call :func:`check`; it raises on bad input
(``DeploymentError``, ``BaselineError``, ``ValueError``) and never prints.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from logdoctor.baseline import Baseline, BaselineEntry, finding_fingerprint
from logdoctor.deployment import Deployment, load_deployment
from logdoctor.model import Finding, ParseStats, Severity
from logdoctor.progress import NULL_PROGRESS, Progress
from logdoctor.rules import EVIDENCE_CAP, Context, Rule, run, select_rules
from logdoctor.sources import InputError
from logdoctor.timestamps import ZoneBook, zone_book

__all__ = ["FAIL_ON", "CheckReport", "check", "check_context"]

FAIL_ON = ("error", "warning", "info", "never")
"""Thresholds of ``--fail-on``: findings at or above it fail the check."""


@dataclass(frozen=True)
class CheckReport:
    """The result of a check: findings, their baseline state, and the verdict."""

    findings: tuple[Finding, ...]
    rules: tuple[Rule, ...]
    fail_on: str = "warning"
    baseline: Baseline | None = None
    deployment: Deployment | None = None
    events: int = 0
    files: int = 0
    first_time: datetime | None = None
    last_time: datetime | None = None
    errors: tuple[InputError, ...] = ()
    stats: tuple[ParseStats, ...] = ()
    context: Context | None = field(default=None, compare=False, repr=False)
    """The rule context (events, correlation, inference), for reports built on the check."""
    zones: ZoneBook | None = field(default=None, compare=False, repr=False)
    """The zone each node's times were read in (and the nodes whose zone was assumed)."""

    def state(self, f: Finding) -> str:
        """SARIF baselineState: ``new`` or ``unchanged`` (``new`` without a baseline)."""
        return "new" if self.baseline is None else self.baseline.state(f)

    @property
    def absent(self) -> tuple[BaselineEntry, ...]:
        """Baseline entries that no longer occur."""
        return () if self.baseline is None else self.baseline.absent(self.findings)

    def fails(self, f: Finding) -> bool:
        """True when ``f`` fails the check: at or above the threshold and not baselined."""
        if self.fail_on == "never" or self.state(f) != "new":
            return False
        return Severity(f.severity).rank >= Severity(self.fail_on).rank

    @property
    def failing(self) -> tuple[Finding, ...]:
        """The findings that fail the check."""
        return tuple(f for f in self.findings if self.fails(f))

    @property
    def exit_code(self) -> int:
        """0: nothing at or above the threshold; 1: findings; 2: inputs could not be read."""
        if self.errors:
            return 2
        return 1 if self.failing else 0

    def summary(self) -> dict[str, Any]:
        """Counts and the verdict, as in the JSON document's ``summary``."""
        sev = Counter(str(f.severity) for f in self.findings)
        states = Counter(self.state(f) for f in self.findings)
        return {
            "total": len(self.findings),
            "by_severity": {s.value: sev.get(s.value, 0) for s in Severity},
            "by_rule": dict(sorted(Counter(f.rule for f in self.findings).items())),
            "new": states.get("new", 0),
            "unchanged": states.get("unchanged", 0),
            "absent": len(self.absent),
            "failing": len(self.failing),
            "fail_on": self.fail_on,
            "passed": self.exit_code == 0,
            "rules_run": len(self.rules),
            "events": self.events,
            "files": self.files,
            "first_time": self.first_time,
            "last_time": self.last_time,
            "config": None if self.deployment is None else self.deployment.path,
            "input_errors": [{"path": e.path, "message": e.message} for e in self.errors],
        }


def check_context(
    ctx: Context,
    *,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    fail_on: str = "warning",
    baseline: Baseline | None = None,
    errors: Sequence[InputError] = (),
    evidence_cap: int | None = EVIDENCE_CAP,
    progress: Progress = NULL_PROGRESS,
) -> CheckReport:
    """Run the selected rules on a prepared context (``evidence_cap`` evidence lines at most
    per finding, None for all; ``progress`` hears of each rule)."""
    if fail_on not in FAIL_ON:
        raise ValueError(f"--fail-on {fail_on!r}: allowed values are {', '.join(FAIL_ON)}")
    rules = select_rules(select, ignore)
    findings = run(ctx, rules, evidence_cap=evidence_cap, progress=progress)
    frame = ctx.raw.frame
    times = frame["time"].drop_nulls() if frame.height else pl.Series([], dtype=pl.Datetime)
    first = times.min() if times.len() else None
    last = times.max() if times.len() else None
    return CheckReport(
        findings=tuple(findings),
        rules=tuple(rules),
        fail_on=fail_on,
        baseline=baseline,
        deployment=ctx.declared,
        events=frame.height,
        files=len([s for s in ctx.stats if s.error is None]),
        first_time=first if isinstance(first, datetime) else None,
        last_time=last if isinstance(last, datetime) else None,
        errors=tuple(errors),
        stats=tuple(ctx.stats),
        context=ctx,
    )


def check(
    paths: Sequence[str | Path] = (),
    *,
    config: str | Path | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    fail_on: str = "warning",
    baseline: Baseline | None = None,
    correct_skew: bool = False,
    formats_dir: Sequence[str | Path] = (),
    node: str | None = None,
    tz: str | None = None,
    jobs: int | None = None,
    evidence_cap: int | None = EVIDENCE_CAP,
    progress: Progress | None = None,
) -> CheckReport:
    """Check logs (``paths``), a deployment file (``config``), or both.

    Each node's zone-less times are read in the zone the deployment file declares for it,
    else in ``tz``, else in UTC (``report.zones`` says which nodes' zone was assumed).
    ``progress`` hears of the stages (parsing, correlating, rules).
    """
    if not paths and config is None:
        raise ValueError("nothing to check: give log paths, --config FILE, or both")
    deployment = None if config is None else load_deployment(config)
    select_rules(select, ignore)  # validate the patterns before any long load
    zones = zone_book(tz, None if deployment is None else deployment.node_zones())
    observer = progress or NULL_PROGRESS
    if paths:
        from logdoctor.api import load

        result = load(
            list(paths),
            formats_dir=formats_dir,
            node=node,
            jobs=jobs,
            zones=zones,
            progress=observer,
        )
        frame, stats, errors = result.frame, result.stats, result.errors
    else:
        from logdoctor.parse import empty_frame

        frame, stats, errors = empty_frame(), [], []
    observer.stage("correlating")
    ctx = Context(frame, stats, deployment, correct_skew=correct_skew)
    del frame  # the context holds its own time-ordered copy; free the load order one
    if paths:
        del result
    report = check_context(
        ctx,
        select=select,
        ignore=ignore,
        fail_on=fail_on,
        baseline=baseline,
        errors=errors,
        evidence_cap=evidence_cap,
        progress=observer,
    )
    return replace(report, zones=zones)


def fingerprints(report: CheckReport) -> list[str]:
    """The fingerprints of a report's findings, in order."""
    return [finding_fingerprint(f) for f in report.findings]
