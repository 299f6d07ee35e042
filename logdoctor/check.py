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
from logdoctor.bundleset import refuse_several_bundles
from logdoctor.deployment import Deployment, load_deployment
from logdoctor.model import Finding, ParseStats, Severity
from logdoctor.progress import NULL_PROGRESS, Progress
from logdoctor.rules import EVIDENCE_CAP, Context, Rule, RuleFailure, run_rules, select_rules
from logdoctor.sources import InputError
from logdoctor.timestamps import ZoneBook, zone_book

__all__ = ["FAIL_ON", "STATUSES", "CheckReport", "check", "check_context", "unread_summary"]

FAIL_ON = ("error", "warning", "info", "never")
"""Thresholds of ``--fail-on``: findings at or above it fail the check."""

STATUSES = ("passed", "failed", "incomplete", "not-checked", "internal-error")
"""``CheckReport.status``: the verdict in one word (the JSON ``summary.status``).

- ``not-checked``: logs were given but no log record was read (exit 2);
- ``internal-error``: a rule raised; the other rules' findings are kept (exit 2);
- ``incomplete``: some inputs could not be read, or only partly (a truncated compressed
  file), and ``allow_partial`` is off (exit 2);
- ``failed`` / ``passed``: findings at or above ``fail_on`` (exit 1) or none (exit 0).
"""

_NAMED = 3
"""Unread inputs named in one line (the rest are counted)."""


def unread_summary(errors: Sequence[InputError], named: int = _NAMED) -> str:
    """``a.zip (not a readable zip archive), b (no such file or folder) and 2 more``."""
    parts = [f"{e.path} ({e.message})" for e in errors[:named]]
    more = f" and {len(errors) - named} more" if len(errors) > named else ""
    return ", ".join(parts) + more


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
    rule_errors: tuple[RuleFailure, ...] = ()
    """Rules that raised (internal errors); the other rules' findings are in ``findings``."""
    logs: bool = False
    """Logs were given (False: a deployment file checked alone, where no record is normal;
    :func:`check_context` sets it by default)."""
    allow_partial: bool = False
    """Unreadable inputs do not by themselves make the exit status 2."""
    inputs: tuple[str, ...] = ()
    """The paths given (named when nothing could be read from them)."""
    zones: ZoneBook | None = field(default=None, compare=False, repr=False)
    """The zone each node's times were read in (and the nodes whose zone was assumed)."""

    @property
    def read_nothing(self) -> bool:
        """Logs were given but not one record was read from them: nothing was checked."""
        return self.logs and self.events == 0

    @property
    def complete(self) -> bool:
        """Every input was read (wholly) and every rule ran."""
        return not (self.errors or self.rule_errors or self.read_nothing)

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
    def status(self) -> str:
        """The verdict in one word (one of :data:`STATUSES`)."""
        if self.read_nothing:
            return "not-checked"
        if self.rule_errors:
            return "internal-error"
        if self.errors and not self.allow_partial:
            return "incomplete"
        return "failed" if self.failing else "passed"

    @property
    def exit_code(self) -> int:
        """0: passed; 1: findings at or above the threshold; 2: nothing read, an input not
        read (unless ``allow_partial``), or a rule's internal error."""
        return {"passed": 0, "failed": 1}.get(self.status, 2)

    @property
    def not_read(self) -> str:
        """What was not read, in words (empty when everything was)."""
        if self.read_nothing:
            if self.errors:
                return f"no log was read: {unread_summary(self.errors)}"
            if self.files:
                return (
                    f"no log record was read: {self.files} file(s) read, none holds a record "
                    "of the known formats"
                )
            where = ", ".join(self.inputs) or "the inputs"
            return f"no log was read: no log file found in {where}"
        if self.errors:
            partly = sum(e.partial for e in self.errors)
            unread = len(self.errors) - partly
            counts = [f"{unread} input(s) not read"] if unread else []
            counts += [f"{partly} input(s) only partly read"] if partly else []
            return f"{' and '.join(counts)}: {unread_summary(self.errors)}"
        return ""

    def verdict(self) -> str:
        """The verdict as one line of text; says "passed" exactly when the exit status is 0."""
        status = self.status
        if status == "not-checked":
            return f"NOT CHECKED: {self.not_read}"
        if self.failing:
            head = f"FAILED: {len(self.failing)} at or above {self.fail_on}"
        elif self.fail_on == "never":
            head = "nothing fails the check (--fail-on never)"
        else:
            head = f"nothing new at or above {self.fail_on}"
        parts = [head]
        if self.rule_errors:
            ids = ", ".join(f.rule for f in self.rule_errors)
            parts.append(
                f"INTERNAL ERROR in {len(self.rule_errors)} rule(s) ({ids}): their findings "
                "are unknown, the other rules' are above"
            )
        if self.errors:
            parts.append(f"INCOMPLETE: {self.not_read}")
        if status == "passed":
            parts[0] = f"passed ({head})"
        return "; ".join(parts)

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
            "status": self.status,
            "complete": self.complete,
            "not_read": self.not_read,
            "rules_run": len(self.rules),
            "rule_errors": [{"rule": f.rule, "message": f.error} for f in self.rule_errors],
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
    logs: bool = True,
    allow_partial: bool = False,
    inputs: Sequence[str] = (),
    evidence_cap: int | None = EVIDENCE_CAP,
    progress: Progress = NULL_PROGRESS,
) -> CheckReport:
    """Run the selected rules on a prepared context (each rule on its own: one that raises
    is listed in ``rule_errors`` and the others still run; ``evidence_cap`` evidence lines at
    most per finding, None for all; ``progress`` hears of each rule)."""
    if fail_on not in FAIL_ON:
        raise ValueError(f"--fail-on {fail_on!r}: allowed values are {', '.join(FAIL_ON)}")
    rules = select_rules(select, ignore)
    findings, failures = run_rules(ctx, rules, evidence_cap=evidence_cap, progress=progress)
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
        rule_errors=tuple(failures),
        logs=logs,
        allow_partial=allow_partial,
        inputs=tuple(inputs),
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
    allow_partial: bool = False,
    one_cluster: bool = False,
    evidence_cap: int | None = EVIDENCE_CAP,
    progress: Progress | None = None,
) -> CheckReport:
    """Check logs (``paths``), a deployment file (``config``), or both.

    Logs of which not one record can be read give the status ``not-checked``; inputs that
    cannot be read, or only partly, make the check ``incomplete`` (exit 2) unless
    ``allow_partial``. Paths that hold several bundles (each with its own nodes or
    deployment file) raise :class:`~logdoctor.bundleset.SeveralBundles` unless
    ``one_cluster``. Each node's zone-less times are read in the zone the deployment file
    declares for it, else in ``tz``, else in UTC (``report.zones`` says which nodes' zone
    was assumed). ``progress`` hears of the stages (parsing, correlating, rules).
    """
    if not paths and config is None:
        raise ValueError("nothing to check: give log paths, --config FILE, or both")
    deployment = None if config is None else load_deployment(config)
    select_rules(select, ignore)  # validate the patterns before any long load
    nodes = None
    zones = zone_book(tz, None if deployment is None else deployment.node_zones())
    observer = progress or NULL_PROGRESS
    if paths:
        from logdoctor.api import open_inputs

        loader = open_inputs(
            list(paths),
            formats_dir=formats_dir,
            node=node,
            jobs=jobs,
            zones=zones,
            progress=observer,
            aliases=None if deployment is None else deployment.aliases,
        )
        if not one_cluster:
            refuse_several_bundles(loader, [str(p) for p in paths])
        result = loader.result()
        del loader
        frame, stats, errors, nodes = result.frame, result.stats, result.errors, result.nodes
    else:
        from logdoctor.parse import empty_frame

        frame, stats, errors = empty_frame(), [], []
    observer.stage("correlating")
    ctx = Context(frame, stats, deployment, correct_skew=correct_skew, nodes=nodes)
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
        logs=bool(paths),
        allow_partial=allow_partial,
        inputs=[str(p) for p in paths],
        evidence_cap=evidence_cap,
        progress=observer,
    )
    return replace(report, zones=zones)


def fingerprints(report: CheckReport) -> list[str]:
    """The fingerprints of a report's findings, in order."""
    return [finding_fingerprint(f) for f in report.findings]
