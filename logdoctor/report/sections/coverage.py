"""The coverage sections: what each input file held, LD902's gaps, and strays (lines whose
time falls far outside the rest)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from logdoctor.analysis.coverage import gaps_per_file
from logdoctor.model import Evidence
from logdoctor.report import aggregate as agg
from logdoctor.report.drill import FILE_CHARS
from logdoctor.report.model import Correlation, CoverageFile, Gap, Limits, Stray
from logdoctor.report.sections.rows import Paths, evidence_row
from logdoctor.report.text import neutral
from logdoctor.report.views import basename, fmt_duration, fmt_time
from logdoctor.table import ParseStats

__all__ = ["coverage_files", "gaps", "strays"]

_EARLIEST = datetime.min.replace(tzinfo=UTC)


def _where(before: str, after: str, missing: Sequence[str]) -> str:
    """Which files a gap lies between, and the rotated files missing there."""
    where = before if before == after else " → ".join(x for x in (before, after) if x)
    if missing:
        names = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        where = f"{where} (missing {names})" if where else f"missing {names}"
    return where


def gaps(corr: Correlation, limits: Limits) -> tuple[tuple[Gap, ...], int]:
    """LD902's gaps (:func:`logdoctor.analysis.coverage.coverage`), the longest first when
    capped, and how many there are in all."""
    found = [g for cov in corr.coverage for g in cov.gaps]
    kept = sorted(found, key=lambda g: -g.seconds)[: limits.gaps]
    kept.sort(key=lambda g: (g.node, g.family, g.start or _EARLIEST))
    out = []
    for g in kept:
        before = basename(g.before.file) if g.before else ""
        after = basename(g.after.file) if g.after else ""
        out.append(
            Gap(
                node=neutral(g.node, limits.name_chars),
                family=neutral(g.family, 20),
                kind=g.kind,
                where=neutral(_where(before, after, g.missing), 2 * FILE_CHARS),
                start=fmt_time(g.start),
                end=fmt_time(g.end),
                duration=fmt_duration(g.seconds),
                seconds=float(g.seconds),
                expected=int(g.expected),
            )
        )
    return tuple(out), len(found)


def _file(st: ParseStats, gaps: int, paths: Paths, limits: Limits) -> CoverageFile:
    return CoverageFile(
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
        gaps=gaps,
        path=paths.full(st.path),
        partial=neutral(st.partial, 500) if st.partial is not None else None,
    )


def coverage_files(
    stats: Sequence[ParseStats], corr: Correlation, paths: Paths, limits: Limits
) -> tuple[CoverageFile, ...]:
    """One row per input file, by node, family and first time, with its count of gaps."""
    per_file = gaps_per_file(corr.coverage)
    ordered = sorted(
        stats,
        key=lambda s: (
            s.node or "",
            s.family or "",
            s.first_time is None,
            s.first_time or _EARLIEST,
            s.path,
        ),
    )
    return tuple(_file(st, per_file.get(st.path, 0), paths, limits) for st in ordered)


def strays(rng: agg.TimeRange, paths: Paths, limits: Limits) -> tuple[Stray, ...]:
    """The groups of lines left out of the time range (:func:`agg.time_range`)."""
    return tuple(
        Stray(
            node=neutral(s["node"] or "", limits.name_chars),
            file=paths.rel(s["file"] or ""),
            path=paths.full(s["file"] or ""),
            count=int(s["count"]),
            first=fmt_time(s["first"]),
            last=fmt_time(s["last"]),
            example=evidence_row(
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
