"""The activity sections: the chart (counts per level, kind and failures, with markers), the
markers table, and the users table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from logdoctor.report import aggregate as agg
from logdoctor.report.colors import FAILURE_COLOR
from logdoctor.report.drill import FILE_CHARS
from logdoctor.report.model import Limits, Marker, UserRow
from logdoctor.report.text import neutral
from logdoctor.report.views import basename, fmt_time

__all__ = ["bucket_label", "chart", "markers", "user_rows"]


def _encode(data: Sequence[int]) -> tuple[str, list[int]]:
    """A count series as ``("d", values)`` or, when mostly zero, ``("s", [i, v, i, v...])``
    (the non-zero buckets only): a long quiet span costs nothing."""
    pairs = [x for i, v in enumerate(data) if v for x in (i, v)]
    if len(pairs) < len(data):
        return "s", pairs
    return "d", list(data)


def chart(
    data: agg.ChartData, marks: Sequence[dict[str, Any]], rng: agg.TimeRange
) -> dict[str, Any]:
    """The chart's JSON for the page's script (names neutralized, series encoded); markers
    outside the time range are left out."""
    lo = rng.lo if rng.lo is not None else 0
    hi = rng.hi if rng.hi is not None else 0
    return {
        "start": data.start,
        "bucket": data.bucket,
        "n": data.n,
        "levels": [[neutral(name, 40), color, *_encode(d)] for name, color, d in data.levels],
        "kinds": [[neutral(name, 40), color, *_encode(d)] for name, color, d in data.kinds],
        "fail": {
            "start": data.fail_start,
            "bucket": data.fail_bucket,
            "n": len(data.failures),
            "data": _encode(data.failures),
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


def markers(marks: Sequence[dict[str, Any]], limits: Limits) -> tuple[Marker, ...]:
    """The markers table (restarts, key changes, parameter changes)."""
    return tuple(
        Marker(
            time=fmt_time(m["time"]),
            kind=m["kind"],
            node=neutral(m["node"], limits.name_chars),
            detail=neutral(m["detail"], 200),
            count=int(m["count"]),
            where=f"{neutral(basename(m['file'] or ''), FILE_CHARS)}:{m['line']}",
        )
        for m in marks
    )


def user_rows(ua: agg.UserAgg, drill: int, limits: Limits) -> tuple[UserRow, ...]:
    """The users table; the first ``drill`` rows have a drill-down."""
    return tuple(
        UserRow(
            user=neutral(r["user"], limits.name_chars),
            logins=int(r["logins"]),
            access=int(r["access"]),
            refreshes=int(r["refreshes"]),
            failures=int(r["failures"]),
            failures_by_reason=tuple((neutral(k, 60), int(n)) for k, n in r["reasons"]),
            last_seen=fmt_time(r["last"]),
            events=int(r["events"]),
            drill=i < drill,
            anchor=f"user-{i}",
        )
        for i, r in enumerate(ua.rows)
    )
