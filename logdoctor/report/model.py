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
from typing import TYPE_CHECKING, Any

from logdoctor.model import Evidence, Finding

if TYPE_CHECKING:
    import polars as pl

    from logdoctor.analysis.coverage import NodeCoverage
    from logdoctor.ingest.messages import MessageStore

__all__ = [
    "ConfigFact",
    "ConfigView",
    "Correlation",
    "CoverageFile",
    "Diagnosis",
    "EvidenceRow",
    "FindingGroup",
    "FindingView",
    "Gap",
    "Limits",
    "Marker",
    "Report",
    "Rich",
    "Shape",
    "Stray",
    "Unchecked",
    "UserLink",
    "UserRow",
    "Verdict",
]

Rich = tuple[tuple[str, bool], ...]
"""Text in pieces: ``(text, marked)``; the template prints a marked piece as ``<code>`` (a
fix step's `command`) or ``<mark>`` (a decisive field of a log line), and escapes all of it."""


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
    same: bool | None = None
    """Whether the two values agree, when that is not plain equality (a Jabber group seen
    on fewer devices than it declares agrees); None: compare the values."""

    @property
    def status(self) -> str:
        """``agree``, ``differ``, ``declared only``, ``inferred only`` or ``unknown``."""
        if self.declared is not None and self.inferred is not None:
            same = self.same
            if same is None:
                same = self.declared.strip().lower() == self.inferred.strip().lower()
            return "agree" if same else "differ"
        if self.declared is not None:
            return "declared only"
        if self.inferred is not None:
            return "inferred only"
        return "unknown"


@dataclass(frozen=True)
class Unchecked:
    """A rule that could not be evaluated on these inputs (``state`` ``not checked``), or
    only against the deployment file (``config only``), and what it lacked."""

    rule: str
    title: str
    state: str
    reason: str


@dataclass(frozen=True)
class Correlation:
    """What the rule context computed that the report shows as well (one computation):
    the enriched events (:attr:`logdoctor.rules.Context.events`), the token lineage and
    the coverage with LD902's gaps."""

    events: pl.DataFrame = field(repr=False)
    lineage: pl.DataFrame = field(repr=False)
    coverage: tuple[NodeCoverage, ...] = field(default=(), repr=False)
    messages: MessageStore | None = field(default=None, repr=False)
    """The text of the events whose ``message`` is null (:mod:`logdoctor.ingest.messages`)."""


@dataclass(frozen=True)
class Diagnosis:
    """What the check engine concluded about a set of logs (and a deployment file).

    ``rules_ran`` is False when no rule engine ran: the report then says that it shows the
    logs only, instead of claiming that nothing is wrong. ``correlation`` is the rule
    context's correlation (None: the report computes it with the same functions).
    """

    findings: tuple[Finding, ...] = ()
    config: tuple[ConfigFact, ...] = ()
    rules_ran: bool = False
    notes: tuple[str, ...] = ()
    rule_errors: tuple[str, ...] = ()
    """Rules that raised (one line each): their findings are unknown, the others' shown."""
    unchecked: tuple[Unchecked, ...] = ()
    correlation: Correlation | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Limits:
    """Caps that keep a report small and fast for any input size."""

    evidence_per_finding: int = 20
    """Evidence lines shown per finding (the rest are counted)."""
    evidence_per_fact: int = 10
    """Evidence lines shown per configuration fact."""
    users_shown: int = 1000
    """Rows of the per-user table (most failures first, then most events)."""
    users_indexed: int = 100_000
    """Users beyond the table that the page's filter can still find (name and counts)."""
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
    gaps: int = 200
    """Gaps listed (LD902's, the longest ones first when the cap bites)."""
    strays: int = 20
    """Groups (node and file) of stray lines listed (lines far outside the charted range)."""
    finding_users: int = 50
    """Affected users linked per finding."""
    excerpt_chars: int = 300
    """Characters of a log message shown in an evidence line or an example."""
    name_chars: int = 80
    """Characters of a user, node, client or token name shown."""


# -- views ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceRow:
    """One evidence line as shown: where, when, the excerpt (its decisive fields marked)
    and what such a line means (shown once per table, not on each row)."""

    node: str
    file: str
    """The file's name (``ssosp00001.log.gz``); ``path`` is the whole path."""
    line: int
    time: str
    kind: str
    meaning: str
    excerpt: str
    path: str = ""
    parts: Rich = ()
    """The excerpt in pieces, decisive fields (``reason=``, ``via=``...) marked."""
    basis: str = ""
    """published, documented or modelled: how well-founded the pattern that recognized the
    line is (empty for a line no pattern recognized, a deployment-file line)."""


@dataclass(frozen=True)
class UserLink:
    """A user a finding concerns; ``row`` is the user's row in the users table (None when the
    table was cut before it)."""

    name: str
    row: int | None


@dataclass(frozen=True)
class FindingView:
    """A finding as shown."""

    anchor: str
    """``LD101-expc1``: the rule and the subjects, stable across runs."""
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
    fix_parts: tuple[Rich, ...] = ()
    message_parts: Rich = ()
    users: tuple[UserLink, ...] = ()
    users_more: int = 0
    basis: str = ""
    """The weakest basis of the finding's log lines (empty: no recognized log line)."""


@dataclass(frozen=True)
class FindingGroup:
    """Findings of one rule with the same title and fix (``LD403 × 19 device names``): one
    card, one line of the summary table, each member with its own anchor."""

    anchor: str
    """The rule id (``LD403``), or the member's anchor when the group has one member."""
    rule: str
    severity: str
    title: str
    noun: str
    """What the subjects are, plural (``device names``)."""
    members: tuple[FindingView, ...]
    fix_parts: tuple[Rich, ...]
    users: int
    """Distinct users named by the members' lines (as far as kept)."""

    @property
    def count(self) -> int:
        """Number of findings in the group."""
        return len(self.members)


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
    first_step_parts: Rich = ()
    short: str = ""
    """The verdict in a few words, for the page title (``1 problem to fix``)."""


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
    anchor: str = ""
    """Id of the user's row (``user-3``), the target of a finding's link."""


@dataclass(frozen=True)
class Gap:
    """A gap LD902 reports: a rotated file missing, or a silence in hours busy on other days."""

    node: str
    family: str
    kind: str
    """``missing file`` or ``silence``."""
    where: str
    """``file A → file B`` (the file names the gap lies between), and the missing names."""
    start: str
    end: str
    duration: str
    seconds: float
    expected: int
    """Records the same hours held on another day (silences; 0 if unknown)."""


@dataclass(frozen=True)
class CoverageFile:
    """What one input file covers."""

    node: str
    file: str
    """The path relative to the input it came from (``path`` is the whole path)."""
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
    path: str = ""
    partial: str | None = None
    """Where reading stopped when the file was only partly read (a truncated gzip)."""


@dataclass(frozen=True)
class Shape:
    """Unrecognized messages of one template (see :mod:`logdoctor.analysis.shapes`)."""

    shape: str
    """The template: ``<*>`` where records differ, ``<uuid>``, ``<n>``... for masked values."""
    count: int
    nodes: int
    example: EvidenceRow
    second: EvidenceRow | None = None
    """Another record of the template (the last one, a different message if any)."""
    family: str = ""
    first: str = ""
    last: str = ""
    command: str = ""
    """The ``logdoctor formats suggest`` command that drafts an event for the template."""


@dataclass(frozen=True)
class Stray:
    """Lines of one file far outside the time range the other lines cover (not charted)."""

    node: str
    file: str
    path: str
    count: int
    first: str
    last: str
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
    """What the report is about: ``--title``, else the bundle's name."""
    page_title: str
    """The browser tab's title: the bundle and the verdict."""
    header: tuple[str, ...]
    """The header's facts (events and nodes, time range, generated), shown joined by ``·``."""
    generated: str
    version: str
    inputs: tuple[str, ...]
    events: int
    nodes: tuple[str, ...]
    first: str
    last: str
    verdict: Verdict
    findings: tuple[FindingView, ...]
    groups: tuple[FindingGroup, ...]
    unchecked: tuple[Unchecked, ...]
    rules_ran: bool
    config: tuple[ConfigView, ...]
    users: tuple[UserRow, ...]
    users_total: int
    markers: tuple[Marker, ...]
    markers_total: int
    coverage: tuple[CoverageFile, ...]
    gaps: tuple[Gap, ...]
    gaps_total: int
    strays: tuple[Stray, ...]
    stray_lines: int
    stray_groups: int
    shapes: tuple[Shape, ...]
    shapes_total: int
    unrecognized_total: int
    bucket_label: str
    chart: Mapping[str, Any] = field(default_factory=dict)
    """JSON-ready chart data (buckets, series by level and by kind, markers)."""
    drill: Mapping[str, Any] = field(default_factory=dict)
    """JSON-ready per-user drill-down data (events and token lineage)."""
    user_index: Mapping[str, Any] = field(default_factory=dict)
    """JSON-ready users beyond the table, for the filter (names and counts), and the
    inputs for the ``logdoctor timeline --user`` command it suggests."""
    limits: Limits = field(default_factory=Limits)
