"""Correlation: token lineage, sessions, timelines, clock skew between nodes, log coverage.

Everything here works on the polars event table (in time order, :class:`logdoctor.events.
Events`) and returns polars tables with documented columns or small frozen dataclasses, so
that rules, the CLI and the HTML report share one computation.

- **Lineage** (:func:`lineage`): one row per token id (access-token ``jti``, refresh-token
  ``tid``, authorization code): who it was issued to, where, when, with which key, when it
  expires, how often and where it was used, rejected, revoked, and its parent (the refresh
  token an access token was obtained with, or the refresh token issued in the same login).
- **Enrichment** (:func:`enrich`): lines that name only a token (a validation names no device;
  a refusal may name no user) get the user, client and device of the token's issue line.
- **Sessions** (:func:`sessions`): per user and device (and client id), one row per login,
  from the authorize request through refreshes to the next login, revocation or the end.
- **Timelines** (:func:`timeline`) of a user, device, node or token (with its lineage).
- **Clock skew** (:func:`clock_skew`): a token used on one node before another node issued it
  proves the two clocks disagree; offsets per node against a reference node, and
  :func:`correct_skew` to shift each node's times.
- **Coverage** (:func:`coverage`): per node and log family, the files, time span, records, and
  the gaps (a missing rotated file, or a silence in hours that are busy on the other days
  the logs cover).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import PurePosixPath

import numpy as np
import polars as pl

from logdoctor.events import VIA_KINDS, Events
from logdoctor.evidence import excerpt, from_rows
from logdoctor.model import Evidence, ParseStats

__all__ = [
    "LINEAGE_COLUMNS",
    "SESSION_COLUMNS",
    "TIMELINE_COLUMNS",
    "USER_COLUMNS",
    "FileSpan",
    "Gap",
    "NodeCoverage",
    "PairSkew",
    "SkewReport",
    "clock_skew",
    "correct_skew",
    "coverage",
    "enrich",
    "lineage",
    "sessions",
    "timeline",
    "users",
]

ISSUE_KINDS = {
    "code.issued": "code",
    "token.access.issued": "access",
    "token.refresh.issued": "refresh",
}
USE_KINDS = ("token.refreshed", "token.validated", "token.rejected", "token.revoked")
LOGIN_GRANTS = ("authorization_code", "implicit")
SESSION_KINDS = (
    "authorize.request",
    "authorize.rejected",
    "code.issued",
    "token.access.issued",
    "token.refresh.issued",
    "token.refreshed",
    "token.validated",
    "token.rejected",
    "token.revoked",
)

LINEAGE_COLUMNS: Mapping[str, str] = {
    "token_id": "access-token jti, refresh-token tid or authorization code",
    "type": "access, refresh or code (inferred from its use when the issue line is absent)",
    "issued_at": "time of the issue line (null when issued before the logs start)",
    "issued_node": "node that issued it",
    "issued_file": "file of the issue line",
    "issued_line": "line number of the issue line",
    "user": "user it was issued to",
    "client_id": "OAuth client id",
    "device": "device name",
    "grant": "grant that produced an access token (authorization_code, refresh_token, implicit)",
    "kid": "key id (cluster uuid:signing-key checksum) it was signed with",
    "expires_at": "issued_at + expires_in",
    "via": "proxy (Expressway) the request came through",
    "parent": "refresh tid this access token came from (or was issued with at login)",
    "uses": "lines that used it (refresh, validation, rejection, revocation)",
    "first_use": "time of its first use",
    "last_use": "time of its last use",
    "validations": "successful validations",
    "rejections": "refusals and failed validations",
    "reasons": "distinct rejection reasons",
    "servers": "distinct servers that validated or rejected it",
    "revoked_at": "time it was revoked (revoke API, timer change...)",
    "revoke_cause": "why it was revoked",
}
"""Columns of :func:`lineage`."""

SESSION_COLUMNS: Mapping[str, str] = {
    "user": "user",
    "device": "device name ('' when the lines name none)",
    "client_id": "OAuth client id ('' when unknown)",
    "session": "login number for this user and device (0: began before the logs)",
    "start": "first line of the session",
    "end": "last line of the session",
    "login_grant": "authorization_code (refresh flow), implicit, or null",
    "via": "proxy (Expressway) of the login, null on premises",
    "access_tokens": "access tokens issued",
    "refresh_token": "tid of the refresh token issued at login (null without one)",
    "refreshes": "successful refresh grants",
    "validations": "successful validations",
    "failures": "refusals and failed validations",
    "last_failure": "reason of the last failure",
    "revoked": "a refresh token of the session was revoked",
    "ended_by": "relogin, revoked, failed, or open (still running when the logs end)",
}
"""Columns of :func:`sessions`."""

TIMELINE_COLUMNS = (
    "time",
    "node",
    "kind",
    "level",
    "user",
    "device",
    "token_id",
    "grant",
    "server",
    "reason",
    "param",
    "value",
    "summary",
    "file",
    "line",
)
"""Columns of :func:`timeline`."""

USER_COLUMNS: Mapping[str, str] = {
    "user": "user",
    "devices": "distinct devices",
    "logins": "sessions (logins) seen",
    "refreshes": "successful refresh grants",
    "validations": "successful validations",
    "failures": "refusals and failed validations",
    "reasons": "distinct failure reasons",
    "revoked": "refresh tokens revoked for the user",
    "first_seen": "first line about the user",
    "last_seen": "last line about the user",
}
"""Columns of :func:`users`."""


def _events(events: Events | pl.DataFrame) -> Events:
    return events if isinstance(events, Events) else Events(events)


# -- lineage -------------------------------------------------------------------------------------


def lineage(events: Events | pl.DataFrame) -> pl.DataFrame:
    """One row per token id (columns: :data:`LINEAGE_COLUMNS`), in order of first sight."""
    ev = _events(events)
    issued = ev.of(*ISSUE_KINDS).filter(pl.col("token_id").is_not_null())
    issued = issued.with_columns(
        pl.col("kind").replace_strict(ISSUE_KINDS, return_dtype=pl.String).alias("type"),
        (pl.col("time") + pl.duration(seconds=pl.col("value").cast(pl.Int64, strict=False))).alias(
            "expires_at"
        ),
    )
    parents = _parents(ev, issued)
    tokens = (
        issued.unique("token_id", keep="first", maintain_order=True)
        .select(
            "token_id",
            "type",
            pl.col("time").alias("issued_at"),
            pl.col("node").alias("issued_node"),
            pl.col("file").alias("issued_file"),
            pl.col("line").alias("issued_line"),
            "user",
            "client_id",
            "device",
            pl.when(pl.col("type") == "access").then(pl.col("grant")).alias("grant"),
            pl.col("key").alias("kid"),
            "expires_at",
            pl.col("server").alias("via"),
        )
        .join(parents, on="token_id", how="left")
    )
    uses = ev.of(*USE_KINDS).filter(pl.col("token_id").is_not_null())
    used = uses.group_by("token_id", maintain_order=True).agg(
        pl.len().cast(pl.Int64).alias("uses"),
        pl.col("time").min().alias("first_use"),
        pl.col("time").max().alias("last_use"),
        (pl.col("kind") == "token.validated").sum().cast(pl.Int64).alias("validations"),
        (pl.col("kind") == "token.rejected").sum().cast(pl.Int64).alias("rejections"),
        pl.col("reason")
        .filter(pl.col("kind") == "token.rejected")
        .drop_nulls()
        .unique(maintain_order=True)
        .alias("reasons"),
        pl.col("server")
        .filter(pl.col("kind").is_in(["token.validated", "token.rejected"]))
        .drop_nulls()
        .unique(maintain_order=True)
        .alias("servers"),
        pl.col("time").filter(pl.col("kind") == "token.revoked").min().alias("revoked_at"),
        pl.col("reason").filter(pl.col("kind") == "token.revoked").first().alias("revoke_cause"),
        pl.when(pl.col("kind").is_in(["token.refreshed", "token.revoked"]))
        .then(pl.lit("refresh"))
        .when(pl.col("kind") == "token.validated")
        .then(pl.lit("access"))
        .otherwise(None)
        .drop_nulls()
        .first()
        .alias("_type"),
        pl.col("user").drop_nulls().first().alias("_user"),
        pl.col("client_id").drop_nulls().first().alias("_client"),
        pl.col("device").drop_nulls().first().alias("_device"),
    )
    out = tokens.join(used, on="token_id", how="full", coalesce=True, maintain_order="left_right")
    out = out.with_columns(
        pl.col("type").fill_null(pl.col("_type")),
        pl.col("user").fill_null(pl.col("_user")),
        pl.col("client_id").fill_null(pl.col("_client")),
        pl.col("device").fill_null(pl.col("_device")),
        pl.col("uses").fill_null(0),
        pl.col("validations").fill_null(0),
        pl.col("rejections").fill_null(0),
    )
    return out.select(list(LINEAGE_COLUMNS))


def _parents(ev: Events, issued: pl.DataFrame) -> pl.DataFrame:
    """token_id -> parent refresh tid, by the refresh grant or login that preceded the issue."""
    access = issued.filter(pl.col("type") == "access").select(
        "token_id",
        "time",
        "node",
        "grant",
        pl.col("user").fill_null(""),
        pl.col("device").fill_null(""),
    )
    schema = {"token_id": pl.String(), "parent": pl.String()}
    if access.height == 0:
        return pl.DataFrame(schema=schema)
    by = ["node", "user", "device"]
    refreshed = (
        ev.of("token.refreshed")
        .filter(pl.col("token_id").is_not_null())
        .select(
            "time",
            "node",
            pl.col("user").fill_null(""),
            pl.col("device").fill_null(""),
            pl.col("token_id").alias("parent"),
        )
    )
    via_refresh = access.filter(pl.col("grant") == "refresh_token").sort("time")
    found = []
    if via_refresh.height and refreshed.height:
        found.append(
            via_refresh.join_asof(
                refreshed.sort("time"),
                on="time",
                by=by,
                strategy="backward",
                tolerance=timedelta(seconds=5),
                check_sortedness=False,  # sorted by time above; groups are not checkable
            ).select("token_id", "parent")
        )
    logins = access.filter(pl.col("grant") == "authorization_code").sort("time")
    refresh = (
        issued.filter(pl.col("type") == "refresh")
        .select(
            "time",
            "node",
            pl.col("user").fill_null(""),
            pl.col("device").fill_null(""),
            pl.col("token_id").alias("parent"),
        )
        .sort("time")
    )
    if logins.height and refresh.height:
        found.append(
            logins.join_asof(
                refresh,
                on="time",
                by=by,
                strategy="forward",
                tolerance=timedelta(seconds=5),
                check_sortedness=False,
            ).select("token_id", "parent")
        )
    if not found:
        return pl.DataFrame(schema=schema)
    return (
        pl.concat(found, how="vertical")
        .filter(pl.col("parent").is_not_null())
        .unique("token_id", keep="first")
    )


def enrich(events: Events | pl.DataFrame, lin: pl.DataFrame | None = None) -> pl.DataFrame:
    """The event table with user, client id and device filled from each token's issue line,
    where a line names the token but not them."""
    ev = _events(events)
    lin = lineage(ev) if lin is None else lin
    frame = ev.frame
    if lin.height == 0 or frame.height == 0:
        return frame
    known = lin.select(
        "token_id",
        pl.col("user").alias("_u"),
        pl.col("client_id").alias("_c"),
        pl.col("device").alias("_d"),
    )
    need = pl.col("token_id").is_not_null() & (
        pl.col("user").is_null() | pl.col("client_id").is_null() | pl.col("device").is_null()
    )
    if not bool(frame.select(need.any()).item()):
        return frame
    joined = frame.join(known, on="token_id", how="left", maintain_order="left")
    return joined.with_columns(
        pl.col("user").fill_null(pl.col("_u")),
        pl.col("client_id").fill_null(pl.col("_c")),
        pl.col("device").fill_null(pl.col("_d")),
    ).drop("_u", "_c", "_d")


# -- sessions and users --------------------------------------------------------------------------


def sessions(enriched: pl.DataFrame) -> pl.DataFrame:
    """One row per login of a user on a device (columns: :data:`SESSION_COLUMNS`).

    ``enriched`` is the (time-ordered) output of :func:`enrich`.
    """
    key = ["user", "device", "client_id"]
    rows = enriched.filter(
        pl.col("kind").is_in(SESSION_KINDS) & pl.col("user").is_not_null()
    ).with_columns(pl.col("device").fill_null(""), pl.col("client_id").fill_null(""))
    if rows.height == 0:
        return pl.DataFrame(
            schema={
                "user": pl.String(),
                "device": pl.String(),
                "client_id": pl.String(),
                "session": pl.Int64(),
                "start": pl.Datetime("us", "UTC"),
                "end": pl.Datetime("us", "UTC"),
                "login_grant": pl.String(),
                "via": pl.String(),
                "access_tokens": pl.Int64(),
                "refresh_token": pl.String(),
                "refreshes": pl.Int64(),
                "validations": pl.Int64(),
                "failures": pl.Int64(),
                "last_failure": pl.String(),
                "revoked": pl.Boolean(),
                "ended_by": pl.String(),
            }
        )
    # Client ids are per application: keep the device's one for lines that name only the user.
    rows = rows.sort([*key, "time"], maintain_order=True)
    login_access = (pl.col("kind") == "token.access.issued") & pl.col("grant").is_in(LOGIN_GRANTS)
    prev = pl.col("kind").shift(1).over(key)
    start = (pl.col("kind") == "authorize.request") | (
        login_access & ~prev.is_in(["authorize.request", "code.issued"]).fill_null(False)
    )
    rows = rows.with_columns(start.cast(pl.Int64).cum_sum().over(key).alias("session"))
    agg = rows.group_by([*key, "session"], maintain_order=True).agg(
        pl.col("time").min().alias("start"),
        pl.col("time").max().alias("end"),
        pl.col("grant").filter(login_access).first().alias("login_grant"),
        pl.col("server").filter(pl.col("kind").is_in(VIA_KINDS)).drop_nulls().first().alias("via"),
        (pl.col("kind") == "token.access.issued").sum().cast(pl.Int64).alias("access_tokens"),
        pl.col("token_id")
        .filter(pl.col("kind") == "token.refresh.issued")
        .first()
        .alias("refresh_token"),
        (pl.col("kind") == "token.refreshed").sum().cast(pl.Int64).alias("refreshes"),
        (pl.col("kind") == "token.validated").sum().cast(pl.Int64).alias("validations"),
        pl.col("kind")
        .is_in(["token.rejected", "authorize.rejected"])
        .sum()
        .cast(pl.Int64)
        .alias("failures"),
        pl.col("reason")
        .filter(pl.col("kind").is_in(["token.rejected", "authorize.rejected"]))
        .last()
        .alias("last_failure"),
        (pl.col("kind") == "token.revoked").any().alias("revoked"),
        pl.col("kind").last().alias("_last_kind"),
    )
    has_next = pl.col("session").shift(-1).over(key).is_not_null()
    agg = agg.with_columns(
        pl.when(pl.col("revoked"))
        .then(pl.lit("revoked"))
        .when(has_next)
        .then(pl.lit("relogin"))
        .when(pl.col("_last_kind").is_in(["token.rejected", "authorize.rejected"]))
        .then(pl.lit("failed"))
        .otherwise(pl.lit("open"))
        .alias("ended_by")
    ).drop("_last_kind")
    return agg.sort(["start", "user", "device"]).select(list(SESSION_COLUMNS))


def users(enriched: pl.DataFrame, sess: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per user (columns: :data:`USER_COLUMNS`), sorted by user."""
    sess = sessions(enriched) if sess is None else sess
    rows = enriched.filter(
        pl.col("user").is_not_null()
        & pl.col("kind").is_in([*SESSION_KINDS, "auth.success", "auth.failure"])
        & (pl.col("param") != "admin").fill_null(True)
    )
    failure = pl.col("kind").is_in(["token.rejected", "authorize.rejected", "auth.failure"])
    per = rows.group_by("user").agg(
        pl.col("device").drop_nulls().n_unique().cast(pl.Int64).alias("devices"),
        (pl.col("kind") == "token.refreshed").sum().cast(pl.Int64).alias("refreshes"),
        (pl.col("kind") == "token.validated").sum().cast(pl.Int64).alias("validations"),
        failure.sum().cast(pl.Int64).alias("failures"),
        pl.col("reason").filter(failure).drop_nulls().unique().sort().alias("reasons"),
        (pl.col("kind") == "token.revoked").sum().cast(pl.Int64).alias("revoked"),
        pl.col("time").min().alias("first_seen"),
        pl.col("time").max().alias("last_seen"),
    )
    logins = (
        sess.filter(pl.col("session") > 0)
        .group_by("user")
        .agg(pl.len().cast(pl.Int64).alias("logins"))
    )
    out = per.join(logins, on="user", how="left").with_columns(pl.col("logins").fill_null(0))
    return out.sort("user").select(list(USER_COLUMNS))


# -- timelines -----------------------------------------------------------------------------------


def timeline(
    enriched: pl.DataFrame,
    *,
    user: str | None = None,
    device: str | None = None,
    node: str | None = None,
    token: str | None = None,
    lin: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The lines about a user, a device, a node or a token, in time order
    (columns: :data:`TIMELINE_COLUMNS`). Filters combine (all must hold).

    For a token, the timeline also holds its lineage: the refresh token it came from and the
    access tokens obtained with it.
    """
    cond = pl.lit(True)
    if user is not None:
        cond = cond & (pl.col("user") == user)
    if device is not None:
        cond = cond & (pl.col("device") == device)
    if node is not None:
        cond = cond & (pl.col("node") == node)
    if token is not None:
        ids = {token}
        if lin is not None and lin.height:
            row = lin.filter(pl.col("token_id") == token)
            if row.height and row["parent"][0] is not None:
                ids.add(str(row["parent"][0]))
            ids.update(lin.filter(pl.col("parent") == token)["token_id"].to_list())
        cond = cond & pl.col("token_id").is_in(sorted(ids))
    rows = enriched.filter(cond)
    return rows.select(
        "time",
        "node",
        "kind",
        "level",
        "user",
        "device",
        "token_id",
        "grant",
        "server",
        "reason",
        "param",
        "value",
        pl.col("message").map_elements(excerpt, return_dtype=pl.String).alias("summary")
        if rows.height
        else pl.col("message").alias("summary"),
        "file",
        "line",
    )


# -- clock skew ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairSkew:
    """What cross-node links say about the clocks of two nodes ``a`` and ``b``.

    A token issued on ``a`` at ``t_a`` and used on ``b`` at ``t_b`` proves
    ``clock_b - clock_a <= t_b - t_a``; links the other way give a lower bound.
    """

    a: str
    b: str
    upper: float | None
    """Smallest ``t_b - t_a`` over links a -> b, seconds (None without such links)."""
    lower: float | None
    """Largest ``t_b - t_a`` over links b -> a, seconds (None without such links)."""
    estimate: float
    """Best estimate of ``clock_b - clock_a`` in seconds (0 when the bounds allow no skew)."""
    links: int
    worst: tuple[Evidence, ...] = ()
    """The issue line and the use line of the link that bounds the skew most."""


@dataclass(frozen=True)
class SkewReport:
    """Clock offsets of nodes against a reference node, from cross-node links."""

    reference: str | None
    offsets: Mapping[str, float] = field(default_factory=dict)
    """node -> seconds its clock is ahead of the reference (negative: behind)."""
    pairs: tuple[PairSkew, ...] = ()
    tolerance: float = 2.0

    def skewed(self) -> list[tuple[str, float]]:
        """Nodes whose offset exceeds the tolerance, largest first."""
        out = [(n, o) for n, o in self.offsets.items() if abs(o) > self.tolerance]
        return sorted(out, key=lambda x: (-abs(x[1]), x[0]))


def _links(ev: Events, lin: pl.DataFrame) -> pl.DataFrame:
    """Cross-node causal links: (a, b, d = t_b - t_a, issue file/line, use file/line)."""
    issued = lin.filter(pl.col("issued_at").is_not_null()).select(
        "token_id",
        pl.col("issued_node").alias("a"),
        pl.col("issued_at").alias("ta"),
        pl.col("issued_file").alias("fa"),
        pl.col("issued_line").alias("la"),
    )
    uses = ev.of(*USE_KINDS).filter(pl.col("token_id").is_not_null())
    frames = []
    if issued.height and uses.height:
        frames.append(
            uses.select(
                "token_id",
                pl.col("node").alias("b"),
                pl.col("time").alias("tb"),
                pl.col("file").alias("fb"),
                pl.col("line").alias("lb"),
                pl.col("message").alias("mb"),
                pl.col("kind").alias("kb"),
            )
            .join(issued, on="token_id", how="inner")
            .filter(pl.col("a") != pl.col("b"))
            .drop("token_id")
        )
    regen = (
        ev.of("key.regenerated")
        .filter(pl.col("family") != "certmgmt")
        .select(
            "key",
            pl.col("node").alias("a"),
            pl.col("time").alias("ta"),
            pl.col("file").alias("fa"),
            pl.col("line").alias("la"),
        )
    )
    repl = ev.of("key.replicated").select(
        "key",
        pl.col("node").alias("b"),
        pl.col("time").alias("tb"),
        pl.col("file").alias("fb"),
        pl.col("line").alias("lb"),
        pl.col("message").alias("mb"),
        pl.col("kind").alias("kb"),
    )
    if regen.height and repl.height:
        frames.append(
            repl.join(regen, on="key", how="inner").filter(pl.col("a") != pl.col("b")).drop("key")
        )
    if not frames:
        return pl.DataFrame()
    cols = ("a", "b", "ta", "tb", "fa", "la", "fb", "lb", "mb", "kb")
    links = pl.concat([f.select(cols) for f in frames])
    return links.with_columns(
        ((pl.col("tb") - pl.col("ta")).dt.total_microseconds() / 1e6).alias("d")
    )


def clock_skew(
    events: Events | pl.DataFrame,
    lin: pl.DataFrame | None = None,
    *,
    reference: str | None = None,
    tolerance: float = 2.0,
) -> SkewReport:
    """Estimate clock offsets between nodes from tokens used on one node and issued on
    another (and keys replicated from the publisher). ``reference`` defaults to the node that
    issued the most tokens."""
    ev = _events(events)
    lin = lineage(ev) if lin is None else lin
    links = _links(ev, lin)
    if links.height == 0:
        return SkewReport(reference=reference, tolerance=tolerance)
    best = (
        links.sort("d")
        .group_by(["a", "b"], maintain_order=True)
        .agg(
            pl.col("d").first().alias("dmin"),
            pl.len().alias("n"),
            pl.col("ta").first(),
            pl.col("tb").first(),
            pl.col("fa").first(),
            pl.col("la").first(),
            pl.col("fb").first(),
            pl.col("lb").first(),
            pl.col("mb").first(),
            pl.col("kb").first(),
        )
    )
    directed = {(r["a"], r["b"]): r for r in best.iter_rows(named=True)}
    pairs: list[PairSkew] = []
    done: set[tuple[str, str]] = set()
    for a, b in sorted(directed):
        lo_key = (b, a)
        if (a, b) in done or lo_key in done:
            continue
        done.add((a, b))
        fwd = directed.get((a, b))
        back = directed.get(lo_key)
        upper = None if fwd is None else float(fwd["dmin"])
        lower = None if back is None else -float(back["dmin"])
        estimate = _estimate(upper, lower)
        worst_row = fwd if (upper is not None and upper < 0) or back is None else back
        pairs.append(
            PairSkew(
                a=a,
                b=b,
                upper=upper,
                lower=lower,
                estimate=estimate,
                links=int((0 if fwd is None else fwd["n"]) + (0 if back is None else back["n"])),
                worst=_link_evidence(ev, worst_row),
            )
        )
    degree: dict[str, int] = {}
    for p in pairs:
        degree[p.a] = degree.get(p.a, 0) + p.links
        degree[p.b] = degree.get(p.b, 0) + p.links
    if reference in degree:
        ref = str(reference)
    else:
        # The node that issued most tokens (a UCM node, likely the publisher) keeps the time.
        issuers = lin.filter(pl.col("issued_node").is_in(sorted(degree)))["issued_node"]
        counts = issuers.value_counts(sort=True) if issuers.len() else None
        ref = (
            str(counts["issued_node"][0])
            if counts is not None
            else max(sorted(degree), key=lambda n: degree[n])
        )
    offsets = {ref: 0.0}
    queue = deque([ref])
    while queue:
        n = queue.popleft()
        for p in pairs:
            if p.a == n and p.b not in offsets:
                offsets[p.b] = offsets[n] + p.estimate
                queue.append(p.b)
            elif p.b == n and p.a not in offsets:
                offsets[p.a] = offsets[n] - p.estimate
                queue.append(p.a)
    return SkewReport(
        reference=ref,
        offsets=dict(sorted(offsets.items())),
        pairs=tuple(pairs),
        tolerance=tolerance,
    )


def _estimate(upper: float | None, lower: float | None) -> float:
    if upper is not None and lower is not None and lower > upper:
        return (lower + upper) / 2
    if upper is not None and upper < 0:
        return upper
    if lower is not None and lower > 0:
        return lower
    return 0.0


def _link_evidence(ev: Events, row: Mapping[str, object] | None) -> tuple[Evidence, ...]:
    if row is None:
        return ()
    issue = ev.frame.filter((pl.col("file") == row["fa"]) & (pl.col("line") == row["la"])).head(1)
    use = Evidence(
        node=str(row["b"]),
        file=str(row["fb"]),
        line=int(row["lb"]),  # type: ignore[call-overload]
        time=row["tb"] if isinstance(row["tb"], datetime) else None,
        kind=str(row["kb"]),
        excerpt=excerpt(str(row["mb"])),
    )
    return (*from_rows(issue), use)


def correct_skew(frame: pl.DataFrame, report: SkewReport) -> pl.DataFrame:
    """The table with each node's times shifted by its offset (to the reference's clock)."""
    shifts = {n: o for n, o in report.offsets.items() if o}
    if not shifts:
        return frame
    us = pl.col("node").replace_strict(
        {n: round(o * 1e6) for n, o in shifts.items()}, default=0, return_dtype=pl.Int64
    )
    return frame.with_columns((pl.col("time") - pl.duration(microseconds=us)).alias("time"))


# -- coverage and gaps ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FileSpan:
    """One file of a node: its rotation number, time span and record count."""

    file: str
    number: int | None
    first: datetime | None
    last: datetime | None
    records: int


@dataclass(frozen=True)
class Gap:
    """A stretch of time with lines missing from a node's log."""

    node: str
    family: str
    start: datetime | None
    end: datetime | None
    kind: str
    """``missing file`` (a rotated file absent from the bundle) or ``silence``."""
    expected: int
    """Records the traffic on both sides would have written meanwhile (0 if unknown)."""
    before: Evidence | None = None
    after: Evidence | None = None
    missing: tuple[str, ...] = ()
    """Names of the missing files (``missing file`` gaps)."""

    @property
    def seconds(self) -> float:
        """Length of the gap in seconds (0 when a bound is unknown)."""
        if self.start is None or self.end is None:
            return 0.0
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class NodeCoverage:
    """What the bundle holds for one node and log family."""

    node: str
    family: str
    files: tuple[FileSpan, ...]
    first: datetime | None
    last: datetime | None
    records: int
    gaps: tuple[Gap, ...] = ()


GAP_MIN_SECONDS = 3600.0
"""A silence shorter than this is never a gap."""
GAP_DAYS = 7
"""A silence is compared with the same time of day up to this many days before and after."""
GAP_EXPECTED = 50
"""A silence is a gap when, on another day, the same hours held at least this many records,"""
GAP_BUSY = 20
"""and the hour before it and the hour after it held at least this many each."""

_NUMBER = re.compile(r"^(?P<stem>[A-Za-z]+)(?P<num>\d{3,})(?P<ext>\.log)(?:\.gz|\.bz2|\.xz)?$")
"""A rotated UCM log name: letters, a zero-padded number, .log (ssosp00012.log)."""


def _file_number(file: str) -> tuple[str, int | None, int]:
    """(stem, rotation number, digits) of a file name: ssosp00012.log -> (ssosp, 12, 5)."""
    name = PurePosixPath(file.split("!")[-1].replace("\\", "/")).name
    m = _NUMBER.match(name)
    if m is None:
        return name, None, 0
    return m.group("stem"), int(m.group("num")), len(m.group("num"))


def coverage(events: Events | pl.DataFrame, stats: Sequence[ParseStats] = ()) -> list[NodeCoverage]:
    """Per node and family: files, span, records and gaps (sorted by node, family)."""
    ev = _events(events)
    frame = ev.frame.filter(pl.col("time").is_not_null())
    out: list[NodeCoverage] = []
    if frame.height == 0:
        return out
    per_file = frame.group_by(["node", "family", "file"]).agg(
        pl.col("time").min().alias("first"),
        pl.col("time").max().alias("last"),
        pl.len().alias("records"),
    )
    groups = per_file.partition_by(["node", "family"], as_dict=True)
    for key in sorted(groups, key=lambda k: (str(k[0]), str(k[1]))):
        node, family = str(key[0]), str(key[1])
        files_df = groups[key]
        spans = []
        for r in files_df.iter_rows(named=True):
            _stem, number, _width = _file_number(r["file"])
            spans.append(FileSpan(r["file"], number, r["first"], r["last"], int(r["records"])))
        spans.sort(key=lambda s: (s.first or datetime.min, s.file))
        stream = frame.filter((pl.col("node") == node) & (pl.col("family") == family))
        gaps = [*_missing_files(node, family, spans, stream), *_silences(node, family, stream)]
        gaps.sort(key=lambda g: (g.start or datetime.min, g.kind))
        out.append(
            NodeCoverage(
                node=node,
                family=family,
                files=tuple(spans),
                first=min((s.first for s in spans if s.first), default=None),
                last=max((s.last for s in spans if s.last), default=None),
                records=sum(s.records for s in spans),
                gaps=tuple(gaps),
            )
        )
    return out


def _missing_files(
    node: str, family: str, spans: list[FileSpan], stream: pl.DataFrame
) -> list[Gap]:
    if family != "ssosp":
        return []
    by_stem: dict[str, list[FileSpan]] = {}
    for s in spans:
        stem, number, _width = _file_number(s.file)
        if number is not None:
            by_stem.setdefault(stem, []).append(s)
    gaps = []
    for stem, group in by_stem.items():
        group.sort(key=lambda s: s.number or 0)
        for prev, nxt in pairwise(group):
            assert prev.number is not None and nxt.number is not None
            if nxt.number - prev.number <= 1:
                continue
            width = _file_number(prev.file)[2]
            missing = tuple(
                f"{stem}{str(n).zfill(width)}.log" for n in range(prev.number + 1, nxt.number)
            )
            gaps.append(
                Gap(
                    node=node,
                    family=family,
                    start=prev.last,
                    end=nxt.first,
                    kind="missing file",
                    expected=0,
                    before=_edge(stream, prev.file, last=True),
                    after=_edge(stream, nxt.file, last=False),
                    missing=missing,
                )
            )
    return gaps


def _edge(stream: pl.DataFrame, file: str, *, last: bool) -> Evidence | None:
    rows = stream.filter(pl.col("file") == file)
    if rows.height == 0:
        return None
    row = rows.sort("time").tail(1) if last else rows.sort("time").head(1)
    ev = from_rows(row)
    return ev[0] if ev else None


def _silences(node: str, family: str, stream: pl.DataFrame) -> list[Gap]:
    """Silences of GAP_MIN_SECONDS or more whose time of day, on another day the logs cover,
    held at least GAP_EXPECTED records (a quiet night every night is no gap)."""
    stream = stream.sort("time")
    t = stream["time"].dt.epoch("us").to_numpy().astype(np.int64)
    if t.size < 2:
        return []
    dt = np.diff(t)
    idx = np.nonzero(dt >= GAP_MIN_SECONDS * 1e6)[0]
    gaps = []
    day = 86400 * 10**6
    hour = 3600 * 10**6
    for i in idx:
        t0, t1 = int(t[i]), int(t[i + 1])
        before = i + 1 - int(np.searchsorted(t, t0 - hour, side="left"))
        after = int(np.searchsorted(t, t1 + hour, side="right")) - (i + 1)
        if min(before, after) < GAP_BUSY:
            continue  # traffic winding down or starting up: a quiet stretch, not lost lines
        expected = 0
        for k in (*range(-GAP_DAYS, 0), *range(1, GAP_DAYS + 1)):
            lo, hi = t0 + k * day, t1 + k * day
            if lo < t[0] or hi > t[-1]:
                continue
            n = int(np.searchsorted(t, hi, side="left") - np.searchsorted(t, lo, side="right"))
            expected = max(expected, n)
        if expected < GAP_EXPECTED:
            continue
        rows = stream.slice(int(i), 2)
        b, a = from_rows(rows)
        gaps.append(
            Gap(
                node=node,
                family=family,
                start=b.time,
                end=a.time,
                kind="silence",
                expected=expected,
                before=b,
                after=a,
            )
        )
    return gaps
