"""Key failures: which signature and decrypt failures a key regeneration explains, and which
servers still hold old keys.

A token made with the old key may still be presented after a regeneration, until it expires;
a server that keeps rejecting *current* tokens holds other keys than the cluster signs with
(LD202-LD205 read this, and the report may show it). Functions over the time-ordered events
(:class:`~logdoctor.analysis.events.Events`) and the lineage; the rule context caches them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import polars as pl

from logdoctor.analysis.events import Events

__all__ = [
    "KEY_FAILURE_MARKS",
    "KEY_MARGIN",
    "KEY_REASONS",
    "KeyFacts",
    "access_lifetime",
    "key_failures",
    "regenerations",
    "stale_servers",
]

KEY_REASONS = ("signature", "decrypt")
"""Validation failures that mean the server holds other keys than the token was made with."""

KEY_FAILURE_MARKS = ("_cur", "_stale")
"""Columns :func:`key_failures` adds to the event table's (always both, in this order)."""

KEY_MARGIN = timedelta(minutes=10)
"""After a key regeneration, tokens made with the old key may still be presented until they
expire (the longest access-token lifetime seen) plus this margin."""


@dataclass(frozen=True)
class KeyFacts:
    """What :func:`stale_servers` reads (each computed once by the caller)."""

    events: Events
    lineage: pl.DataFrame
    regenerations: pl.DataFrame
    key_failures: pl.DataFrame


def access_lifetime(events: Events) -> timedelta:
    """The longest access-token lifetime seen (default 60 minutes)."""
    issued = events.narrow(["token.access.issued"], ["value"])  # one column of each token
    seconds = (
        issued["value"].cast(pl.String).cast(pl.Int64, strict=False).max()
        if issued.height
        else None
    )
    return timedelta(seconds=int(seconds)) if isinstance(seconds, int) else timedelta(hours=1)


def regenerations(events: Events) -> pl.DataFrame:
    """Key regenerations (one row per regeneration, de-duplicated across log families)."""
    rows = events.of("key.regenerated").filter(pl.col("key").is_not_null())
    return rows.unique(["param", "key"], keep="first", maintain_order=True)


def key_failures(
    events: Events, regen_rows: pl.DataFrame, ucm_nodes: Sequence[str], lifetime: timedelta
) -> pl.DataFrame:
    """Validation failures with reason signature or decrypt, each marked ``_stale``: True
    when it cannot be an old token presented after a regeneration, i.e. the server holds
    other keys than the ones the cluster signs with now (``ucm_nodes``: the nodes whose key
    loads say which key is current; ``lifetime``: the longest access-token lifetime).

    A failure is explained (not stale) when the token's kid names a signing key other
    than the cluster's current one, or, when the kid is unknown, when it happens within
    one access-token lifetime (plus a margin) after a regeneration. With no regeneration
    in the logs every such failure is stale.
    """
    fails = events.validation_failures.filter(pl.col("reason").is_in(KEY_REASONS))
    if fails.height == 0:
        # The same columns, in the same order, as below: rules drop them without asking
        # whether any failed (LD202 crashed on a regeneration without any failure).
        return fails.with_columns(
            pl.lit(None, dtype=pl.String).alias("_cur"), pl.lit(True).alias("_stale")
        )
    current = (
        events.of("key.regenerated", "key.replicated", "key.loaded")
        .filter(
            (pl.col("param") == "signing")
            & pl.col("key").is_not_null()
            & ((pl.col("kind") == "key.regenerated") | pl.col("node").is_in(sorted(ucm_nodes)))
        )
        .select("time", pl.col("key").cast(pl.String).alias("_cur"))
        .sort("time")
    )
    regen = regen_rows.select("time", pl.col("time").alias("_regen")).sort("time")
    f = fails.with_columns(
        pl.col("key").cast(pl.String).str.split(":").list.last().alias("_ck"),
        pl.int_range(pl.len()).alias("_i"),
    ).sort("time")
    f = (
        f.join_asof(current, on="time", strategy="backward")
        if current.height
        else f.with_columns(pl.lit(None, dtype=pl.String).alias("_cur"))
    )
    f = (
        f.join_asof(regen, on="time", strategy="backward")
        if regen.height
        else f.with_columns(pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("_regen"))
    )
    window = lifetime + KEY_MARGIN
    stale = (
        pl.when(pl.col("_cur").is_not_null() & pl.col("_ck").is_not_null())
        .then(pl.col("_ck") == pl.col("_cur"))
        .when(pl.col("_regen").is_null())
        .then(pl.lit(True))
        .otherwise(pl.col("time") > pl.col("_regen") + window)
    )
    return f.with_columns(stale.alias("_stale")).sort("_i").drop("_i", "_ck", "_regen")


def stale_servers(
    facts: KeyFacts, servers: Sequence[str], *, minimum: int = 2
) -> list[tuple[str, pl.DataFrame]]:
    """Of ``servers``, those that kept rejecting current tokens for their keys (at least
    ``minimum`` stale failures) and were not seen accepting a current token afterwards:
    (server, failure rows)."""
    fails = facts.key_failures.filter(pl.col("_stale"))
    out = []
    regen = facts.regenerations
    last_regen = regen["time"].max() if regen.height else None
    for server in servers:
        rows = fails.filter(pl.col("server") == server)
        if rows.height < minimum:
            continue
        if _accepted_current_after(facts, server, rows["time"].max(), last_regen):
            continue
        out.append((server, rows.drop(KEY_FAILURE_MARKS)))
    return out


def _accepted_current_after(facts: KeyFacts, server: str, t: Any, last_regen: Any) -> bool:
    if _loaded_current_after(facts, server, t):
        return True
    ok = facts.events.of("token.validated").filter(
        (pl.col("server") == server) & (pl.col("time") > t)
    )
    if ok.height == 0:
        return False
    if last_regen is None:
        return True
    issued = facts.lineage.select("token_id", "issued_at")
    joined = ok.join(issued, on="token_id", how="left")
    return bool(joined.select((pl.col("issued_at") > last_regen).fill_null(False).any()).item())


def _loaded_current_after(facts: KeyFacts, server: str, t: Any) -> bool:
    """True when ``server`` loaded the latest regenerated key of every use after ``t``
    (Refresh servers / Sync Keys / a restart done late): its failures are over.

    Successful validations are DEBUG lines, absent at the default samltrace level, so the
    key load is the evidence of recovery a normal log holds."""
    if facts.regenerations.height == 0:
        return False
    latest = facts.regenerations.sort("time").group_by("param").agg(pl.col("key").last())
    loaded = facts.events.of("key.loaded").filter(
        ((pl.col("node") == server) | (pl.col("server") == server)) & (pl.col("time") > t)
    )
    if loaded.height == 0:
        return False
    have = set(zip(loaded["param"].to_list(), loaded["key"].to_list(), strict=True))
    return all(
        (use, key) in have
        for use, key in zip(latest["param"].to_list(), latest["key"].to_list(), strict=True)
    )
