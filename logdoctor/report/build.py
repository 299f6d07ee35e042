"""Build the report model from loaded logs and a diagnosis.

This is where log text crosses into the report: every string taken from a log (or from a
finding, which quotes logs) goes through :func:`neutral` here, cut to a readable length; the
JSON handed to the page's script is built only from such strings and numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl

from logdoctor import __version__
from logdoctor.model import EventKind, Evidence, Finding, ParseStats, Severity
from logdoctor.report import aggregate as agg
from logdoctor.report.model import (
    ConfigFact,
    ConfigView,
    CoverageFile,
    Diagnosis,
    EvidenceRow,
    FindingView,
    Gap,
    Limits,
    Marker,
    Report,
    Shape,
    UserRow,
    Verdict,
)
from logdoctor.report.text import neutral

__all__ = [
    "bucket_label",
    "build_report",
    "fmt_duration",
    "fmt_time",
    "kind_meaning",
    "sort_findings",
]

_KIND_MEANING = {k.value: k.description for k in EventKind}
_FILE_CHARS = 240


def fmt_time(t: datetime | None) -> str:
    """``2026-11-20 08:00:01.120`` in UTC (empty for None)."""
    if t is None:
        return ""
    if t.tzinfo is not None:
        t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def fmt_duration(seconds: float) -> str:
    """A short human duration: ``45 s``, ``12 min``, ``3 h 20 min``, ``2 d 4 h``."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m} min" + (f" {s} s" if s else "")
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h} h" + (f" {m} min" if m else "")
    d, h = divmod(h, 24)
    return f"{d} d" + (f" {h} h" if h else "")


def kind_meaning(kind: str) -> str:
    """What a line of this event kind means (empty for a kind outside the vocabulary)."""
    return _KIND_MEANING.get(kind, "")


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Worst first, then by rule id and subjects."""
    return sorted(findings, key=lambda f: (-Severity(f.severity).rank, f.rule, f.subjects))


def _evidence_row(e: Evidence, limits: Limits) -> EvidenceRow:
    return EvidenceRow(
        node=neutral(e.node, limits.name_chars),
        file=neutral(e.file, _FILE_CHARS),
        line=int(e.line),
        time=fmt_time(e.time),
        kind=neutral(e.kind, limits.name_chars),
        meaning=kind_meaning(e.kind),
        excerpt=neutral(e.excerpt, limits.excerpt_chars),
    )


def _finding_view(i: int, f: Finding, limits: Limits) -> FindingView:
    shown = f.evidence[: limits.evidence_per_finding]
    total = max(f.evidence_total, len(f.evidence))
    return FindingView(
        anchor=f"finding-{i + 1}",
        rule=neutral(f.rule, 16),
        severity=Severity(f.severity).value,
        title=neutral(f.title, 200),
        message=neutral(f.message, 2000),
        subjects=tuple(neutral(s, limits.name_chars) for s in f.subjects[:50]),
        first_seen=fmt_time(f.first_seen),
        last_seen=fmt_time(f.last_seen),
        fix=tuple(neutral(s, 1000) for s in f.fix),
        evidence=tuple(_evidence_row(e, limits) for e in shown),
        evidence_more=max(0, total - len(shown)),
    )


def _config_view(c: ConfigFact, limits: Limits) -> ConfigView:
    shown = c.evidence[: limits.evidence_per_fact]
    return ConfigView(
        name=neutral(c.name, 120),
        subject=neutral(c.subject, limits.name_chars),
        declared=neutral(c.declared, 200) if c.declared is not None else "",
        inferred=neutral(c.inferred, 200) if c.inferred is not None else "",
        status=c.status,
        reason=neutral(c.reason, 500),
        declared_at=neutral(c.declared_at, _FILE_CHARS) if c.declared_at else "",
        evidence=tuple(_evidence_row(e, limits) for e in shown),
        evidence_more=max(0, max(c.evidence_total, len(c.evidence)) - len(shown)),
    )


def _verdict(
    findings: Sequence[FindingView], diagnosis: Diagnosis, stats: Sequence[ParseStats], events: int
) -> Verdict:
    counts = {s.value: 0 for s in Severity}
    for f in findings:
        counts[f.severity] += 1
    notes = [neutral(n, 500) for n in diagnosis.notes]
    bad = [s for s in stats if s.error is not None]
    gaps = []  # what keeps the verdict from covering everything, in words
    if bad:
        named = ", ".join(neutral(s.path, 120) for s in bad[:3])
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        gaps.append(f"{len(bad)} input(s) could not be read ({named}{more})")
        notes.append("Log coverage lists every input that could not be read, with the reason.")
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
        return Verdict(
            level="incomplete" if gaps and worst.severity == "info" else worst.severity,
            headline=incomplete + headline,
            counts=counts,
            first_step=worst.fix[0] if worst.fix else worst.title,
            first_anchor=worst.anchor,
            notes=tuple(notes),
        )
    if diagnosis.rules_ran and gaps:
        return Verdict(
            "incomplete",
            incomplete + "No problem found in what was read.",
            counts,
            None,
            None,
            tuple(notes),
        )
    if diagnosis.rules_ran:
        return Verdict("ok", "No problem found in these logs.", counts, None, None, tuple(notes))
    return Verdict(
        level="unknown",
        headline="The diagnostic rules did not run: this report describes the logs only.",
        counts=counts,
        first_step=None,
        first_anchor=None,
        notes=tuple(notes),
    )


class _Strings:
    """A string table for the drill-down JSON: each distinct (neutralized) string once."""

    def __init__(self, limit: int) -> None:
        self.items: list[str] = [""]
        self.index: dict[str | None, int] = {None: 0, "": 0}
        self.limit = limit

    def __call__(self, value: Any) -> int:
        key = None if value is None else str(value)
        i = self.index.get(key)
        if i is None:
            i = len(self.items)
            self.items.append(neutral(key, self.limit))
            self.index[key] = i
        return i


def _rel(t: datetime | None, t0: int) -> float | None:
    return None if t is None else round(t.timestamp() - t0, 3)


def _short_key(key: str | None) -> str:
    if not key:
        return ""
    return key.rsplit(":", 1)[-1][:12]


def _drill(ua: agg.UserAgg, rows: Sequence[dict[str, Any]], limits: Limits) -> dict[str, Any]:
    """JSON-ready drill-down: per shown user (by row index) their capped events and lineage."""
    ev = ua.drill_events
    t_min = ev["time"].min() if ev.height else None
    t0 = int(t_min.timestamp()) if isinstance(t_min, datetime) else 0
    strings = _Strings(limits.name_chars)
    files = _Strings(_FILE_CHARS)
    index = {r["user"]: i for i, r in enumerate(rows)}
    users: list[dict[str, Any] | None] = [None] * len(rows)
    cols = ("user", "time", "kind", "node", "client_id", "device", "token_id", "grant")
    cols2 = ("reason", "server", "file", "line", "_more")
    for rec in ev.select(*cols, *cols2).iter_rows() if ev.height else ():
        user, t, kind, node, client, device, token, grant, reason, server, file, line, more = rec
        i = index.get(user)
        if i is None:
            continue
        slot = users[i]
        if slot is None:
            slot = users[i] = {"ev": [], "more": int(more), "lin": []}
        slot["ev"].append(
            [
                _rel(t, t0),
                strings(kind),
                strings(node),
                strings(client),
                strings(device),
                strings(token),
                strings(grant),
                strings(reason),
                strings(server),
                files(file),
                int(line),
            ]
        )
    clients: dict[tuple[int, str], dict[str, Any]] = {}
    for r in ua.lineage.iter_rows(named=True):
        i = index.get(r["user"])
        if i is None:
            continue
        slot = users[i]
        if slot is None:
            slot = users[i] = {"ev": [], "more": 0, "lin": []}
        ck = (i, r["client_id"])
        c = clients.get(ck)
        if c is None:
            c = clients[ck] = {
                "c": neutral(r["client_id"], limits.name_chars),
                "r": [],
                "a": [],
                "rm": ua.lineage_more.get((r["user"], r["client_id"], "refresh"), 0),
                "am": ua.lineage_more.get((r["user"], r["client_id"], "access"), 0),
            }
            slot["lin"].append(c)
        c["r" if r["typ"] == "refresh" else "a"].append(
            [
                neutral(r["token_id"], limits.name_chars),
                _rel(r["issued"], t0),
                _rel(r["last"], t0),
                int(r["used"]),
                int(r["rejected"]),
                neutral(", ".join(r["reasons"]), 200),
                _rel(r["revoked"], t0),
                neutral(r["cause"], 60),
                neutral(r["grant"], 40),
                neutral(r["expires_in"], 20),
                neutral(_short_key(r["key"]), 12),
                neutral(r["device"], limits.name_chars),
                neutral(", ".join(r["nodes"]), 200),
            ]
        )
    kinds = {strings.items[i]: kind_meaning(k or "") for k, i in strings.index.items() if k}
    return {
        "t0": t0,
        "s": strings.items,
        "f": files.items,
        "meaning": {k: v for k, v in kinds.items() if v},
        "users": users,
    }


def _encode(data: Sequence[int]) -> tuple[str, list[int]]:
    """A count series as ``("d", values)`` or, when mostly zero, ``("s", [i, v, i, v...])``
    (the non-zero buckets only): a long quiet span costs nothing."""
    pairs = [x for i, v in enumerate(data) if v for x in (i, v)]
    if len(pairs) < len(data):
        return "s", pairs
    return "d", list(data)


def _chart(chart: agg.ChartData, marks: Sequence[dict[str, Any]], limits: Limits) -> dict[str, Any]:
    return {
        "start": chart.start,
        "bucket": chart.bucket,
        "n": chart.n,
        "levels": [[neutral(name, 40), *_encode(data)] for name, data in chart.levels],
        "kinds": [[neutral(name, 40), *_encode(data)] for name, data in chart.kinds],
        "markers": [
            [
                int(m["time"].timestamp()),
                m["kind"],
                neutral(f"{m['detail']} ({m['node']})" if m["node"] else m["detail"], 120),
                int(m["count"]),
            ]
            for m in marks
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
    and what the check engine concluded (``diagnosis``; None when no rule ran)."""
    lim = limits or Limits()
    diag = diagnosis or Diagnosis()
    frame = agg.enrich_users(frame)
    findings = tuple(_finding_view(i, f, lim) for i, f in enumerate(sort_findings(diag.findings)))
    timed = frame["time"].drop_nulls()
    first = timed.min() if timed.len() else None
    last = timed.max() if timed.len() else None
    chart = agg.timeline(frame, lim)
    marks, marks_total = agg.markers(frame, lim)
    ua = agg.users(frame, lim)
    gaps = agg.file_gaps(frame, stats, lim)
    shape_rows, shapes_total, unrec_total = agg.shapes(frame, lim)
    drill_count = min(len(ua.rows), lim.drill_users)
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
        )
        for i, r in enumerate(ua.rows)
    )
    coverage = tuple(
        CoverageFile(
            node=neutral(st.node or "", lim.name_chars),
            file=neutral(st.path, _FILE_CHARS),
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
            gaps=gaps.per_file.get(st.path, 0),
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
    nodes = sorted({st.node for st in stats if st.node})
    report = Report(
        title=neutral(title or "logdoctor report", 200),
        generated=fmt_time(now or datetime.now(UTC))[:-4],
        version=__version__,
        inputs=tuple(neutral(p, _FILE_CHARS) for p in inputs),
        events=frame.height,
        nodes=tuple(neutral(n, lim.name_chars) for n in nodes),
        first=fmt_time(first if isinstance(first, datetime) else None),
        last=fmt_time(last if isinstance(last, datetime) else None),
        verdict=_verdict(findings, diag, stats, frame.height),
        findings=findings,
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
                where=f"{neutral(m['file'], _FILE_CHARS)}:{m['line']}",
            )
            for m in marks
        ),
        markers_total=marks_total,
        coverage=coverage,
        gaps=tuple(
            Gap(
                node=neutral(g["node"], lim.name_chars),
                where=neutral(g["where"], 2 * _FILE_CHARS),
                start=fmt_time(g["start"]),
                end=fmt_time(g["end"]),
                duration=fmt_duration(g["seconds"]),
                seconds=float(g["seconds"]),
            )
            for g in gaps.gaps
        ),
        gaps_total=gaps.total,
        gap_threshold=fmt_duration(lim.gap_seconds),
        shapes=tuple(
            Shape(
                shape=neutral(s["shape"], 200),
                count=int(s["count"]),
                nodes=int(s["nodes"]),
                example=_evidence_row(
                    Evidence(
                        node=s["node"] or "",
                        file=s["file"] or "",
                        line=int(s["line"] or 0),
                        time=s["time"],
                        kind="unrecognized",
                        excerpt=s["message"] or "",
                    ),
                    lim,
                ),
            )
            for s in shape_rows
        ),
        shapes_total=shapes_total,
        unrecognized_total=unrec_total,
        bucket_label=bucket_label(chart.bucket),
        chart=_chart(chart, marks, lim),
        drill=_drill(ua, ua.rows[:drill_count], lim),
        limits=lim,
    )
    return report
