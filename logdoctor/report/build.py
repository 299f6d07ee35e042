"""Build the report model from loaded logs and a diagnosis.

This is where log text crosses into the report: every string taken from a log (or from a
finding, which quotes logs) goes through :func:`neutral` on its way into a view, cut to a
readable length; the JSON handed to the page's script is built only from such strings and
numbers. Each section has its own module in :mod:`logdoctor.report.sections`;
:func:`build_report` computes the shared values once and hands each section what it needs.

The events, token lineage and gaps come from the rule context's correlation
(:class:`~logdoctor.report.model.Correlation`), so the report and ``logdoctor check`` show one
truth; without a diagnosis the same functions compute them here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import polars as pl

from logdoctor import __version__
from logdoctor.report import aggregate as agg
from logdoctor.report.drill import FILE_CHARS, drill_data, kind_meaning, user_index
from logdoctor.report.model import Correlation, Diagnosis, Limits, Report
from logdoctor.report.sections.activity import bucket_label, chart, markers, user_rows
from logdoctor.report.sections.coverage import coverage_files, gaps, strays
from logdoctor.report.sections.findings import (
    config_views,
    finding_views,
    groups,
    sort_findings,
)
from logdoctor.report.sections.rows import Paths
from logdoctor.report.sections.shapes import shapes
from logdoctor.report.sections.verdict import verdict
from logdoctor.report.text import neutral
from logdoctor.report.views import bundle_name, fmt_duration, fmt_minute, fmt_time
from logdoctor.table import ParseStats

__all__ = [
    "bucket_label",
    "build_report",
    "fmt_duration",
    "fmt_time",
    "kind_meaning",
    "sort_findings",
]


def _correlation(frame: pl.DataFrame, stats: Sequence[ParseStats]) -> Correlation:
    """The rule context's correlation, computed here when no diagnosis brought it."""
    from logdoctor.report.diagnose import correlation_of
    from logdoctor.rules import Context

    return correlation_of(Context(frame, stats))


def _header(
    events: int, nodes: Sequence[str], first: str, last: str, generated: str
) -> tuple[str, ...]:
    what = f"{events:,} event{'s' if events != 1 else ''}"
    if nodes:
        what += f" from {len(nodes)} node{'s' if len(nodes) != 1 else ''} ({', '.join(nodes)})"
    parts = [what]
    if first:
        parts.append(f"{first} to {last} UTC" if last != first else f"{first} UTC")
    parts.append(f"generated {generated} UTC by logdoctor {__version__}")
    return tuple(parts)


def _when(value: object) -> datetime | None:
    return value if isinstance(value, datetime) else None


def _span(events: pl.DataFrame, rng: agg.TimeRange) -> tuple[str, str]:
    """The first and last minute the report covers: the time range without its strays."""
    first = _when(events["time"].min()) if events.height else None
    last = _when(events["time"].max()) if events.height else None
    if rng.lo is not None and rng.hi is not None:
        first = datetime.fromtimestamp(rng.lo, UTC)
        last = datetime.fromtimestamp(rng.hi, UTC)
    return fmt_minute(first), fmt_minute(last)


def build_report(
    frame: pl.DataFrame,
    stats: Sequence[ParseStats],
    diagnosis: Diagnosis | None = None,
    *,
    inputs: Sequence[str] = (),
    title: str | None = None,
    limits: Limits | None = None,
    now: datetime | None = None,
) -> Report:
    """The report model for an event table (``LoadResult.frame``), its per-file statistics
    and what the check engine concluded (``diagnosis``; None when no rule ran).

    The events, lineage and gaps are the diagnosis's correlation when it has one (``frame``
    is then only counted), else computed from ``frame`` as the rule context does.

    Long because the one ``Report(...)`` call names its 36 fields, each from a section
    function of :mod:`logdoctor.report.sections` (a table of assignments, not logic)."""
    lim = limits or Limits()
    diag = diagnosis or Diagnosis()
    corr = diag.correlation or _correlation(frame, stats)
    events = corr.events
    paths = Paths(inputs)
    rng = agg.time_range(events, lim, corr.messages)
    timeline = agg.timeline(events, lim, rng)
    marks, marks_total = agg.markers(events, lim)
    ua = agg.users(events, lim)
    gap_rows, gaps_total = gaps(corr, lim)
    templates, shapes_total, unrec_total = agg.shapes(events, lim)
    drill_count = min(len(ua.rows), lim.drill_users)
    ordered = sort_findings(diag.findings)
    findings = finding_views(ordered, {str(r["user"]): i for i, r in enumerate(ua.rows)}, lim)
    judged = verdict(findings, diag, stats, frame.height, paths)
    name = neutral(title or bundle_name(inputs), 200)
    nodes = tuple(neutral(n, lim.name_chars) for n in sorted({s.node for s in stats if s.node}))
    first, last = _span(events, rng)
    generated = fmt_time(now or datetime.now(UTC))[:-4]
    return Report(
        title=name,
        page_title=f"{name}: {judged.short} · logdoctor",
        header=_header(frame.height, nodes, first, last, generated),
        generated=generated,
        version=__version__,
        inputs=tuple(neutral(p, FILE_CHARS) for p in inputs),
        events=frame.height,
        nodes=nodes,
        first=first,
        last=last,
        verdict=judged,
        findings=findings,
        groups=groups(ordered, findings),
        unchecked=tuple(diag.unchecked),
        rules_ran=diag.rules_ran or bool(diag.findings),
        config=config_views(diag.config, lim),
        users=user_rows(ua, drill_count, lim),
        users_total=ua.total,
        markers=markers(marks, lim),
        markers_total=marks_total,
        coverage=coverage_files(stats, corr, paths, lim),
        gaps=gap_rows,
        gaps_total=gaps_total,
        strays=strays(rng, paths, lim),
        stray_lines=rng.stray_lines,
        stray_groups=rng.stray_groups,
        shapes=shapes(templates, inputs, lim),
        shapes_total=shapes_total,
        unrecognized_total=unrec_total,
        bucket_label=bucket_label(timeline.bucket),
        chart=chart(timeline, marks, rng),
        drill=drill_data(ua, ua.rows[:drill_count], corr.lineage, lim),
        user_index=user_index(ua, inputs, lim),
        limits=lim,
    )
