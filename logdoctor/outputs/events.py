"""Export the event table: JSON lines, CSV, Parquet (columns and names of the schema).

Times are ISO 8601 in UTC with a ``Z`` (milliseconds, or microseconds when a record has them)
in text formats and stay timestamps in Parquet. Writes go straight from polars, so a million
events do not pass through Python objects.

Log text is attacker-controlled: in CSV, a cell that a spreadsheet would read as a formula
(it starts with ``=``, ``+``, ``-``, ``@``, a tab, CR or LF, or their full-width forms) gets a
leading ``'`` (OWASP's advice against CSV injection), so it is shown as text. JSON lines and
Parquet keep the text as it is.
"""

from __future__ import annotations

from typing import BinaryIO

import polars as pl

from logdoctor.model import COLUMNS

__all__ = ["EVENT_FORMATS", "csv_safe", "write_events"]

EVENT_FORMATS = ("jsonl", "csv", "parquet")

_FORMULA = "^[=+\\-@\t\r\n\uff1d\uff0b\uff0d\uff20]"
"""What a spreadsheet may take for the start of a formula (full-width forms included)."""


def csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells that could start a spreadsheet formula, prefixed with ``'`` (OWASP)."""
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(_FORMULA))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c, dtype in frame.schema.items()
        if dtype == pl.String
    )


def _text_times(frame: pl.DataFrame) -> pl.DataFrame:
    """Times as text: milliseconds, or microseconds for a record that has them (per row, so
    the result does not depend on how the events were chunked)."""
    t = pl.col("time")
    return frame.with_columns(
        pl.when(t.dt.microsecond() % 1000 == 0)
        .then(t.dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"))
        .otherwise(t.dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"))
        .alias("time")
    )


def write_events(frame: pl.DataFrame, fmt: str, out: BinaryIO, *, header: bool = True) -> None:
    """Write ``frame`` to the binary stream ``out`` as ``fmt`` (one of EVENT_FORMATS).

    Text formats may be written in several calls (a stream of chunks): pass ``header=False``
    after the first CSV chunk. Parquet is written whole.
    """
    frame = frame.select(COLUMNS)
    if fmt == "jsonl":
        _text_times(frame).write_ndjson(out)
    elif fmt == "csv":
        csv_safe(_text_times(frame)).write_csv(out, include_header=header)
    elif fmt == "parquet":
        frame.write_parquet(out)
    else:
        raise ValueError(f"unknown event format {fmt!r} (use {', '.join(EVENT_FORMATS)})")
