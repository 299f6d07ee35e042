"""One timeline per user across the three sides of a sign-in: client, edge and server.

A user's Jabber writes its own log (``jabber``, the **client** side, in the PRT); over Mobile and
Remote Access each request crosses an Expressway (``expressway``, the **edge**); UCM, IM and
Presence and Unity Connection log what they did with it (ssosp, ssoApp, CiscoSyslog, ... the
**server** side). :func:`side_of` names each row's side; :func:`user_timeline` returns a
user's rows of all three in time order.

Client lines carry the user of their PRT folder, server lines the user they name. Edge lines
often name none: a ``Receive Response`` has only its ``Txn-id``. :func:`with_edge_users` gives
them their user, in this order:

1. the user an edge line names (``/cucm-uds/user/<user>``, ``email=``, ``Username=``);
2. the user of another line of the same Expressway with the same ``Txn-id`` (the request and
   response of one transaction) or the same ``TrackingID``;
3. the device: an edge line that names one user's device (``/CSFJDOE.cnf.xml``);
4. the time: an edge line within :data:`EDGE_WINDOW` of a server line of exactly one user that
   names this Expressway (``server=`` / ``via=``), when no other user's line is that close.

An email address (``alice@example.com``) is the user ``alice`` when the bundle has a user of
that name.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from logdoctor.analysis.sessions import timeline

__all__ = [
    "EDGE_WINDOW",
    "SIDES",
    "side_name",
    "side_of",
    "user_timeline",
    "with_edge_users",
]

SIDES: tuple[str, ...] = ("client", "edge", "server")
"""The sides, from the user's end to the servers."""

EDGE_WINDOW = timedelta(seconds=2)
"""How close in time an edge line without a user must be to one user's server line."""

_CLIENT_FAMILIES = ("jabber",)
_EDGE_FAMILIES = ("expressway",)
_TRACKING = r'TrackingID="([^"]+)"'


def side_name(family: str | None) -> str:
    """The side (``client``, ``edge``, ``server``) of a row of log family ``family``."""
    if family in _CLIENT_FAMILIES:
        return "client"
    if family in _EDGE_FAMILIES:
        return "edge"
    return "server"


def side_of() -> pl.Expr:
    """The side of each row (``client``, ``edge``, ``server``), from its log family."""
    fam = pl.col("family").cast(pl.String)
    return (
        pl.when(fam.is_in(_CLIENT_FAMILIES))
        .then(pl.lit("client"))
        .when(fam.is_in(_EDGE_FAMILIES))
        .then(pl.lit("edge"))
        .otherwise(pl.lit("server"))
        .alias("side")
    )


def _local_user(frame: pl.DataFrame) -> pl.Expr:
    """The user column with ``name@domain`` read as ``name`` when ``name`` is a user of the
    bundle (case kept from the bundle's own spelling)."""
    users = frame["user"].cast(pl.String).drop_nulls().unique()
    known = {u.lower(): u for u in users.to_list() if "@" not in u}
    user = pl.col("user").cast(pl.String)
    local = user.str.split("@").list.first().str.to_lowercase()
    mapped = local.replace_strict(known, default=None, return_dtype=pl.String)
    return pl.when(user.str.contains("@")).then(pl.coalesce(mapped, user)).otherwise(user)


def _fill_from(edge: pl.DataFrame, key: pl.Expr, by: list[str]) -> pl.DataFrame:
    """Fill ``user`` of edge rows from other edge rows sharing ``key`` (and ``by``) that have
    exactly one user."""
    keyed = edge.with_columns(key.alias("_key"))
    known = (
        keyed.filter(pl.col("_key").is_not_null() & pl.col("user").is_not_null())
        .group_by([*by, "_key"])
        .agg(pl.col("user").unique().alias("_users"))
        .filter(pl.col("_users").list.len() == 1)
        .with_columns(pl.col("_users").list.first().alias("_u"))
        .drop("_users")
    )
    if not known.height:
        return edge
    out = keyed.join(known, on=[*by, "_key"], how="left", nulls_equal=False)
    return out.with_columns(pl.coalesce("user", "_u").alias("user")).drop("_key", "_u")


def _fill_by_device(edge: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """Edge rows without a user whose text names exactly one device of exactly one user."""
    devices = (
        frame.filter(pl.col("device").is_not_null() & pl.col("user").is_not_null())
        .group_by(pl.col("device").cast(pl.String).str.to_lowercase().alias("d"))
        .agg(pl.col("user").cast(pl.String).unique().alias("u"))
        .filter(pl.col("u").list.len() == 1)
        .select("d", pl.col("u").list.first())
    )
    if not devices.height or not edge.filter(pl.col("user").is_null()).height:
        return edge
    owner = dict(devices.iter_rows())
    # one Aho-Corasick pass over the messages for every device name
    named = (
        pl.col("message")
        .cast(pl.String)
        .str.extract_many(list(owner), ascii_case_insensitive=True)
        .list.eval(pl.element().str.to_lowercase())
        .list.unique()
    )
    guess = (
        pl.when(named.list.len() == 1)
        .then(named.list.first().replace_strict(owner, default=None, return_dtype=pl.String))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return edge.with_columns(pl.coalesce("user", guess).alias("user"))


def _fill_by_time(edge: pl.DataFrame, frame: pl.DataFrame, window: timedelta) -> pl.DataFrame:
    """Edge rows still without a user: the one user whose server line names this Expressway
    within ``window`` of it."""
    todo = edge.filter(pl.col("user").is_null() & pl.col("time").is_not_null())
    if not todo.height:
        return edge
    nodes = todo["node"].cast(pl.String).unique().to_list()
    server = (
        frame.filter(
            (side_of() == "server")
            & pl.col("user").is_not_null()
            & pl.col("server").cast(pl.String).is_in(nodes)
            & pl.col("time").is_not_null()
        )
        .select(
            pl.col("server").cast(pl.String).alias("node"),
            pl.col("time").alias("_t"),
            pl.col("user").cast(pl.String).alias("_u"),
        )
        .sort("_t")
    )
    if not server.height:
        return edge
    rows = todo.with_row_index("_r").select("_r", pl.col("node").cast(pl.String), "time")
    near = (
        rows.join(server, on="node", how="inner")
        .filter((pl.col("_t") - pl.col("time")).abs() <= window)
        .group_by("_r")
        .agg(pl.col("_u").unique().alias("_us"))
        .filter(pl.col("_us").list.len() == 1)
        .with_columns(pl.col("_us").list.first().alias("_u"))
    )
    if not near.height:
        return edge
    filled = (
        todo.with_row_index("_r")
        .join(near.select("_r", "_u"), on="_r", how="left")
        .with_columns(pl.coalesce("user", "_u").alias("user"))
        .drop("_r", "_u")
    )
    rest = edge.filter(~(pl.col("user").is_null() & pl.col("time").is_not_null()))
    return pl.concat([rest, filled.select(edge.columns)], how="vertical")


def with_edge_users(frame: pl.DataFrame, *, window: timedelta = EDGE_WINDOW) -> pl.DataFrame:
    """``frame`` with the ``user`` of edge rows filled as the module says (other rows, and a
    frame without edge rows, unchanged; the order of rows may change, times do not)."""
    if not frame.height:
        return frame
    is_edge = pl.col("family").cast(pl.String).is_in(_EDGE_FAMILIES)
    edge = frame.filter(is_edge)
    if not edge.height:
        return frame
    dtype = frame.schema["user"]
    edge = edge.with_columns(_local_user(frame).alias("user"))
    tracking = pl.col("message").cast(pl.String).str.extract(_TRACKING, 1)
    edge = _fill_from(edge, pl.col("key").cast(pl.String), ["node"])  # one Txn-id per host
    edge = _fill_from(edge, tracking, [])
    edge = _fill_by_device(edge, frame)
    edge = _fill_by_time(edge, frame, window)
    edge = edge.with_columns(pl.col("user").cast(dtype))
    return pl.concat([frame.filter(~is_edge), edge.select(frame.columns)], how="vertical")


def user_timeline(
    enriched: pl.DataFrame, user: str, *, window: timedelta = EDGE_WINDOW
) -> pl.DataFrame:
    """The rows about ``user`` (any case) from the client, edge and server sides, in time
    order: the columns of :func:`logdoctor.analysis.sessions.timeline` with ``side`` first."""
    frame = with_edge_users(enriched, window=window)
    mine = frame.filter(pl.col("user").cast(pl.String).str.to_lowercase() == user.lower())
    mine = mine.sort(["time", "node", "file", "line"], nulls_last=True, maintain_order=True)
    sides = mine.select(side_of())
    out = timeline(mine)
    return pl.concat([sides, out], how="horizontal")
