"""The verdict of a check as a value: :class:`CheckReport` (findings, baseline state, what was
read, the exit status) and the thresholds of ``--fail-on``.

A value only: it holds no rule context and runs nothing, so the writers in
:mod:`logdoctor.outputs` stand on it without standing on the pipeline
(:mod:`logdoctor.pipeline` builds it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from logdoctor.baseline import Baseline, BaselineEntry
from logdoctor.ingest.inputs import InputError
from logdoctor.model import Finding, Severity
from logdoctor.rules import Rule, RuleFailure
from logdoctor.table import ParseStats
from logdoctor.timestamps import ZoneBook
from logdoctor.ucm.deploymodel import Deployment

__all__ = ["FAIL_ON", "STATUSES", "CheckReport", "unread_summary"]

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
