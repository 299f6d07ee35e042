"""Aggregations of the event table for the report, done in polars before anything is drawn.

A million events become a few thousand numbers: the time range the bulk of the events covers
(and the stray lines outside it), events per time bucket by level and by kind, failures per
hour, one row per user, a capped set of drill-down events, the token lineage of those users
(cut from :func:`logdoctor.analysis.lineage.lineage`), and unrecognized messages mined into
templates. The event table given here is already enriched
(:func:`logdoctor.analysis.lineage.enrich`); nothing
here re-derives what the correlation computes. Every function returns plain Python data;
neutralizing text is the builder's job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from logdoctor.analysis.shapes import Template, mine
from logdoctor.analysis.usertimeline import with_edge_users
from logdoctor.ingest.messages import MessageStore, fill
from logdoctor.model import FAILURE_KINDS
from logdoctor.report.colors import kind_color, level_color
from logdoctor.report.model import Limits

__all__ = [
    "BUCKETS",
    "FAILURE_KINDS",
    "MARKER_KINDS",
    "STRAY_GAP",
    "STRAY_SHARE",
    "ChartData",
    "TimeRange",
    "UserAgg",
    "choose_bucket",
    "markers",
    "shapes",
    "time_range",
    "timeline",
    "user_lineage",
    "users",
]

BUCKETS: tuple[int, ...] = (60, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400, 604800)
"""Chart bucket sizes in seconds; the first that keeps the bucket count under the cap wins."""

MARKER_KINDS: tuple[str, ...] = (
    "config.changed",
    "key.regenerated",
    "service.started",
    "revoke.request",
    "token.revoked",
)
"""Event kinds marked on the timeline, in priority order (revocations can be thousands)."""

LEVEL_ORDER: tuple[str, ...] = ("FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE")

STRAY_GAP = 7 * 86400
"""Seconds without a single line that split the events into separate stretches of time."""
STRAY_SHARE = 0.05
"""A stretch holding less than this share of the timed events is stray: listed, not charted
(one 2014 line in a 2026 bundle must not squash three days into a pixel)."""


# -- time range ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeRange:
    """The time range the bulk of the events covers (epoch seconds, None without times) and
    the lines outside it, grouped by node and file (at most ``limits.strays`` groups)."""

    lo: int | None
    hi: int | None
    strays: list[dict[str, Any]] = field(default_factory=list)
    stray_lines: int = 0
    stray_groups: int = 0


def time_range(
    frame: pl.DataFrame, limits: Limits, messages: MessageStore | None = None
) -> TimeRange:
    """Split the timed events at silences longer than :data:`STRAY_GAP`; the stretches that
    hold at least :data:`STRAY_SHARE` of the events (and always the largest) make the range,
    the others are stray lines (the text of a group's first line from ``messages`` where the
    table left it null)."""
    times = frame["time"].drop_nulls()  # the one column read here: no wide copy of the rows
    if times.len() == 0:
        return TimeRange(None, None)
    t = times.dt.epoch("s").sort()
    # Stretches between the silences (a few: plain lists, no numpy import for them).
    cuts: list[int] = (t.diff() > STRAY_GAP).fill_null(False).arg_true().to_list()
    starts = [0, *cuts]
    ends = [*cuts, t.len()]
    sizes = [e - s for s, e in zip(starts, ends, strict=True)]
    keep = [z >= STRAY_SHARE * t.len() or z == max(sizes) for z in sizes]
    lo = int(t[min(s for s, k in zip(starts, keep, strict=True) if k)])
    hi = int(t[max(e for e, k in zip(ends, keep, strict=True) if k) - 1])
    if all(keep):
        return TimeRange(lo, hi)
    s = pl.col("time").dt.epoch("s")
    out = frame.filter(pl.col("time").is_not_null() & ((s < lo) | (s > hi)))
    groups = (
        out.sort(["time", "line"])
        .group_by(["node", "file"], maintain_order=True)
        .agg(
            pl.len().alias("count"),
            pl.col("time").min().alias("first"),
            pl.col("time").max().alias("last"),
            pl.col("line").first(),
            pl.col("message").first(),
            pl.col("kind").first(),
        )
        .sort(["count", "first"], descending=[True, False])
    )
    shown = fill(groups.head(limits.strays), messages).with_columns(
        pl.col("message").str.slice(0, limits.excerpt_chars * 4 + 16)
    )
    return TimeRange(
        lo,
        hi,
        strays=shown.to_dicts(),
        stray_lines=out.height,
        stray_groups=groups.height,
    )


# -- timeline ------------------------------------------------------------------------------------

Series = tuple[str, str, list[int]]
"""A chart series: name, colour, counts per bucket."""


@dataclass(frozen=True)
class ChartData:
    """Counts per time bucket: ``start`` (epoch s), ``bucket`` (s), ``n`` buckets; the level
    series (failures first, then the other lines by level) and the kind series, each with
    its fixed colour; and failures per ``fail_bucket`` (an hour, or the bucket if coarser)."""

    start: int
    bucket: int
    n: int
    levels: tuple[Series, ...]
    kinds: tuple[Series, ...]
    fail_start: int = 0
    fail_bucket: int = 3600
    failures: list[int] = field(default_factory=list)


def choose_bucket(lo: int, hi: int, max_buckets: int) -> int:
    """The smallest bucket of :data:`BUCKETS` that covers ``lo..hi`` in ``max_buckets``."""
    for b in BUCKETS:
        if hi // b - lo // b + 1 <= max_buckets:
            return b
    # n = hi // b - lo // b + 1 <= (hi - lo) / b + 2, so b >= span / (cap - 2) is enough
    return max(BUCKETS[-1], -(-(hi - lo) // max(1, max_buckets - 2)))


def _counts(b: pl.DataFrame, key: str, names: Sequence[str], n: int) -> list[list[int]]:
    counts = b.group_by("b", key).len()
    out: list[list[int]] = []
    for name in names:
        out.append(_spread(counts.filter(pl.col(key) == name), "b", n))
    return out


def timeline(frame: pl.DataFrame, limits: Limits, rng: TimeRange) -> ChartData:
    """Events per bucket within ``rng``: failures and the other lines by level (stacked in
    the page), the top kinds (every failure kind present among them; the rest as
    ``other``), and failures per hour."""
    if rng.lo is None or rng.hi is None:
        return ChartData(start=0, bucket=60, n=0, levels=(), kinds=())
    lo, hi = rng.lo, rng.hi
    sec = pl.col("time").dt.epoch("s")
    t = (
        frame.lazy()  # three columns read: the filter never copies the wide rows
        .filter(pl.col("time").is_not_null() & (sec >= lo) & (sec <= hi))
        .select(
            sec.alias("s"),
            pl.col("level").fill_null("(none)"),
            pl.col("kind").fill_null("unrecognized"),
        )
        .collect()
    )
    bucket = choose_bucket(lo, hi, limits.max_buckets)
    first = lo // bucket
    n = hi // bucket - first + 1
    failed = pl.col("kind").is_in(FAILURE_KINDS)
    b = t.with_columns(
        ((pl.col("s") // bucket) - first).cast(pl.Int64).alias("b"),
        pl.when(failed).then(pl.lit("failures")).otherwise(pl.col("level")).alias("series"),
    )
    present = set(b["series"].unique().to_list())
    levels = [x for x in ("failures", *LEVEL_ORDER) if x in present]
    levels += sorted(present - set(levels))
    by_count = b.group_by("kind").len().sort(["len", "kind"], descending=[True, False])
    names = by_count["kind"].to_list()
    fails = [k for k in names if k in FAILURE_KINDS][: limits.kinds_charted]
    rest = [k for k in names if k not in FAILURE_KINDS]
    kinds = sorted(fails) + sorted(rest[: max(0, limits.kinds_charted - len(fails))])
    kb = b.with_columns(
        pl.when(pl.col("kind").is_in(kinds)).then(pl.col("kind")).otherwise(pl.lit("other"))
    )
    if len(kinds) < len(names):
        kinds.append("other")
    fb, f_first, per_fail = _failures_per_hour(b, lo, hi, bucket)
    return ChartData(
        start=first * bucket,
        bucket=bucket,
        n=n,
        levels=tuple(
            (name, level_color(name), data)
            for name, data in zip(levels, _counts(b, "series", levels, n), strict=True)
        ),
        kinds=tuple(
            (name, kind_color(name), data)
            for name, data in zip(kinds, _counts(kb, "kind", kinds, n), strict=True)
        ),
        fail_start=f_first * fb,
        fail_bucket=fb,
        failures=per_fail,
    )


def _failures_per_hour(
    b: pl.DataFrame, lo: int, hi: int, bucket: int
) -> tuple[int, int, list[int]]:
    """Failures per bucket of at least an hour: the bucket, the first bucket's number and the
    counts (``b``: the timeline rows, ``s`` seconds and ``series``)."""
    fb = max(bucket, 3600)
    f_first = lo // fb
    fc = (
        b.filter(pl.col("series") == "failures")
        .group_by(((pl.col("s") // fb) - f_first).cast(pl.Int64).alias("h"))
        .len()
    )
    return fb, f_first, _spread(fc, "h", hi // fb - f_first + 1)


def _spread(counts: pl.DataFrame, at: str, n: int) -> list[int]:
    """``n`` counts, zero but where ``counts`` puts its ``len`` at bucket ``at``."""
    out = [0] * n
    for i, c in zip(counts[at].to_list(), counts["len"].to_list(), strict=True):
        out[i] = int(c)
    return out


# -- markers -------------------------------------------------------------------------------------


def markers(frame: pl.DataFrame, limits: Limits) -> tuple[list[dict[str, Any]], int]:
    """Marker rows (time, kind, node, detail, count, file, line), one per kind, node, detail
    and minute; at most ``limits.markers``, configuration and key events first."""
    m = frame.filter(pl.col("kind").is_in(MARKER_KINDS) & pl.col("time").is_not_null())
    if m.height == 0:
        return [], 0
    detail = (
        pl.when(pl.col("kind") == "config.changed")
        .then(
            pl.concat_str(
                [pl.col("param").fill_null("?"), pl.col("value").fill_null("?")], separator="="
            )
        )
        .when(pl.col("kind") == "key.regenerated")
        .then(pl.concat_str([pl.lit("key "), pl.col("param").fill_null("?")]))
        .when(pl.col("kind") == "service.started")
        .then(pl.col("param").fill_null(pl.col("value")).fill_null(""))
        .when(pl.col("kind") == "revoke.request")
        .then(pl.concat_str([pl.lit("user "), pl.col("user").fill_null("?")]))
        .otherwise(pl.concat_str([pl.lit("cause "), pl.col("reason").fill_null("?")]))
    )
    prio = pl.col("kind").replace_strict(
        {k: i for i, k in enumerate(MARKER_KINDS)}, return_dtype=pl.Int64
    )
    g = (
        m.with_columns(
            detail.alias("detail"),
            pl.col("time").dt.truncate("1m").alias("minute"),
            prio.alias("prio"),
            pl.col("node").fill_null(""),
        )
        .sort("time", maintain_order=True)
        .group_by(["minute", "kind", "node", "detail"], maintain_order=True)
        .agg(
            pl.col("time").first(),
            pl.len().alias("count"),
            pl.col("file").first(),
            pl.col("line").first(),
            pl.col("prio").first(),
        )
    )
    total = g.height
    kept = g.sort(["prio", "time"]).head(limits.markers).sort("time", maintain_order=True)
    return kept.drop("minute", "prio").to_dicts(), total


# -- users ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserAgg:
    """The per-user table (shown rows), the user count, the users beyond the table (name,
    events, failures; at most ``limits.users_indexed`` in all) and the drill-down events of
    the first rows."""

    rows: list[dict[str, Any]]
    total: int
    drill_events: pl.DataFrame
    beyond: list[tuple[str, int, int]] = field(default_factory=list)


def users(frame: pl.DataFrame, limits: Limits) -> UserAgg:
    """Per-user counts, failures by reason, last seen; capped drill events (Expressway lines
    joined to their user: :func:`logdoctor.analysis.usertimeline.with_edge_users`)."""
    frame = with_edge_users(frame)
    # Lazy: each question reads its few columns of the user lines, never a wide copy of them.
    ev = frame.lazy().filter(pl.col("user").is_not_null() & (pl.col("user") != ""))
    kind = pl.col("kind")
    agg = (
        ev.group_by("user")
        .agg(
            (kind == "auth.success").sum().alias("logins"),
            (kind == "token.access.issued").sum().alias("access"),
            (kind == "token.refreshed").sum().alias("refreshes"),
            kind.is_in(FAILURE_KINDS).sum().alias("failures"),
            pl.len().alias("events"),
            pl.col("time").max().alias("last"),
        )
        .collect()
    )
    if agg.height == 0:
        return UserAgg([], 0, frame.clear())
    total = agg.height
    ranked = agg.sort(
        ["failures", "events", "user"], descending=[True, True, False], nulls_last=True
    )
    shown = ranked.head(limits.users_shown)
    beyond = [
        (str(u), int(e), int(f))
        for u, e, f in ranked.slice(limits.users_shown, max(0, limits.users_indexed))
        .select("user", "events", "failures")
        .iter_rows()
    ]
    reasons = (
        ev.filter(kind.is_in(FAILURE_KINDS) & pl.col("user").is_in(shown["user"].implode()))
        .group_by("user", pl.col("reason").fill_null("(no reason)"))
        .len()
        .sort(["user", "len", "reason"], descending=[False, True, False])
        .collect()
    )
    by_user: dict[str, list[tuple[str, int]]] = {}
    for user, reason, n in reasons.iter_rows():
        by_user.setdefault(user, []).append((reason, n))
    rows = shown.to_dicts()
    for r in rows:
        r["reasons"] = by_user.get(r["user"], [])
    drill_users = shown["user"].head(limits.drill_users)
    per_user = max(
        1, min(limits.drill_events_per_user, limits.drill_events // max(1, drill_users.len()))
    )
    tail = max(1, per_user // 3)
    d = (
        ev.filter(pl.col("user").is_in(drill_users.implode()))
        .sort(["user", "time", "file", "line"], nulls_last=True)
        .with_columns(
            pl.int_range(pl.len()).over("user").alias("_i"),
            pl.len().over("user").alias("_n"),
        )
        .filter((pl.col("_i") < per_user - tail) | (pl.col("_i") >= pl.col("_n") - tail))
        .with_columns((pl.col("_n") - pl.col("_i").len().over("user")).alias("_more"))
        .collect()
    )
    return UserAgg(rows, total, d, beyond)


def user_lineage(
    lineage: pl.DataFrame, names: Sequence[str], limits: Limits
) -> tuple[pl.DataFrame, dict[tuple[str, str, str], int]]:
    """The rows of :func:`logdoctor.analysis.lineage.lineage` (refresh and access tokens) of the
    users ``names``, the most recent ``limits.lineage_tokens`` per user, client and type
    first; and how many older ones each (user, client, type) has beyond that."""
    if lineage.height == 0 or not names:
        return lineage.clear(), {}
    lin = lineage.filter(
        pl.col("user").is_in(list(names)) & pl.col("type").is_in(["refresh", "access"])
    ).with_columns(
        pl.col("client_id").fill_null("(unknown client)"),
        pl.coalesce("issued_at", "first_use").alias("_t"),
    )
    lin = lin.sort(
        ["user", "client_id", "type", "_t"],
        descending=[False, False, False, True],
        nulls_last=True,
    ).with_columns(pl.int_range(pl.len()).over(["user", "client_id", "type"]).alias("_i"))
    counts = lin.group_by(["user", "client_id", "type"]).len()
    more = {
        (u, c, t): n - limits.lineage_tokens
        for u, c, t, n in counts.iter_rows()
        if n > limits.lineage_tokens
    }
    return lin.filter(pl.col("_i") < limits.lineage_tokens).drop("_i", "_t"), more


# -- unrecognized shapes -------------------------------------------------------------------------


def shapes(frame: pl.DataFrame, limits: Limits) -> tuple[list[Template], int, int]:
    """Unrecognized records mined into templates (:func:`logdoctor.analysis.shapes.mine`), most
    frequent first: (shown, templates, records)."""
    u = frame.filter(pl.col("kind") == "unrecognized")
    if u.height == 0:
        return [], 0, 0
    templates = sorted(mine(u), key=lambda t: (-t.count, t.family, t.text))
    return templates[: limits.shapes], len(templates), u.height
