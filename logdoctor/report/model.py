"""The report model: plain typed data the HTML template renders, and the renderer's inputs.

Two kinds of types live here. The *inputs* of a report besides the loaded logs are what the
check engine says (:class:`Diagnosis`: findings and configuration facts). The *views* are what
the template reads: every string in a view that came from a log is already neutralized
(:func:`logdoctor.report.text.neutral`) and cut to a readable length, every time is already
formatted, so the template only places text (Jinja2 escapes it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from logdoctor.model import Evidence, Finding

__all__ = [
    "ConfigFact",
    "ConfigView",
    "CoverageFile",
    "Diagnosis",
    "EvidenceRow",
    "FindingView",
    "Gap",
    "Limits",
    "Marker",
    "Report",
    "Shape",
    "UserRow",
    "Verdict",
]


# -- inputs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigFact:
    """One deployment setting: what the configuration file declares and what the logs show.

    ``declared`` is None when no file declares it, ``inferred`` is None when the logs do not
    show it. ``evidence`` are the log lines the inference rests on (``evidence_total`` counts
    all of them); ``declared_at`` says where the file declares it (``deployment.toml:12``).
    """

    name: str
    declared: str | None = None
    inferred: str | None = None
    subject: str = ""
    reason: str = ""
    evidence: tuple[Evidence, ...] = ()
    evidence_total: int = 0
    declared_at: str | None = None

    @property
    def status(self) -> str:
        """``agree``, ``differ``, ``declared only``, ``inferred only`` or ``unknown``."""
        if self.declared is not None and self.inferred is not None:
            same = self.declared.strip().lower() == self.inferred.strip().lower()
            return "agree" if same else "differ"
        if self.declared is not None:
            return "declared only"
        if self.inferred is not None:
            return "inferred only"
        return "unknown"


@dataclass(frozen=True)
class Diagnosis:
    """What the check engine concluded about a set of logs (and a deployment file).

    ``rules_ran`` is False when no rule engine ran: the report then says that it shows the
    logs only, instead of claiming that nothing is wrong.
    """

    findings: tuple[Finding, ...] = ()
    config: tuple[ConfigFact, ...] = ()
    rules_ran: bool = False
    notes: tuple[str, ...] = ()
    rule_errors: tuple[str, ...] = ()
    """Rules that raised (one line each): their findings are unknown, the others' shown."""


@dataclass(frozen=True)
class Limits:
    """Caps that keep a report small and fast for any input size."""

    evidence_per_finding: int = 20
    """Evidence lines shown per finding (the rest are counted)."""
    evidence_per_fact: int = 10
    """Evidence lines shown per configuration fact."""
    users_shown: int = 1000
    """Rows of the per-user table (most failures first, then most events)."""
    drill_users: int = 100
    """Users (the first rows of the table) whose events and token lineage are kept for the
    drill-down."""
    drill_events: int = 10_000
    """Events kept for all per-user drill-downs together."""
    drill_events_per_user: int = 100
    """Events kept for one user's drill-down (the first and the most recent ones)."""
    lineage_tokens: int = 10
    """Tokens of each type (refresh, access) kept per user and client in the lineage view
    (the most recent ones)."""
    max_buckets: int = 6000
    """Time buckets of the timeline chart: one minute unless the span needs coarser ones."""
    kinds_charted: int = 8
    """Event kinds drawn as their own series; the others are summed as ``other``."""
    markers: int = 300
    """Markers (configuration changes, key regenerations, restarts, revocations) kept."""
    shapes: int = 60
    """Unrecognized message shapes listed."""
    gaps_per_file: int = 20
    """Gaps listed per file (the longest ones)."""
    gap_seconds: int = 3600
    """A silence longer than this between two records (or two rotated files) is a gap."""
    excerpt_chars: int = 300
    """Characters of a log message shown in an evidence line or an example."""
    name_chars: int = 80
    """Characters of a user, node, client or token name shown."""


# -- views ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceRow:
    """One evidence line as shown: where, when, the excerpt and what such a line means."""

    node: str
    file: str
    line: int
    time: str
    kind: str
    meaning: str
    excerpt: str


@dataclass(frozen=True)
class FindingView:
    """A finding as shown."""

    anchor: str
    rule: str
    severity: str
    title: str
    message: str
    subjects: tuple[str, ...]
    first_seen: str
    last_seen: str
    fix: tuple[str, ...]
    evidence: tuple[EvidenceRow, ...]
    evidence_more: int


@dataclass(frozen=True)
class Verdict:
    """The top of the report: how bad, how many of each severity, and what to do first."""

    level: str
    """``error``, ``warning``, ``info``, ``ok``, ``incomplete`` (an input was not read or a
    rule failed, and nothing worse was found) or ``unknown`` (no rule ran, or no record was
    read)."""
    headline: str
    counts: Mapping[str, int]
    first_step: str | None
    first_anchor: str | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class UserRow:
    """One line of the per-user table."""

    user: str
    logins: int
    access: int
    refreshes: int
    failures: int
    failures_by_reason: tuple[tuple[str, int], ...]
    last_seen: str
    events: int
    drill: bool
    """True when the drill-down data holds this user's events."""


@dataclass(frozen=True)
class Gap:
    """A silence in the logs longer than the threshold."""

    node: str
    where: str
    """The file (within a file) or ``file A → file B`` (between rotated files)."""
    start: str
    end: str
    duration: str
    seconds: float


@dataclass(frozen=True)
class CoverageFile:
    """What one input file covers."""

    node: str
    file: str
    family: str
    first: str
    last: str
    span: str
    lines: int
    records: int
    unrecognized: int
    malformed: int
    decode_errors: int
    error: str | None
    gaps: int


@dataclass(frozen=True)
class Shape:
    """Unrecognized messages that look alike once ids and numbers are masked."""

    shape: str
    count: int
    nodes: int
    example: EvidenceRow


@dataclass(frozen=True)
class Marker:
    """A moment worth a line on the chart: configuration change, key, restart, revocation."""

    time: str
    kind: str
    node: str
    detail: str
    count: int
    where: str


@dataclass(frozen=True)
class ConfigView:
    """A configuration fact as shown."""

    name: str
    subject: str
    declared: str
    inferred: str
    status: str
    reason: str
    declared_at: str
    evidence: tuple[EvidenceRow, ...]
    evidence_more: int


@dataclass(frozen=True)
class Report:
    """Everything the template shows."""

    title: str
    generated: str
    version: str
    inputs: tuple[str, ...]
    events: int
    nodes: tuple[str, ...]
    first: str
    last: str
    verdict: Verdict
    findings: tuple[FindingView, ...]
    rules_ran: bool
    config: tuple[ConfigView, ...]
    users: tuple[UserRow, ...]
    users_total: int
    markers: tuple[Marker, ...]
    markers_total: int
    coverage: tuple[CoverageFile, ...]
    gaps: tuple[Gap, ...]
    gaps_total: int
    gap_threshold: str
    shapes: tuple[Shape, ...]
    shapes_total: int
    unrecognized_total: int
    bucket_label: str
    chart: Mapping[str, Any] = field(default_factory=dict)
    """JSON-ready chart data (buckets, series by level and by kind, markers)."""
    drill: Mapping[str, Any] = field(default_factory=dict)
    """JSON-ready per-user drill-down data (events and token lineage)."""
    limits: Limits = field(default_factory=Limits)
