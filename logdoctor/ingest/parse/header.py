"""The bulk engine's header stage: which header pattern starts each line, its fields, and the
record times."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from logdoctor.ingest.formats.types import HeaderPattern
from logdoctor.timestamps import Zone

__all__ = ["HEADER_COLS", "LOG4J_PREFIX", "header_frame", "log4j_fields", "nulls", "parse_times"]


def nulls(name: str, n: int, dtype: pl.DataType) -> pl.Series:
    """A series of ``n`` nulls (a list of Nones goes through Python objects; this does not)."""
    return pl.repeat(None, n, dtype=dtype, eager=True).alias(name)


LOG4J_PREFIX = (
    r"^(?P<ts>\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?)\s+(?P<level>[A-Za-z]+)\s+"
    r"\[(?P<thread>[^\]]*)\]\s+(?P<logger>[A-Za-z0-9_$.]+)\s+(?:\([^)]*\)\s+)?-\s?"
)
"""The log4j header prefix (``%d %-5p [%t] %c - %m``) of the ssosp and ssoapp formats, for
which :func:`log4j_fields` cuts the fields without capture groups."""

_LOG4J_PLAIN = (
    r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} [A-Za-z]+ +\[[ -\\^-~]*\] [A-Za-z0-9_$.]+ - "
)
"""The lines :data:`LOG4J_PREFIX` reads that :func:`log4j_fields` cuts by position: single
spaces, a ``,mmm`` stamp, a printable-ASCII thread (so byte and character offsets agree up to
the message) and no ``(File.java:NN)`` part. On them the regex's groups are exactly the cut:
ts is the first 23 characters, the level runs from 24 to the spaces before ``[``, the thread to
the first ``]``, the logger to the next space (it has none) and the message starts after the
`` - `` that follows it."""


def log4j_fields(lines: pl.DataFrame) -> tuple[pl.Series, pl.DataFrame]:
    """For the ``text`` column: which lines :data:`_LOG4J_PLAIN` accepts, and their ts, level,
    thread, logger and msg (null on the other lines), cut with ``find`` and ``slice`` (a
    capture-free check plus slicing costs about half of ``extract_groups``)."""
    t = pl.col("text")
    tail = pl.col("_tail")
    sp = tail.str.find(" ", literal=True)
    lb, rb = pl.col("_lb"), pl.col("_rb")
    out = (
        lines.lazy()
        .select(
            t.str.contains(_LOG4J_PLAIN).alias("_ok"),
            t,
            t.str.find("[", literal=True).alias("_lb"),
            t.str.find("]", literal=True).alias("_rb"),
        )
        .with_columns(pl.when("_ok").then(t.str.slice(pl.col("_rb") + 2)).alias("_tail"))
        .select(
            pl.col("_ok"),
            pl.when("_ok").then(t.str.slice(0, 23)).alias("ts"),
            pl.when("_ok").then(t.str.slice(24, lb - 24).str.strip_chars_end(" ")).alias("level"),
            pl.when("_ok").then(t.str.slice(lb + 1, rb - lb - 1)).alias("thread"),
            tail.str.slice(0, sp).alias("logger"),
            tail.str.slice(sp + 3).alias("msg"),
        )
        .collect()
    )
    return out["_ok"].fill_null(False), out.drop("_ok")


def header_frame(lines: pl.DataFrame, headers: Sequence[HeaderPattern]) -> pl.DataFrame:
    """Columns ts, level, thread, logger, msg and hdr (index of the header pattern, or null).

    The first header pattern that matches a line wins. The message is sliced off after the
    match of the header's prefix (capturing ``.*`` over a whole line is the slow part of a
    regex engine; slicing is not). When the first pattern is :data:`LOG4J_PREFIX`, the lines
    :func:`log4j_fields` accepts are cut without the regex; the others go through it.
    """
    text = lines["text"]
    n = text.len()
    hdr = nulls("hdr", n, pl.Int32())
    cols = {name: nulls(name, n, pl.String()) for name in HEADER_COLS}
    msg = nulls("msg", n, pl.String())
    remaining: pl.Series | None = None  # row indices not matched yet (None: all rows)
    if headers and headers[0].prefix.source == LOG4J_PREFIX:
        ok, fast = log4j_fields(lines)
        hdr = pl.select(pl.when(ok).then(pl.lit(0, dtype=pl.Int32))).to_series().alias("hdr")
        for name in ("ts", "level", "thread", "logger"):
            cols[name] = fast[name]
        msg = fast["msg"]
        remaining = (~ok).arg_true()
    for hi, h in enumerate(headers):
        if remaining is not None and remaining.len() == 0:
            break
        subject = text if remaining is None else text.gather(remaining)
        groups = subject.str.extract_groups(f"(?P<_p>{h.prefix.rust})")
        prefix = groups.struct.field("_p")
        hit = prefix.is_not_null()
        local = hit.arg_true()
        if remaining is None:
            # First pattern, all rows: take its columns as they are (no copy).
            first = pl.when(hit).then(pl.lit(hi, dtype=pl.Int32)).otherwise(None)
            hdr = pl.select(first).to_series().alias("hdr")
            for name in HEADER_COLS:
                if name in h.prefix.groups:
                    cols[name] = groups.struct.field(name).alias(name)
            msg = (
                pl.DataFrame({"t": subject, "p": prefix})
                .select(pl.col("t").str.strip_prefix(pl.col("p")).alias("msg"))
                .to_series()
            )
        else:
            rows = remaining.gather(local)
            if rows.len():
                hdr.scatter(rows, pl.repeat(hi, rows.len(), dtype=pl.Int32, eager=True))
                for name in HEADER_COLS:
                    if name in h.prefix.groups:
                        cols[name].scatter(rows, groups.struct.field(name).gather(local))
                matched = subject.gather(local)
                plen = prefix.gather(local).str.len_chars()
                msg.scatter(rows, matched.str.slice(plen))
        missing = (~hit).arg_true()
        remaining = missing if remaining is None else remaining.gather(missing)
        if remaining.len() == 0:
            break
    return lines.with_columns(hdr, msg, *cols.values())


HEADER_COLS = ("ts", "level", "thread", "logger", "node", "local")


def parse_times(frame: pl.DataFrame, headers: Sequence[HeaderPattern], zone: Zone) -> pl.Series:
    """The ``time`` column (UTC) from the ``ts`` text, by the formats of each row's header.

    Each format is tried only on the rows the formats before it left unparsed.
    """
    ts = frame["ts"]
    hdr = frame["hdr"]
    out = nulls("time", ts.len(), pl.Datetime("us", "UTC"))
    default = zone
    for hi, h in enumerate(headers):
        zone = h.zone or default
        rows = (
            (hdr == hi).arg_true()
            if len(headers) > 1
            else pl.int_range(ts.len(), dtype=pl.UInt32, eager=True)
        )
        for tf in h.timestamps:
            if rows.len() == 0:
                break
            sub = ts.gather(rows)
            parsed = sub.str.to_datetime(tf.chrono, strict=False, time_unit="us")
            if tf.has_zone:
                parsed = parsed.dt.convert_time_zone("UTC")
            elif zone.polars_name is not None:
                parsed = parsed.dt.replace_time_zone(
                    zone.polars_name, ambiguous="earliest", non_existent="null"
                ).dt.convert_time_zone("UTC")
            else:
                assert zone.offset is not None
                parsed = (parsed - zone.offset).dt.replace_time_zone("UTC")
            ok = parsed.is_not_null()
            good = ok.arg_true()
            if good.len():
                out.scatter(rows.gather(good), parsed.gather(good))
            rows = rows.gather((~ok).arg_true())
    return out
