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

from collections.abc import Mapping
from datetime import timedelta

import polars as pl

from logdoctor.events import VIA_KINDS, Events
from logdoctor.evidence import excerpt

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
    "refreshes": "successful refresh grants with it (a refresh token)",
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
        (pl.col("kind") == "token.refreshed").sum().cast(pl.Int64).alias("refreshes"),
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
        pl.when(
            pl.col("kind").is_in(["token.refreshed", "token.revoked"])
            | ((pl.col("kind") == "token.rejected") & (pl.col("grant") == "refresh_token"))
        )
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
        pl.col("refreshes").fill_null(0),
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
    (columns: :data:`TIMELINE_COLUMNS`). Filters combine (all must hold); users and devices
    are compared without case, as UCM does.

    For a token, the timeline also holds its lineage: the refresh token it came from and the
    access tokens obtained with it.
    """
    cond = pl.lit(True)
    if user is not None:  # UCM user ids and device names are not case-sensitive
        cond = cond & (pl.col("user").str.to_lowercase() == user.lower())
    if device is not None:
        cond = cond & (pl.col("device").str.to_lowercase() == device.lower())
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


# Re-exported: clock skew and coverage live in their own modules.
from logdoctor.coverage import FileSpan, Gap, NodeCoverage, coverage  # noqa: E402
from logdoctor.skew import PairSkew, SkewReport, clock_skew, correct_skew  # noqa: E402
