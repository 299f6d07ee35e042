"""Aggregations of the event table for the report, done in polars before anything is drawn.

A million events become a few thousand numbers: events per time bucket by level and by kind,
one row per user, a capped set of drill-down events, token lineage per user and client,
coverage and gaps per file, and unrecognized messages grouped by shape. Every function here
returns plain Python data; neutralizing text is the builder's job.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from logdoctor.model import ParseStats
from logdoctor.report.model import Limits

__all__ = [
    "BUCKETS",
    "FAILURE_KINDS",
    "MARKER_KINDS",
    "ChartData",
    "FileGaps",
    "UserAgg",
    "choose_bucket",
    "enrich_users",
    "file_gaps",
    "markers",
    "rotation_stem",
    "shape_expr",
    "shapes",
    "timeline",
    "users",
]

BUCKETS: tuple[int, ...] = (60, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400, 604800)
"""Chart bucket sizes in seconds; the first that keeps the bucket count under the cap wins."""

MARKER_KINDS: tuple[str, ...] = (
    "config.changed",
    "key.regenerated",
    "service.restarted",
    "revoke.request",
    "token.revoked",
)
"""Event kinds marked on the timeline, in priority order (revocations can be thousands)."""

FAILURE_KINDS: tuple[str, ...] = (
    "auth.failure",
    "authorize.rejected",
    "token.rejected",
    "oauth.error",
)
"""Event kinds counted as a user's failures (grouped by their reason)."""

LEVEL_ORDER: tuple[str, ...] = ("FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE")

_TOKEN_KINDS = (
    "token.access.issued",
    "token.refresh.issued",
    "token.refreshed",
    "token.validated",
    "token.rejected",
    "token.revoked",
)
_REFRESH_KINDS = ("token.refresh.issued", "token.refreshed", "token.revoked")
_ISSUE_KINDS = ("token.access.issued", "token.refresh.issued")
_USE_KINDS = ("token.refreshed", "token.validated")


def _epoch(t: datetime | None) -> float | None:
    return None if t is None else round(t.timestamp(), 3)


# -- enrichment ----------------------------------------------------------------------------------


def enrich_users(frame: pl.DataFrame) -> pl.DataFrame:
    """Fill ``user`` and ``client_id`` of token events that do not name them (a failed
    validation names only the jti) from the line that issued that token."""
    need = pl.col("kind").is_in(_TOKEN_KINDS) & pl.col("token_id").is_not_null()
    missing = need & (pl.col("user").is_null() | pl.col("client_id").is_null())
    if not frame.select(missing.any()).item():
        return frame
    issued = (
        frame.filter(
            pl.col("kind").is_in(_ISSUE_KINDS)
            & pl.col("token_id").is_not_null()
            & pl.col("user").is_not_null()
        )
        .select(
            "token_id",
            pl.col("user").alias("_user"),
            pl.col("client_id").alias("_client"),
        )
        .unique("token_id", keep="first", maintain_order=True)
    )
    if issued.height == 0:
        return frame
    out = frame.join(issued, on="token_id", how="left", maintain_order="left")
    return out.with_columns(
        pl.when(need & pl.col("user").is_null())
        .then(pl.col("_user"))
        .otherwise(pl.col("user"))
        .alias("user"),
        pl.when(need & pl.col("client_id").is_null())
        .then(pl.col("_client"))
        .otherwise(pl.col("client_id"))
        .alias("client_id"),
    ).drop("_user", "_client")


# -- timeline ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartData:
    """Counts per time bucket: ``start`` (epoch s), ``bucket`` (s), ``n`` buckets, series."""

    start: int
    bucket: int
    n: int
    levels: tuple[tuple[str, list[int]], ...]
    kinds: tuple[tuple[str, list[int]], ...]


def choose_bucket(lo: int, hi: int, max_buckets: int) -> int:
    """The smallest bucket of :data:`BUCKETS` that covers ``lo..hi`` in ``max_buckets``."""
    for b in BUCKETS:
        if hi // b - lo // b + 1 <= max_buckets:
            return b
    # n = hi // b - lo // b + 1 <= (hi - lo) / b + 2, so b >= span / (cap - 2) is enough
    return max(BUCKETS[-1], -(-(hi - lo) // max(1, max_buckets - 2)))


def _series(b: pl.DataFrame, key: str, names: Sequence[str], n: int) -> list[tuple[str, list[int]]]:
    counts = b.group_by("b", key).len()
    out: list[tuple[str, list[int]]] = []
    for name in names:
        arr = np.zeros(n, dtype=np.int64)
        sub = counts.filter(pl.col(key) == name)
        if sub.height:
            arr[sub["b"].to_numpy()] = sub["len"].to_numpy()
        out.append((name, arr.tolist()))
    return out


def timeline(frame: pl.DataFrame, limits: Limits) -> ChartData:
    """Events per bucket by level and by kind (top kinds, the rest as ``other``)."""
    t = frame.filter(pl.col("time").is_not_null()).select(
        pl.col("time").dt.epoch("s").alias("s"),
        pl.col("level").fill_null("(none)"),
        pl.col("kind").fill_null("unrecognized"),
    )
    if t.height == 0:
        return ChartData(start=0, bucket=60, n=0, levels=(), kinds=())
    lo = int(t["s"].min())  # type: ignore[arg-type]
    hi = int(t["s"].max())  # type: ignore[arg-type]
    bucket = choose_bucket(lo, hi, limits.max_buckets)
    first = lo // bucket
    n = hi // bucket - first + 1
    b = t.with_columns(((pl.col("s") // bucket) - first).cast(pl.Int64).alias("b"))
    present = set(b["level"].unique().to_list())
    levels = [lv for lv in LEVEL_ORDER if lv in present] + sorted(present - set(LEVEL_ORDER))
    top = (
        b.group_by("kind")
        .len()
        .sort(["len", "kind"], descending=[True, False])
        .head(limits.kinds_charted)["kind"]
        .to_list()
    )
    kinds = sorted(top)
    kb = b.with_columns(
        pl.when(pl.col("kind").is_in(kinds)).then(pl.col("kind")).otherwise(pl.lit("other"))
    )
    if kb["kind"].eq("other").any():
        kinds.append("other")
    return ChartData(
        start=first * bucket,
        bucket=bucket,
        n=n,
        levels=tuple(_series(b, "level", levels, n)),
        kinds=tuple(_series(kb, "kind", kinds, n)),
    )


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
        .when(pl.col("kind") == "service.restarted")
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
    """The per-user table (shown rows), the user count, and drill-down data for the rows."""

    rows: list[dict[str, Any]]
    total: int
    drill_events: pl.DataFrame
    lineage: pl.DataFrame
    lineage_more: dict[tuple[str, str, str], int]


def users(frame: pl.DataFrame, limits: Limits) -> UserAgg:
    """Per-user counts, failures by reason, last seen; capped drill events and lineage."""
    ev = frame.filter(pl.col("user").is_not_null() & (pl.col("user") != ""))
    if ev.height == 0:
        return UserAgg([], 0, ev, ev, {})
    kind = pl.col("kind")
    agg = ev.group_by("user").agg(
        (kind == "auth.success").sum().alias("logins"),
        (kind == "token.access.issued").sum().alias("access"),
        (kind == "token.refreshed").sum().alias("refreshes"),
        kind.is_in(FAILURE_KINDS).sum().alias("failures"),
        pl.len().alias("events"),
        pl.col("time").max().alias("last"),
    )
    total = agg.height
    shown = agg.sort(
        ["failures", "events", "user"], descending=[True, True, False], nulls_last=True
    ).head(limits.users_shown)
    reasons = (
        ev.filter(kind.is_in(FAILURE_KINDS) & pl.col("user").is_in(shown["user"].implode()))
        .group_by("user", pl.col("reason").fill_null("(no reason)"))
        .len()
        .sort(["user", "len", "reason"], descending=[False, True, False])
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
    )
    lin, more = _lineage(ev.filter(pl.col("user").is_in(drill_users.implode())), limits)
    return UserAgg(rows, total, d, lin, more)


def _lineage(
    ev: pl.DataFrame, limits: Limits
) -> tuple[pl.DataFrame, dict[tuple[str, str, str], int]]:
    kind = pl.col("kind")
    tok = ev.filter(kind.is_in(_TOKEN_KINDS) & pl.col("token_id").is_not_null()).with_columns(
        pl.when(
            kind.is_in(_REFRESH_KINDS)
            | ((kind == "token.rejected") & pl.col("grant").is_not_null())
        )
        .then(pl.lit("refresh"))
        .otherwise(pl.lit("access"))
        .alias("typ"),
        pl.col("client_id").fill_null("(unknown client)"),
    )
    if tok.height == 0:
        return tok, {}
    g = tok.group_by(["user", "client_id", "typ", "token_id"]).agg(
        pl.col("time").filter(kind.is_in(_ISSUE_KINDS)).min().alias("issued"),
        pl.col("time").min().alias("first"),
        pl.col("time").max().alias("last"),
        pl.col("key").drop_nulls().first().alias("key"),
        pl.col("device").drop_nulls().first().alias("device"),
        pl.col("grant").filter(kind == "token.access.issued").first().alias("grant"),
        pl.col("value").filter(kind.is_in(_ISSUE_KINDS)).first().alias("expires_in"),
        kind.is_in(_USE_KINDS).sum().alias("used"),
        pl.col("time").filter(kind == "token.revoked").min().alias("revoked"),
        pl.col("reason").filter(kind == "token.revoked").first().alias("cause"),
        (kind == "token.rejected").sum().alias("rejected"),
        pl.col("reason")
        .filter(kind == "token.rejected")
        .drop_nulls()
        .unique()
        .sort()
        .alias("reasons"),
        pl.col("node").drop_nulls().unique().sort().alias("nodes"),
    )
    g = g.sort(["user", "client_id", "typ", "first"], descending=[False, False, False, True])
    g = g.with_columns(pl.int_range(pl.len()).over(["user", "client_id", "typ"]).alias("_i"))
    counts = g.group_by(["user", "client_id", "typ"]).len()
    more = {
        (u, c, t): n - limits.lineage_tokens
        for u, c, t, n in counts.iter_rows()
        if n > limits.lineage_tokens
    }
    return g.filter(pl.col("_i") < limits.lineage_tokens).drop("_i"), more


# -- coverage ------------------------------------------------------------------------------------


def rotation_stem(path: str) -> str:
    """What the rotated files of one log share: the file name without digits and suffixes
    (``ssosp00002.log.gz`` -> ``ssosp``; ``certCN00001.log`` -> ``certCN``)."""
    name = re.split(r"[/\\!]", path)[-1]
    return re.sub(r"[0-9]+", "", name.split(".", 1)[0]).rstrip("-_")


@dataclass(frozen=True)
class FileGaps:
    """Gaps within files and between consecutive files of one node and family."""

    gaps: list[dict[str, Any]]
    per_file: dict[str, int]
    total: int


def file_gaps(frame: pl.DataFrame, stats: Sequence[ParseStats], limits: Limits) -> FileGaps:
    """Silences longer than ``limits.gap_seconds``: between consecutive records of a file (in
    line order), and between the last record of a file and the first of the next file of the
    same node and family (in time order)."""
    threshold = pl.duration(seconds=limits.gap_seconds)
    inside = (
        frame.filter(pl.col("time").is_not_null())
        .select("node", "file", "line", "time")
        .sort(["file", "line"])
        .with_columns(pl.col("time").shift(1).over("file").alias("start"))
        .filter((pl.col("time") - pl.col("start")) > threshold)
        .select(
            pl.col("node").fill_null(""),
            pl.col("file").alias("where"),
            pl.col("file"),
            "start",
            pl.col("time").alias("end"),
        )
    )
    rows = inside.to_dicts()
    groups: dict[tuple[str, str, str], list[ParseStats]] = {}
    for st in stats:
        if st.first_time is not None and st.last_time is not None and st.error is None:
            groups.setdefault((st.node or "", st.family or "", rotation_stem(st.path)), []).append(
                st
            )
    for (node, _family, _stem), files in groups.items():
        files.sort(key=lambda s: (s.first_time, s.path))
        last = files[0].last_time
        for prev, cur in itertools.pairwise(files):
            assert last is not None and cur.first_time is not None and cur.last_time is not None
            if (cur.first_time - last).total_seconds() > limits.gap_seconds:
                rows.append(
                    {
                        "node": node,
                        "where": f"{prev.path} → {cur.path}",
                        "file": cur.path,
                        "start": last,
                        "end": cur.first_time,
                    }
                )
            last = max(last, cur.last_time)
    per_file: dict[str, int] = {}
    for r in rows:
        r["seconds"] = (r["end"] - r["start"]).total_seconds()
        per_file[r["file"]] = per_file.get(r["file"], 0) + 1
    total = len(rows)
    rows.sort(key=lambda r: (r["file"], -r["seconds"]))
    kept: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for r in rows:
        seen[r["file"]] = seen.get(r["file"], 0) + 1
        if seen[r["file"]] <= limits.gaps_per_file:
            kept.append(r)
    kept.sort(key=lambda r: (r["node"], r["start"]))
    return FileGaps(kept, per_file, total)


# -- unrecognized shapes -------------------------------------------------------------------------

_SHAPE_RULES: tuple[tuple[str, str], ...] = (
    (r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "<uuid>"),
    (r"\bC[0-9a-fA-F]{64}\b", "<client>"),
    (r"\b(?:0x)?[0-9a-fA-F]*[0-9][0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\b", "<hex>"),
    (r"\b(?:0x)?[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*[0-9][0-9a-fA-F]*\b", "<hex>"),
    (r"[0-9]+", "<n>"),
)
SHAPE_CHARS = 400
"""Characters of a message's first line that its shape is taken from."""


def shape_expr(col: pl.Expr) -> pl.Expr:
    """The shape of a message: its first line (cut) with uuids, client ids, hex strings and
    numbers masked, so that messages that differ only in ids group together."""
    e = col.fill_null("").str.extract(r"^([^\n]*)", 1).str.slice(0, SHAPE_CHARS)
    for pattern, repl in _SHAPE_RULES:
        e = e.str.replace_all(pattern, repl)
    return e.str.strip_chars()


def shapes(frame: pl.DataFrame, limits: Limits) -> tuple[list[dict[str, Any]], int, int]:
    """Unrecognized records grouped by shape, most frequent first: (shown, shapes, records)."""
    u = frame.filter(pl.col("kind") == "unrecognized")
    if u.height == 0:
        return [], 0, 0
    g = (
        u.select(
            "node",
            "file",
            "line",
            "time",
            pl.col("message").str.slice(0, limits.excerpt_chars * 4 + 16),
            shape_expr(pl.col("message")).alias("shape"),
        )
        .group_by("shape", maintain_order=True)
        .agg(
            pl.len().alias("count"),
            pl.col("node").n_unique().alias("nodes"),
            pl.col("node").first(),
            pl.col("file").first(),
            pl.col("line").first(),
            pl.col("time").first(),
            pl.col("message").first(),
        )
        .sort(["count", "shape"], descending=[True, False])
    )
    return g.head(limits.shapes).to_dicts(), g.height, u.height
