"""The bulk engine's header stage: which header pattern starts each line, its fields, and the
record times."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from logdoctor.ingest.formats.types import HeaderPattern
from logdoctor.timestamps import Zone

__all__ = ["HEADER_COLS", "header_frame", "nulls", "parse_times"]


def nulls(name: str, n: int, dtype: pl.DataType) -> pl.Series:
    """A series of ``n`` nulls (a list of Nones goes through Python objects; this does not)."""
    return pl.repeat(None, n, dtype=dtype, eager=True).alias(name)


def header_frame(lines: pl.DataFrame, headers: Sequence[HeaderPattern]) -> pl.DataFrame:
    """Columns ts, level, thread, logger, msg and hdr (index of the header pattern, or null).

    The first header pattern that matches a line wins. The message is sliced off after the
    match of the header's prefix (capturing ``.*`` over a whole line is the slow part of a
    regex engine; slicing is not). Capturing the prefix's groups with the regex costs less
    than cutting them with ``find`` and ``slice`` expressions (measured with polars 2.1 on
    the 1 M-line benchmark files: 0.4 against 0.7 CPU-s), so every header goes through it.
    """
    text = lines["text"]
    n = text.len()
    hdr = nulls("hdr", n, pl.Int32())
    cols = {name: nulls(name, n, pl.String()) for name in HEADER_COLS}
    msg = nulls("msg", n, pl.String())
    remaining: pl.Series | None = None  # row indices not matched yet (None: all rows)
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
            every = rows.len() == ts.len()  # then rows is 0 .. n-1: no gather, no scatter
            sub = ts if every else ts.gather(rows)
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
            if every and parsed.null_count() == 0:
                return parsed.alias("time")
            good = ok.arg_true()
            if good.len():
                out.scatter(rows.gather(good), parsed.gather(good))
            rows = rows.gather((~ok).arg_true())
    return out
