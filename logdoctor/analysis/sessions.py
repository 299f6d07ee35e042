"""Sessions, users and timelines: what a user did, login by login, from the enriched events.

- **Sessions** (:func:`sessions`): per user and device (and client id), one row per login,
  from the authorize request through refreshes to the next login, revocation or the end.
- **Users** (:func:`users`): one row per user.
- **Timelines** (:func:`timeline`) of a user, device, node or token (with its lineage).

They read the events :func:`logdoctor.analysis.lineage.enrich` filled (the one enrichment).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from logdoctor.analysis.evidence import excerpt
from logdoctor.model import SESSION_KINDS, VIA_KINDS

__all__ = [
    "SESSION_COLUMNS",
    "TIMELINE_COLUMNS",
    "USER_COLUMNS",
    "sessions",
    "timeline",
    "users",
]

LOGIN_GRANTS = ("authorization_code", "implicit")
"""Grants that start a session (a login)."""

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


_SESSION_KEY = ["user", "device", "client_id"]
"""A session belongs to one user, device and client id."""

_FAILURE_KINDS = ["token.rejected", "authorize.rejected"]

_EMPTY_SESSIONS_SCHEMA = {
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
"""Schema of :func:`sessions` when there are no session lines."""


def sessions(enriched: pl.DataFrame) -> pl.DataFrame:
    """One row per login of a user on a device (columns: :data:`SESSION_COLUMNS`).

    ``enriched`` is the (time-ordered) output of :func:`enrich`.
    """
    rows = _session_lines(enriched)
    if rows.height == 0:
        return pl.DataFrame(schema=_EMPTY_SESSIONS_SCHEMA)
    agg = _session_totals(_number_sessions(rows))
    order = ["start", "user", "device", "client_id", "session"]
    return _with_ended_by(agg).sort(order).select(list(SESSION_COLUMNS))


def _session_lines(enriched: pl.DataFrame) -> pl.DataFrame:
    """The session lines that name a user (device and client id null as "")."""
    # Only the columns a session reads: the wide table is neither copied nor sorted.
    return (
        enriched.lazy()
        .select(*_SESSION_KEY, "time", "kind", "grant", "server", "token_id", "reason")
        .filter(pl.col("kind").is_in(SESSION_KINDS) & pl.col("user").is_not_null())
        .with_columns(pl.col("device").fill_null(""), pl.col("client_id").fill_null(""))
        .collect()
    )


def _login_access() -> pl.Expr:
    """An access token issued by a login grant."""
    return (pl.col("kind") == "token.access.issued") & pl.col("grant").is_in(LOGIN_GRANTS)


def _number_sessions(rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` with ``_group`` (one integer per user, device and client id) and ``session``:
    the login number within that key; the rows stay in their order when every row has a
    time (else they come sorted by key and time)."""
    key = _SESSION_KEY
    # Client ids are per application: keep the device's one for lines that name only the user.
    # ``enriched`` is in time order and the stable sort below keeps each key's rows in table
    # order: no sort by time is needed (only rows without a time, last in the table, go
    # first in a key as they always did).
    if rows["time"].null_count():
        rows = rows.sort([*key, "time"], maintain_order=True)
    # The three string keys are hashed once, into the row number of the key's first line;
    # a stable sort by that integer puts each key's lines together (in their order), so that
    # the previous line and the running login count are plain shifts and sums (no window per
    # key).
    rows = rows.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_group")).with_columns(
        pl.col("_group").first().over(key)
    )
    # Only the columns the numbering reads are put in key order (not the wide rows); the
    # numbers are then put back in the rows' own order (each key's rows keep their order).
    narrow = rows.select(
        "_group", "kind", "grant", pl.int_range(pl.len(), dtype=pl.UInt32).alias("_pos")
    ).sort("_group", maintain_order=True)
    numbered = narrow.select("_pos", _session_number().alias("session"))
    # ``_pos`` is a permutation of the rows: sorting by it puts the numbers in row order.
    return rows.with_columns(numbered.sort("_pos")["session"].cast(pl.Int64))


def _session_number() -> pl.Expr:
    """Each line's login number within its key, on lines in key order (``_group``)."""
    same = (pl.col("_group") == pl.col("_group").shift(1)).fill_null(False)
    prev = pl.when(same).then(pl.col("kind").shift(1))
    start = (pl.col("kind") == "authorize.request") | (
        _login_access() & ~prev.is_in(["authorize.request", "code.issued"]).fill_null(False)
    )
    # A line whose start is unknown (null) gets no number and does not count, as in a
    # cumulative sum per key.
    counted = start.cast(pl.Int64).fill_null(0)
    run = counted.cum_sum()
    before = pl.when(~same).then(run - counted).forward_fill()
    return pl.when(start.is_not_null()).then(run - before)


def _session_totals(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per session: its times, login, tokens and counts, and ``_last_kind``."""
    kind = pl.col("kind")
    failure = kind.is_in(_FAILURE_KINDS)
    # Each line's flags are computed once over the whole table; the groups then only sum them
    # or pick the first or last flagged value (a plain column aggregation per group).
    flagged = rows.select(
        "_group",
        "session",
        *_SESSION_KEY,
        "time",
        "kind",
        pl.when(_login_access()).then(pl.col("grant")).alias("_login_grant"),
        _login_access().alias("_is_login"),
        pl.when(kind.is_in(VIA_KINDS)).then(pl.col("server")).alias("_via"),
        (kind == "token.access.issued").cast(pl.Int64).alias("_access"),
        pl.when(kind == "token.refresh.issued").then(pl.col("token_id")).alias("_refresh_token"),
        (kind == "token.refresh.issued").alias("_is_refresh_issue"),
        (kind == "token.refreshed").cast(pl.Int64).alias("_refreshed"),
        (kind == "token.validated").cast(pl.Int64).alias("_validated"),
        failure.cast(pl.Int64).alias("_failed"),
        pl.when(failure).then(pl.col("reason")).alias("_failure_reason"),
        (kind == "token.revoked").alias("_revoked"),
    )
    first_of = pl.int_range(pl.len(), dtype=pl.UInt32)
    return flagged.group_by(["_group", "session"], maintain_order=True).agg(
        *(pl.col(c).first() for c in _SESSION_KEY),
        pl.col("time").min().alias("start"),
        pl.col("time").max().alias("end"),
        pl.col("_login_grant").drop_nulls().first().alias("login_grant"),
        pl.col("_via").drop_nulls().first().alias("via"),
        pl.col("_access").sum().alias("access_tokens"),
        # The first refresh issue's token id, null when that line names none.
        pl.col("_refresh_token")
        .gather(first_of.filter(pl.col("_is_refresh_issue")).first())
        .first()
        .alias("refresh_token"),
        pl.col("_refreshed").sum().alias("refreshes"),
        pl.col("_validated").sum().alias("validations"),
        pl.col("_failed").sum().alias("failures"),
        pl.col("_failure_reason")
        .gather(first_of.filter(pl.col("_failed") == 1).last())
        .first()
        .alias("last_failure"),
        pl.col("_revoked").any().alias("revoked"),
        pl.col("kind").last().alias("_last_kind"),
    )


def _with_ended_by(agg: pl.DataFrame) -> pl.DataFrame:
    """The session totals with ``ended_by`` (revoked, relogin, failed or open)."""
    has_next = pl.col("session").shift(-1).over("_group").is_not_null()
    return agg.with_columns(
        pl.when(pl.col("revoked"))
        .then(pl.lit("revoked"))
        .when(has_next)
        .then(pl.lit("relogin"))
        .when(pl.col("_last_kind").is_in(_FAILURE_KINDS))
        .then(pl.lit("failed"))
        .otherwise(pl.lit("open"))
        .alias("ended_by")
    ).drop("_last_kind", "_group")


def users(enriched: pl.DataFrame, sess: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per user (columns: :data:`USER_COLUMNS`), sorted by user."""
    sess = sessions(enriched) if sess is None else sess
    rows = (
        enriched.lazy()
        .select("user", "kind", "param", "device", "reason", "time")
        .filter(
            pl.col("user").is_not_null()
            & pl.col("kind").is_in([*SESSION_KINDS, "auth.success", "auth.failure"])
            & (pl.col("param") != "admin").fill_null(True)
        )
        .collect()
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
        cond = cond & (pl.col("user").cast(pl.String).str.to_lowercase() == user.lower())
    if device is not None:
        cond = cond & (pl.col("device").cast(pl.String).str.to_lowercase() == device.lower())
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
    summary = (
        pl.col("message").map_elements(excerpt, return_dtype=pl.String)
        if rows.height
        else pl.col("message")
    ).alias("summary")
    return rows.select(summary if c == "summary" else pl.col(c) for c in TIMELINE_COLUMNS)


# Re-exported: clock skew and coverage live in their own modules.
