"""Two clocks in one record: the node's UTC offset, from logs that write local time and UTC.

A CiscoSyslog record carries the node's local time (the syslog header, without a year) and the
same moment in UTC (``Jun 17 16:14:19 host ... : Jun 17 2019 14:14:19.781 UTC : ...``): their
difference is the node's UTC offset, which the logs without a zone (ssosp, ssoApp, certMgmt)
need. A format says which header group holds the local time (``local``, see
:data:`logdoctor.table.HEADER_FIELDS`); the parse engines count the offsets each file's
records show (``ParseStats.utc_offsets``, ``utc_offset`` the most frequent), and
:func:`logdoctor.ingest.parse.line.zone_from_head` reads it from a file's first lines before
the node's other files are parsed, so that their zone-less times are read in it
(``logdoctor.ingest.load.Loader`` does this: a
node's own statement is better evidence than ``--tz``, a guess for every node at once).

An offset is rounded to a quarter of an hour (zones are whole quarters); a record whose two
clocks are more than two minutes off that, or more than 14 hours apart, states none. The year
of the local stamp is the UTC stamp's, or the one before or after (New Year's Eve).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import polars as pl

from logdoctor.timestamps import Zone

if TYPE_CHECKING:
    from logdoctor.table import ParseStats

__all__ = [
    "HEAD_LINES",
    "offset_minutes",
    "offset_text",
    "stated_zone",
    "utc_offsets",
    "zone_of_offset",
]

_QUARTER_US = 15 * 60 * 1_000_000
_TOLERANCE_US = 120 * 1_000_000
_MAX_MINUTES = 14 * 60
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_LOCAL = re.compile(r"^([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})$", re.ASCII)

HEAD_LINES = 200
"""Records of a file's head that :func:`zone_from_head` reads."""


def _minutes_of(diff_us: int) -> int | None:
    minutes = (diff_us + _QUARTER_US // 2) // _QUARTER_US * 15
    if abs(minutes) > _MAX_MINUTES or abs(diff_us - minutes * 60_000_000) > _TOLERANCE_US:
        return None
    return int(minutes)


def offset_minutes(local: str, utc: datetime) -> int | None:
    """Minutes east of UTC that a local stamp (``Jun 17 16:14:19``, no year) shows for the
    moment ``utc``; None when it is not a local stamp of that moment."""
    m = _LOCAL.match(local.strip())
    if m is None or m.group(1).lower() not in _MONTHS:
        return None
    base = utc.replace(tzinfo=None)
    month = _MONTHS.index(m.group(1).lower()) + 1
    best: int | None = None
    for dy in (0, -1, 1):
        try:
            cand = datetime(
                base.year + dy,
                month,
                int(m.group(2)),
                int(m.group(3)),
                int(m.group(4)),
                int(m.group(5)),
            )
        except ValueError:
            continue
        diff = (cand - base) // timedelta(microseconds=1)
        if best is None or abs(diff) < abs(best):
            best = diff
    return None if best is None else _minutes_of(best)


def utc_offsets(local: pl.Series, time: pl.Series) -> dict[str, int]:
    """The offsets (``+02:00``) that pairs of local stamps and UTC times show, with how many
    pairs show each (the bulk engine's :func:`offset_minutes`)."""
    df = pl.DataFrame({"local": local, "time": time}).drop_nulls()
    if df.height == 0:
        return {}
    utc = df["time"].dt.replace_time_zone(None)
    text = df["local"].str.strip_chars()
    best: pl.Series | None = None
    for dy in (0, -1, 1):
        stamp = (utc.dt.year() + dy).cast(pl.String) + " " + text
        cand = stamp.str.to_datetime("%Y %b %e %H:%M:%S", strict=False, time_unit="us")
        diff = (cand - utc).dt.total_microseconds()
        if best is None:
            best = diff
        else:
            closer = diff.is_not_null() & (best.is_null() | (diff.abs() < best.abs()))
            best = pl.select(pl.when(closer).then(diff).otherwise(best)).to_series()
    assert best is not None
    minutes = (best + _QUARTER_US // 2) // _QUARTER_US * 15
    residual = (best - minutes * 60_000_000).abs()
    ok = (minutes.abs() <= _MAX_MINUTES) & (residual <= _TOLERANCE_US)
    good = minutes.filter(ok.fill_null(False))
    counts = good.value_counts()
    return {
        offset_text(int(m)): int(c)
        for m, c in zip(counts[counts.columns[0]], counts["count"], strict=True)
    }


def offset_text(minutes: int) -> str:
    """``+02:00`` for 120 minutes east of UTC, ``-05:30`` for 330 west."""
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_of_offset(text: str) -> Zone:
    """The fixed-offset zone of an offset text (``+02:00``)."""
    sign = -1 if text.startswith("-") else 1
    hours, minutes = text[1:].split(":")
    off = sign * timedelta(hours=int(hours), minutes=int(minutes))
    return Zone(text, timezone(off), None, off)


def stated_zone(stats: ParseStats) -> Zone | None:
    """The zone of a node, as its file's records state it (their most frequent UTC offset);
    None when they state none."""
    off = stats.utc_offset
    return None if off is None else zone_of_offset(off)
