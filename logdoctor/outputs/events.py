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
    micro = frame["time"].dt.microsecond() % 1000
    has_micro = bool((micro != 0).any()) if frame.height else False
    fmt = "%Y-%m-%dT%H:%M:%S%.6fZ" if has_micro else "%Y-%m-%dT%H:%M:%S%.3fZ"
    return frame.with_columns(pl.col("time").dt.strftime(fmt))


def write_events(frame: pl.DataFrame, fmt: str, out: BinaryIO) -> None:
    """Write ``frame`` to the binary stream ``out`` as ``fmt`` (one of EVENT_FORMATS)."""
    frame = frame.select(COLUMNS)
    if fmt == "jsonl":
        _text_times(frame).write_ndjson(out)
    elif fmt == "csv":
        _text_times(frame).write_csv(out)
    elif fmt == "parquet":
        frame.write_parquet(out)
    else:
        raise ValueError(f"unknown event format {fmt!r} (use {', '.join(EVENT_FORMATS)})")
