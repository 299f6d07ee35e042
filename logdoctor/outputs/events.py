"""Export the event table: JSON lines, CSV, TSV, Parquet (columns and names of the schema).

Times are ISO 8601 in UTC with a ``Z`` (milliseconds, or microseconds when a record has them)
in text formats, or in a zone the caller gives with its offset, and stay timestamps in
Parquet. TSV escapes backslash, tab, newline, carriage return and other control characters
(as ``\\\\ \\t \\n \\r \\xNN``) and never quotes. Writes go straight from polars, so a million
events do not pass through Python objects.

Log text is attacker-controlled: in CSV, a cell that a spreadsheet would read as a formula
(it starts with ``=``, ``+``, ``-``, ``@``, a tab, CR or LF, or their full-width forms) gets a
leading ``'`` (OWASP's advice against CSV injection), so it is shown as text. JSON lines and
Parquet keep the text as it is.
"""

from __future__ import annotations

import re
from typing import BinaryIO

import polars as pl

from logdoctor.outputs.sheet import FORMULA_STARTS, TSV_ESCAPES
from logdoctor.table import COLUMNS
from logdoctor.timestamps import Zone

__all__ = ["EVENT_FORMATS", "csv_safe", "write_events"]

EVENT_FORMATS = ("jsonl", "csv", "tsv", "parquet")

_TSV_FROM = list(TSV_ESCAPES)
_TSV_TO = list(TSV_ESCAPES.values())

_FORMULA = "^[" + re.escape(FORMULA_STARTS) + "]"
"""A cell a spreadsheet may take for a formula (``outputs.sheet.FORMULA_STARTS``)."""


def _text_columns(frame: pl.DataFrame) -> list[str]:
    """The columns that hold text: String, and Categorical or Enum (the rule context's)."""
    return [
        c
        for c, dtype in frame.schema.items()
        if dtype == pl.String or isinstance(dtype, (pl.Categorical, pl.Enum))
    ]


def csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells that could start a spreadsheet formula, prefixed with ``'`` (OWASP)."""
    return frame.with_columns(
        pl.when(text.str.contains(_FORMULA)).then(pl.lit("'") + text).otherwise(text).alias(c)
        for c in _text_columns(frame)
        for text in [pl.col(c).cast(pl.String)]
    )


def _text_times(frame: pl.DataFrame, zone: Zone | None = None) -> pl.DataFrame:
    """Times as text: milliseconds, or microseconds for a record that has them (per row, so
    the result does not depend on how the events were chunked); UTC with ``Z``, or in
    ``zone`` with its offset. The vectorized form of :func:`logdoctor.table.iso`'s
    ``"exact"`` policy (a Python call per row would dominate a large export): one formatting
    pass over all rows; the rare rows with microseconds are formatted again, alone."""
    t = frame["time"]
    end = "Z"
    if zone is not None:
        t = t.dt.convert_time_zone(zone.polars_name or zone.name)
        end = "%:z"
    text = t.dt.strftime("%Y-%m-%dT%H:%M:%S%.3f" + end)
    micro = (t.dt.microsecond() % 1000 != 0).fill_null(False).arg_true()
    if micro.len():
        text = text.scatter(micro, t.gather(micro).dt.strftime("%Y-%m-%dT%H:%M:%S%.6f" + end))
    return frame.with_columns(text.alias("time"))


def _json_lines(frame: pl.DataFrame) -> pl.DataFrame:
    """One column of JSON objects, one per row, without the fields that are null in it (in
    the schema's order). Rows are grouped by which of their fields are set (a handful of
    shapes: one per kind, about), each group encoded by polars' JSON encoder with only its
    fields, and the rows put back in order."""
    cols = frame.columns
    if frame.height == 0:
        return pl.DataFrame({"json": []}, schema={"json": pl.String})
    shape = pl.sum_horizontal(
        pl.col(c).is_not_null().cast(pl.UInt32) * (1 << i) for i, c in enumerate(cols)
    )
    numbered = frame.with_row_index("_row").with_columns(shape.alias("_shape"))
    parts = []
    for part in numbered.partition_by("_shape", maintain_order=False):
        bits = int(part["_shape"][0])
        keep = [c for i, c in enumerate(cols) if bits >> i & 1]
        json = pl.struct(keep).struct.json_encode() if keep else pl.lit("{}")
        parts.append(part.select("_row", json.alias("json")))
    return pl.concat(parts).sort("_row").select("json")


def _tsv(frame: pl.DataFrame) -> pl.DataFrame:
    text = _text_columns(frame)
    return frame.with_columns(pl.col(text).cast(pl.String).str.replace_many(_TSV_FROM, _TSV_TO))


def write_events(
    frame: pl.DataFrame,
    fmt: str,
    out: BinaryIO,
    *,
    header: bool = True,
    zone: Zone | None = None,
    all_fields: bool = False,
) -> None:
    """Write ``frame`` to the binary stream ``out`` as ``fmt`` (one of EVENT_FORMATS); text
    formats give times in ``zone`` (with its offset) when one is given, else UTC.

    Text formats may be written in several calls (a stream of chunks): pass ``header=False``
    after the first CSV or TSV chunk. Parquet is written whole. JSON lines leave out the
    fields that are null in a row, unless ``all_fields`` (every column, nulls as ``null``).
    """
    frame = frame.select(COLUMNS)
    if fmt == "jsonl" and all_fields:
        _text_times(frame, zone).write_ndjson(out)
    elif fmt == "jsonl":
        if frame.height:
            lines = _json_lines(_text_times(frame, zone))
            lines.write_csv(out, include_header=False, quote_style="never")
    elif fmt == "csv":
        csv_safe(_text_times(frame, zone)).write_csv(out, include_header=header)
    elif fmt == "tsv":
        _tsv(_text_times(frame, zone)).write_csv(
            out, include_header=header, separator="\t", quote_style="never"
        )
    elif fmt == "parquet":
        frame.write_parquet(out)
    else:
        raise ValueError(f"unknown event format {fmt!r} (use {', '.join(EVENT_FORMATS)})")
