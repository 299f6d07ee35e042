"""The token lineage as it was computed before the one-pass lineage (a group-by of the use
lines, a de-duplication of the issue lines and joins on the token id), kept as the reference
the fast path is compared with (tests/test_lineage_onepass.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

import polars as pl

from logdoctor.analysis.events import Events, as_events
from logdoctor.analysis.lineage import LINEAGE_COLUMNS
from logdoctor.model import ISSUE_KINDS, USE_KINDS

_COMMON = ("token_id", "kind", "time", "node", "user", "client_id", "device", "grant", "server")
_ISSUE_COLUMNS = (*_COMMON, "file", "line", "key", "value")
_USE_COLUMNS = (*_COMMON, "reason")
_PARENT_SCHEMA = {"token_id": pl.String(), "parent": pl.String()}
_PARENT_BY = ["node", "user", "device"]


def reference_lineage(events: Events | pl.DataFrame) -> pl.DataFrame:
    """One row per token id, computed step by step (issue lines, uses, parents, joins)."""
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
    issued = ev.narrow(ISSUE_KINDS, _ISSUE_COLUMNS).filter(pl.col("token_id").is_not_null())
    return issued.with_columns(
        pl.col("kind").replace_strict(ISSUE_KINDS, return_dtype=pl.String).alias("type"),
        (
            pl.col("time")
            + pl.duration(seconds=pl.col("value").cast(pl.String).cast(pl.Int64, strict=False))
        ).alias("expires_at"),
    )


def _issued_tokens(issued: pl.DataFrame) -> pl.DataFrame:
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
    uses = ev.narrow(USE_KINDS, _USE_COLUMNS).filter(pl.col("token_id").is_not_null())
    kind = pl.col("kind")
    return uses.group_by("token_id", maintain_order=True).agg(
        pl.len().cast(pl.Int64).alias("uses"),
        pl.col("time").min().alias("first_use"),
        pl.col("time").max().alias("last_use"),
        (kind == "token.validated").sum().cast(pl.Int64).alias("validations"),
        (kind == "token.refreshed").sum().cast(pl.Int64).alias("refreshes"),
        (kind == "token.rejected").sum().cast(pl.Int64).alias("rejections"),
        pl.col("reason")
        .cast(pl.String)
        .filter(kind == "token.rejected")
        .drop_nulls()
        .unique(maintain_order=True)
        .alias("reasons"),
        pl.col("server")
        .filter(kind.is_in(["token.validated", "token.rejected"]))
        .drop_nulls()
        .unique(maintain_order=True)
        .alias("servers"),
        pl.col("time").filter(kind == "token.revoked").min().alias("revoked_at"),
        pl.col("reason")
        .cast(pl.String)
        .filter(kind == "token.revoked")
        .first()
        .alias("revoke_cause"),
        pl.when(
            kind.is_in(["token.refreshed", "token.revoked"])
            | ((kind == "token.rejected") & (pl.col("grant") == "refresh_token"))
        )
        .then(pl.lit("refresh"))
        .when(kind == "token.validated")
        .then(pl.lit("access"))
        .otherwise(None)
        .drop_nulls()
        .first()
        .alias("_type"),
        pl.col("user").drop_nulls().first().alias("_user"),
        pl.col("client_id").drop_nulls().first().alias("_client"),
        pl.col("device").drop_nulls().first().alias("_device"),
    )


def _parents(ev: Events, issued: pl.DataFrame) -> pl.DataFrame:
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
    return access.join_asof(
        candidates,
        on="time",
        by=_PARENT_BY,
        strategy=strategy,
        tolerance=timedelta(seconds=5),
        check_sortedness=False,
    ).select("token_id", "parent")
