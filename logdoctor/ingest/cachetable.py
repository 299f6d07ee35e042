"""How an event table is kept in the parsed-file cache (:mod:`logdoctor.ingest.cache`).

A segment's table is stored with the columns of :data:`~logdoctor.table.CATEGORICAL_COLUMNS`
(few values, mostly null, or user and device names) as polars ``Categorical``: parquet then
holds them as a dictionary, and a reader that wants them so (``check``, ``report``,
``timeline``, the ``parse`` writers) reads them back without building the text of each row
and casting it, which cost more than reading the whole table. Every other reader gets the
documented table (:data:`~logdoctor.table.POLARS_SCHEMA`, those columns as String again):
:func:`read_back`.

A chunk parsed on a first run is cast once, when it is stored (:func:`stored`); a reader that
keeps some columns Categorical is given them from that cast, the others from the parsed
String columns (:func:`as_read`), so that no column is cast twice. A file's parts all have
the same types, whether they were read back, stored or (the cache failing) neither.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import cache

import polars as pl

from logdoctor.table import CATEGORICAL_COLUMNS, POLARS_SCHEMA

__all__ = ["as_read", "read_back", "stored", "stored_schema"]


@cache
def stored_schema() -> pl.Schema:
    """The schema of a stored table: :data:`~logdoctor.table.POLARS_SCHEMA` with
    :data:`~logdoctor.table.CATEGORICAL_COLUMNS` as ``Categorical``."""
    categorical = set(CATEGORICAL_COLUMNS)
    return pl.Schema(
        {c: pl.Categorical() if c in categorical else t for c, t in POLARS_SCHEMA.items()}
    )


def stored(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (an event table) as it is stored: :func:`stored_schema`."""
    return frame.cast({c: pl.Categorical() for c in CATEGORICAL_COLUMNS})


def read_back(frame: pl.DataFrame, name: str, rows: int, keep: Collection[str]) -> pl.DataFrame:
    """A stored table read back from the segment ``name``: the columns of ``keep`` stay
    ``Categorical``, the other stored ``Categorical`` ones are String again. Raises ValueError
    unless it is a stored table of ``rows`` rows."""
    if frame.schema != stored_schema() or frame.height != rows:
        raise ValueError(f"{name}: not the event table it should be")
    back = [pl.col(c).cast(pl.String) for c in CATEGORICAL_COLUMNS if c not in keep]
    return frame.with_columns(back) if back else frame


def as_read(table: pl.DataFrame, parsed: pl.DataFrame, keep: Collection[str]) -> pl.DataFrame:
    """A chunk just stored as ``table`` (:func:`stored`) as a reader that keeps ``keep``
    Categorical reads it: those columns from ``table``, the others from ``parsed`` (the
    String table it was made from, so nothing is cast back). When ``table`` is ``parsed``
    (the chunk was not stored), those columns are cast, so that every part of a file has the
    same types."""
    wanted = [c for c in CATEGORICAL_COLUMNS if c in keep]
    if not wanted:
        return parsed
    if table is parsed:
        return parsed.cast({c: pl.Categorical() for c in wanted})
    return parsed.with_columns(table.get_column(c) for c in wanted)
