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

_READ = ("token_id", "kind", "time", "node", "grant", "server", "reason")
"""The columns the lineage reads of the issue and use lines (a narrow gather of those rows).
Of user, client id and device only whether a line names them is read for every line; their
values, and the issue line's file, line, key and value, are gathered for the lines a token
takes them from (and the parents' lines), by position in the event table (``_at``)."""

_NAMED = ("user", "client_id", "device")

_KIND = pl.col("kind")
_ISSUE = _KIND.is_in(list(ISSUE_KINDS))
_USE = ~_ISSUE
_TELLS = (
    pl.when(
        _KIND.is_in(["token.refreshed", "token.revoked"])
        | ((_KIND == "token.rejected") & (pl.col("grant") == "refresh_token"))
    )
    .then(pl.lit("refresh"))
    .when(_KIND == "token.validated")
    .then(pl.lit("access"))
)
"""The token type a use line implies (refresh or access), null if it does not tell."""


def lineage(events: Events | pl.DataFrame) -> pl.DataFrame:
    """One row per token id (columns: :data:`LINEAGE_COLUMNS`), in order of first sight: the
    tokens issued in the logs in the order of their first issue line, then those only used,
    in the order of their first use.

    One narrow gather of the issue and use lines (in time order) and one group-by of them on
    the token id: each token's first issue line, first telling use and so on are found as
    row positions (the least position meeting a condition) and their values gathered once per
    token, instead of a group-by of the uses, a de-duplication of the issue lines and two
    joins on the token id."""
    ev = as_events(events)
    at = ev.positions([*ISSUE_KINDS, *USE_KINDS])
    lines = (
        ev.frame.select(
            *(pl.col(c).gather(at) for c in _READ),
            *(pl.col(c).is_not_null().gather(at).alias(f"_has_{c}") for c in _NAMED),
            at.alias("_at"),
        )
        .filter(pl.col("token_id").is_not_null())
        .with_row_index("_i")
    )
    lines = lines.with_columns(_parents(ev.frame, lines))
    return _assemble(ev.frame, lines, _per_token(lines))


def _first(condition: pl.Expr) -> pl.Expr:
    """In a group of token lines: the position (``_i``) of its first line meeting ``condition``."""
    return pl.when(condition).then(pl.col("_i")).min()


def _per_token(lines: pl.DataFrame) -> pl.DataFrame:
    """One row per token id: counts and times of its uses, and the positions in ``lines`` of
    the lines its other columns are taken from, sorted in :func:`lineage`'s order."""
    grouped = lines.group_by("token_id", maintain_order=True).agg(
        _first(_ISSUE).alias("_fi"),
        _first(_USE).alias("_fu"),
        _USE.sum().cast(pl.Int64).alias("uses"),
        pl.when(_USE).then(pl.col("time")).min().alias("first_use"),
        pl.when(_USE).then(pl.col("time")).max().alias("last_use"),
        (_KIND == "token.validated").sum().cast(pl.Int64).alias("validations"),
        (_KIND == "token.refreshed").sum().cast(pl.Int64).alias("refreshes"),
        (_KIND == "token.rejected").sum().cast(pl.Int64).alias("rejections"),
        pl.when(_KIND == "token.rejected")
        .then(pl.col("reason"))
        .drop_nulls()
        .unique(maintain_order=True)
        .alias("reasons"),
        pl.when(_KIND.is_in(["token.validated", "token.rejected"]))
        .then(pl.col("server"))
        .drop_nulls()
        .unique(maintain_order=True)
        .alias("servers"),
        pl.when(_KIND == "token.revoked").then(pl.col("time")).min().alias("revoked_at"),
        _first(_KIND == "token.revoked").alias("_revoke"),
        _first(_TELLS.is_not_null()).alias("_tell"),
        _first(_USE & pl.col("_has_user")).alias("_user"),
        _first(_USE & pl.col("_has_client_id")).alias("_client"),
        _first(_USE & pl.col("_has_device")).alias("_device"),
        _first(pl.col("_by_refresh").is_not_null()).alias("_by_refresh"),
        _first(pl.col("_by_login").is_not_null()).alias("_by_login"),
    )
    # issued tokens by their first issue line, then the tokens only used by their first use
    return grouped.sort(pl.coalesce("_fi", pl.col("_fu") + lines.height))


_COUNTED = (
    "uses",
    "first_use",
    "last_use",
    "validations",
    "refreshes",
    "rejections",
    "reasons",
    "servers",
    "revoked_at",
)
"""The lineage columns :func:`_per_token` computes (the others are gathered from its lines)."""


def _gathered(frame: pl.DataFrame, lines: pl.DataFrame, per: pl.DataFrame) -> pl.DataFrame:
    """Each token's values gathered from ``lines`` at its positions in ``per`` (and from the
    event table ``frame`` for the names and the first issue line's file, line, key and
    value), under lineage column names or ``_``-prefixed working names."""

    def at(column: str, position: str) -> pl.Series:
        return lines.get_column(column).gather(per.get_column(position))

    def named(column: str, position: str) -> pl.Series:
        return (
            frame.get_column(column)
            .gather(at("_at", "_fi"))
            .fill_null(frame.get_column(column).gather(at("_at", position)))
        )

    def parent(position: str) -> pl.Series:
        return lines.get_column("token_id").gather(at(position, position))

    issue_at = at("_at", "_fi")
    told = pl.DataFrame([at("kind", "_tell"), at("grant", "_tell")]).select(_TELLS)
    return pl.DataFrame(
        [
            per.get_column("token_id"),
            at("kind", "_fi").alias("_issue_kind"),
            told.to_series().alias("_tell"),
            at("time", "_fi").alias("issued_at"),
            at("node", "_fi").alias("issued_node"),
            frame.get_column("file").gather(issue_at).alias("issued_file"),
            frame.get_column("line").gather(issue_at).alias("issued_line"),
            named("user", "_user").alias("user"),
            named("client_id", "_client").alias("client_id"),
            named("device", "_device").alias("device"),
            at("grant", "_fi").alias("_grant"),
            frame.get_column("key").gather(issue_at).alias("kid"),
            frame.get_column("value").gather(issue_at).cast(pl.String).alias("_value"),
            at("server", "_fi").alias("via"),
            parent("_by_refresh").fill_null(parent("_by_login")).alias("parent"),
            at("reason", "_revoke").cast(pl.String).alias("revoke_cause"),
        ]
    )


def _assemble(frame: pl.DataFrame, lines: pl.DataFrame, per: pl.DataFrame) -> pl.DataFrame:
    """The lineage columns: each token's values gathered from ``lines`` at its positions (and
    from the event table ``frame`` for the names and the first issue line's file, line,
    key and value), then its counts."""
    gathered = _gathered(frame, lines, per)
    issued_type = pl.col("_issue_kind").replace_strict(
        ISSUE_KINDS, default=None, return_dtype=pl.String
    )
    used = pl.col("uses") > 0  # a token never used has no reasons nor servers (null, not [])
    return pl.concat([gathered, per.select(_COUNTED)], how="horizontal").select(
        "token_id",
        issued_type.fill_null(pl.col("_tell")).alias("type"),
        "issued_at",
        "issued_node",
        "issued_file",
        "issued_line",
        "user",
        "client_id",
        "device",
        pl.when(issued_type == "access").then(pl.col("_grant")).alias("grant"),
        "kid",
        (
            pl.col("issued_at") + pl.duration(seconds=pl.col("_value").cast(pl.Int64, strict=False))
        ).alias("expires_at"),
        "via",
        "parent",
        "uses",
        "first_use",
        "last_use",
        "validations",
        "refreshes",
        "rejections",
        pl.when(used).then(pl.col("reasons").cast(pl.List(pl.String))).alias("reasons"),
        pl.when(used).then(pl.col("servers")).alias("servers"),
        "revoked_at",
        "revoke_cause",
    )


_PARENT_BY = ["node", "user", "device"]


def _parents(frame: pl.DataFrame, lines: pl.DataFrame) -> list[pl.Series]:
    """Each access-token issue line's parent refresh token, by the refresh grant
    (``_by_refresh``) or login (``_by_login``) that preceded the issue: two columns of
    ``lines`` holding the position (``_i``) of the parent's line, null elsewhere."""
    narrow = lines.select("_i", "_at", "kind", "time", "node", "grant")
    access = _with_names(frame, narrow.filter(_KIND == "token.access.issued")).select(
        "_i", "time", "node", "grant", *_PARENT_BY[1:]
    )
    refreshed = _as_parents(frame, narrow.filter(_KIND == "token.refreshed"))
    via_refresh = access.filter(pl.col("grant") == "refresh_token").sort("time")
    logins = access.filter(pl.col("grant") == "authorization_code").sort("time")
    refresh = _as_parents(frame, narrow.filter(_KIND == "token.refresh.issued")).sort("time")
    return [
        _parent_column(
            "_by_refresh", via_refresh, refreshed.sort("time"), "backward", lines.height
        ),
        _parent_column("_by_login", logins, refresh, "forward", lines.height),
    ]


def _with_names(frame: pl.DataFrame, part: pl.DataFrame) -> pl.DataFrame:
    """``part`` (token lines) with the user and device of each line (null as ""), gathered
    from the event table ``frame`` at the lines' positions (``_at``)."""
    at = part.get_column("_at")
    return part.with_columns(
        frame.get_column(c).gather(at).fill_null("").alias(c) for c in _PARENT_BY[1:]
    )


def _parent_column(
    name: str,
    issues: pl.DataFrame,
    candidates: pl.DataFrame,
    strategy: Literal["backward", "forward"],
    height: int,
) -> pl.Series:
    """The parent line each issue line (``_i``) finds among ``candidates``, at its position in
    a column of ``height`` rows (null where none is found or no issue line is)."""
    column = pl.Series(name, [], pl.UInt32).extend_constant(None, height)
    if issues.height and candidates.height:
        found = _match(issues, candidates, strategy)
        column = column.scatter(found.get_column("_i"), found.get_column("parent"))
    return column


def _as_parents(frame: pl.DataFrame, part: pl.DataFrame) -> pl.DataFrame:
    """Candidate parents: time, node, user, device (null as "") and the line's position in the
    token lines as ``parent``."""
    return _with_names(frame, part).select(
        "time", "node", *_PARENT_BY[1:], pl.col("_i").alias("parent")
    )


def _match(
    access: pl.DataFrame, candidates: pl.DataFrame, strategy: Literal["backward", "forward"]
) -> pl.DataFrame:
    """Access-token issue line (``_i``) -> parent: the nearest candidate within 5 s on the
    same node, user and device."""
    return access.join_asof(
        candidates,
        on="time",
        by=_PARENT_BY,
        strategy=strategy,
        tolerance=timedelta(seconds=5),
        check_sortedness=False,  # both sorted by time by the caller; groups are not checkable
    ).select("_i", "parent")


def enrich(
    events: Events | pl.DataFrame, lin: pl.DataFrame | None = None, *, distinct: bool = False
) -> pl.DataFrame:
    """The event table with user, client id and device filled from each token's issue line,
    where a line names the token but not them. ``distinct``: ``lin`` has one row per token id
    (it is :func:`lineage`'s table), so it is not de-duplicated again (None: computed here)."""
    ev = as_events(events)
    if lin is None:
        lin, distinct = lineage(ev), True
    frame = ev.frame
    if lin.height == 0 or frame.height == 0:
        return frame
    known = lin.select(
        "token_id",
        pl.col("user").alias("_u"),
        pl.col("client_id").alias("_c"),
        pl.col("device").alias("_d"),
    )
    if not distinct:  # one row per event, always
        known = known.unique("token_id", keep="first", maintain_order=True)
    need = pl.col("token_id").is_not_null() & (
        pl.col("user").is_null() | pl.col("client_id").is_null() | pl.col("device").is_null()
    )
    rows = frame.select(need).to_series().arg_true()
    if rows.len() == 0:
        return frame
    # Join only the lines that lack one of the four columns it fills (not the wide table,
    # not the complete lines: the other columns stay shared), then put them back in place;
    # a column none of those lines lacks (a validation names its user and client, not its
    # device) is kept as it is, not copied.
    lacking = frame.select(pl.col("token_id", "user", "client_id", "device").gather(rows))
    part = lacking.join(known, on="token_id", how="left", maintain_order="left").select(
        pl.col("user").fill_null(pl.col("_u")),
        pl.col("client_id").fill_null(pl.col("_c")),
        pl.col("device").fill_null(pl.col("_d")),
    )
    filled = [
        frame.get_column(c).clone().scatter(rows, part.get_column(c))
        for c in part.columns
        if lacking.get_column(c).null_count()
    ]
    return frame.with_columns(filled) if filled else frame


# -- sessions and users --------------------------------------------------------------------------
