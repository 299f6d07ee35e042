"""The client's side of a failure: a Jabber PRT's lines about the same user, device and time.

A server logs that it refused a token; the user's Jabber logs what it saw of it: a refused
refresh (``handleRefreshTokenFailure``), a 401 from a server, a UDS authentication failure.
Both are the same failure from two ends. :func:`with_client_side` adds to a finding's rows the
client failures (:data:`CLIENT_FAILURES`) of the users and devices those rows name, within
:data:`SLACK` of the rows' time span; a rule that passes its rows through it shows the client
side whenever a PRT is in the bundle, and reaches the same verdict without one (only the
rows change, never what a rule decides on).

:func:`uncovered_client_failures` is the other way round: client failures at times that no
server log of the bundle covers, for the rule that speaks when only the client side was
collected (LD404).

Client lines carry the user and device of their PRT folder (:mod:`logdoctor.ucm.prt`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import polars as pl

from logdoctor.analysis.events import Events, as_events
from logdoctor.table import ParseStats

__all__ = [
    "CLIENT_FAILURES",
    "SLACK",
    "client_failures",
    "server_spans",
    "uncovered_client_failures",
    "with_client_side",
]

CLIENT_FAILURES: tuple[str, ...] = ("client.refresh.failed", "client.auth.failed", "client.http")
"""Jabber kinds that say a request failed (``client.http`` only with a 4xx or 5xx status)."""

SLACK = timedelta(minutes=2)
"""How far before the first and after the last server row a client line may be (Jabber logs
the failure a moment after the server; the two clocks differ a little)."""


def client_failures(events: Events | pl.DataFrame) -> pl.DataFrame:
    """The Jabber lines that report a failure, in time order."""
    rows = as_events(events).of(*CLIENT_FAILURES)
    if not rows.height:
        return rows
    status = pl.col("reason").cast(pl.String).str.to_integer(strict=False)
    return rows.filter((pl.col("kind") != "client.http") | (status >= 400).fill_null(False))


def _lower(values: pl.Series) -> list[str]:
    return sorted({str(v).lower() for v in values.drop_nulls().to_list() if v})


def with_client_side(
    events: Events | pl.DataFrame, rows: pl.DataFrame, *, slack: timedelta = SLACK
) -> pl.DataFrame:
    """``rows`` and, after them, the client failures of the users or devices ``rows`` name
    within ``slack`` of their time span (users and devices compared without case). ``rows``
    as they are when there is no such line (or no rows)."""
    if not rows.height:
        return rows
    client = client_failures(events)
    if not client.height:
        return rows
    users = _lower(rows["user"]) if "user" in rows.columns else []
    devices = _lower(rows["device"]) if "device" in rows.columns else []
    times = rows["time"].drop_nulls()
    if not (users or devices) or not times.len():
        return rows
    lo, hi = times.min(), times.max()
    who = pl.lit(False)
    if users:
        who = who | pl.col("user").cast(pl.String).str.to_lowercase().is_in(users)
    if devices:
        who = who | pl.col("device").cast(pl.String).str.to_lowercase().is_in(devices)
    mine = client.filter(
        who.fill_null(False) & pl.col("time").is_between(lo - slack, hi + slack)  # type: ignore[operator]
    )
    if not mine.height:
        return rows
    shared = [c for c in rows.columns if c in mine.columns]
    return pl.concat([rows, mine.select(shared)], how="diagonal_relaxed")


def server_spans(stats: Sequence[ParseStats]) -> list[tuple[datetime, datetime]]:
    """The first and last time of each server log file read (every family but jabber), from
    the files' parse statistics."""
    return [
        (st.first_time, st.last_time)
        for st in stats
        if st.family not in (None, "jabber") and st.first_time and st.last_time
    ]


def uncovered_client_failures(
    events: Events | pl.DataFrame, stats: Sequence[ParseStats], *, slack: timedelta = SLACK
) -> pl.DataFrame:
    """The client failures (:func:`client_failures`) at a time no server log covers: outside
    every server file's span (:func:`server_spans`) widened by ``slack`` (all of them when the
    bundle holds no server log)."""
    client = client_failures(events).filter(pl.col("time").is_not_null())
    if not client.height:
        return client
    covered = pl.lit(False)
    for start, end in server_spans(stats):
        covered = covered | pl.col("time").is_between(start - slack, end + slack)
    return client.filter(~covered)
