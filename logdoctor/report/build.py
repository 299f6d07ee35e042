"""Build the report model from loaded logs and a diagnosis.

This is where log text crosses into the report: every string taken from a log (or from a
finding, which quotes logs) goes through :func:`neutral` here, cut to a readable length; the
JSON handed to the page's script is built only from such strings and numbers.

The events, token lineage and gaps come from the rule context's correlation
(:class:`~logdoctor.report.model.Correlation`), so the report and ``logdoctor check`` show one
truth; without a diagnosis the same functions compute them here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl

from logdoctor import __version__
from logdoctor.analysis.coverage import gaps_per_file
from logdoctor.analysis.shapes import Example, Template
from logdoctor.analysis.suggest import suggest_command
from logdoctor.model import Evidence, Finding, Severity
from logdoctor.report import aggregate as agg
from logdoctor.report.colors import FAILURE_COLOR
from logdoctor.report.drill import FILE_CHARS, drill_data, kind_meaning, user_index
from logdoctor.report.model import (
    ConfigFact,
    ConfigView,
    Correlation,
    CoverageFile,
    Diagnosis,
    EvidenceRow,
    FindingGroup,
    FindingView,
    Gap,
    Limits,
    Marker,
    Report,
    Shape,
    Stray,
    UserLink,
    UserRow,
    Verdict,
)
from logdoctor.report.text import neutral
from logdoctor.report.views import (
    basename,
    bundle_name,
    code_parts,
    fmt_duration,
    fmt_minute,
    fmt_time,
    mark_parts,
    plural,
    rel_path,
    slug,
    subject_noun,
)
from logdoctor.table import ParseStats

__all__ = [
    "bucket_label",
    "build_report",
    "fmt_duration",
    "fmt_time",
    "kind_meaning",
    "sort_findings",
]


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Worst first, then by rule id and subjects."""
    return sorted(findings, key=lambda f: (-Severity(f.severity).rank, f.rule, f.subjects))


class _Paths:
    """Paths as shown: relative to the inputs, neutralized (the whole path kept for hovers)."""

    def __init__(self, inputs: Sequence[str]) -> None:
        self.inputs = list(inputs)

    def rel(self, path: str) -> str:
        return neutral(rel_path(path, self.inputs), FILE_CHARS)

    def full(self, path: str) -> str:
        return neutral(path, FILE_CHARS)


def _evidence_row(e: Evidence, limits: Limits) -> EvidenceRow:
    excerpt = neutral(e.excerpt, limits.excerpt_chars)
    return EvidenceRow(
        node=neutral(e.node, limits.name_chars),
        file=neutral(basename(e.file), FILE_CHARS),
        line=int(e.line),
        time=fmt_time(e.time),
        kind=neutral(e.kind, limits.name_chars),
        meaning=kind_meaning(e.kind),
        excerpt=excerpt,
        path=neutral(e.file, FILE_CHARS),
        parts=mark_parts(excerpt),
        basis=e.basis or "",
    )


# -- findings ------------------------------------------------------------------------------------


def _anchor(rule: str, subjects: Sequence[str], used: set[str]) -> str:
    parts = [p for p in (slug(x) for x in (rule, *subjects)) if p]
    base = "-".join(parts)[:80].rstrip("-") or "finding"
    anchor, i = base, 1
    while anchor in used:
        i += 1
        anchor = f"{base}-{i}"
    used.add(anchor)
    return anchor


def _finding_view(f: Finding, anchor: str, rows: Mapping[str, int], limits: Limits) -> FindingView:
    shown = f.evidence[: limits.evidence_per_finding]
    total = max(f.evidence_total, len(f.evidence))
    fix = tuple(neutral(s, 1000) for s in f.fix)
    message = neutral(f.message, 2000)
    users = tuple(
        UserLink(neutral(u, limits.name_chars), rows.get(u))
        for u in f.users[: limits.finding_users]
    )
    return FindingView(
        anchor=anchor,
        rule=neutral(f.rule, 16),
        severity=Severity(f.severity).value,
        title=neutral(f.title, 200),
        message=message,
        subjects=tuple(neutral(s, limits.name_chars) for s in f.subjects[:50]),
        first_seen=fmt_time(f.first_seen),
        last_seen=fmt_time(f.last_seen),
        fix=fix,
        evidence=tuple(_evidence_row(e, limits) for e in shown),
        evidence_more=max(0, total - len(shown)),
        fix_parts=tuple(code_parts(s) for s in fix),
        message_parts=code_parts(message),
        users=users,
        users_more=max(0, len(f.users) - len(users)),
        basis=f.basis or "",
    )


def _noun(rule: str) -> str:
    from logdoctor.rules import get_rule

    try:
        doc = get_rule(rule).doc.sections.get("Detection")
    except KeyError:
        doc = None
    return subject_noun(doc)


def _groups(findings: Sequence[Finding], views: Sequence[FindingView]) -> list[FindingGroup]:
    """Findings of one rule with the same severity, title and fix, in finding order."""
    keyed: dict[tuple[str, str, str, tuple[str, ...]], list[int]] = {}
    for i, f in enumerate(findings):
        keyed.setdefault((f.rule, f.severity, f.title, f.fix), []).append(i)
    used: set[str] = set()
    out = []
    for key, idx in keyed.items():
        members = tuple(views[i] for i in idx)
        first = members[0]
        anchor = first.anchor if len(members) == 1 else _anchor("group", [first.rule], used)
        noun = _noun(key[0])
        out.append(
            FindingGroup(
                anchor=anchor,
                rule=first.rule,
                severity=first.severity,
                title=first.title,
                noun=plural(noun, len(members)),
                members=members,
                fix_parts=first.fix_parts,
                users=len({u.name for m in members for u in m.users}),
            )
        )
    return out


def _short_verdict(level: str, counts: Mapping[str, int]) -> str:
    n_bad = counts["error"] + counts["warning"]
    if level in ("error", "warning"):
        return f"{n_bad} problem{'s' if n_bad != 1 else ''} to fix"
    if level == "info":
        return f"no problem, {counts['info']} note{'s' if counts['info'] != 1 else ''}"
    if level == "ok":
        return "no problem found"
    if level == "incomplete":
        notes = (
            f", {counts['info']} note{'s' if counts['info'] != 1 else ''}" if counts["info"] else ""
        )
        return f"incomplete, no problem in what was read{notes}"
    return "logs only, no rule ran"


def _verdict(
    findings: Sequence[FindingView],
    diagnosis: Diagnosis,
    stats: Sequence[ParseStats],
    events: int,
    paths: _Paths,
) -> Verdict:
    counts = {s.value: 0 for s in Severity}
    for f in findings:
        counts[f.severity] += 1
    notes = [neutral(n, 500) for n in diagnosis.notes]
    bad = [s for s in stats if s.error is not None]
    partly = [s for s in stats if s.error is None and s.partial is not None]
    gaps = []  # what keeps the verdict from covering everything, in words
    for files, what in ((bad, "could not be read"), (partly, "were only partly read")):
        if files:
            named = ", ".join(paths.rel(s.path) for s in files[:3])  # relative to the input
            more = f" and {len(files) - 3} more" if len(files) > 3 else ""
            gaps.append(f"{len(files)} input(s) {what} ({named}{more})")
    if bad or partly:
        notes.append(
            "Log coverage lists every input that could not be read in full, with the reason."
        )
    if diagnosis.rule_errors:
        gaps.append(f"{len(diagnosis.rule_errors)} rule(s) failed with an internal error")
        notes += [neutral(e, 500) for e in diagnosis.rule_errors]
    if events == 0:
        return Verdict(
            level="unknown",
            headline="Not analysed: no log record was read"
            + (f" ({'; '.join(gaps)})." if gaps else "."),
            counts=counts,
            first_step=None,
            first_anchor=None,
            notes=tuple(notes),
            short="not analysed, no log record read",
        )
    unchecked = [u for u in diagnosis.unchecked if u.state == "not checked"]
    if unchecked:
        ids = ", ".join(u.rule for u in unchecked[:8]) + (", …" if len(unchecked) > 8 else "")
        notes.append(
            f"{len(unchecked)} rule(s) could not be checked with these inputs ({ids}): "
            "see What could not be checked."
        )
    incomplete = f"Incomplete: {'; '.join(gaps)}. " if gaps else ""
    if findings:
        worst = findings[0]
        n_bad = counts["error"] + counts["warning"]
        if worst.severity == "info":
            headline = f"No problem at warning or above in what was read; {counts['info']} note(s)."
        else:
            what = "problem" if n_bad == 1 else "problems"
            headline = f"{n_bad} {what} to fix. Worst: {worst.title}"
        step = worst.fix[0] if worst.fix else worst.title
        level = "incomplete" if gaps and worst.severity == "info" else worst.severity
        return Verdict(
            level=level,
            headline=incomplete + headline,
            counts=counts,
            first_step=step,
            first_anchor=worst.anchor,
            notes=tuple(notes),
            first_step_parts=code_parts(step),
            short=_short_verdict(level, counts),
        )
    if diagnosis.rules_ran and gaps:
        return Verdict(
            "incomplete",
            incomplete + "No problem found in what was read.",
            counts,
            None,
            None,
            tuple(notes),
            short=_short_verdict("incomplete", counts),
        )
    if diagnosis.rules_ran:
        return Verdict(
            "ok",
            "No problem found in these logs.",
            counts,
            None,
            None,
            tuple(notes),
            short=_short_verdict("ok", counts),
        )
    return Verdict(
        level="unknown",
        headline="The diagnostic rules did not run: this report describes the logs only.",
        counts=counts,
        first_step=None,
        first_anchor=None,
        notes=tuple(notes),
        short=_short_verdict("unknown", counts),
    )


# -- configuration -------------------------------------------------------------------------------


def _config_view(c: ConfigFact, limits: Limits) -> ConfigView:
    shown = c.evidence[: limits.evidence_per_fact]
    return ConfigView(
        name=neutral(c.name, 120),
        subject=neutral(c.subject, limits.name_chars),
        declared=neutral(c.declared, 200) if c.declared is not None else "",
        inferred=neutral(c.inferred, 200) if c.inferred is not None else "",
        status=c.status,
        reason=neutral(c.reason, 500),
        declared_at=neutral(c.declared_at, FILE_CHARS) if c.declared_at else "",
        evidence=tuple(_evidence_row(e, limits) for e in shown),
        evidence_more=max(0, max(c.evidence_total, len(c.evidence)) - len(shown)),
    )


# -- chart ---------------------------------------------------------------------------------------


def _encode(data: Sequence[int]) -> tuple[str, list[int]]:
    """A count series as ``("d", values)`` or, when mostly zero, ``("s", [i, v, i, v...])``
    (the non-zero buckets only): a long quiet span costs nothing."""
    pairs = [x for i, v in enumerate(data) if v for x in (i, v)]
    if len(pairs) < len(data):
        return "s", pairs
    return "d", list(data)


def _chart(
    chart: agg.ChartData, marks: Sequence[dict[str, Any]], rng: agg.TimeRange
) -> dict[str, Any]:
    lo = rng.lo if rng.lo is not None else 0
    hi = rng.hi if rng.hi is not None else 0
    return {
        "start": chart.start,
        "bucket": chart.bucket,
        "n": chart.n,
        "levels": [
            [neutral(name, 40), color, *_encode(data)] for name, color, data in chart.levels
        ],
        "kinds": [[neutral(name, 40), color, *_encode(data)] for name, color, data in chart.kinds],
        "fail": {
            "start": chart.fail_start,
            "bucket": chart.fail_bucket,
            "n": len(chart.failures),
            "data": _encode(chart.failures),
            "color": FAILURE_COLOR,
        },
        "markers": [
            [
                int(m["time"].timestamp()),
                m["kind"],
                neutral(f"{m['detail']} ({m['node']})" if m["node"] else m["detail"], 120),
                int(m["count"]),
            ]
            for m in marks
            if lo <= m["time"].timestamp() <= hi + 60
        ],
    }


def bucket_label(seconds: int) -> str:
    """``minute``, ``5 minutes``, ``hour``, ``6 hours``, ``day``, ``week`` (as the page's
    script names it in the chart titles)."""
    names = {60: "minute", 3600: "hour", 86400: "day", 604800: "week"}
    if seconds in names:
        return names[seconds]
    if seconds % 3600 == 0:
        return f"{seconds // 3600} hours"
    if seconds % 60 == 0:
        return f"{seconds // 60} minutes"
    return f"{seconds} seconds"


# -- coverage ------------------------------------------------------------------------------------


def _gaps(corr: Correlation, limits: Limits) -> tuple[list[Gap], int]:
    """LD902's gaps (:func:`logdoctor.analysis.coverage.coverage`), the longest first when
    capped."""
    gaps = [g for cov in corr.coverage for g in cov.gaps]
    kept = sorted(gaps, key=lambda g: -g.seconds)[: limits.gaps]
    kept.sort(key=lambda g: (g.node, g.family, g.start or datetime.min.replace(tzinfo=UTC)))
    out = []
    for g in kept:
        before = basename(g.before.file) if g.before else ""
        after = basename(g.after.file) if g.after else ""
        where = before if before == after else " → ".join(x for x in (before, after) if x)
        if g.missing:
            names = ", ".join(g.missing[:5]) + (
                f" and {len(g.missing) - 5} more" if len(g.missing) > 5 else ""
            )
            where = f"{where} (missing {names})" if where else f"missing {names}"
        out.append(
            Gap(
                node=neutral(g.node, limits.name_chars),
                family=neutral(g.family, 20),
                kind=g.kind,
                where=neutral(where, 2 * FILE_CHARS),
                start=fmt_time(g.start),
                end=fmt_time(g.end),
                duration=fmt_duration(g.seconds),
                seconds=float(g.seconds),
                expected=int(g.expected),
            )
        )
    return out, len(gaps)


def _coverage(
    stats: Sequence[ParseStats], corr: Correlation, paths: _Paths, limits: Limits
) -> tuple[CoverageFile, ...]:
    per_file = gaps_per_file(corr.coverage)
    return tuple(
        CoverageFile(
            node=neutral(st.node or "", limits.name_chars),
            file=paths.rel(st.path),
            family=neutral(st.family or "", 20),
            first=fmt_time(st.first_time),
            last=fmt_time(st.last_time),
            span=fmt_duration((st.last_time - st.first_time).total_seconds())
            if st.first_time and st.last_time
            else "",
            lines=st.lines,
            records=st.records,
            unrecognized=st.unrecognized,
            malformed=st.malformed,
            decode_errors=st.decode_errors,
            error=neutral(st.error, 500) if st.error is not None else None,
            gaps=per_file.get(st.path, 0),
            path=paths.full(st.path),
            partial=neutral(st.partial, 500) if st.partial is not None else None,
        )
        for st in sorted(
            stats,
            key=lambda s: (
                s.node or "",
                s.family or "",
                s.first_time is None,
                s.first_time or datetime.min.replace(tzinfo=UTC),
                s.path,
            ),
        )
    )


def _strays(rng: agg.TimeRange, paths: _Paths, limits: Limits) -> tuple[Stray, ...]:
    return tuple(
        Stray(
            node=neutral(s["node"] or "", limits.name_chars),
            file=paths.rel(s["file"] or ""),
            path=paths.full(s["file"] or ""),
            count=int(s["count"]),
            first=fmt_time(s["first"]),
            last=fmt_time(s["last"]),
            example=_evidence_row(
                Evidence(
                    node=s["node"] or "",
                    file=s["file"] or "",
                    line=int(s["line"] or 0),
                    time=s["first"],
                    kind=s["kind"] or "",
                    excerpt=s["message"] or "",
                ),
                limits,
            ),
        )
        for s in rng.strays
    )


def _shapes(
    templates: Sequence[Template], inputs: Sequence[str], limits: Limits
) -> tuple[Shape, ...]:
    def row(ex: Example) -> EvidenceRow:
        ev = Evidence(ex.node, ex.file, ex.line, ex.time, "unrecognized", ex.message)
        return _evidence_row(ev, limits)

    return tuple(
        Shape(
            shape=neutral(t.text, 200),
            count=t.count,
            nodes=len(t.nodes),
            example=row(t.examples[0]),
            second=row(t.examples[1]) if len(t.examples) > 1 else None,
            family=neutral(t.family, limits.name_chars),
            first=fmt_time(t.first),
            last=fmt_time(t.last),
            command=neutral(suggest_command(inputs or ["BUNDLE"], t.family, t.count), 2000),
        )
        for t in templates
    )


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
    is then only counted), else computed from ``frame`` as the rule context does."""
    lim = limits or Limits()
    diag = diagnosis or Diagnosis()
    corr = diag.correlation or _correlation(frame, stats)
    events = corr.events
    paths = _Paths(inputs)
    rng = agg.time_range(events, lim)
    chart = agg.timeline(events, lim, rng)
    marks, marks_total = agg.markers(events, lim)
    ua = agg.users(events, lim)
    gaps, gaps_total = _gaps(corr, lim)
    templates, shapes_total, unrec_total = agg.shapes(events, lim)
    drill_count = min(len(ua.rows), lim.drill_users)
    row_of = {str(r["user"]): i for i, r in enumerate(ua.rows)}
    user_rows = tuple(
        UserRow(
            user=neutral(r["user"], lim.name_chars),
            logins=int(r["logins"]),
            access=int(r["access"]),
            refreshes=int(r["refreshes"]),
            failures=int(r["failures"]),
            failures_by_reason=tuple((neutral(k, 60), int(n)) for k, n in r["reasons"]),
            last_seen=fmt_time(r["last"]),
            events=int(r["events"]),
            drill=i < drill_count,
            anchor=f"user-{i}",
        )
        for i, r in enumerate(ua.rows)
    )
    ordered = sort_findings(diag.findings)
    used: set[str] = set()
    findings = tuple(
        _finding_view(f, _anchor(f.rule, f.subjects, used), row_of, lim) for f in ordered
    )
    groups = tuple(_groups(ordered, findings))
    nodes = sorted({st.node for st in stats if st.node})
    first = _when(events["time"].min()) if events.height else None
    last = _when(events["time"].max()) if events.height else None
    if rng.lo is not None and rng.hi is not None:
        first = datetime.fromtimestamp(rng.lo, UTC)
        last = datetime.fromtimestamp(rng.hi, UTC)
    verdict = _verdict(findings, diag, stats, frame.height, paths)
    name = neutral(title or bundle_name(inputs), 200)
    shown_nodes = tuple(neutral(n, lim.name_chars) for n in nodes)
    generated = fmt_time(now or datetime.now(UTC))[:-4]
    return Report(
        title=name,
        page_title=f"{name}: {verdict.short} · logdoctor",
        header=_header(frame.height, shown_nodes, fmt_minute(first), fmt_minute(last), generated),
        generated=generated,
        version=__version__,
        inputs=tuple(neutral(p, FILE_CHARS) for p in inputs),
        events=frame.height,
        nodes=shown_nodes,
        first=fmt_minute(first),
        last=fmt_minute(last),
        verdict=verdict,
        findings=findings,
        groups=groups,
        unchecked=tuple(diag.unchecked),
        rules_ran=diag.rules_ran or bool(diag.findings),
        config=tuple(_config_view(c, lim) for c in diag.config),
        users=user_rows,
        users_total=ua.total,
        markers=tuple(
            Marker(
                time=fmt_time(m["time"]),
                kind=m["kind"],
                node=neutral(m["node"], lim.name_chars),
                detail=neutral(m["detail"], 200),
                count=int(m["count"]),
                where=f"{neutral(basename(m['file'] or ''), FILE_CHARS)}:{m['line']}",
            )
            for m in marks
        ),
        markers_total=marks_total,
        coverage=_coverage(stats, corr, paths, lim),
        gaps=tuple(gaps),
        gaps_total=gaps_total,
        strays=_strays(rng, paths, lim),
        stray_lines=rng.stray_lines,
        stray_groups=rng.stray_groups,
        shapes=_shapes(templates, inputs, lim),
        shapes_total=shapes_total,
        unrecognized_total=unrec_total,
        bucket_label=bucket_label(chart.bucket),
        chart=_chart(chart, marks, rng),
        drill=drill_data(ua, ua.rows[:drill_count], corr.lineage, lim),
        user_index=user_index(ua, inputs, lim),
        limits=lim,
    )
