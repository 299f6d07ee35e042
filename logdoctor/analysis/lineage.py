"""Token lineage and enrichment: the one computation of who holds which token.

Everything here works on the polars event table (in time order, :class:`logdoctor.analysis.
events.Events`) and returns polars tables with documented columns, so that rules, the CLI, the
HTML report, the tail and the fleet share one computation.

- **Lineage** (:func:`lineage`): one row per token id (access-token ``jti``, refresh-token
  ``tid``, authorization code): who it was issued to, where, when, with which key, when it
  expires, how often and where it was used, rejected, revoked, and its parent (the refresh
  token an access token was obtained with, or the refresh token issued in the same login).
- **Enrichment** (:func:`enrich`, the only one): lines that name only a token (a validation
  names no device; a refusal may name no user) get the user, client and device of the
  token's issue line.

Sessions, users and timelines are in :mod:`.sessions`, clock skew in :mod:`.skew`, coverage
and gaps in :mod:`.coverage`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Literal

import polars as pl

from logdoctor.analysis.events import Events, as_events
from logdoctor.model import ISSUE_KINDS, USE_KINDS

__all__ = ["ENRICHED_COLUMNS", "LINEAGE_COLUMNS", "enrich", "lineage"]

ENRICHED_COLUMNS = ("user", "client_id", "device")
"""The columns :func:`enrich` fills (every other column of the table is left as it is)."""

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


# -- lineage -------------------------------------------------------------------------------------

_COMMON = ("token_id", "kind", "time", "node", "user", "client_id", "device", "grant", "server")
_ISSUE_COLUMNS = (*_COMMON, "file", "line", "key", "value")
"""The columns the lineage reads of issue lines (and of use lines, below): a narrow copy."""
_USE_COLUMNS = (*_COMMON, "reason")


def lineage(events: Events | pl.DataFrame) -> pl.DataFrame:
    """One row per token id (columns: :data:`LINEAGE_COLUMNS`), in order of first sight."""
    ev = as_events(events)
    issued = _issue_lines(ev)
    tokens = _issued_tokens(issued).join(_parents(ev, issued), on="token_id", how="left")
    used = _usage(ev)
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


def _issue_lines(ev: Events) -> pl.DataFrame:
    """The issue lines that name a token, with its ``type`` and ``expires_at``."""
    issued = ev.narrow(ISSUE_KINDS, _ISSUE_COLUMNS).filter(pl.col("token_id").is_not_null())
    return issued.with_columns(
        pl.col("kind").replace_strict(ISSUE_KINDS, return_dtype=pl.String).alias("type"),
        (pl.col("time") + pl.duration(seconds=pl.col("value").cast(pl.Int64, strict=False))).alias(
            "expires_at"
        ),
    )


def _issued_tokens(issued: pl.DataFrame) -> pl.DataFrame:
    """One row per issued token id (its first issue line), in lineage column names."""
    return issued.unique("token_id", keep="first", maintain_order=True).select(
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


def _usage(ev: Events) -> pl.DataFrame:
    """One row per used token id: use counts and times, plus ``_type``/``_user``/``_client``/
    ``_device`` guessed from its uses (for tokens issued before the logs start)."""
    uses = ev.narrow(USE_KINDS, _USE_COLUMNS).filter(pl.col("token_id").is_not_null())
    return uses.group_by("token_id", maintain_order=True).agg(
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
        _used_type().alias("_type"),
        pl.col("user").drop_nulls().first().alias("_user"),
        pl.col("client_id").drop_nulls().first().alias("_client"),
        pl.col("device").drop_nulls().first().alias("_device"),
    )


def _used_type() -> pl.Expr:
    """The token type its first telling use implies (refresh or access), null if none tells."""
    return (
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
    )


_PARENT_SCHEMA = {"token_id": pl.String(), "parent": pl.String()}
_PARENT_BY = ["node", "user", "device"]


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
    if access.height == 0:
        return pl.DataFrame(schema=_PARENT_SCHEMA)
    refreshed = _as_parents(
        ev.narrow(["token.refreshed"], ["time", "node", "user", "device", "token_id"]).filter(
            pl.col("token_id").is_not_null()
        )
    )
    via_refresh = access.filter(pl.col("grant") == "refresh_token").sort("time")
    found = []
    if via_refresh.height and refreshed.height:
        found.append(_match(via_refresh, refreshed.sort("time"), "backward"))
    logins = access.filter(pl.col("grant") == "authorization_code").sort("time")
    refresh = _as_parents(issued.filter(pl.col("type") == "refresh")).sort("time")
    if logins.height and refresh.height:
        found.append(_match(logins, refresh, "forward"))
    if not found:
        return pl.DataFrame(schema=_PARENT_SCHEMA)
    return (
        pl.concat(found, how="vertical")
        .filter(pl.col("parent").is_not_null())
        .unique("token_id", keep="first")
    )


def _as_parents(frame: pl.DataFrame) -> pl.DataFrame:
    """Candidate parents: time, node, user, device (null as "") and the token id as ``parent``."""
    return frame.select(
        "time",
        "node",
        pl.col("user").fill_null(""),
        pl.col("device").fill_null(""),
        pl.col("token_id").alias("parent"),
    )


def _match(
    access: pl.DataFrame, candidates: pl.DataFrame, strategy: Literal["backward", "forward"]
) -> pl.DataFrame:
    """token_id -> parent: the nearest candidate within 5 s on the same node, user and device."""
    return access.join_asof(
        candidates,
        on="time",
        by=_PARENT_BY,
        strategy=strategy,
        tolerance=timedelta(seconds=5),
        check_sortedness=False,  # both sorted by time by the caller; groups are not checkable
    ).select("token_id", "parent")


def enrich(events: Events | pl.DataFrame, lin: pl.DataFrame | None = None) -> pl.DataFrame:
    """The event table with user, client id and device filled from each token's issue line,
    where a line names the token but not them."""
    ev = as_events(events)
    lin = lineage(ev) if lin is None else lin
    frame = ev.frame
    if lin.height == 0 or frame.height == 0:
        return frame
    known = lin.select(
        "token_id",
        pl.col("user").alias("_u"),
        pl.col("client_id").alias("_c"),
        pl.col("device").alias("_d"),
    ).unique("token_id", keep="first", maintain_order=True)  # one row per event, always
    need = pl.col("token_id").is_not_null() & (
        pl.col("user").is_null() | pl.col("client_id").is_null() | pl.col("device").is_null()
    )
    rows = frame.select(need).to_series().arg_true()
    if rows.len() == 0:
        return frame
    # Join only the lines that lack one of the four columns it fills (not the wide table,
    # not the complete lines: the other columns stay shared), then put them back in place.
    part = (
        frame.select(pl.col("token_id", "user", "client_id", "device").gather(rows))
        .join(known, on="token_id", how="left", maintain_order="left")
        .select(
            pl.col("user").fill_null(pl.col("_u")),
            pl.col("client_id").fill_null(pl.col("_c")),
            pl.col("device").fill_null(pl.col("_d")),
        )
    )
    filled = [frame.get_column(c).clone().scatter(rows, part.get_column(c)) for c in part.columns]
    return frame.with_columns(filled)


# -- sessions and users --------------------------------------------------------------------------
