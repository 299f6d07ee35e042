"""Export the event table: JSON lines, CSV, Parquet (columns and names of the schema).

Times are ISO 8601 in UTC with a ``Z`` (milliseconds, or microseconds when a record has them)
in text formats and stay timestamps in Parquet. Writes go straight from polars, so a million
events do not pass through Python objects.
"""

from __future__ import annotations

from typing import BinaryIO

import polars as pl

from logdoctor.model import COLUMNS

__all__ = ["EVENT_FORMATS", "write_events"]

EVENT_FORMATS = ("jsonl", "csv", "parquet")


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
        _text_times(frame).write_csv(out, include_header=header)
    elif fmt == "parquet":
        frame.write_parquet(out)
    else:
        raise ValueError(f"unknown event format {fmt!r} (use {', '.join(EVENT_FORMATS)})")
